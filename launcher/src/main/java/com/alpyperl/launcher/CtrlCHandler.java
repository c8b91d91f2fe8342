package com.alpyperl.launcher;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * What Ctrl-C (SIGINT) does to the steps under way in a JVM that Python hosts. Installed by
 * alpyperl right after it starts the JVM ({@link #install}), in place of JPype's own handler, whose
 * two parts it still carries out, first: it has Python raise {@code KeyboardInterrupt} as soon as
 * Python runs again, then interrupts the thread that started the JVM. (JPype's own handler does
 * these the other way round, so that a step woken by the interrupt could return to Python before
 * Python knew of Ctrl-C, which then raised a second {@code KeyboardInterrupt} in the code that
 * handled the first.)
 *
 * <p>Then every thread inside a group step ({@link ModelSessionGroup#stepAll()}), whichever Python
 * thread it is, is woken: its wait for models that wait or compute on threads of their own
 * (platform threads, lanes) ends at once, those models are given up on as after a timeout, and
 * the step throws {@link StepInterruptedException} ({@code KeyboardInterrupt}); {@code reset()}
 * starts new model threads.
 *
 * <p>A model that computes on its caller's thread ({@code model_threads="caller"}) cannot be
 * unwound from outside (Java has no {@code Thread.stop}): the first Ctrl-C prints at once where
 * it is, and the {@code KeyboardInterrupt} comes when it reaches its next {@code
 * requestAction()}; a second Ctrl-C while a model still computes in the same step prints its
 * stack again and ends the process with status 130, as Ctrl-C ends a plain Java program.
 *
 * <p>The JVM's signal API ({@code sun.misc.Signal}, module {@code jdk.unsupported}) is used through
 * reflection, as JPype uses it, so that compiling the launcher warns of nothing.
 */
public final class CtrlCHandler {
    /** The exit status of a process that Ctrl-C ended (128 + SIGINT), as shells report it. */
    public static final int EXIT_STATUS = 130;

    private static final Set<ModelSessionGroup> GROUPS = Collections.newSetFromMap(new WeakHashMap<>());
    private static volatile long presses;
    /** The handler this one replaced (a {@code sun.misc.SignalHandler}, JPype's), and its method {@code handle}. */
    private static Object previous;
    private static Method previousHandle;
    /** JPype's {@code JPypeSignal.interruptPy(int)} (Python's side of a signal) and the thread it interrupts. */
    private static Method interruptPython;
    private static Field jpypeMainThread;
    private static volatile boolean exiting;
    private static final int SIGINT = 2;

    private CtrlCHandler() {
    }

    /**
     * Puts this handler in place of the JVM's present SIGINT handler (JPype's, which hands Ctrl-C to
     * Python; this one does that first, see above), once per JVM. Returns false if it was installed
     * already or the JVM has no SIGINT handler to replace (SIGINT is ignored, or the JVM was started
     * with {@code -Xrs}).
     */
    public static synchronized boolean install() {
        if (previous != null) {
            return false;
        }
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Object interrupt = signalClass.getConstructor(String.class).newInstance("INT");
            Object ours = Proxy.newProxyInstance(CtrlCHandler.class.getClassLoader(), new Class<?>[] {handlerClass},
                    (proxy, method, arguments) -> {
                        switch (method.getName()) {
                            case "handle":
                                handle(arguments[0]);
                                return null;
                            case "equals":
                                return proxy == arguments[0];
                            case "hashCode":
                                return System.identityHashCode(proxy);
                            default:
                                return "alpyperl's Ctrl-C handler";
                        }
                    });
            Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
            Object before = handle.invoke(null, interrupt, ours);
            if (before == handlerClass.getField("SIG_IGN").get(null)) {
                handle.invoke(null, interrupt, before);
                return false;
            }
            previous = before;
            previousHandle = handlerClass.getMethod("handle", signalClass);
            findJPypeSignal(before);
            return true;
        } catch (InvocationTargetException e) { // the JVM does not let SIGINT be handled here (-Xrs)
            return false;
        } catch (ReflectiveOperationException | RuntimeException e) { // no sun.misc.Signal in this JVM
            return false;
        }
    }

    /** Finds the two parts of JPype's SIGINT handler {@code jpypeHandler} (a proxy of {@code org.jpype.JPypeSignal}). */
    private static void findJPypeSignal(Object jpypeHandler) {
        try {
            if (!Proxy.isProxyClass(jpypeHandler.getClass())) {
                return;
            }
            ClassLoader loader = Proxy.getInvocationHandler(jpypeHandler).getClass().getClassLoader();
            Class<?> jpypeSignal = Class.forName("org.jpype.JPypeSignal", false, loader);
            Method interrupt = jpypeSignal.getDeclaredMethod("interruptPy", int.class);
            Field main = jpypeSignal.getDeclaredField("main");
            interrupt.setAccessible(true);
            main.setAccessible(true);
            jpypeMainThread = main;
            interruptPython = interrupt;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            interruptPython = null; // another JPype: its own handler is called as it is
        }
    }

    /** How many times Ctrl-C was pressed so far (a step notes it when it begins: {@link #pressedSince}). */
    static long presses() {
        return presses;
    }

    /** Whether Ctrl-C was pressed since {@link #presses()} returned {@code before}. */
    static boolean pressedSince(long before) {
        return presses != before;
    }

    /** Watches {@code group}: a thread inside its step is woken by Ctrl-C (until the group is collected). */
    static void watch(ModelSessionGroup group) {
        synchronized (GROUPS) {
            GROUPS.add(group);
        }
    }

    /** Stops watching {@code group} (it was closed). */
    static void forget(ModelSessionGroup group) {
        synchronized (GROUPS) {
            GROUPS.remove(group);
        }
    }

    /** On the JVM's signal thread: Python's side of Ctrl-C first (JPype's), then the steps under way. */
    private static void handle(Object signal) {
        if (exiting) {
            Runtime.getRuntime().halt(EXIT_STATUS); // a shutdown hook hangs: Ctrl-C once more ends it at once
        }
        try {
            if (interruptPython != null) {
                interruptPython.invoke(null, SIGINT); // Python knows of Ctrl-C before any step returns
                Thread jpypeMain = (Thread) jpypeMainThread.get(null);
                if (jpypeMain != null) {
                    jpypeMain.interrupt();
                }
            } else {
                previousHandle.invoke(previous, signal);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // Python's side of Ctrl-C failed; the steps under way are still interrupted below
        }
        presses++; // only this thread writes it
        List<ModelSessionGroup> groups;
        synchronized (GROUPS) {
            groups = new ArrayList<>(GROUPS);
        }
        StringBuilder computing = new StringBuilder();
        StringBuilder stillComputing = new StringBuilder();
        for (ModelSessionGroup group : groups) {
            Thread stepping = group.steppingThread();
            if (stepping == null) {
                continue;
            }
            LockSupport.unpark(stepping); // its wait sees the press (pressedSince) and gives up on its models
            CallerCarrier carrier = group.callerCarrier();
            if (carrier != null) {
                switch (carrier.noteCtrlC()) {
                    case CallerCarrier.MODEL_COMPUTES:
                        computing.append(carrier.whereItsModelsAre());
                        break;
                    case CallerCarrier.MODEL_STILL_COMPUTES:
                        stillComputing.append(carrier.whereItsModelsAre());
                        break;
                    default:
                        break;
                }
            }
        }
        if (stillComputing.length() > 0) {
            exiting = true;
            printOnStandardError("alpyperl: Ctrl-C again while a model still computes on the thread of its caller: "
                    + "ending the process (status " + EXIT_STATUS + ")." + stillComputing);
            Thread exit = new Thread(() -> System.exit(EXIT_STATUS), "alpyperl Ctrl-C exit");
            exit.setDaemon(true);
            exit.start();
        } else if (computing.length() > 0) {
            printOnStandardError("alpyperl: Ctrl-C: a model computes on the thread of its caller "
                    + "(model_threads=\"caller\"), where it cannot be stopped from outside; the KeyboardInterrupt "
                    + "comes when it reaches its next requestAction(). Press Ctrl-C again to end the process. (With "
                    + "model_threads=\"platform\" Ctrl-C gives up on such a model at once.)" + computing);
        }
    }

    /** Prints on the process's real standard error (not a model's routed or captured {@code System.err}). */
    private static void printOnStandardError(String text) {
        PrintStream stderr = new PrintStream(new FileOutputStream(FileDescriptor.err), true);
        stderr.println(text);
        stderr.flush();
    }
}
