package com.alpyperl.launcher.runtime;

import com.alpyperl.connector.EpisodeAbandoned;
import com.alpyperl.connector.ModelException;
import com.alpyperl.connector.RLModel;
import com.alpyperl.launcher.output.ModelOutput;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

/**
 * Runs an AnyLogic export through the engine's public API, by reflection: the engine classes come
 * from the export's class loader, and nothing here is compiled against them (one launcher for
 * every AnyLogic version from 8.7 on). Per episode, on the session's model thread:
 * <pre>
 * experiment = new Simulation()            (once per model thread, then reused)
 * engine = new Engine(); engine.setExperiment(experiment)
 * experiment.setupEngine(engine); experiment.initDefaultRandomNumberGenerator(engine)
 * engine's default RNG re-seeded from the episode seed
 * root = experiment.createRoot(engine); experiment.setupRootParameters(root, false)
 * root.setParameter(name, value, false) for each parameter from Python (no On change code yet)
 * engine.start(root); engine.runFast()     (the model calls requestAction() in its events)
 * engine.stop()                            (when the episode ended or was abandoned)
 * </pre>
 * The engine catches the exceptions of model code and prints them; what the model thread prints
 * is captured ({@link ModelOutput}) so that the error reaches Python with the model's stack trace.
 */
final class AnyLogicRuntime implements ModelRuntime {
    private static final String ENGINE = "com.anylogic.engine.Engine";
    private static final String AGENT = "com.anylogic.engine.Agent";
    private static final String SIMULATION = "com.anylogic.engine.ExperimentSimulation";
    /** A line that names an exception: a qualified class name ending in Exception, Error or Throwable, or followed by ": ". */
    private static final Pattern EXCEPTION_LINE = Pattern.compile(
            "(?:[\\w$]+\\.)+[\\w$]*(?:Exception|Error|Throwable)(?:: .*)?|(?:[\\w$]+\\.)+[\\w$]+: .*");

    private final String modelName;
    private final String scriptName;
    private final boolean alpyperl1;
    private final Class<?> experimentClass;
    private final Constructor<?> newExperiment;
    private final Constructor<?> newEngine;
    private final Method setExperiment;
    private final Method setupEngine;
    private final Method initRandom;
    private final Method createRoot;
    private final Method setupRootParameters;
    private final Method start;
    private final Method runFast;
    private final Method stop;
    private final Method getState;
    private final Method time;
    private final Method getStopTime;
    private final Method getStep;
    private final Method getRandom;
    private final Method setRandom;
    private final Method setParameter;
    private final Method getParameterNames;
    /** {@code Agent.getParameter(String)}, or null in an engine without it (the defaults are then not read). */
    private final Method getParameter;
    private final ThreadLocal<Object> experiments = new ThreadLocal<>();
    /** The root agent's parameters and their types (null where unknown), learnt from the first root created. */
    private volatile Map<String, Class<?>> parameterTypes;
    /** The first root's parameter values as the experiment set them, before Python's (see {@link #learnParameters}). */
    private volatile Map<String, ParameterDefault> parameterDefaults;
    private volatile String rootClassName = "root agent";

    AnyLogicRuntime(ClassLoader loader, String experimentClassName, String modelName, String scriptName,
            boolean alpyperl1) {
        this.modelName = modelName;
        this.scriptName = scriptName;
        this.alpyperl1 = alpyperl1;
        Class<?> engine = load(loader, ENGINE, "the AnyLogic engine (" + ENGINE + ", in lib/com.anylogic.engine.jar)"
                + " is not on the classpath of " + scriptName);
        Class<?> agent = load(loader, AGENT, "the AnyLogic engine jar on the classpath of " + scriptName
                + " has no " + AGENT);
        Class<?> simulation = load(loader, SIMULATION, "the AnyLogic engine jar on the classpath of " + scriptName
                + " has no " + SIMULATION);
        Class<?> launched = load(loader, experimentClassName, "the launch script " + scriptName + " runs "
                + experimentClassName + ", which is not in model.jar or another jar of its classpath");
        Class<?> experimentBase = load(loader, "com.anylogic.engine.Experiment", "the AnyLogic engine jar on the "
                + "classpath of " + scriptName + " has no com.anylogic.engine.Experiment");
        experimentClass = SimulationExperiment.of(launched, simulation, experimentBase, scriptName);
        newExperiment = constructor(experimentClass);
        newEngine = constructor(engine);
        setExperiment = method(engine, "setExperiment", experimentBase);
        setupEngine = method(experimentClass, "setupEngine", engine);
        initRandom = method(experimentClass, "initDefaultRandomNumberGenerator", engine);
        createRoot = method(experimentClass, "createRoot", engine);
        setupRootParameters = method(experimentClass, "setupRootParameters", agent, boolean.class);
        start = method(engine, "start", agent);
        runFast = method(engine, "runFast");
        stop = method(engine, "stop");
        getState = method(engine, "getState");
        time = method(engine, "time");
        getStopTime = method(engine, "getStopTime");
        getStep = method(engine, "getStep");
        getRandom = method(engine, "getDefaultRandomGenerator");
        setRandom = method(engine, "setDefaultRandomGenerator", Random.class);
        setParameter = method(agent, "setParameter", String.class, Object.class, boolean.class);
        getParameterNames = method(agent, "getParameterNames");
        getParameter = optionalMethod(agent, "getParameter", String.class);
    }

    @Override
    public List<String> parameterNames() {
        Map<String, Class<?>> types = parameterTypes;
        return types == null ? null : Collections.unmodifiableList(new ArrayList<>(types.keySet()));
    }

    /**
     * The values {@code setupRootParameters(root, false)} gave the first root's parameters: those of
     * the experiment (its parameter values, else the parameters' defaults), which every episode
     * starts with unless Python sets others. Read from the root before {@code Engine.start()}, so
     * reading them runs no On startup or On change code.
     */
    @Override
    public Map<String, ParameterDefault> parameterDefaults() {
        return parameterDefaults;
    }

    @Override
    public void checkParameters(Map<String, Object> values) {
        Map<String, Class<?>> types = parameterTypes;
        if (types != null) {
            for (Map.Entry<String, Object> value : values.entrySet()) {
                convert(types, value.getKey(), value.getValue());
            }
        }
    }

    @Override
    public ModelRun create(Map<String, Object> values, long seed) {
        Object experiment = experimentOfThisThread();
        Object engine = call("creating the AnyLogic engine", newEngine);
        call("Engine.setExperiment()", setExperiment, engine, experiment);
        String experimentName = experimentClass.getSimpleName();
        call(experimentName + ".setupEngine()", setupEngine, experiment, engine);
        call(experimentName + ".initDefaultRandomNumberGenerator()", initRandom, experiment, engine);
        seedDefaultRandom(engine, seed);
        Object root = call("creating the root agent (" + experimentName + ".createRoot())", createRoot, experiment, engine);
        if (!(root instanceof RLModel) && !Alpyperl1Library.isController(root.getClass())) {
            throw new ModelLoadException("the root agent " + root.getClass().getSimpleName() + " of " + modelName
                    + " does not implement " + (alpyperl1 ? Alpyperl1Library.CONTROLLER + " (this export carries "
                    + "ALPypeRL 1.x's library) nor " : "") + RLModel.class.getName() + ". In AnyLogic, open the root "
                    + "agent's properties, Advanced Java, and enter " + RLModel.class.getName() + " in the Implements "
                    + "field; then add its functions getObservation, takeAction, getReward and hasFinished (see "
                    + "docs/anylogic.md)");
        }
        // As AnyLogic's own run flow: the root is not created yet, so its On change code must not run.
        call(experimentName + ".setupRootParameters()", setupRootParameters, experiment, root, false);
        Map<String, Class<?>> types = learnParameters(root);
        for (Map.Entry<String, Object> value : values.entrySet()) {
            Object converted = convert(types, value.getKey(), value.getValue());
            Object known = call("setting the parameter " + value.getKey() + " of the root agent", setParameter,
                    root, value.getKey(), converted, false);
            if (!Boolean.TRUE.equals(known)) {
                throw unknownParameter(value.getKey(), types);
            }
        }
        return new AnyLogicRun(engine, root);
    }

    /**
     * The experiment object of the calling model thread, made at its first episode. AnyLogic's own
     * runs reuse theirs too; an experiment is never shared between threads (engines of different
     * threads run at the same time).
     */
    private Object experimentOfThisThread() {
        Object experiment = experiments.get();
        if (experiment == null) {
            experiment = call("creating the experiment " + experimentClass.getSimpleName(), newExperiment);
            experiments.set(experiment);
        }
        return experiment;
    }

    /**
     * Seeds the engine's default RNG from the episode seed, mixed otherwise than the seed of the
     * connector's RNG ({@code RLConnector.randomOfEpisode}): the two never replay each other's numbers.
     */
    private void seedDefaultRandom(Object engine, long seed) {
        long engineSeed = new SplittableRandom(seed).nextLong();
        Random current = (Random) call("Engine.getDefaultRandomGenerator()", getRandom, engine);
        if (current != null) {
            current.setSeed(engineSeed);
        } else {
            call("Engine.setDefaultRandomGenerator()", setRandom, engine, new Random(engineSeed));
        }
    }

    /** The root's parameters, read from the first root created and kept (all roots of a model have the same). */
    private Map<String, Class<?>> learnParameters(Object root) {
        Map<String, Class<?>> types = parameterTypes;
        if (types != null) {
            return types;
        }
        types = new LinkedHashMap<>();
        String[] names = (String[]) call("getParameterNames() of the root agent", getParameterNames, root);
        for (String name : names == null ? new String[0] : names) {
            types.put(name, parameterType(root.getClass(), name));
        }
        rootClassName = root.getClass().getSimpleName();
        parameterDefaults = readParameters(root, types);
        parameterTypes = Collections.unmodifiableMap(types);
        return parameterTypes;
    }

    /** The root's parameter values, by name; a parameter whose value cannot be read is left out. */
    private Map<String, ParameterDefault> readParameters(Object root, Map<String, Class<?>> types) {
        if (getParameter == null) {
            return null;
        }
        Map<String, ParameterDefault> values = new LinkedHashMap<>();
        for (Map.Entry<String, Class<?>> parameter : types.entrySet()) {
            Object value;
            try {
                value = getParameter.invoke(root, parameter.getKey());
            } catch (ReflectiveOperationException | RuntimeException e) {
                continue; // the model's getParameter() refused it: shown as unknown, the run goes on
            }
            Class<?> type = parameter.getValue() != null ? parameter.getValue() : value != null ? value.getClass() : null;
            String text = value != null && value.getClass().isArray()
                    ? Arrays.deepToString(new Object[] {value}).replaceAll("^\\[|\\]$", "") : String.valueOf(value);
            values.put(parameter.getKey(), new ParameterDefault(type == null ? "" : type.getSimpleName(), text));
        }
        return Collections.unmodifiableMap(values);
    }

    /** The type of parameter {@code name}: its public field's, else its {@code set_} setter's, else null. */
    private static Class<?> parameterType(Class<?> rootClass, String name) {
        try {
            Field field = rootClass.getField(name);
            if (!Modifier.isStatic(field.getModifiers())) {
                return field.getType();
            }
        } catch (NoSuchFieldException e) {
            // look for the setter
        }
        for (Method method : rootClass.getMethods()) {
            if (method.getName().equals("set_" + name) && method.getParameterCount() == 1) {
                return method.getParameterTypes()[0];
            }
        }
        return null;
    }

    private Object convert(Map<String, Class<?>> types, String name, Object value) {
        if (!types.containsKey(name)) {
            throw unknownParameter(name, types);
        }
        Class<?> type = types.get(name);
        if (type == null) {
            return value; // no field or setter to tell the type: the model's setParameter takes it as it is
        }
        ParameterValues.requireSupported(type, rootClassName + "." + name);
        return ParameterValues.convert(value, type, name);
    }

    private ModelLoadException unknownParameter(String name, Map<String, Class<?>> types) {
        return new ModelLoadException("the root agent " + rootClassName + " of " + modelName + " has no parameter '"
                + ParameterValues.shown(name) + "'; its parameters are "
                + (types.isEmpty() ? "none" : String.join(", ", types.keySet()))
                + ". Python sets parameters of the root agent by name: add a parameter '" + ParameterValues.shown(name) + "' to "
                + rootClassName + " in AnyLogic and export the model again, or correct the name");
    }

    // ---- one run -------------------------------------------------------------------------------

    /** One engine and root agent, for one episode. */
    private final class AnyLogicRun implements ModelRun {
        private final Object engine;
        private final Object root;
        /** How the run ended ("FINISHED at model time 10.0"), recorded before the engine is stopped. */
        private String ending = "not started";
        private boolean started;
        /** The run ended at time Infinity without an event: what AnyLogic's engine does when it refuses a root. */
        private boolean refusedRoot;

        AnyLogicRun(Object engine, Object root) {
            this.engine = engine;
            this.root = root;
        }

        /** The root agent, or null for an ALPypeRL 1.x root (its connector is the model then). */
        @Override
        public RLModel model() {
            return root instanceof RLModel ? (RLModel) root : null;
        }

        @Override
        public void build() {
            try (ModelOutput.Capture printed = ModelOutput.capture()) {
                start(printed);
            }
        }

        @Override
        public void run() {
            requireGeneratedByAnyLogic(root.getClass());
            try (ModelOutput.Capture printed = ModelOutput.capture()) {
                if (!started) {
                    start(printed);
                }
                while (true) {
                    boolean ok = Boolean.TRUE.equals(call("Engine.runFast()", runFast, engine));
                    String state = state();
                    if (!ok || state.equals("ERROR")) {
                        throw failure("during the run (in an event, a function or other model code)", printed.text());
                    }
                    if (!state.equals("PAUSED")) {
                        ending = state + " at model time " + time();
                        refusedRoot = time() == Double.POSITIVE_INFINITY && steps() == 0;
                        return; // FINISHED: the model finished or the stop time was reached; IDLE: it was stopped
                    }
                    // The model paused itself (pauseSimulation()); nobody is there to press Run, so run on.
                }
            }
        }

        /**
         * Engine.start(root): creates the root's agents and runs their On startup code. AnyLogic's
         * engine catches an exception in On startup, reports it and returns true with state ERROR.
         */
        private void start(ModelOutput.Capture printed) {
            started = true;
            if (!startEngine() || state().equals("ERROR")) {
                throw failure("while the model started up (in the On startup code of " + rootName() + " or of an "
                        + "agent it contains, or while their events were started)", printed.text());
            }
        }

        @Override
        public void dispose() {
            call("Engine.stop()", stop, engine);
        }

        /**
         * {@code engine.start(root)}. An exception in the creation of the model's agents (initial
         * values of variables) escapes AnyLogic's {@code Engine.start()} unreported, so it is
         * reported here, with the model's stack trace.
         */
        private boolean startEngine() {
            try {
                return Boolean.TRUE.equals(start.invoke(engine, root));
            } catch (InvocationTargetException e) {
                RuntimeException passed = modelThrew("Engine.start()", e.getCause());
                if (passed == e.getCause()) {
                    throw passed; // the connector's or the launcher's own message
                }
                throw new ModelException("an exception in model code stopped the creation of the model's agents, "
                        + "before any On startup code (in the initial value of a variable of " + rootName() + " or of an "
                        + "agent it contains, or in another part of their creation): " + e.getCause() + ". The AnyLogic "
                        + "engine does not report this itself; the model's stack trace follows", e.getCause());
            } catch (IllegalAccessException e) {
                throw new ModelLoadException("Engine.start() failed: " + e, e);
            }
        }

        private String rootName() {
            return root.getClass().getSimpleName();
        }

        @Override
        public String endOfRunHint() {
            if (refusedRoot) {
                return "; here the AnyLogic engine ran no event and reports model time Infinity. If the console shows "
                        + "\"Invalid start location for AnyLogic Runtime\", the engine refused the root agent "
                        + rootClassName + ": it runs only models that AnyLogic generated, and it ends the whole process "
                        + "in a moment; export the model from AnyLogic (File > Export > To standalone Java application). "
                        + "Otherwise the model schedules no event: call connector.requestAction() in an event (for "
                        + "example a cyclic event from time 0)";
            }
            return "; here the AnyLogic engine was " + ending + " (the experiment's stop time is "
                    + call("Engine.getStopTime()", getStopTime, engine) + "). In AnyLogic, give the root agent "
                    + rootClassName + " a variable connector with the initial value new RLConnector(this), call "
                    + "connector.requestAction() in an event that occurs before the run finishes (for example a cyclic "
                    + "event from time 0), and check that nothing finishes the run (finishSimulation(), the stop time) earlier";
        }

        private EngineFailure failure(String when, String printed) {
            String report = printed.trim();
            String exception = exceptionLine(report);
            if (exception.isEmpty()) {
                return new EngineFailure("the AnyLogic engine stopped with state " + state() + " at model time " + time()
                        + " " + when + ", and the model thread printed " + (report.isEmpty() ? "nothing" : "no exception")
                        + ". AnyLogic reports the cause on System.err; if the model sends System.err elsewhere, look there",
                        report);
            }
            return new EngineFailure("an exception in model code stopped the AnyLogic engine (state " + state()
                    + ") at model time " + time() + " " + when + ": " + exception
                    + ". Below is what the model printed, ending with the engine's report and the model's stack trace",
                    report);
        }

        private String state() {
            return String.valueOf(call("Engine.getState()", getState, engine));
        }

        private double time() {
            return (Double) call("Engine.time()", time, engine);
        }

        private long steps() {
            return (Long) call("Engine.getStep()", getStep, engine);
        }
    }

    /** The root agent class that passed {@link #requireGeneratedByAnyLogic}, or null. */
    private volatile Class<?> generatedRootClass;

    /**
     * Refuses a root agent class that AnyLogic did not generate, before its first run. AnyLogic's
     * engine runs only generated models: it refuses any other root in {@code runFast()} ("Invalid
     * start location for AnyLogic Runtime") and then ends the whole process with {@code
     * System.exit(-1)}. Its check involves the {@code serialVersionUID} that AnyLogic's code
     * generator writes into every agent class; a root class that declares none cannot pass it.
     */
    private void requireGeneratedByAnyLogic(Class<?> rootClass) {
        if (rootClass == generatedRootClass) {
            return;
        }
        if (!declaresSerialVersionUID(rootClass)) {
            throw new ModelLoadException("the root agent " + rootClass.getSimpleName() + " of " + modelName + " was not "
                    + "generated by AnyLogic: its class " + rootClass.getName() + " declares no serialVersionUID, which "
                    + "AnyLogic's code generator writes into every agent class. The AnyLogic engine only runs models that "
                    + "AnyLogic generated: it refuses any other root agent (\"Invalid start location for AnyLogic "
                    + "Runtime\") and then ends the whole process with System.exit, so alpyperl does not start the run. "
                    + "Export the model from AnyLogic (File > Export > To standalone Java application, from its simulation "
                    + "experiment); a hand-written root agent cannot run on AnyLogic's engine");
        }
        generatedRootClass = rootClass;
    }

    private static boolean declaresSerialVersionUID(Class<?> type) {
        try {
            Field field = type.getDeclaredField("serialVersionUID");
            return field.getType() == long.class && Modifier.isStatic(field.getModifiers())
                    && Modifier.isFinal(field.getModifiers());
        } catch (NoSuchFieldException e) {
            return false;
        }
    }

    /** The last line of {@code report} that starts with an exception's class name ("java.lang.X: why"). */
    private static String exceptionLine(String report) {
        String found = "";
        for (String line : report.split("\r?\n")) {
            if (EXCEPTION_LINE.matcher(line).matches()) {
                found = line;
            }
        }
        return found;
    }

    // ---- reflection ----------------------------------------------------------------------------

    private static Class<?> load(ClassLoader loader, String name, String missing) {
        try {
            return Class.forName(name, false, loader);
        } catch (ClassNotFoundException | NoClassDefFoundError e) {
            throw new ModelLoadException(missing + ". Export the model again as a standalone Java application", e);
        }
    }

    private Constructor<?> constructor(Class<?> type) {
        try {
            Constructor<?> constructor = type.getConstructor();
            constructor.setAccessible(true);
            return constructor;
        } catch (NoSuchMethodException | RuntimeException e) {
            throw new ModelLoadException(type.getName() + " has no public constructor without arguments; " + supported(), e);
        }
    }

    /** The public method {@code name} of {@code type} that takes arguments of these types. */
    private Method method(Class<?> type, String name, Class<?>... argumentTypes) {
        for (Method method : type.getMethods()) {
            if (method.getName().equals(name) && accepts(method.getParameterTypes(), argumentTypes)) {
                try {
                    method.setAccessible(true);
                } catch (RuntimeException e) {
                    // public in a public class: callable anyway
                }
                return method;
            }
        }
        StringBuilder signature = new StringBuilder();
        for (Class<?> argument : argumentTypes) {
            signature.append(signature.length() == 0 ? "" : ", ").append(argument.getSimpleName());
        }
        throw new ModelLoadException(type.getName() + " has no public method " + name + "(" + signature + "); " + supported());
    }

    /** The public method {@code name} of {@code type} that takes arguments of these types, or null. */
    private static Method optionalMethod(Class<?> type, String name, Class<?>... argumentTypes) {
        try {
            return type.getMethod(name, argumentTypes);
        } catch (NoSuchMethodException | RuntimeException e) {
            return null;
        }
    }

    private String supported() {
        return "alpyperl drives exports of AnyLogic 8.7 and later (" + scriptName + " of " + modelName + ")";
    }

    private static boolean accepts(Class<?>[] parameters, Class<?>[] arguments) {
        if (parameters.length != arguments.length) {
            return false;
        }
        for (int i = 0; i < parameters.length; i++) {
            if (!parameters[i].isAssignableFrom(arguments[i])) {
                return false;
            }
        }
        return true;
    }

    private static Object call(String what, Constructor<?> constructor) {
        try {
            return constructor.newInstance();
        } catch (InvocationTargetException e) {
            throw modelThrew(what, e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new ModelLoadException(what + " failed: " + e, e);
        }
    }

    private static Object call(String what, Method method, Object target, Object... arguments) {
        try {
            return method.invoke(target, arguments);
        } catch (InvocationTargetException e) {
            throw modelThrew(what, e.getCause());
        } catch (IllegalAccessException e) {
            throw new ModelLoadException(what + " failed: " + e, e);
        }
    }

    /** Model code threw outside the engine's own error handling; the signals that end a thread pass unchanged. */
    @SuppressWarnings("deprecation")
    private static RuntimeException modelThrew(String what, Throwable cause) {
        if (cause instanceof EpisodeAbandoned) {
            throw (EpisodeAbandoned) cause;
        }
        if (cause instanceof ThreadDeath) {
            throw (ThreadDeath) cause;
        }
        if (cause instanceof ModelException || cause instanceof ModelLoadException) {
            return (RuntimeException) cause; // the connector's or the launcher's own message
        }
        return new ModelException(what + " threw " + cause, cause);
    }
}
