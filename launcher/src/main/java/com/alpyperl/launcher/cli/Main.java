package com.alpyperl.launcher.cli;

import com.alpyperl.connector.ActionMask;
import com.alpyperl.connector.Json;
import com.alpyperl.connector.Space;
import com.alpyperl.launcher.runtime.ModelFolder;
import com.alpyperl.launcher.ModelSession;
import com.alpyperl.policy.OnnxPolicy;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The launcher's command line: runs an exported model with an exported policy, no Python involved.
 *
 * <pre>
 * java -jar launcher.jar run  --model DIR --policy FILE.onnx [--episodes N] [--seed S] [--param NAME=VALUE]...
 * java -jar launcher.jar info --model DIR
 * java -jar launcher.jar COMMAND --help
 * java -jar launcher.jar --version
 * </pre>
 *
 * The model runs exactly as under training (one {@link ModelSession}, the same seeds, parameters
 * and step timeout); only the actions come from the policy instead of Python.
 */
public final class Main {
    /** Exit status: a model, policy or file problem. */
    static final int FAILED = 1;
    /** Exit status: the command line itself is wrong. */
    static final int USAGE = 2;

    private static final String EXIT_STATUS_TEXT = String.join("\n",
            "exit status:",
            "  0  success",
            "  1  failure: a missing model folder or policy file, an unknown parameter, a model or policy that fails",
            "  2  wrong command line: an unknown command or option, a missing or malformed value");

    private static final String RUN_OPTIONS = String.join("\n",
            "  --model DIR          the exported model's folder (an AnyLogic export or an alpyperl example model)",
            "  --policy FILE.onnx   the policy written by `alpyperl export`; for a multi-agent model, the policy of",
            "                       every agent type, or TYPE=FILE.onnx for one type (repeatable); a type whose",
            "                       spaces the model leaves to Python takes those of its policy",
            "  --episodes N         how many episodes to run (default 10)",
            "  --seed S             the seed of the first episode; episode k uses S + k (default 0)",
            "  --param NAME=VALUE   sets a model parameter (repeatable); other parameters keep their defaults",
            "  --sample             draws actions from the policy's distribution instead of taking the most likely",
            "  --max-steps N        ends an episode (as truncated) after N decisions (default: no limit)",
            "  --step-timeout SEC   fails if the model takes longer than this between decisions (default 60)",
            "  --max-agents N       multi-agent models: how many agents one crossing holds (default 128)",
            "  -h, --help           shows this help");

    private static final String USAGE_TEXT = String.join("\n",
            "Runs an exported model with an exported ONNX policy, without Python.",
            "",
            "usage:",
            "  java -jar launcher.jar run  --model DIR --policy FILE.onnx [options]",
            "  java -jar launcher.jar info --model DIR",
            "  java -jar launcher.jar COMMAND --help",
            "  java -jar launcher.jar --version",
            "",
            "commands:",
            "  run    runs episodes with the policy choosing every action; prints each episode's return and a summary",
            "  info   prints the model's observation and action spaces and its parameters",
            "",
            "options of run:",
            RUN_OPTIONS,
            "",
            "example:",
            "  java -jar launcher.jar run --model examples/cartpole/build/model --policy cartpole.onnx --episodes 20",
            "",
            EXIT_STATUS_TEXT);

    private static final String RUN_HELP = String.join("\n",
            "usage: java -jar launcher.jar run --model DIR --policy FILE.onnx [options]",
            "",
            "Runs episodes of the model with the policy choosing every action, as training runs them (the same",
            "seeds, parameters and step timeout); prints each episode's return and a summary.",
            "",
            "options:",
            RUN_OPTIONS,
            "",
            "example:",
            "  java -jar launcher.jar run --model examples/cartpole/build/model --policy cartpole.onnx --episodes 20",
            "",
            EXIT_STATUS_TEXT);

    private static final String INFO_HELP = String.join("\n",
            "usage: java -jar launcher.jar info --model DIR",
            "",
            "Prints the model's observation and action spaces and the names of its parameters.",
            "",
            "options:",
            "  --model DIR          the exported model's folder (an AnyLogic export or an alpyperl example model)",
            "  --step-timeout SEC   fails if the model takes longer than this to describe itself (default 60)",
            "  -h, --help           shows this help",
            "",
            "example:",
            "  java -jar launcher.jar info --model examples/cartpole/build/model",
            "",
            EXIT_STATUS_TEXT);

    private final PrintStream out;
    private final PrintStream err;

    private Main(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** Runs the command line and exits with its status. */
    public static void main(String[] args) {
        System.exit(execute(args, System.out, System.err));
    }

    /**
     * Runs the command line, printing results to {@code out} and problems to {@code err}; returns
     * the exit status, by the rule of every alpyperl command: 0 on success, 1 for a failure (a
     * missing model folder or policy file, an unknown parameter, a model or policy that fails), 2
     * for a wrong command line (an unknown command or option, a missing or malformed value).
     */
    public static int execute(String[] args, PrintStream out, PrintStream err) {
        return new Main(out, err).dispatch(args);
    }

    private int dispatch(String[] args) {
        if (args.length == 0) {
            err.println(USAGE_TEXT);
            return USAGE;
        }
        if (args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            out.println(USAGE_TEXT);
            return 0;
        }
        if (args[0].equals("--version") || args[0].equals("version")) {
            out.println("alpyperl launcher " + version());
            return 0;
        }
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            err.println("Run with --help to see the commands and options.");
            return USAGE;
        }
        if (options.help) {
            out.println(options.command.equals("info") ? INFO_HELP : RUN_HELP);
            return 0;
        }
        try {
            if (options.command.equals("info")) {
                return info(options);
            }
            return run(options);
        } catch (IOException | RuntimeException e) {
            err.println("error: " + e.getMessage());
            return FAILED;
        }
    }

    /**
     * The version of the launcher: the {@code Implementation-Version} of its jar's manifest, or
     * {@code "unknown"} when it has none (for example when its classes do not come from the jar).
     */
    public static String version() {
        String version = Main.class.getPackage().getImplementationVersion();
        return version == null || version.isEmpty() ? "unknown" : version;
    }

    private int info(Options options) {
        ModelFolder folder = open(options.model);
        try (ModelSession session = new ModelSession(folder)) {
            Map<String, Object> described = describe(session, options);
            out.println("model:             " + folder.getName() + " (" + folder.getFolder() + ")");
            out.println("observation space: " + spaceText(described.get("observation_space")));
            out.println("action space:      " + spaceText(described.get("action_space")));
            Object parameters = described.get("parameters");
            out.println("parameters:        " + (parameters == null ? "(known once the model runs)"
                    : ((List<?>) parameters).isEmpty() ? "(none)" : String.join(", ", strings((List<?>) parameters))));
            return 0;
        }
    }

    /** The model folder, with a warning on standard error if it carries another connector version than this one. */
    private ModelFolder open(String model) {
        ModelFolder folder = ModelFolder.open(model);
        String warning = folder.takeConnectorWarning();
        if (warning != null) {
            err.println("warning: " + warning);
        }
        return folder;
    }

    private int run(Options options) throws IOException {
        ModelFolder folder = open(options.model);
        try (ModelSession session = new ModelSession(folder)) {
            Map<String, Object> described = describe(session, options);
            if (described.get("agents") != null) {
                @SuppressWarnings("unchecked")
                Map<String, Object> agents = (Map<String, Object>) described.get("agents");
                return MultiAgentRun.run(out, options, folder.getName(), session, agents);
            }
            if (!options.typePolicies.isEmpty() || options.policy == null) {
                throw new IllegalArgumentException("--policy TYPE=FILE names the policy of an agent type of a multi-agent "
                        + "model, and " + folder.getName() + " has one deciding agent: give --policy FILE.onnx");
            }
            OnnxPolicy policy = OnnxPolicy.load(Paths.get(options.policy));
            Space observationSpace = agree("observation", described.get("observation_space"), policy.getObservationSpace());
            Space actionSpace = agree("action", described.get("action_space"), policy.getActionSpace());
            // A model with an action mask reports {mask | its observation}; the policy reads the observation
            // and picks only valid actions.
            boolean masked = Boolean.TRUE.equals(described.get("action_mask"));
            int maskSize = masked ? ActionMask.size(actionSpace) : 0;
            Space rowObservationSpace = masked ? ActionMask.observationSpace(observationSpace, actionSpace)
                    : observationSpace;
            int actionSize = actionSpace.flatSize();
            int observationSize = observationSpace.flatSize();
            int rowObservationSize = rowObservationSpace.flatSize();
            ByteBuffer bytes = ByteBuffer.allocateDirect(8 * (actionSize + rowObservationSize + 1))
                    .order(ByteOrder.nativeOrder());
            DoubleBuffer buffer = bytes.asDoubleBuffer();
            session.configure(rowObservationSpace.toJson(), actionSpace.toJson(), options.stepTimeout, bytes);
            session.setParameters(options.parametersJson());

            out.println("model " + folder.getName() + ", policy " + options.policy + " ("
                    + (options.sample ? "sampled actions" : "most likely actions") + "), " + counted(options.episodes, "episode"));
            double[] returns = new double[options.episodes];
            long totalSteps = 0;
            long started = System.nanoTime();
            double[] rowObservation = new double[rowObservationSize];
            double[] observation = new double[observationSize];
            boolean[] mask = masked ? new boolean[maskSize] : null;
            for (int episode = 0; episode < options.episodes; episode++) {
                long seed = options.seed + episode;
                Random random = new Random(seed);
                int status = session.reset(seed);
                double episodeReturn = 0;
                long steps = 0;
                while (status == ModelSession.RUNNING && steps < options.maxSteps) {
                    session.readObservation(rowObservation);
                    for (int i = 0; i < maskSize; i++) {
                        mask[i] = rowObservation[i] != 0; // the mask comes first (ActionMask)
                    }
                    System.arraycopy(rowObservation, maskSize, observation, 0, observationSize);
                    double[] action = options.sample ? policy.sample(observation, mask, random)
                            : policy.act(observation, mask);
                    for (int i = 0; i < actionSize; i++) {
                        buffer.put(i, action[i]);
                    }
                    status = session.step();
                    episodeReturn += buffer.get(actionSize + rowObservationSize);
                    steps++;
                }
                returns[episode] = episodeReturn;
                totalSteps += steps;
                String end = status == ModelSession.TERMINATED ? "terminated"
                        : status == ModelSession.TRUNCATED ? "truncated" : "stopped at --max-steps";
                out.println(String.format(Locale.ROOT, "episode %3d  seed %-6d return %12.3f  steps %7d  %s",
                        episode, seed, episodeReturn, steps, end));
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            out.println(summary(returns, totalSteps, seconds));
            return 0;
        }
    }

    private Map<String, Object> describe(ModelSession session, Options options) {
        @SuppressWarnings("unchecked")
        Map<String, Object> described = (Map<String, Object>) Json.parse(session.describeModel(options.stepTimeout));
        return described;
    }

    /** The space in use: the model's if it declares one (it must fit the policy), else the policy's. */
    private static Space agree(String kind, Object fromModel, Space fromPolicy) {
        if (fromModel == null) {
            return fromPolicy;
        }
        Space declared = Space.fromJsonValue(fromModel, kind + " space");
        if (!declared.hasSameLayout(fromPolicy)) {
            throw new IllegalStateException("the policy was trained for the " + kind + " space " + fromPolicy
                    + ", but the model declares " + declared + "; export a policy trained on this model");
        }
        return declared;
    }

    private static String spaceText(Object json) {
        return json == null ? "(defined in Python, or by the policy file in evaluation)"
                : Space.fromJsonValue(json, "space").toString();
    }

    private static List<String> strings(List<?> values) {
        List<String> result = new ArrayList<>();
        for (Object value : values) {
            result.add(String.valueOf(value));
        }
        return result;
    }

    static String summary(double[] returns, long steps, double seconds) {
        double mean = 0;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (double r : returns) {
            mean += r / returns.length;
            min = Math.min(min, r);
            max = Math.max(max, r);
        }
        double variance = 0;
        for (double r : returns) {
            variance += (r - mean) * (r - mean) / returns.length;
        }
        return counted(returns.length, "episode") + String.format(Locale.ROOT, ": mean return %.3f (std %.3f, "
                + "min %.3f, max %.3f), %.1f steps per episode, %.0f steps/s", mean, Math.sqrt(variance), min, max,
                steps / (double) returns.length, seconds > 0 ? steps / seconds : 0);
    }

    /**
     * The count and its noun, plural (an "s" added) unless the count is 1: {@code counted(1, "episode")} is
     * "1 episode", {@code counted(3, "episode")} "3 episodes" (worded as Python's {@code alpyperl run} words them).
     */
    static String counted(long count, String noun) {
        return count + " " + noun + (count == 1 ? "" : "s");
    }

    /** The parsed command line. */
    static final class Options {
        /** The options that take a value. */
        private static final List<String> VALUE_OPTIONS = Arrays.asList(
                "--model", "--policy", "--episodes", "--seed", "--max-steps", "--step-timeout", "--param",
                "--max-agents");

        String command;
        String model;
        /** The policy file for the model (of a multi-agent model: for the types without one of their own). */
        String policy;
        /** Multi-agent models: the policy files of agent types, by type (--policy TYPE=FILE). */
        final Map<String, String> typePolicies = new LinkedHashMap<>();
        int maxAgents = 128;
        int episodes = 10;
        long seed;
        boolean sample;
        long maxSteps = Long.MAX_VALUE;
        double stepTimeout = 60;
        boolean help;
        final Map<String, Object> parameters = new LinkedHashMap<>();

        static Options parse(String[] args) {
            Options o = new Options();
            o.command = args[0];
            if (!o.command.equals("run") && !o.command.equals("info")) {
                throw new IllegalArgumentException("unknown command '" + o.command + "' (the commands are run and info)");
            }
            for (int i = 1; i < args.length; i++) {
                String option = args[i];
                if (option.equals("--sample")) {
                    o.sample = true;
                    continue;
                }
                if (option.equals("--help") || option.equals("-h")) {
                    o.help = true;
                    continue;
                }
                if (!VALUE_OPTIONS.contains(option)) {
                    throw new IllegalArgumentException(option.startsWith("-") ? "unknown option '" + option + "'"
                            : "unexpected '" + option + "' (options start with --)");
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(option + " needs a value");
                }
                String value = args[++i];
                switch (option) {
                    case "--model": o.model = value; break;
                    case "--policy": o.addPolicy(value); break;
                    case "--max-agents": o.maxAgents = (int) positive(option, value); break;
                    case "--episodes": o.episodes = (int) positive(option, value); break;
                    case "--seed": o.seed = number(option, value); break;
                    case "--max-steps": o.maxSteps = positive(option, value); break;
                    case "--step-timeout": o.stepTimeout = seconds(option, value); break;
                    case "--param": o.addParameter(value); break;
                    default: throw new IllegalArgumentException("unknown option '" + option + "'");
                }
            }
            if (o.help) {
                return o;
            }
            if (o.model == null) {
                throw new IllegalArgumentException(o.command + " needs --model DIR (the exported model's folder)");
            }
            if (o.command.equals("run") && o.policy == null && o.typePolicies.isEmpty()) {
                throw new IllegalArgumentException("run needs --policy FILE.onnx (export one with `alpyperl export`)");
            }
            return o;
        }

        /**
         * FILE (the policy for every agent), or TYPE=FILE (an agent type's policy): a value whose part
         * before its first '=' is a name (no path separator) and that is no existing file.
         */
        private void addPolicy(String value) {
            int equals = value.indexOf('=');
            String type = equals > 0 ? value.substring(0, equals) : "";
            if (!type.isEmpty() && !type.contains("/") && !type.contains("\\")
                    && !Files.exists(Paths.get(value))) {
                if (equals == value.length() - 1) {
                    throw new IllegalArgumentException("--policy " + value + " names no file; give --policy " + type
                            + "=FILE.onnx");
                }
                if (typePolicies.put(type, value.substring(equals + 1)) != null) {
                    throw new IllegalArgumentException("--policy " + type + "=... is given twice");
                }
                return;
            }
            if (policy != null) {
                throw new IllegalArgumentException("--policy FILE is given twice (" + policy + ", " + value + "); a "
                        + "multi-agent model takes one FILE for every agent type, and TYPE=FILE for others");
            }
            policy = value;
        }

        /** NAME=VALUE, the value read as a boolean, an integer, a number or else a string. */
        private void addParameter(String assignment) {
            int equals = assignment.indexOf('=');
            if (equals <= 0) {
                throw new IllegalArgumentException("--param needs NAME=VALUE, got '" + assignment + "'");
            }
            String value = assignment.substring(equals + 1);
            Object parsed;
            if (value.equals("true") || value.equals("false")) {
                parsed = Boolean.valueOf(value);
            } else {
                try {
                    parsed = Long.valueOf(value);
                } catch (NumberFormatException notInteger) {
                    try {
                        parsed = Double.valueOf(value);
                    } catch (NumberFormatException notNumber) {
                        parsed = value;
                    }
                }
            }
            parameters.put(assignment.substring(0, equals), parsed);
        }

        String parametersJson() {
            StringBuilder json = new StringBuilder("{");
            for (Map.Entry<String, Object> entry : parameters.entrySet()) {
                if (json.length() > 1) {
                    json.append(',');
                }
                Json.appendString(json, entry.getKey());
                json.append(':');
                Object value = entry.getValue();
                if (value instanceof String) {
                    Json.appendString(json, (String) value);
                } else if (value instanceof Double) {
                    Json.appendNumber(json, (Double) value);
                } else {
                    json.append(value);
                }
            }
            return json.append('}').toString();
        }

        private static long number(String option, String value) {
            try {
                return Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " needs a whole number, got '" + value + "'");
            }
        }

        private static long positive(String option, String value) {
            long n = number(option, value);
            if (n <= 0 || n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(option + " needs a positive whole number, got '" + value + "'");
            }
            return n;
        }

        private static double seconds(String option, String value) {
            try {
                double s = Double.parseDouble(value);
                if (s > 0) {
                    return s;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(option + " needs a positive number of seconds, got '" + value + "'");
        }
    }
}
