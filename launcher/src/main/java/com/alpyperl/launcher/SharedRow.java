package com.alpyperl.launcher;

import com.alpyperl.connector.ActionMask;
import com.alpyperl.connector.Space;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;

/**
 * A session's row of the buffer it shares with its caller, laid out by the spaces agreed with the
 * caller: {@code [action (A values) | observation (O values) | reward]}. For a model with an action
 * mask ({@link com.alpyperl.connector.MaskedModel}) the observation is the Dict of the mask and the
 * model's own observation ({@link ActionMask}).
 */
final class SharedRow {
    final Space observationSpace;
    final Space actionSpace;
    /** The space of the model's own observation: {@link #observationSpace}, or its part beside the mask. */
    final Space modelObservationSpace;
    /** How many entries the model's action mask has; 0 for a model without one. */
    final int maskSize;
    /** The doubles of the row, native byte order, over the caller's memory. */
    final DoubleBuffer buffer;
    private final int actionSize;
    private final int rewardIndex;
    /** For a masked model: where the mask and the model's observation start in the observation. */
    private final int maskAt;
    private final int modelObservationAt;
    /** For a masked model: the observation written at a decision, the mask and the model's values. */
    private final double[] maskedObservation;

    /**
     * The row over {@code shared} (a direct buffer of at least A + O + 1 doubles) for the spaces
     * given as JSON (see {@link Space#toJson()}); {@code masked} for a model with an action mask,
     * whose observation space must then be the Dict {@link ActionMask#observationSpace} describes.
     */
    SharedRow(String observationSpaceJson, String actionSpaceJson, ByteBuffer shared, boolean masked) {
        Space observation = Space.fromJson(observationSpaceJson);
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
        if (!masked) {
            modelObservationSpace = observation;
            maskSize = 0;
            maskAt = 0;
            modelObservationAt = 0;
            maskedObservation = null;
            return;
        }
        int size = ActionMask.size(action);
        Space maskPart = null;
        Space modelPart = null;
        int mask = -1;
        int model = -1;
        int at = 0;
        if (observation instanceof Space.Dict && ((Space.Dict) observation).getSpaces().size() == 2) {
            for (java.util.Map.Entry<String, Space> part : ((Space.Dict) observation).getSpaces().entrySet()) {
                if (part.getKey().equals(ActionMask.MASK_KEY)) {
                    maskPart = part.getValue();
                    mask = at;
                } else if (part.getKey().equals(ActionMask.OBSERVATIONS_KEY)) {
                    modelPart = part.getValue();
                    model = at;
                }
                at += part.getValue().flatSize();
            }
        }
        if (maskPart == null || modelPart == null || maskPart.flatSize() != size) {
            throw new IllegalArgumentException("the model uses an action mask (it implements MaskedModel), so its "
                    + "observation space must be Dict(" + ActionMask.MASK_KEY + ": Box(0, 1, (" + size + ",)), "
                    + ActionMask.OBSERVATIONS_KEY + ": <the model's observation space>), but it is " + observation);
        }
        modelObservationSpace = modelPart;
        maskSize = size;
        maskAt = mask;
        modelObservationAt = model;
        maskedObservation = new double[observation.flatSize()];
    }

    /**
     * The observation to write for the model's own {@code observation} and its {@code mask} (null:
     * every action valid): {@code observation} itself for a model without a mask.
     */
    double[] observationWithMask(double[] observation, boolean[] mask) {
        if (maskedObservation == null) {
            return observation;
        }
        ActionMask.write(mask, maskSize, maskedObservation, maskAt);
        System.arraycopy(observation, 0, maskedObservation, modelObservationAt, observation.length);
        return maskedObservation;
    }

    /** Writes the observation and the reward after the action. */
    void writeObservation(double[] observation, double reward) {
        for (int i = 0; i < observation.length; i++) {
            buffer.put(actionSize + i, observation[i]);
        }
        buffer.put(rewardIndex, reward);
    }

    /** Why the action in the row is not a value of the action space (see {@link Space#problemWith}), or null. */
    String actionProblem() {
        return actionSpace.problemWith(buffer, 0);
    }
}
