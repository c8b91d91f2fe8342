package com.alpype;

/** The observation space of an ALPypeRL 1.x model: {@code ObservationSpace.init().add(GymSpaces...).build()}. */
public class ObservationSpace extends RLSpace {
    private ObservationSpace(Builder builder) {
        super(builder);
    }

    /** Starts a new observation space. */
    public static Builder init() {
        return new Builder();
    }

    /** Collects the spaces of an observation space. */
    public static class Builder extends RLSpace.Builder<Builder> {
        @Override
        protected Builder self() {
            return this;
        }

        @Override
        public ObservationSpace build() {
            return new ObservationSpace(this);
        }
    }
}
