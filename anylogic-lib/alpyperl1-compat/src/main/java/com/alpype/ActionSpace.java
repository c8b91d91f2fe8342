package com.alpype;

/** The action space of an ALPypeRL 1.x model: {@code ActionSpace.init().add(GymSpaces...).build()}. */
public class ActionSpace extends RLSpace {
    private ActionSpace(Builder builder) {
        super(builder);
    }

    /** Starts a new action space. */
    public static Builder init() {
        return new Builder();
    }

    /** Collects the spaces of an action space. */
    public static class Builder extends RLSpace.Builder<Builder> {
        @Override
        protected Builder self() {
            return this;
        }

        @Override
        public ActionSpace build() {
            return new ActionSpace(this);
        }
    }
}
