package com.alpype;

import com.alpyperl.connector.Space;

/** One space of ALPypeRL 1.x ({@link GymSpaces} makes them): the same as a space of alpyperl. */
public abstract class GymSpace {
    private final Space space;

    GymSpace(Space space) {
        this.space = space;
    }

    /** The same space in alpyperl's terms. */
    public Space toSpace() {
        return space;
    }

    /** How many values an observation or action of this space has. */
    public int sampleSize() {
        return space.flatSize();
    }

    @Override
    public String toString() {
        return space.toString();
    }
}
