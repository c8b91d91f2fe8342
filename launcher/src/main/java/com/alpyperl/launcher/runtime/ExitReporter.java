package com.alpyperl.launcher.runtime;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Says who ended the process. The JVM runs inside the Python process, so a {@code System.exit}
 * (or {@code Runtime.exit}) anywhere in model code, or in the AnyLogic engine, ends the whole
 * process, Python and all, without a Python exception. A shutdown hook, installed once per JVM
 * when the first model folder is opened, looks for the thread that is inside {@code exit}; if
 * model code is on its stack (a class of an opened model folder: the model's own, its libraries',
 * the AnyLogic engine's), it prints on the process's real standard error (not a captured or
 * redirected {@code System.err}) which thread called exit and that thread's Java stack. When the
 * AnyLogic engine itself called it (the first caller below {@code exit} that is not the JDK's is
 * a class of {@code com.anylogic}), it adds why: AnyLogic's engine ends the process when it
 * refuses a model that AnyLogic did not generate.
 *
 * <p>Nothing is printed when no thread is inside {@code exit} (a normal end of the Python
 * interpreter), nor when the host ends the process (the launcher's command line, a test runner).
 * {@code Runtime.halt()} cannot be seen: it ends the process without running shutdown hooks.
 */
public final class ExitReporter {
    private static final Set<ClassLoader> MODEL_LOADERS = ConcurrentHashMap.newKeySet();
    private static final AtomicBoolean INSTALLED = new AtomicBoolean();
    /** The model threads that run now, virtual ones included, as the session layer tells. */
    private static volatile Supplier<Set<Thread>> modelThreads = Collections::emptySet;

    private ExitReporter() {
    }

    /** Watches the classes of a model folder's class loader; installs the shutdown hook, once per JVM. */
    static void watch(ClassLoader modelLoader) {
        MODEL_LOADERS.add(modelLoader);
        if (INSTALLED.compareAndSet(false, true)) {
            Runtime.getRuntime().addShutdownHook(new Thread(ExitReporter::report, "alpyperl exit reporter"));
        }
    }

    /**
     * Where the report finds the live model threads: virtual ones are not in {@code
     * Thread.getAllStackTraces()}, so the layer that starts model threads names them.
     */
    public static void findModelThreadsWith(Supplier<Set<Thread>> liveModelThreads) {
        modelThreads = liveModelThreads;
    }

    private static void report() {
        try {
            Map<Thread, StackTraceElement[]> threads = new HashMap<>(Thread.getAllStackTraces());
            for (Thread modelThread : modelThreads.get()) { // virtual ones are not in getAllStackTraces()
                threads.putIfAbsent(modelThread, modelThread.getStackTrace());
            }
            for (Map.Entry<Thread, StackTraceElement[]> thread : threads.entrySet()) {
                String message = message(thread.getKey().getName(), thread.getValue(), ExitReporter::isModelClass);
                if (message != null) {
                    PrintStream stderr = new PrintStream(new FileOutputStream(FileDescriptor.err), true);
                    stderr.print(message);
                    stderr.flush();
                    return;
                }
            }
        } catch (Throwable t) {
            // The process is ending anyway; a report that cannot be made must not stand in its way.
        }
    }

    /** Whether the class {@code name} was defined by the class loader of an opened model folder. */
    private static boolean isModelClass(String name) {
        for (ClassLoader loader : MODEL_LOADERS) {
            try {
                if (Class.forName(name, false, loader).getClassLoader() == loader) {
                    return true;
                }
            } catch (ClassNotFoundException | LinkageError e) {
                // not this model's
            }
        }
        return false;
    }

    /**
     * What to print about a thread named {@code threadName} with this stack (innermost frame
     * first): null unless it is inside {@code exit} with model code (as {@code isModelClass} tells
     * by class name) below.
     */
    static String message(String threadName, StackTraceElement[] stack, Predicate<String> isModelClass) {
        int exitFrame = -1;
        String exitCall = null;
        for (int i = 0; i < stack.length; i++) {
            String type = stack[i].getClassName();
            String method = stack[i].getMethodName();
            if (type.equals("java.lang.Shutdown") || (type.equals("java.lang.Runtime") && method.equals("exit"))) {
                exitCall = exitCall == null ? "Runtime.exit(...)" : exitCall;
                exitFrame = i;
            } else if (type.equals("java.lang.System") && method.equals("exit")) {
                exitCall = "System.exit(...)";
                exitFrame = i;
            }
        }
        if (exitCall == null || !modelCodeBelow(stack, exitFrame + 1, isModelClass)) {
            return null;
        }
        StringBuilder text = new StringBuilder("alpyperl: the model's Java code ended this process: ").append(exitCall)
                .append(" was called on thread \"").append(threadName).append("\". Its stack:\n");
        for (int i = exitFrame; i < stack.length; i++) {
            StackTraceElement frame = stack[i]; // printed without class loader and module, as in the model's own traces
            text.append("\tat ").append(new StackTraceElement(frame.getClassName(), frame.getMethodName(),
                    frame.getFileName(), frame.getLineNumber())).append('\n');
        }
        if (caller(stack, exitFrame + 1).startsWith("com.anylogic.")) {
            text.append("alpyperl: the AnyLogic engine ends the process this way when it refuses a model that AnyLogic "
                    + "did not generate (it prints \"Invalid start location for AnyLogic Runtime\" first): only models "
                    + "exported by AnyLogic can run, so export the model from AnyLogic (File > Export > To standalone "
                    + "Java application)\n");
        }
        return text.toString();
    }

    private static boolean modelCodeBelow(StackTraceElement[] stack, int from, Predicate<String> isModelClass) {
        for (int i = from; i < stack.length; i++) {
            if (isModelClass.test(stack[i].getClassName())) {
                return true;
            }
        }
        return false;
    }

    /** The class that called exit: the first frame from {@code from} on that is not the JDK's (reflection, lambdas), or "". */
    private static String caller(StackTraceElement[] stack, int from) {
        for (int i = from; i < stack.length; i++) {
            String type = stack[i].getClassName();
            if (!type.startsWith("java.") && !type.startsWith("javax.") && !type.startsWith("jdk.")
                    && !type.startsWith("sun.")) {
                return type;
            }
        }
        return "";
    }
}
