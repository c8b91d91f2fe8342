package com.alpyperl.policy;

import com.alpyperl.connector.Json;
import com.alpyperl.connector.Space;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A trained policy exported by {@code alpyperl export}: an ONNX network plus the metadata that
 * says how a model's observation becomes the network's input and how its output becomes an action.
 * Observations and actions are in the connector's flat layout (see {@link Space}).
 *
 * <pre>{@code
 * OnnxPolicy policy = OnnxPolicy.load(Paths.get("cartpole.onnx"));
 * double[] action = policy.act(observation);          // the most likely action
 * }</pre>
 *
 * <p>Actions are deterministic by default: the most likely choice of each Discrete or
 * MultiDiscrete part, and the mean of each Box part (clipped to its bounds). {@link #sample}
 * draws from the action distribution instead. Immutable and safe to share between threads.
 *
 * <p>The metadata is the JSON value of the key {@value #METADATA_KEY}, format version
 * {@value #FORMAT_VERSION}: the observation and action spaces, the input and output names and
 * sizes, {@code observation_layout} (the input, part by part: {@code {"from", "size"}} copies
 * observation values, {@code {"from", "one_hot", "start"}} one-hot encodes one value) and
 * {@code action_layout} (per action part, in flat order: {@code categorical} with {@code from,
 * n, start} reads n logits; {@code gaussian} with {@code from, size, low, high, normalized} reads
 * size means followed by size log standard deviations).
 */
public final class OnnxPolicy {

    /** The metadata key under which the export stores the policy's description. */
    public static final String METADATA_KEY = "alpyperl.policy";

    /** The metadata format this class reads. */
    public static final int FORMAT_VERSION = 1;

    private final OnnxModel network;
    private final String source;
    private final Space observationSpace;
    private final Space actionSpace;
    private final String inputName;
    private final String outputName;
    private final int inputSize;
    private final int outputSize;
    private final InputPart[] inputLayout;
    private final ActionPart[] actionLayout;

    private OnnxPolicy(OnnxModel network, String source) throws OnnxFormatException {
        this.network = network;
        this.source = source;
        String json = network.metadata().get(METADATA_KEY);
        if (json == null) {
            throw new OnnxFormatException(source + " is an ONNX file but not an ALPypeRL policy: it has no '"
                    + METADATA_KEY + "' metadata. Export policies with `alpyperl export --checkpoint DIR --out FILE`.");
        }
        try {
            Map<String, Object> meta = object(Json.parse(json), METADATA_KEY);
            long version = integer(meta, "format_version");
            if (version != FORMAT_VERSION) {
                throw new OnnxFormatException(source + " has policy format version " + version + "; this connector reads version "
                        + FORMAT_VERSION + ". Export the policy again with the alpyperl version that matches this connector.");
            }
            observationSpace = Space.fromJsonValue(meta.get("observation_space"), "observation_space");
            actionSpace = Space.fromJsonValue(meta.get("action_space"), "action_space");
            inputName = text(meta, "input");
            outputName = text(meta, "output");
            inputSize = Math.toIntExact(integer(meta, "input_size"));
            outputSize = Math.toIntExact(integer(meta, "output_size"));
            inputLayout = readInputLayout(list(meta, "observation_layout"));
            actionLayout = readActionLayout(list(meta, "action_layout"));
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new OnnxFormatException(source + ": malformed '" + METADATA_KEY + "' metadata: " + e.getMessage(), e);
        }
        checkAgainstNetwork();
    }

    /** Reads a policy file written by {@code alpyperl export}. */
    public static OnnxPolicy load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new java.io.FileNotFoundException("policy file " + file.toAbsolutePath() + " does not exist"
                    + " (export one from a training checkpoint with `alpyperl export`)");
        }
        return new OnnxPolicy(OnnxModel.load(file), file.toString());
    }

    /** Reads a policy from the bytes of an exported file; {@code name} names it in errors. */
    public static OnnxPolicy load(byte[] bytes, String name) throws OnnxFormatException {
        try {
            return new OnnxPolicy(OnnxModel.load(bytes), name);
        } catch (OnnxFormatException e) {
            throw e.getMessage().startsWith(name) ? e : new OnnxFormatException(name + ": " + e.getMessage(), e);
        }
    }

    /** The observation space the policy was trained on. */
    public Space getObservationSpace() {
        return observationSpace;
    }

    /** The action space the policy chooses from. */
    public Space getActionSpace() {
        return actionSpace;
    }

    /** The network inside the policy. */
    public OnnxModel getNetwork() {
        return network;
    }

    /**
     * The most likely action for this observation (flat layout of the observation space); returns
     * the action's flat values.
     */
    public double[] act(double[] observation) {
        return choose(observation, null);
    }

    /** An action drawn from the policy's distribution for this observation, using {@code random}. */
    public double[] sample(double[] observation, Random random) {
        if (random == null) {
            throw new IllegalArgumentException("sample() needs a random number generator");
        }
        return choose(observation, random);
    }

    /**
     * The most likely action among those {@code mask} allows: one entry per choice of each Discrete
     * or MultiDiscrete entry of the action space, in flat order (null allows all). A masked choice is
     * never taken.
     */
    public double[] act(double[] observation, boolean[] mask) {
        return choose(observation, mask, null);
    }

    /** An action drawn from the policy's distribution restricted to the choices {@code mask} allows. */
    public double[] sample(double[] observation, boolean[] mask, Random random) {
        if (random == null) {
            throw new IllegalArgumentException("sample() needs a random number generator");
        }
        return choose(observation, mask, random);
    }

    /** The network's raw output (the action distribution's inputs) for this observation. */
    public float[] distributionInputs(double[] observation) {
        if (observation == null || observation.length != observationSpace.flatSize()) {
            throw new IllegalArgumentException("the policy takes observations of " + observationSpace + " ("
                    + observationSpace.flatSize() + " values), got "
                    + (observation == null ? "null" : observation.length + " values"));
        }
        float[] input = new float[inputSize];
        int at = 0;
        for (InputPart part : inputLayout) {
            at = part.write(observation, input, at);
        }
        return network.run(input);
    }

    private double[] choose(double[] observation, Random random) {
        return choose(observation, null, random);
    }

    private double[] choose(double[] observation, boolean[] mask, Random random) {
        float[] output = distributionInputs(observation);
        if (mask != null) {
            applyMask(output, mask);
        }
        double[] action = new double[actionSpace.flatSize()];
        int at = 0;
        for (ActionPart part : actionLayout) {
            at = part.write(output, action, at, random);
        }
        return action;
    }

    /** Sets the logits of the choices {@code mask} forbids to minus infinity, so that none is chosen or drawn. */
    private void applyMask(float[] output, boolean[] mask) {
        int choices = 0;
        for (ActionPart part : actionLayout) {
            if (!(part instanceof Categorical)) {
                throw new IllegalArgumentException("an action mask applies to Discrete and MultiDiscrete actions only; the "
                        + "policy's action space is " + actionSpace);
            }
            choices += part.reads;
        }
        if (choices != mask.length) {
            throw new IllegalArgumentException("the action mask has " + mask.length + " entries; the action space "
                    + actionSpace + " has " + choices + " choices");
        }
        int at = 0;
        for (ActionPart part : actionLayout) {
            boolean any = false;
            for (int i = 0; i < part.reads; i++) {
                if (mask[at + i]) {
                    any = true;
                } else {
                    output[part.from + i] = Float.NEGATIVE_INFINITY;
                }
            }
            if (!any) {
                throw new IllegalArgumentException("the action mask allows no choice of " + actionSpace);
            }
            at += part.reads;
        }
    }

    @Override
    public String toString() {
        return "OnnxPolicy[" + source + ": " + observationSpace + " -> " + actionSpace + "]";
    }

    // ---- checks made once, at load time ------------------------------------------------------

    private void checkAgainstNetwork() throws OnnxFormatException {
        if (!network.inputNames().equals(List.of(inputName)) || !network.outputNames().equals(List.of(outputName))) {
            throw new OnnxFormatException(source + ": the metadata names input '" + inputName + "' and output '" + outputName
                    + "', but the network has inputs " + network.inputNames() + " and outputs " + network.outputNames());
        }
        int[] in = network.inputShape(inputName);
        int[] out = network.outputShape(outputName);
        if (in.length != 2 || in[1] != inputSize || out.length != 2 || out[1] != outputSize) {
            throw new OnnxFormatException(source + ": the network maps " + Arrays.toString(in) + " to " + Arrays.toString(out)
                    + ", but the metadata says [batch, " + inputSize + "] to [batch, " + outputSize + "]");
        }
        int written = 0;
        for (InputPart part : inputLayout) {
            if (part.from < 0 || part.from + part.reads > observationSpace.flatSize()) {
                throw new OnnxFormatException(source + ": observation_layout reads values " + part.from + ".."
                        + (part.from + part.reads - 1) + ", outside the " + observationSpace.flatSize()
                        + " values of " + observationSpace);
            }
            written += part.writes;
        }
        if (written != inputSize) {
            throw new OnnxFormatException(source + ": observation_layout makes " + written + " input values, the network takes "
                    + inputSize);
        }
        int actionValues = 0;
        for (ActionPart part : actionLayout) {
            if (part.from < 0 || part.from + part.reads > outputSize) {
                throw new OnnxFormatException(source + ": action_layout reads outputs " + part.from + ".."
                        + (part.from + part.reads - 1) + ", but the network has " + outputSize);
            }
            actionValues += part.writes;
        }
        if (actionValues != actionSpace.flatSize()) {
            throw new OnnxFormatException(source + ": action_layout makes " + actionValues + " action values, but "
                    + actionSpace + " has " + actionSpace.flatSize());
        }
    }

    private static InputPart[] readInputLayout(List<Object> items) {
        InputPart[] parts = new InputPart[items.size()];
        for (int i = 0; i < parts.length; i++) {
            String where = "observation_layout[" + i + "]";
            Map<String, Object> item = object(items.get(i), where);
            int from = Math.toIntExact(integer(item, "from"));
            if (item.containsKey("one_hot")) {
                parts[i] = new OneHot(from, positive(item, "one_hot", where), integer(item, "start"));
            } else {
                parts[i] = new Copy(from, positive(item, "size", where));
            }
        }
        return parts;
    }

    private static ActionPart[] readActionLayout(List<Object> items) {
        ActionPart[] parts = new ActionPart[items.size()];
        for (int i = 0; i < parts.length; i++) {
            String where = "action_layout[" + i + "]";
            Map<String, Object> item = object(items.get(i), where);
            int from = Math.toIntExact(integer(item, "from"));
            String kind = text(item, "kind");
            switch (kind) {
                case "categorical":
                    parts[i] = new Categorical(from, positive(item, "n", where), integer(item, "start"));
                    break;
                case "gaussian": {
                    int size = positive(item, "size", where);
                    parts[i] = new Gaussian(from, size, numbers(item, "low", size, where), numbers(item, "high", size, where),
                            Boolean.TRUE.equals(item.get("normalized")));
                    break;
                }
                default:
                    throw new IllegalArgumentException(where + ": unknown action kind '" + kind
                            + "' (this connector knows categorical and gaussian)");
            }
        }
        return parts;
    }

    // ---- the parts of the input and of the action ----------------------------------------------

    /** Turns observation values into network inputs. */
    private abstract static class InputPart {
        final int from;
        final int reads;
        final int writes;

        InputPart(int from, int reads, int writes) {
            this.from = from;
            this.reads = reads;
            this.writes = writes;
        }

        /** Writes this part's inputs at {@code at}; returns the next free position. */
        abstract int write(double[] observation, float[] input, int at);
    }

    private static final class Copy extends InputPart {
        Copy(int from, int size) {
            super(from, size, size);
        }

        @Override
        int write(double[] observation, float[] input, int at) {
            for (int i = 0; i < reads; i++) {
                input[at + i] = (float) observation[from + i];
            }
            return at + reads;
        }
    }

    private static final class OneHot extends InputPart {
        private final long start;

        OneHot(int from, int n, long start) {
            super(from, 1, n);
            this.start = start;
        }

        @Override
        int write(double[] observation, float[] input, int at) {
            double value = observation[from];
            double index = value - start;
            if (index != Math.rint(index) || index < 0 || index >= writes) {
                throw new IllegalArgumentException("observation value " + value + " at position " + from
                        + " should be a whole number from " + start + " to " + (start + writes - 1));
            }
            Arrays.fill(input, at, at + writes, 0f);
            input[at + (int) index] = 1f;
            return at + writes;
        }
    }

    /** Turns network outputs into action values. */
    private abstract static class ActionPart {
        final int from;
        final int reads;
        final int writes;

        ActionPart(int from, int reads, int writes) {
            this.from = from;
            this.reads = reads;
            this.writes = writes;
        }

        /** Writes this part's action values at {@code at} (sampling if {@code random} is set). */
        abstract int write(float[] output, double[] action, int at, Random random);
    }

    /** A Discrete choice from n logits: the most likely one (the first of equals), or a draw. */
    private static final class Categorical extends ActionPart {
        private final long start;

        Categorical(int from, int n, long start) {
            super(from, n, 1);
            this.start = start;
        }

        @Override
        int write(float[] output, double[] action, int at, Random random) {
            action[at] = start + (random == null ? argmax(output) : draw(output, random));
            return at + 1;
        }

        private int argmax(float[] logits) {
            int best = 0;
            for (int i = 1; i < reads; i++) {
                if (logits[from + i] > logits[from + best]) {
                    best = i;
                }
            }
            return best;
        }

        private int draw(float[] logits, Random random) {
            double max = logits[from + argmax(logits)];
            double[] weights = new double[reads];
            double total = 0;
            for (int i = 0; i < reads; i++) {
                weights[i] = Math.exp(logits[from + i] - max);
                total += weights[i];
            }
            double u = random.nextDouble() * total;
            for (int i = 0; i < reads - 1; i++) {
                u -= weights[i];
                if (u < 0) {
                    return i;
                }
            }
            return reads - 1;
        }
    }

    /** A Box part from a diagonal Gaussian: its mean (or a draw), unsquashed if normalized, clipped. */
    private static final class Gaussian extends ActionPart {
        private final double[] low;
        private final double[] high;
        private final boolean normalized;

        Gaussian(int from, int size, double[] low, double[] high, boolean normalized) {
            super(from, 2 * size, size);
            this.low = low;
            this.high = high;
            this.normalized = normalized;
            for (int i = 0; i < size; i++) {
                if (normalized && !(Double.isFinite(low[i]) && Double.isFinite(high[i]))) {
                    throw new IllegalArgumentException("a normalized gaussian needs finite bounds, got low " + low[i]
                            + " and high " + high[i]);
                }
            }
        }

        @Override
        int write(float[] output, double[] action, int at, Random random) {
            for (int i = 0; i < writes; i++) {
                double value = output[from + i];
                if (random != null) {
                    value += Math.exp(output[from + writes + i]) * random.nextGaussian();
                }
                if (normalized) {
                    value = low[i] + (value + 1.0) * (high[i] - low[i]) / 2.0;
                }
                action[at + i] = Math.min(Math.max(value, low[i]), high[i]);
            }
            return at + writes;
        }
    }

    // ---- reading the metadata -----------------------------------------------------------------

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object value, String where) {
        if (!(value instanceof Map)) {
            throw new IllegalArgumentException(where + " must be a JSON object, got " + value);
        }
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Map<String, Object> map, String key) {
        Object value = map.get(key);
        if (!(value instanceof List)) {
            throw new IllegalArgumentException("'" + key + "' must be a JSON list, got " + value);
        }
        return (List<Object>) value;
    }

    private static long integer(Map<String, Object> map, String key) {
        Object value = map.get(key);
        if (!(value instanceof Long)) {
            throw new IllegalArgumentException("'" + key + "' must be an integer, got " + value);
        }
        return (Long) value;
    }

    private static int positive(Map<String, Object> map, String key, String where) {
        long value = integer(map, key);
        if (value <= 0 || value > OnnxModel.MAX_FILE_BYTES) {
            throw new IllegalArgumentException(where + ": '" + key + "' must be a positive size, got " + value);
        }
        return (int) value;
    }

    private static String text(Map<String, Object> map, String key) {
        Object value = map.get(key);
        if (!(value instanceof String)) {
            throw new IllegalArgumentException("'" + key + "' must be a string, got " + value);
        }
        return (String) value;
    }

    private static double[] numbers(Map<String, Object> map, String key, int size, String where) {
        List<Object> items = list(map, key);
        if (items.size() != size) {
            throw new IllegalArgumentException(where + ": '" + key + "' must hold " + size + " numbers, got " + items.size());
        }
        double[] values = new double[size];
        for (int i = 0; i < size; i++) {
            if (!(items.get(i) instanceof Number)) {
                throw new IllegalArgumentException(where + ": '" + key + "' holds " + items.get(i) + ", not a number");
            }
            values[i] = ((Number) items.get(i)).doubleValue();
        }
        return values;
    }
}
