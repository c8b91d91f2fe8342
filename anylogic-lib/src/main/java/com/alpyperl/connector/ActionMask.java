package com.alpyperl.connector;

import java.nio.DoubleBuffer;

/**
 * Action masks of single-agent models ({@link MaskedModel}) for the hosts that answer them:
 * alpyperl's launcher, the evaluation mode and its command line. Model code never uses this class.
 *
 * <p>A masked model's observation crosses to Python as the Dict {@code {"action_mask":
 * Box(0, 1, (choices,)), "observations": <the model's space>}} ({@link #observationSpace}); its
 * flat values are the Dict's parts in their order (Python's Dict sorts its keys, so the mask comes
 * first), a mask entry 1 for a valid choice and 0 for a masked one.
 */
public final class ActionMask {
    /** The key of the mask in the observation Python reads (RLlib's action-masking RLModule's). */
    public static final String MASK_KEY = "action_mask";
    /** The key of the model's own observation in it. */
    public static final String OBSERVATIONS_KEY = "observations";

    private ActionMask() {
    }

    /**
     * How many entries a mask of {@code actionSpace} has: {@code n} for {@code Discrete(n)}, the sum
     * of {@code nvec} for {@code MultiDiscrete}. Other spaces have no mask: a {@link ModelException}.
     */
    public static int size(Space actionSpace) {
        return size(actionSpace, "the model uses an action mask (it implements MaskedModel)");
    }

    /** {@link #size(Space)}, whose error begins with {@code whoUsesIt} ("agent type 'x' uses an action mask"). */
    static int size(Space actionSpace, String whoUsesIt) {
        if (actionSpace instanceof Space.Discrete) {
            return Math.toIntExact(((Space.Discrete) actionSpace).getN());
        }
        if (actionSpace instanceof Space.MultiDiscrete) {
            long total = 0;
            for (long n : ((Space.MultiDiscrete) actionSpace).getNvec()) {
                total += n;
            }
            return Math.toIntExact(total);
        }
        throw new ModelException(whoUsesIt + ", but its action space " + actionSpace
                + " is neither Discrete nor MultiDiscrete; masks say which choices of those are valid");
    }

    /** The observation space Python reads for a masked model with these spaces (see the class comment). */
    public static Space.Dict observationSpace(Space observations, Space actionSpace) {
        return Spaces.dict()
                .put(MASK_KEY, Spaces.box(0, 1, size(actionSpace)))
                .put(OBSERVATIONS_KEY, observations)
                .build();
    }

    /**
     * The mask of {@code model} now, checked against {@code actionSpace}: {@code null} when every
     * action is valid. A mask of the wrong length, or one that allows no choice of some entry, is a
     * {@link ModelException} that says so.
     */
    public static boolean[] of(MaskedModel model, Space actionSpace) {
        return checked(ModelCalls.call("getActionMask() of the model", model::getActionMask), actionSpace,
                null, "a model with nothing to decide should not call requestAction()");
    }

    /**
     * {@code mask} (a copy), as {@code getActionMask()} of agent {@code agentId} (null: of the model)
     * returned it for {@code actionSpace}, once checked: null stays null; a wrong length, or no valid
     * choice for some entry ({@code whenNoChoice} says what to do instead), is a {@link ModelException}.
     * (The agent is named only in the exception: this is called once per agent and crossing.)
     */
    static boolean[] checked(boolean[] mask, Space actionSpace, String agentId, String whenNoChoice) {
        if (mask == null) {
            return null;
        }
        int size = size(actionSpace);
        if (mask.length != size) {
            throw new ModelException("getActionMask() " + whose(agentId) + " returned " + mask.length
                    + " entries, but its action space " + actionSpace + " has " + size + " choices");
        }
        long[] entries = actionSpace instanceof Space.Discrete ? new long[] {size}
                : ((Space.MultiDiscrete) actionSpace).getNvec();
        int from = 0;
        for (int i = 0; i < entries.length; i++) {
            boolean any = false;
            for (int j = 0; j < entries[i]; j++) {
                any |= mask[from + j];
            }
            if (!any) {
                throw new ModelException("getActionMask() " + whose(agentId) + " allows no choice"
                        + (entries.length > 1 ? " for entry " + i : "") + " of its action space " + actionSpace
                        + "; at least one must be valid (" + whenNoChoice + ")");
            }
            from += (int) entries[i];
        }
        return mask.clone();
    }

    private static String whose(String agentId) {
        return agentId == null ? "of the model" : "of agent " + agentId;
    }

    /**
     * Why the action of {@code actionSpace} whose flat values start at {@code at} in {@code actions}
     * picks a choice that {@code mask} forbids ({@code "2 is not valid now; the valid actions are 0,
     * 1"}), or null if it does not. The action must be a value of the space ({@link Space#problemWith}).
     */
    public static String problem(Space actionSpace, boolean[] mask, DoubleBuffer actions, int at) {
        return mask == null ? null : AgentTable.maskProblem(actionSpace, mask, actions, at);
    }

    /**
     * Where the mask and the model's own observation lie in an observation Python reads: the Dict
     * {@link #observationSpace} describes, as the caller agreed it. Hosts use it to send the model's
     * observation with its mask.
     */
    public static final class Layout {
        /** The space of the model's own observation (the Dict's {@code "observations"}). */
        public final Space modelObservationSpace;
        /** How many entries the mask has. */
        public final int size;
        private final int maskAt;
        private final int modelAt;
        private final double[] combined;

        private Layout(Space modelObservationSpace, int size, int maskAt, int modelAt, int flatSize) {
            this.modelObservationSpace = modelObservationSpace;
            this.size = size;
            this.maskAt = maskAt;
            this.modelAt = modelAt;
            this.combined = new double[flatSize];
        }

        /**
         * The layout of {@code observation}, the observation space agreed with the caller for a masked
         * model whose action space is {@code actionSpace}; an {@link IllegalArgumentException} that
         * says what was expected if it is not the Dict of a mask and the model's observation.
         */
        public static Layout of(Space observation, Space actionSpace) {
            int size = size(actionSpace);
            Space maskPart = null;
            Space modelPart = null;
            int maskAt = -1;
            int modelAt = -1;
            int at = 0;
            if (observation instanceof Space.Dict && ((Space.Dict) observation).getSpaces().size() == 2) {
                for (java.util.Map.Entry<String, Space> part : ((Space.Dict) observation).getSpaces().entrySet()) {
                    if (part.getKey().equals(MASK_KEY)) {
                        maskPart = part.getValue();
                        maskAt = at;
                    } else if (part.getKey().equals(OBSERVATIONS_KEY)) {
                        modelPart = part.getValue();
                        modelAt = at;
                    }
                    at += part.getValue().flatSize();
                }
            }
            if (maskPart == null || modelPart == null || maskPart.flatSize() != size) {
                throw new IllegalArgumentException("the model uses an action mask (it implements MaskedModel), so its "
                        + "observation space must be Dict(" + MASK_KEY + ": Box(0, 1, (" + size + ",)), "
                        + OBSERVATIONS_KEY + ": <the model's observation space>), but it is " + observation);
            }
            return new Layout(modelPart, size, maskAt, modelAt, observation.flatSize());
        }

        /**
         * The observation to send for the model's own {@code observation} and its {@code mask} (null:
         * every action valid). The array is reused by the next call.
         */
        public double[] combine(double[] observation, boolean[] mask) {
            write(mask, size, combined, maskAt);
            System.arraycopy(observation, 0, combined, modelAt, observation.length);
            return combined;
        }
    }

    /** Writes {@code mask} as 1 (valid) and 0 (masked) into {@code into} from {@code at}; a null mask as all 1. */
    public static void write(boolean[] mask, int size, double[] into, int at) {
        for (int i = 0; i < size; i++) {
            into[at + i] = mask == null || mask[i] ? 1 : 0;
        }
    }
}
