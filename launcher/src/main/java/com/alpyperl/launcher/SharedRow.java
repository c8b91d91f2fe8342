package com.alpyperl.launcher;

import com.alpyperl.connector.Space;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;

/**
 * A session's row of the buffer it shares with its caller, laid out by the spaces agreed with the
 * caller: {@code [action (A values) | observation (O values) | reward]}.
 */
final class SharedRow {
    final Space observationSpace;
    final Space actionSpace;
    /** The doubles of the row, native byte order, over the caller's memory. */
    final DoubleBuffer buffer;
    private final int actionSize;
    private final int rewardIndex;

    /**
     * The row over {@code shared} (a direct buffer of at least A + O + 1 doubles) for the spaces
     * given as JSON (see {@link Space#toJson()}).
     */
    SharedRow(String observationSpaceJson, String actionSpaceJson, ByteBuffer shared) {
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
