package com.alpyperl.launcher;

import com.alpyperl.connector.ActionMask;
import com.alpyperl.connector.Json;
import com.alpyperl.connector.Space;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * A session's row of the buffer it shares with its caller, laid out by the spaces agreed with the
 * caller: {@code [action (A doubles) | observation (O doubles) | reward (a double)]}. For a model
 * with an action mask ({@link com.alpyperl.connector.MaskedModel}) the observation is the Dict of
 * the mask and the model's own observation ({@link ActionMask}).
 *
 * <p>An observation space that is a Box of float32 (Gymnasium's default) crosses in float32: its O
 * values lie as floats in the first half of the observation's O doubles, so that Python copies
 * them as they are instead of converting each step (alpyperl's {@code spaces.observation_part}
 * reads the same layout). A multi-agent model's table of agents always crosses in float64.
 */
final class SharedRow {
    final Space observationSpace;
    final Space actionSpace;
    /** The space of the model's own observation: {@link #observationSpace}, or its part beside the mask. */
    final Space modelObservationSpace;
    /** A multi-agent model's agent type spaces agreed with the caller (parsed JSON), or null. */
    final Object agentTypeSpaces;
    /** How many entries the model's action mask has; 0 for a model without one. */
    final int maskSize;
    /** The doubles of the row, native byte order, over the caller's memory. */
    final DoubleBuffer buffer;
    /** For an observation that crosses in float32: the floats of the observation part; else null. */
    private final FloatBuffer observationFloats;
    private final int actionSize;
    private final int rewardIndex;
    /** For a masked model: where the mask and the model's own observation lie in the observation; else null. */
    private final ActionMask.Layout maskLayout;

    /**
     * The row over {@code shared} (a direct buffer of at least A + O + 1 doubles) for the spaces
     * given as JSON (see {@link Space#toJson()}); {@code masked} for a model with an action mask,
     * whose observation space must then be the Dict {@link ActionMask#observationSpace} describes.
     */
    SharedRow(String observationSpaceJson, String actionSpaceJson, ByteBuffer shared, boolean masked) {
        Object parsedObservation = Json.parse(observationSpaceJson);
        Space observation = Space.fromJsonValue(parsedObservation, "the observation space");
        agentTypeSpaces = parsedObservation instanceof java.util.Map
                ? ((java.util.Map<?, ?>) parsedObservation).get("agent_types") : null;
        Space action = Space.fromJson(actionSpaceJson);
        int needed = action.flatSize() + observation.flatSize() + 1;
        DoubleBuffer doubles = shared.order(ByteOrder.nativeOrder()).asDoubleBuffer();
        if (doubles.capacity() < needed) {
            throw new IllegalArgumentException("the shared buffer holds " + doubles.capacity() + " doubles; "
                    + needed + " are needed (action " + action.flatSize() + ", observation "
                    + observation.flatSize() + ", reward 1)");
        }
        this.observationSpace = observation;
        this.actionSpace = action;
        this.buffer = doubles;
        this.actionSize = action.flatSize();
        this.rewardIndex = actionSize + observation.flatSize();
        maskLayout = masked ? ActionMask.Layout.of(observation, action) : null;
        modelObservationSpace = masked ? maskLayout.modelObservationSpace : observation;
        maskSize = masked ? maskLayout.size : 0;
        boolean floats = agentTypeSpaces == null && crossesInFloat32(observation); // (a table of agents: float64)
        observationFloats = floats ? shared.duplicate().position(shared.position() + 8 * actionSize).slice()
                .order(ByteOrder.nativeOrder()).asFloatBuffer() : null;
    }

    /** Whether an observation of {@code space} crosses in float32 (a Box of float32) rather than in float64. */
    static boolean crossesInFloat32(Space space) {
        return space instanceof Space.Box && "float32".equals(((Space.Box) space).getDtype());
    }

    /**
     * The observation to write for the model's own {@code observation} and its {@code mask} (null:
     * every action valid): {@code observation} itself for a model without a mask.
     */
    double[] observationWithMask(double[] observation, boolean[] mask) {
        return maskLayout == null ? observation : maskLayout.combine(observation, mask);
    }

    /** Writes the observation and the reward after the action. */
    void writeObservation(double[] observation, double reward) {
        if (observationFloats != null) {
            for (int i = 0; i < observation.length; i++) {
                observationFloats.put(i, (float) observation[i]);
            }
        } else {
            for (int i = 0; i < observation.length; i++) {
                buffer.put(actionSize + i, observation[i]);
            }
        }
        buffer.put(rewardIndex, reward);
    }

    /** Reads the observation in the row (as last written) into {@code into}, which holds O values. */
    void readObservation(double[] into) {
        for (int i = 0; i < into.length; i++) {
            into[i] = observationFloats != null ? observationFloats.get(i) : buffer.get(actionSize + i);
        }
    }

    /** Why the action in the row is not a value of the action space (see {@link Space#problemWith}), or null. */
    String actionProblem() {
        return actionSpace.problemWith(buffer, 0);
    }
}
