package com.alpyperl.connector;

import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The AnyLogic engine that runs an attached model, reached by reflection (the connector has no
 * compile-time AnyLogic dependency): its state, pausing and finishing the run, and restarting an
 * episode inside the running experiment as ALPypeRL 1.x did (stop, a new root with the episode's
 * seed and parameters, start, and the experiment host shows the new root).
 */
final class AttachedEngine {
    /** The engine's, experiment's and root's methods, looked up once per class, name and number of arguments. */
    private static final Map<String, Method> METHODS = new ConcurrentHashMap<>();

    private final Object engine;

    private AttachedEngine(Object engine) {
        this.engine = engine;
    }

    /**
     * The engine of {@code model}: the model is an AnyLogic agent ({@code getEngine()}), or wraps
     * one (the 1.x compatibility jar's model has {@code getEngine()} too). Null for a model that
     * has no engine (a plain Java model).
     */
    static AttachedEngine of(Object model) {
        try {
            Method getEngine = model.getClass().getMethod("getEngine");
            getEngine.setAccessible(true);
            Object engine = getEngine.invoke(model);
            return engine == null ? null : new AttachedEngine(engine);
        } catch (NoSuchMethodException e) {
            return null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("the AnyLogic engine of the model cannot be reached: " + e, e);
        }
    }

    /** The engine itself (its monitor is what AnyLogic's Stop waits for while the model runs). */
    Object engine() {
        return engine;
    }

    /** The engine's state: IDLE, PAUSED, RUNNING, FINISHED, ERROR or PLEASE_WAIT. */
    String state() {
        return String.valueOf(call(engine, "getState"));
    }

    /** Pauses the run after the current event. */
    void pause() {
        call(engine, "pause");
    }

    /** Finishes the run (after the current event, if running). */
    void finish() {
        call(engine, "finish");
    }

    /** The names of the root agent's parameters (empty before a run). */
    String[] parameterNames() {
        Object root = call(engine, "getRoot");
        Object names = root == null ? null : call(root, "getParameterNames");
        return names == null ? new String[0] : (String[]) names;
    }

    /** The simple name of the root agent's class (the model's name to show), or {@code otherwise} before a run. */
    String rootClassName(String otherwise) {
        Object root = call(engine, "getRoot");
        return root == null ? otherwise : root.getClass().getSimpleName();
    }

    /**
     * Stops the run and starts a new one on the same engine: the experiment's engine settings and
     * random generator (seeded from {@code seed} as alpyperl's launcher seeds it), a new root with
     * the experiment's parameters and then {@code parameters}, started and shown by the experiment
     * host. Returns the engine's state after the start (ERROR when the model's start-up failed).
     */
    String restart(long seed, Map<String, Object> parameters) {
        if (!"IDLE".equals(state())) {
            call(engine, "stop");
        }
        Object experiment = call(engine, "getExperiment");
        if (experiment == null) {
            throw new IllegalStateException("the AnyLogic engine has no experiment to create a new root with");
        }
        call(experiment, "setupEngine", engine);
        call(experiment, "initDefaultRandomNumberGenerator", engine);
        long engineSeed = new SplittableRandom(seed).nextLong();
        Random random = (Random) call(engine, "getDefaultRandomGenerator");
        if (random != null) {
            random.setSeed(engineSeed);
        } else {
            call(engine, "setDefaultRandomGenerator", new Random(engineSeed));
        }
        Object root = call(experiment, "createRoot", engine);
        call(experiment, "setupRootParameters", root, false);
        for (Map.Entry<String, Object> parameter : parameters.entrySet()) {
            Object value = convert(root, parameter.getKey(), parameter.getValue());
            if (!Boolean.TRUE.equals(call(root, "setParameter", parameter.getKey(), value, false))) {
                throw new IllegalArgumentException("the root agent " + root.getClass().getSimpleName()
                        + " has no parameter '" + parameter.getKey() + "'");
            }
        }
        call(engine, "start", root);
        showInAnyLogic(root);
        return state();
    }

    /** Runs the model's events on the calling thread until the run is paused, finished or stopped. */
    void runFast() {
        call(engine, "runFast");
    }

    /** Has AnyLogic's experiment host (the IDE's or the export's UI) animate {@code root}, if there is one. */
    private void showInAnyLogic(Object root) {
        Object host;
        try {
            host = call(engine, "getExperimentHost");
        } catch (IllegalStateException noHost) {
            return; // an engine without a host (headless): nothing to show
        }
        if (host != null) {
            call(host, "setPresentable", root);
        }
    }

    /** A parameter value from JSON (Long, Double, Boolean, String) as the type of the root's field of that name. */
    private static Object convert(Object root, String name, Object value) {
        Class<?> type;
        try {
            Field field = root.getClass().getField(name);
            type = field.getType();
        } catch (NoSuchFieldException e) {
            return value;
        }
        if (value instanceof Number) {
            Number number = (Number) value;
            if (type == int.class || type == Integer.class) {
                return number.intValue();
            }
            if (type == long.class || type == Long.class) {
                return number.longValue();
            }
            if (type == float.class || type == Float.class) {
                return number.floatValue();
            }
            if (type == double.class || type == Double.class) {
                return number.doubleValue();
            }
        }
        return value;
    }

    /** Calls the public method {@code name} of {@code target} whose parameters fit {@code arguments}. */
    private static Object call(Object target, String name, Object... arguments) {
        Method method = find(target.getClass(), name, arguments);
        if (method == null) {
            throw new IllegalStateException("the AnyLogic " + target.getClass().getSimpleName() + " has no method "
                    + name + " with " + arguments.length + " argument(s); this AnyLogic version is not supported");
        }
        try {
            return method.invoke(target, arguments);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            if (cause instanceof Error) {
                throw (Error) cause;
            }
            throw new IllegalStateException(name + "() failed: " + cause, cause);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(name + "() cannot be called: " + e, e);
        }
    }

    private static Method find(Class<?> type, String name, Object[] arguments) {
        String key = type.getName() + "#" + name + "/" + arguments.length;
        Method known = METHODS.get(key);
        if (known != null && fits(known.getParameterTypes(), arguments)) {
            return known;
        }
        for (Method method : type.getMethods()) {
            if (method.getName().equals(name) && method.getParameterCount() == arguments.length
                    && fits(method.getParameterTypes(), arguments)) {
                method.setAccessible(true);
                METHODS.put(key, method);
                return method;
            }
        }
        return null;
    }

    private static boolean fits(Class<?>[] types, Object[] arguments) {
        for (int i = 0; i < types.length; i++) {
            Object argument = arguments[i];
            Class<?> type = types[i];
            if (type == boolean.class) {
                type = Boolean.class;
            }
            if (argument != null && !type.isPrimitive() && !type.isInstance(argument)) {
                return false;
            }
        }
        return true;
    }
}
