package com.alpyperl.launcher.testmodels;

import com.alpyperl.connector.ModelParameter;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLConnector;
import java.util.concurrent.CountDownLatch;

/**
 * A model that does not reach its next decision once it has made {@code loopAt} decisions (0:
 * before the first one; -1: never), in the way {@code stall} says: "spin" (a busy loop, the
 * default), "block" (waits for a signal that never comes), "pin" or "pinAgain" (makes its
 * decision from a class initializer, where a virtual thread cannot let go of its carrier; only
 * the first such model of the JVM does for each of the two, since a class is initialized once). Spinning and blocking end when the
 * thread is interrupted, so a stuck thread never outlives the test even where Thread.stop() is
 * unsupported. Each step also keeps the CPU busy for {@code busyMillis}.
 * Observation: Box of 1 value (decisions made); action: Discrete(2).
 */
public class LoopingModel implements PlainJavaModel {
    /** The thread that ran the latest episode. */
    public static volatile Thread lastThread;
    /** The model whose decision a class initializer makes now (for "pin"). */
    static volatile LoopingModel initializing;

    @ModelParameter
    public int loopAt = -1;
    @ModelParameter
    public String stall = "spin";
    @ModelParameter
    public int busyMillis = 0;
    @ModelParameter
    public int maxSteps = 5;

    final RLConnector connector = new RLConnector(this);
    private int decisions;

    @Override
    public void run() {
        lastThread = Thread.currentThread();
        for (int step = 0; step < maxSteps; step++) {
            busy(busyMillis);
            if (decisions == loopAt) {
                stall();
            }
            connector.requestAction();
            decisions++;
        }
    }

    private void stall() {
        switch (stall) {
            case "spin":
                spin();
                break;
            case "block":
                try {
                    new CountDownLatch(1).await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                break;
            case "pin":
                initializing = this;
                PinningInitializer.touch(); // its initializer makes this decision
                decisions++;
                break;
            case "pinAgain":
                initializing = this;
                OtherPinningInitializer.touch();
                decisions++;
                break;
            default:
                throw new IllegalArgumentException("unknown stall " + stall);
        }
    }

    private static void spin() {
        while (!Thread.currentThread().isInterrupted()) {
            Thread.onSpinWait();
        }
    }

    private static void busy(int millis) {
        long end = System.nanoTime() + millis * 1_000_000L;
        while (System.nanoTime() < end) {
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

    /** Makes a decision while its class is being initialized. */
    static final class PinningInitializer {
        static {
            initializing.connector.requestAction();
        }

        private PinningInitializer() {
        }

        static void touch() {
        }
    }

    /** As {@link PinningInitializer}, for a second test in the same JVM. */
    static final class OtherPinningInitializer {
        static {
            initializing.connector.requestAction();
        }

        private OtherPinningInitializer() {
        }

        static void touch() {
        }
    }
}
