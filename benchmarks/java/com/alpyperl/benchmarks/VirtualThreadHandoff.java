package com.alpyperl.benchmarks;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One caller stepping N coroutine-style "models" per step, as the launcher's ModelSessionGroup
 * steps N ModelSessions: each model is a loop that calls a blocking {@code decide()} (hand the
 * turn back to the caller, wait for the next one), and a group step hands the turn to all N
 * models and waits until all of them have handed it back. Measures model steps per second
 * without JPype or a real model (the "model" does a few floating-point operations per step).
 *
 * <p>Strategies, {@code <threads>-<wait>}:
 * <ul>
 *   <li>threads {@code platform}: each model on its own platform (OS) thread, parked and
 *       unparked with LockSupport (the launcher's design); {@code virtual}: each model on its own
 *       virtual thread (JDK 21+, created by reflection so that this compiles with --release 11),
 *       so that a hand-off is a continuation switch on a carrier thread;</li>
 *   <li>wait {@code each}: the caller waits for the models one after the other, each wait
 *       spinning up to the caller spin and then parking, and each model unparks the caller if it
 *       is parked on it (what ModelSessionGroup.stepAll does on platform threads); {@code once}: the models
 *       count down a shared counter, and only the last one unparks the caller, which spins up to
 *       the caller spin and then parks once per group step.</li>
 * </ul>
 * A model waits for its turn spinning up to the model spin, then parks. Every waiting side backs
 * off from spinning as the launcher's SpinPolicy does: after a spin that did not pay off, it parks
 * at once for the next 1, 2, 4, ... 256 waits. The caller is a platform
 * thread (as a Python thread calling through JPype is), or with {@code vcaller} a virtual thread.
 * With {@code driver} (virtual models, wait once), the platform caller hands each group step to
 * one virtual "driver" thread, which hands the turn to the models, parks until the last one has
 * handed it back (a continuation switch, no OS wake-up), and hands the turn back to the caller:
 * one platform-virtual round trip per group step instead of N.
 *
 * <p>Usage: {@code java ... VirtualThreadHandoff <seconds per round> <rounds> <sizes, e.g. 1,4,16,64>
 * <strategy>...}, a strategy being {@code <threads>-<wait>[-vcaller]:<modelSpinMicros>:<callerSpinMicros>},
 * for example {@code platform-each:50:50} or {@code virtual-once:0:20}. Rounds of all strategies
 * are interleaved; prints one JSON line per size and strategy with the median steps per second.
 */
public final class VirtualThreadHandoff {
    private static final int CALLER = 0;
    private static final int MODEL = 1;

    /** Creates a thread that runs {@code task}: a virtual thread when asked for, else a platform daemon thread. */
    static Thread newThread(boolean virtual, String name, Runnable task) {
        if (!virtual) {
            Thread thread = new Thread(task, name);
            thread.setDaemon(true);
            return thread;
        }
        try {
            Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
            Class<?> builderType = Class.forName("java.lang.Thread$Builder");
            builder = builderType.getMethod("name", String.class).invoke(builder, name);
            Method unstarted = builderType.getMethod("unstarted", Runnable.class);
            return (Thread) unstarted.invoke(builder, task);
        } catch (ReflectiveOperationException e) {
            throw new UnsupportedOperationException("virtual threads need Java 21 or newer; this is Java "
                    + System.getProperty("java.version"), e);
        }
    }

    /** The launcher's SpinPolicy: spin while spinning pays off, else park at once for a growing number of waits. */
    static final class Spin {
        final long spinNanos;
        int waitsToPark;
        int backoff = 1;

        Spin(long spinNanos) {
            this.spinNanos = spinNanos;
        }

        long next() {
            if (waitsToPark > 0) {
                waitsToPark--;
                return 0;
            }
            return spinNanos;
        }

        void waited(long spun, long waited) {
            if (spun == 0) {
                return;
            }
            if (waited > spun) {
                waitsToPark = backoff;
                backoff = Math.min(2 * backoff, 256);
            } else {
                backoff = 1;
            }
        }
    }

    /** One strategy: how models run and how the caller waits for them. */
    static final class Strategy {
        final String name;
        final boolean virtualModels;
        final boolean waitOnce;
        final boolean virtualCaller;
        final boolean viaDriver;
        final long modelSpinNanos;
        final long callerSpinNanos;

        Strategy(String spec) {
            String[] parts = spec.split(":");
            name = spec;
            virtualModels = parts[0].startsWith("virtual");
            waitOnce = parts[0].contains("-once");
            virtualCaller = parts[0].endsWith("-vcaller");
            viaDriver = parts[0].endsWith("-driver");
            modelSpinNanos = Long.parseLong(parts[1]) * 1000;
            callerSpinNanos = Long.parseLong(parts[2]) * 1000;
        }
    }

    /** N models and the caller that steps them. */
    static final class Group {
        final Strategy strategy;
        final Model[] models;
        final AtomicInteger remaining = new AtomicInteger();
        volatile Thread caller;
        volatile boolean callerParked;
        volatile boolean stopping;
        final Spin callerSpin;
        // ---- the driver (strategy "driver"): a virtual thread that runs stepAll() for the caller ----
        Thread driver;
        Thread outerCaller;
        volatile int driverTurn = CALLER;
        volatile boolean driverParked;
        volatile boolean outerCallerParked;
        Spin outerSpin;

        Group(Strategy strategy, int size) {
            this.strategy = strategy;
            models = new Model[size];
            callerSpin = new Spin(strategy.viaDriver ? 0 : strategy.callerSpinNanos);
            if (strategy.viaDriver) {
                outerSpin = new Spin(strategy.callerSpinNanos);
                driver = newThread(true, "driver", this::driverLoop);
                driver.start();
            }
            for (int i = 0; i < size; i++) {
                models[i] = new Model(this);
                models[i].thread = newThread(strategy.virtualModels, "model-" + i, models[i]::run);
                models[i].thread.start();
            }
        }

        /** One group step: hand the turn to every model, wait until all have handed it back. */
        void stepAll() {
            caller = Thread.currentThread();
            remaining.set(models.length);
            for (Model model : models) {
                model.turn = MODEL;
                if (model.parked) {
                    LockSupport.unpark(model.thread);
                }
            }
            if (strategy.waitOnce) {
                long start = System.nanoTime();
                long spin = callerSpin.next();
                while (remaining.get() != 0) {
                    if (System.nanoTime() - start < spin) {
                        Thread.onSpinWait();
                        continue;
                    }
                    callerParked = true;
                    if (remaining.get() != 0) {
                        LockSupport.park(this);
                    }
                    callerParked = false;
                }
                callerSpin.waited(spin, System.nanoTime() - start);
            } else {
                for (Model model : models) {
                    long start = System.nanoTime();
                    long spin = model.callerSpin.next();
                    while (model.turn != CALLER) {
                        if (System.nanoTime() - start < spin) {
                            Thread.onSpinWait();
                            continue;
                        }
                        model.callerParked = true;
                        if (model.turn != CALLER) {
                            LockSupport.park(this);
                        }
                        model.callerParked = false;
                    }
                    model.callerSpin.waited(spin, System.nanoTime() - start);
                }
            }
        }

        /** One group step through the driver: hand it the turn, wait until it hands it back. */
        void stepViaDriver() {
            outerCaller = Thread.currentThread();
            driverTurn = MODEL;
            if (driverParked) {
                LockSupport.unpark(driver);
            }
            long start = System.nanoTime();
            long spin = outerSpin.next();
            while (driverTurn != CALLER) {
                if (System.nanoTime() - start < spin) {
                    Thread.onSpinWait();
                    continue;
                }
                outerCallerParked = true;
                if (driverTurn != CALLER) {
                    LockSupport.park(this);
                }
                outerCallerParked = false;
            }
            outerSpin.waited(spin, System.nanoTime() - start);
        }

        void driverLoop() {
            while (true) {
                while (driverTurn != MODEL) {
                    driverParked = true;
                    if (driverTurn != MODEL) {
                        LockSupport.park(this);
                    }
                    driverParked = false;
                }
                if (stopping) {
                    return;
                }
                stepAll();
                driverTurn = CALLER;
                if (outerCallerParked) {
                    LockSupport.unpark(outerCaller);
                }
            }
        }

        /** Steps the group for {@code nanos}; returns model steps per second. */
        double run(long nanos) {
            long steps = 0;
            long start = System.nanoTime();
            long elapsed;
            do {
                for (int i = 0; i < 100; i++) {
                    if (strategy.viaDriver) {
                        stepViaDriver();
                    } else {
                        stepAll();
                    }
                }
                steps += 100L * models.length;
                elapsed = System.nanoTime() - start;
            } while (elapsed < nanos);
            return steps * 1e9 / elapsed;
        }

        /** Like {@link #run}, on a virtual caller thread when the strategy says so. */
        double measure(long nanos) throws InterruptedException {
            if (!strategy.virtualCaller) {
                return run(nanos);
            }
            double[] result = new double[1];
            Thread thread = newThread(true, "caller", () -> result[0] = run(nanos));
            thread.start();
            thread.join();
            return result[0];
        }

        void close() throws InterruptedException {
            stopping = true;
            if (driver != null) {
                driverTurn = MODEL;
                LockSupport.unpark(driver);
                driver.join();
            }
            for (Model model : models) {
                model.turn = MODEL;
                LockSupport.unpark(model.thread);
                model.thread.join();
            }
        }
    }

    /** A model instance: a loop that computes a little and calls decide() at each step. */
    static final class Model {
        final Group group;
        Thread thread;
        volatile int turn = CALLER;
        volatile boolean parked;
        volatile boolean callerParked;
        double state = 1;
        final Spin callerSpin;
        // ---- the driver (strategy "driver"): a virtual thread that runs stepAll() for the caller ----
        Thread driver;
        Thread outerCaller;
        volatile int driverTurn = CALLER;
        volatile boolean driverParked;
        volatile boolean outerCallerParked;
        Spin outerSpin;
        final Spin modelSpin;

        Model(Group group) {
            this.group = group;
            callerSpin = new Spin(group.strategy.callerSpinNanos);
            modelSpin = new Spin(group.strategy.modelSpinNanos);
        }

        void run() {
            awaitTurn();
            while (!group.stopping) {
                state = state * 0.999 + Math.sqrt(state); // the model's own work for one step
                decide();
            }
        }

        /** Hands the turn back to the caller and waits for the next one, as requestAction() does. */
        void decide() {
            turn = CALLER;
            if (group.strategy.waitOnce) {
                if (group.remaining.decrementAndGet() == 0 && group.callerParked) {
                    LockSupport.unpark(group.caller);
                }
            } else if (callerParked) {
                LockSupport.unpark(group.caller);
            }
            awaitTurn();
        }

        void awaitTurn() {
            long start = System.nanoTime();
            long spin = modelSpin.next();
            while (turn != MODEL) {
                if (System.nanoTime() - start < spin) {
                    Thread.onSpinWait();
                    continue;
                }
                parked = true;
                if (turn != MODEL) {
                    LockSupport.park(this);
                }
                parked = false;
            }
            modelSpin.waited(spin, System.nanoTime() - start);
        }
    }

    public static void main(String[] args) throws InterruptedException {
        long nanos = (long) (Double.parseDouble(args[0]) * 1e9);
        int rounds = Integer.parseInt(args[1]);
        int[] sizes = Arrays.stream(args[2].split(",")).mapToInt(Integer::parseInt).toArray();
        List<Strategy> strategies = new ArrayList<>();
        for (int i = 3; i < args.length; i++) {
            strategies.add(new Strategy(args[i]));
        }
        for (int size : sizes) {
            Map<Strategy, Group> groups = new LinkedHashMap<>();
            Map<Strategy, double[]> rates = new LinkedHashMap<>();
            for (Strategy strategy : strategies) {
                Group group = new Group(strategy, size);
                group.measure(nanos / 2); // warm up
                groups.put(strategy, group);
                rates.put(strategy, new double[rounds]);
            }
            for (int round = 0; round < rounds; round++) {
                for (Strategy strategy : strategies) {
                    rates.get(strategy)[round] = groups.get(strategy).measure(nanos);
                }
            }
            for (Strategy strategy : strategies) {
                groups.get(strategy).close();
                double[] sorted = rates.get(strategy).clone();
                Arrays.sort(sorted);
                System.out.println(String.format(Locale.ROOT, "{\"java\":\"%s\",\"n\":%d,\"strategy\":\"%s\","
                        + "\"median_steps_per_s\":%.0f,\"rounds\":%s}", System.getProperty("java.version"), size,
                        strategy.name, sorted[rounds / 2], Arrays.toString(rates.get(strategy))));
            }
        }
    }
}
