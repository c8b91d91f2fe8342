package com.alpype;

import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The observation or action space of an ALPypeRL 1.x model: a list of spaces, built with {@code
 * ObservationSpace.init().add(...).add(...).build()}. As in 1.x, a list with one space is that
 * space and a longer list is a Tuple of its spaces.
 */
public abstract class RLSpace {
    protected final List<GymSpace> spaces;

    protected RLSpace(Builder<?> builder) {
        if (builder.spaces.isEmpty()) {
            throw new IllegalArgumentException("a space needs at least one part: call add(...) before build()");
        }
        this.spaces = Collections.unmodifiableList(new ArrayList<>(builder.spaces));
    }

    /** The number of spaces in the list. */
    public int size() {
        return spaces.size();
    }

    /** Space {@code i} of the list. */
    public GymSpace get(int i) {
        return spaces.get(i);
    }

    /** The same space in alpyperl's terms: the only space of the list, or a Tuple of them. */
    public Space toSpace() {
        return spaces.size() == 1 ? spaces.get(0).toSpace() : Spaces.tuple(GymSpaces.Tuple.parts(spaces));
    }

    @Override
    public String toString() {
        return toSpace().toString();
    }

    /** Collects the spaces of the list. */
    public abstract static class Builder<T extends Builder<T>> {
        private final List<GymSpace> spaces = new ArrayList<>();

        /** Adds a space to the list. */
        public T add(GymSpace space) {
            if (space == null) {
                throw new IllegalArgumentException("add(null): give a space made by GymSpaces");
            }
            spaces.add(space);
            return self();
        }

        protected abstract T self();

        /** The space. */
        public abstract RLSpace build();
    }
}
