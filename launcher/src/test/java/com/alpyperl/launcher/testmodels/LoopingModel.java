package com.alpyperl.launcher.testmodels;

import com.alpyperl.connector.ModelParameter;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLConnector;

/**
 * A model that spins without reaching its next decision once it has made {@code loopAt}
 * decisions (0: before the first one; -1: never). The loop ends when the thread is interrupted,
 * so a stuck thread never outlives the test even where Thread.stop() is unsupported.
 * Observation: Box of 1 value (decisions made); action: Discrete(2).
 */
public class LoopingModel implements PlainJavaModel {
    /** The thread that ran the latest episode. */
    public static volatile Thread lastThread;

    @ModelParameter
    public int loopAt = -1;
    @ModelParameter
    public int maxSteps = 5;

    private final RLConnector connector = new RLConnector(this);
    private int decisions;

    @Override
    public void run() {
        lastThread = Thread.currentThread();
        for (int step = 0; step < maxSteps; step++) {
            if (decisions == loopAt) {
                spin();
            }
            connector.requestAction();
            decisions++;
        }
    }

    private static void spin() {
        while (!Thread.currentThread().isInterrupted()) {
            Thread.onSpinWait();
        }
    }

    @Override
    public double[] getObservation() {
        return new double[] {decisions};
    }

    @Override
    public void takeAction(RLAction action) {
    }

    @Override
    public double getReward() {
        return 0;
    }

    @Override
    public boolean hasFinished() {
        return false;
    }
}
