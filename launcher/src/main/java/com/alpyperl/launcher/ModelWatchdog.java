package com.alpyperl.launcher;

import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Looks after the models that run on their callers' threads ({@link CallerCarrier}): their
 * callers cannot look at the clock while a model runs. One daemon thread per JVM, which wakes a
 * few times a second and looks at each carrier whose model is running:
 * <ul>
 *   <li>a model that handed its decision back but kept its caller's thread for the step timeout
 *       is pinned to it (it called {@code requestAction()} from native code or a class
 *       initializer): its session is told, which ends the model's run with an error;</li>
 *   <li>a model that has run for the step timeout without reaching its next decision may loop
 *       forever. It cannot be stopped on its caller's thread: the watchdog prints where it is,
 *       once per step, and how to run such a model so that it times out instead.</li>
 * </ul>
 */
final class ModelWatchdog {
    private static final long PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final CopyOnWriteArrayList<CallerCarrier> CARRIERS = new CopyOnWriteArrayList<>();
    private static Thread thread;

    private ModelWatchdog() {
    }

    /** Starts looking after {@code carrier} (until {@link #forget}). */
    static synchronized void watch(CallerCarrier carrier) {
        CARRIERS.add(carrier);
        if (thread == null) {
            thread = new Thread(ModelWatchdog::run, "alpyperl-watchdog");
            thread.setDaemon(true);
            thread.start();
        }
    }

    /** Stops looking after {@code carrier}. */
    static void forget(CallerCarrier carrier) {
        CARRIERS.remove(carrier);
    }

    private static void run() {
        while (true) {
            try {
                TimeUnit.NANOSECONDS.sleep(PERIOD_NANOS);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (CallerCarrier carrier : CARRIERS) {
                look(carrier, now);
            }
        }
    }

    private static void look(CallerCarrier carrier, long now) {
        long running = carrier.runningFor(now);
        if (running == 0) {
            return;
        }
        long run = carrier.taskCount();
        StringBuilder where = new StringBuilder();
        long timeout = Long.MAX_VALUE;
        for (CallerHandoff session : carrier.sessions()) {
            if (session.waitsInRun(run)) {
                if (running >= session.timeoutNanos) {
                    session.abandonPinnedOnCaller(carrier.servingThread().getName());
                }
            } else if (!session.handedBackThisExchange()) {
                timeout = Math.min(timeout, session.timeoutNanos);
                where.append(session.whereTheModelIs());
            }
        }
        if (where.length() > 0 && running >= timeout && carrier.firstReport()) {
            System.err.println("alpyperl: a model has run for " + String.format(Locale.ROOT, "%.1f", running / 1e9) + " s (step_timeout "
                    + timeout / 1e9 + " s) without reaching its next requestAction(). It runs on the thread of its "
                    + "caller (model_threads=\"caller\"), where it cannot be stopped: it may loop forever. Stop the "
                    + "process (Ctrl-C twice), or run the model with model_threads=\"platform\" to have such a step raise "
                    + "ModelTimeoutError instead." + where);
        }
    }
}
