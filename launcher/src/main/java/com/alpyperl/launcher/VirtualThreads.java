package com.alpyperl.launcher;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.util.concurrent.Executor;

/**
 * Virtual threads that run on a scheduler of the launcher's own ({@link CarrierLane}), so that a
 * model's hand-off to its caller is a continuation switch on one OS thread instead of an OS
 * thread wake-up.
 *
 * <p>They need Java 24 or newer: from Java 24 on, a virtual thread that waits inside a
 * {@code synchronized} block lets go of its carrier thread (JEP 491), and AnyLogic's engine may
 * well call model code from inside one. Choosing the scheduler of a virtual thread is not public
 * API: the launcher uses the JDK's own constructor for it by reflection, which needs the JVM
 * option {@code --add-opens=java.base/java.lang=ALL-UNNAMED} (alpyperl starts its JVM with it).
 * The launcher is compiled for Java 11, so everything here goes through reflection.
 */
final class VirtualThreads {
    /** The first Java version whose virtual threads unmount inside {@code synchronized} (JEP 491). */
    static final int MINIMUM_JAVA = 24;

    private static final Constructor<?> BUILDER;
    private static final Method NAME;
    private static final Method UNSTARTED;
    private static final String UNAVAILABLE;

    static {
        Constructor<?> builder = null;
        Method name = null;
        Method unstarted = null;
        String unavailable = null;
        int version = Runtime.version().feature();
        if (version < MINIMUM_JAVA) {
            unavailable = "virtual model threads need Java " + MINIMUM_JAVA + " or newer; this JVM is Java "
                    + System.getProperty("java.version") + " (" + System.getProperty("java.home") + ")";
        } else {
            try {
                builder = Class.forName("java.lang.ThreadBuilders$VirtualThreadBuilder")
                        .getDeclaredConstructor(Executor.class);
                builder.setAccessible(true);
                Class<?> builderType = Class.forName("java.lang.Thread$Builder");
                name = builderType.getMethod("name", String.class);
                unstarted = builderType.getMethod("unstarted", Runnable.class);
            } catch (ReflectiveOperationException | RuntimeException e) {
                builder = null;
                unavailable = "virtual model threads need the JVM option --add-opens=java.base/java.lang=ALL-UNNAMED "
                        + "(alpyperl adds it to the JVMs it starts); here the JDK refused: " + e;
            }
        }
        BUILDER = builder;
        NAME = name;
        UNSTARTED = unstarted;
        UNAVAILABLE = unavailable;
    }

    private VirtualThreads() {
    }

    /** Whether this JVM can run model threads as virtual threads on a launcher scheduler. */
    static boolean available() {
        return UNAVAILABLE == null;
    }

    /** Why virtual model threads are not available here, or null if they are. */
    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /** An unstarted virtual thread named {@code name} that runs {@code task}, scheduled by {@code scheduler}. */
    static Thread newThread(Executor scheduler, String name, Runnable task) {
        if (UNAVAILABLE != null) {
            throw new UnsupportedOperationException(UNAVAILABLE);
        }
        try {
            Object builder = NAME.invoke(BUILDER.newInstance(scheduler), name);
            return (Thread) UNSTARTED.invoke(builder, task);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("could not create a virtual thread: " + e, e);
        }
    }
}
