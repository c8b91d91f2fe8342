package com.alpyperl.launcher.testmodels;

import com.alpyperl.connector.ModelParameter;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLConnector;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Checks the coroutine hand-off from the model's side. While any of its code runs it raises
 * {@link #modelRunning} and watches {@link #callerRunning}, which the test raises while its own
 * code runs between calls into the session; each sighting of the caller is counted in
 * {@link #OVERLAPS}. Observation: Box of 1 value (decisions made); action: Discrete(2).
 */
public class TurnCheckingModel implements PlainJavaModel {
    /** How long each piece of model code watches for the caller. */
    public static final long WATCH_NANOS = 20_000;

    public static volatile boolean callerRunning;
    public static volatile boolean modelRunning;
    public static final AtomicInteger OVERLAPS = new AtomicInteger();

    @ModelParameter
    public int maxSteps = 100;

    private final RLConnector connector = new RLConnector(this);
    private int decisions;
    private int lastAction;

    @Override
    public void run() {
        enter();
        for (int step = 0; step < maxSteps; step++) {
            leave();
            connector.requestAction();
            enter();
            decisions++;
        }
        leave();
    }

    @Override
    public double[] getObservation() {
        enter();
        leave();
        return new double[] {decisions};
    }

    @Override
    public void takeAction(RLAction action) {
        enter();
        lastAction = action.asInt();
        leave();
    }

    @Override
    public double getReward() {
        enter();
        leave();
        return lastAction;
    }

    @Override
    public boolean hasFinished() {
        enter();
        leave();
        return false;
    }

    private static void enter() {
        modelRunning = true;
        watchForCaller();
    }

    private static void leave() {
        watchForCaller();
        modelRunning = false;
    }

    /** Spends a little time looking for the caller, which would be seen if it ran now. */
    private static void watchForCaller() {
        long start = System.nanoTime();
        do {
            if (callerRunning) {
                OVERLAPS.incrementAndGet();
                return;
            }
        } while (System.nanoTime() - start < WATCH_NANOS);
    }
}
