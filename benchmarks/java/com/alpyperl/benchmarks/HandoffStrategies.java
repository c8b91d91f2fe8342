package com.alpyperl.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Pairs of threads handing a turn to each other, as caller and model thread do in the launcher's
 * ModelSession, with different ways of waiting for the turn. Measures the cost of one round trip
 * (caller to model and back) without model or Python, so that waiting strategies can be compared
 * with free cores, with both threads of a pair on one core ({@code taskset}), and with more pairs
 * than cores (several environments, one per core, as RLlib runs them).
 *
 * <p>Usage: {@code java ... HandoffStrategies <strategy> <seconds> <callerWorkNanos> <pairs>};
 * prints one JSON line. {@code callerWorkNanos} keeps the caller busy between round trips, as
 * Python is between two steps. Strategies (see {@link #main}):
 * <ul>
 *   <li>{@code spin50}: busy-wait (onSpinWait) up to 50 µs, then park (ModelSession at first);</li>
 *   <li>{@code adaptive50}: like spin50, but after a wait longer than 50 µs only 2 µs next time
 *       (ModelSession since its "adaptive spin");</li>
 *   <li>{@code adaptive50-yield}: like adaptive50, but busy-waits only the first 1 µs and calls
 *       Thread.yield() for the rest of the spin, so that a thread waiting for this core runs;</li>
 *   <li>{@code backoff50}: busy-wait up to 50 µs; but after a wait that outlasted the spin
 *       (spinning did not pay off), park at once for the next 1, 2, 4, ... 256 waits (doubling
 *       while spins keep failing, back to 1 after a spin that paid off);</li>
 *   <li>{@code park}: park at once.</li>
 * </ul>
 */
public final class HandoffStrategies {
    private static final long PROBE_NANOS = 2_000;
    private static final int MAX_SKIPS = 256;

    private final long spinNanos;
    private final long busyNanos;
    private final boolean adaptive;
    private final boolean backoff;

    private HandoffStrategies(long spinNanos, long busyNanos, boolean adaptive, boolean backoff) {
        this.spinNanos = spinNanos;
        this.busyNanos = busyNanos;
        this.adaptive = adaptive;
        this.backoff = backoff;
    }

    /** One caller and one model thread passing the turn between them. */
    private final class Pair {
        static final int CALLER = 0;
        static final int MODEL = 1;

        volatile int turn = CALLER;
        final Thread[] threads = new Thread[2];
        volatile boolean callerParked;
        volatile boolean modelParked;
        final long[] spin = {spinNanos, spinNanos};
        final int[] skips = new int[2];
        final int[] backoffs = {1, 1};
        volatile long trips;

        void awaitTurn(int side) {
            long start = System.nanoTime();
            long budget = spin[side];
            if (backoff && skips[side] > 0) {
                skips[side]--;
                budget = 0;
            }
            while (turn != side) {
                long waited = System.nanoTime() - start;
                if (waited < budget) {
                    if (waited < busyNanos) {
                        Thread.onSpinWait();
                    } else {
                        Thread.yield();
                    }
                    continue;
                }
                setParked(side, true);
                if (turn != side) {
                    LockSupport.park(this);
                }
                setParked(side, false);
            }
            if (backoff && budget > 0) {
                if (System.nanoTime() - start > budget) { // spinning did not pay off
                    skips[side] = backoffs[side];
                    backoffs[side] = Math.min(2 * backoffs[side], MAX_SKIPS);
                } else {
                    backoffs[side] = 1;
                }
            } else if (adaptive) {
                spin[side] = System.nanoTime() - start <= spinNanos ? spinNanos : Math.min(spinNanos, PROBE_NANOS);
            }
        }

        void setParked(int side, boolean value) {
            if (side == CALLER) {
                callerParked = value;
            } else {
                modelParked = value;
            }
        }

        void give(int side) {
            turn = side;
            if (side == MODEL ? modelParked : callerParked) {
                LockSupport.unpark(threads[side]);
            }
        }

        void modelLoop() {
            while (true) {
                awaitTurn(MODEL);
                give(CALLER);
            }
        }

        void callerLoop(long work, AtomicBoolean stop) {
            long count = 0;
            while (!stop.get()) {
                if (work > 0) {
                    busy(work);
                }
                give(MODEL);
                awaitTurn(CALLER);
                trips = ++count;
            }
        }
    }

    private static double sink;

    private static void busy(long nanos) {
        long start = System.nanoTime();
        while (System.nanoTime() - start < nanos) {
            sink += 1;
        }
    }

    /** Runs one strategy on {@code pairs} pairs and prints the mean round-trip cost, as JSON. */
    public static void main(String[] args) throws InterruptedException {
        String strategy = args[0];
        double seconds = Double.parseDouble(args[1]);
        long work = Long.parseLong(args[2]);
        int pairCount = Integer.parseInt(args[3]);
        HandoffStrategies handoff;
        switch (strategy) {
            case "spin50":
                handoff = new HandoffStrategies(50_000, 50_000, false, false);
                break;
            case "adaptive50":
                handoff = new HandoffStrategies(50_000, 50_000, true, false);
                break;
            case "adaptive50-yield":
                handoff = new HandoffStrategies(50_000, 1_000, true, false);
                break;
            case "backoff50":
                handoff = new HandoffStrategies(50_000, 50_000, false, true);
                break;
            case "park":
                handoff = new HandoffStrategies(0, 0, false, false);
                break;
            default:
                throw new IllegalArgumentException("unknown strategy " + strategy);
        }
        AtomicBoolean stop = new AtomicBoolean();
        List<Pair> pairs = new ArrayList<>();
        for (int i = 0; i < pairCount; i++) {
            Pair pair = handoff.new Pair();
            pair.threads[Pair.MODEL] = new Thread(pair::modelLoop, "model-" + i);
            pair.threads[Pair.CALLER] = new Thread(() -> pair.callerLoop(work, stop), "caller-" + i);
            for (Thread thread : pair.threads) {
                thread.setDaemon(true);
                thread.start();
            }
            pairs.add(pair);
        }
        long warmup = (long) (seconds * 0.2e9);
        Thread.sleep(warmup / 1_000_000);
        long[] before = new long[pairCount];
        for (int i = 0; i < pairCount; i++) {
            before[i] = pairs.get(i).trips;
        }
        long start = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        long elapsed = System.nanoTime() - start;
        long trips = 0;
        for (int i = 0; i < pairCount; i++) {
            trips += pairs.get(i).trips - before[i];
        }
        stop.set(true);
        double perPair = trips / (double) pairCount;
        double nsPerTrip = perPair > 0 ? elapsed / perPair - work : -1;
        System.out.println(String.format(Locale.ROOT, "{\"strategy\":\"%s\",\"pairs\":%d,\"caller_work_ns\":%d,"
                + "\"round_trips\":%d,\"ns_per_round_trip\":%.1f}", strategy, pairCount, work, trips, nsPerTrip));
    }
}
