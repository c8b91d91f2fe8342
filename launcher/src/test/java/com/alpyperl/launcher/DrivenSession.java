package com.alpyperl.launcher;

import com.alpyperl.connector.Space;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;

/**
 * A session with its shared buffer, driven the way the Python side drives it: write the action,
 * call step(), read observation and reward. Buffer layout: [action | observation | reward].
 */
final class DrivenSession {
    final ModelSession session;
    final Space observationSpace;
    final Space actionSpace;
    final ByteBuffer bytes;
    final DoubleBuffer doubles;

    DrivenSession(ModelSession session, Space observationSpace, Space actionSpace, double timeoutSeconds) {
        this.session = session;
        this.observationSpace = observationSpace;
        this.actionSpace = actionSpace;
        this.bytes = ByteBuffer.allocateDirect((actionSpace.flatSize() + observationSpace.flatSize() + 1) * 8);
        configure(timeoutSeconds);
        this.doubles = bytes.duplicate().order(ByteOrder.nativeOrder()).asDoubleBuffer();
    }

    /** Configures the session again (between episodes) with another step timeout. */
    void configure(double timeoutSeconds) {
        session.configure(observationSpace.toJson(), actionSpace.toJson(), timeoutSeconds, bytes);
    }

    int reset(long seed) {
        return session.reset(seed);
    }

    /** Writes the action's flat values and steps. */
    int step(double... action) {
        for (int i = 0; i < action.length; i++) {
            doubles.put(i, action[i]);
        }
        return session.step();
    }

    double[] observation() {
        double[] out = new double[observationSpace.flatSize()];
        session.readObservation(out);
        return out;
    }

    double reward() {
        return doubles.get(actionSpace.flatSize() + observationSpace.flatSize());
    }
}
