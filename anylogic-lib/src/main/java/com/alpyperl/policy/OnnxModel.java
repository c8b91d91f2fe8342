package com.alpyperl.policy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A policy network read from an ONNX file and evaluated in plain Java (no native code, no
 * dependencies). It runs the fully connected networks that RLlib and PyTorch export: matrix
 * products, activations, normalisation and the shape operators exporters emit; see
 * {@link #supportedOperators()}.
 *
 * <p>Loading checks everything up front: the protobuf data, every operator and attribute, and
 * every tensor shape for batch size 1. A file that is malformed, truncated or uses something
 * unsupported is refused with an {@link OnnxFormatException} that names the problem; evaluation
 * then cannot fail except for wrong input sizes.
 *
 * <p>A model is immutable and safe to use from many threads at once; each thread gets its own
 * scratch buffers. Typical use:
 *
 * <pre>{@code
 * OnnxModel policy = OnnxModel.load(Paths.get("policy.onnx"));
 * float[] logits = policy.run(observation);        // one input, one output, batch size 1
 * }</pre>
 *
 * <p>Graph inputs must be float tensors whose dimensions are all fixed except, optionally, the
 * first (the batch dimension). Integers are computed in 64 bits; run-time values are floats.
 */
public final class OnnxModel {

    /** Files larger than this (1 GiB) are refused. */
    public static final long MAX_FILE_BYTES = 1L << 30;

    private static final int MAX_CACHED_PLANS = 16;

    private final int irVersion;
    private final int opset;
    private final String producer;
    private final int nodeCount;
    private final Set<String> operators;
    private final OnnxParser.ModelDef def;
    private final List<OnnxParser.ValueInfo> inputs;
    private final List<String> inputNames;
    private final List<String> outputNames;
    private final Map<String, String> metadata;
    private final boolean batched;
    private final String batchError;
    private final int[][] outputShapes;
    private final Planner.SharedCache cache = new Planner.SharedCache();
    private final Plan single;
    private final Map<Integer, Plan> plans = new ConcurrentHashMap<>();
    private final ThreadLocal<Workspace> workspaces = new ThreadLocal<>();

    /** Scratch buffers of one thread for one plan. */
    private static final class Workspace {
        final Plan plan;
        final Object[] slots;

        Workspace(Plan plan) {
            this.plan = plan;
            this.slots = plan.newWorkspace();
        }
    }

    private OnnxModel(OnnxParser.ModelDef def) throws OnnxFormatException {
        this.def = def;
        if (def.irVersion < 3 || def.irVersion > 100) {
            throw new OnnxFormatException("unsupported ONNX IR version " + def.irVersion + " (3 or newer is needed)");
        }
        this.irVersion = (int) def.irVersion;
        Long version = def.opsets.get("");
        Long alias = def.opsets.get("ai.onnx");
        if (version == null) {
            version = alias;
        } else if (alias != null && !alias.equals(version)) {
            throw new OnnxFormatException("the model imports two versions of the ONNX operator set: " + version + " and " + alias);
        }
        if (version == null) {
            throw new OnnxFormatException("the model does not import the default ONNX operator set");
        }
        if (version < Ops.MIN_OPSET || version > Ops.MAX_OPSET) {
            throw new OnnxFormatException("ONNX opset " + version + " is not supported (supported: " + Ops.MIN_OPSET + " to "
                    + Ops.MAX_OPSET + ")");
        }
        this.opset = (int) (long) version;
        this.producer = (def.producerName + " " + def.producerVersion).trim();
        OnnxParser.GraphDef g = def.graph;
        this.nodeCount = g.nodes.size();
        checkOperators(g);
        Set<String> ops = new TreeSet<>();
        for (OnnxParser.NodeDef node : g.nodes) {
            ops.add(node.opType);
        }
        this.operators = Collections.unmodifiableSet(ops);

        List<OnnxParser.ValueInfo> in = new ArrayList<>();
        List<String> names = new ArrayList<>();
        boolean anyBatch = false;
        for (OnnxParser.ValueInfo v : g.inputs) {
            if (g.initializers.containsKey(v.name)) {
                continue; // IR < 4 lists initializers as inputs too; they stay constants here
            }
            checkInput(v);
            anyBatch |= v.dims.length > 0 && v.dims[0] < 0;
            in.add(v);
            names.add(v.name);
        }
        if (g.outputs.isEmpty()) {
            throw new OnnxFormatException("the graph has no outputs");
        }
        List<String> outs = new ArrayList<>();
        for (OnnxParser.ValueInfo v : g.outputs) {
            outs.add(v.name);
        }
        this.inputs = Collections.unmodifiableList(in);
        this.inputNames = Collections.unmodifiableList(names);
        this.outputNames = Collections.unmodifiableList(outs);
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(def.metadata));
        this.batched = anyBatch;

        this.single = new Planner(def, opset, 1, cache).build(inputs);
        int[][] shapes = new int[outs.size()][];
        for (int i = 0; i < shapes.length; i++) {
            shapes[i] = single.outputShapes[i].clone();
        }
        String error = null;
        if (batched) {
            try {
                Plan two = new Planner(def, opset, 2, cache).build(inputs);
                for (int i = 0; i < shapes.length; i++) {
                    for (int d = 0; d < shapes[i].length && d < two.outputShapes[i].length; d++) {
                        if (two.outputShapes[i][d] != shapes[i][d]) {
                            shapes[i][d] = -1;
                        }
                    }
                }
                plans.put(2, two);
            } catch (OnnxFormatException e) {
                error = e.getMessage();
            }
        }
        this.batchError = error;
        this.outputShapes = shapes;
    }

    private static void checkOperators(OnnxParser.GraphDef g) throws OnnxFormatException {
        List<String> problems = new ArrayList<>();
        for (OnnxParser.NodeDef node : g.nodes) {
            if (!node.domain.isEmpty() && !node.domain.equals("ai.onnx")) {
                problems.add("unsupported operator '" + node.opType + "' of domain '" + node.domain + "' in " + node.label());
            } else if (!Ops.SUPPORTED.contains(node.opType)) {
                problems.add("unsupported ONNX operator '" + node.opType + "' in " + node.label());
            }
        }
        if (!problems.isEmpty()) {
            int shown = Math.min(problems.size(), 5);
            throw new OnnxFormatException(String.join("; ", problems.subList(0, shown))
                    + (problems.size() > shown ? "; and " + (problems.size() - shown) + " more" : ""));
        }
    }

    private static void checkInput(OnnxParser.ValueInfo v) throws OnnxFormatException {
        if (!v.isTensor) {
            throw new OnnxFormatException("graph input '" + v.name + "' is not a tensor");
        }
        if (v.elemType != Tensor.ONNX_FLOAT) {
            throw new OnnxFormatException("graph input '" + v.name + "' has element type " + Tensor.onnxTypeName(v.elemType)
                    + "; only FLOAT inputs are supported");
        }
        if (!v.hasShape) {
            throw new OnnxFormatException("graph input '" + v.name + "' declares no shape");
        }
        for (int d = 1; d < v.dims.length; d++) {
            if (v.dims[d] < 0) {
                throw new OnnxFormatException("graph input '" + v.name + "' of shape " + Planner.describeDims(v)
                        + " has a dynamic dimension at position " + d + "; only the first (batch) dimension may be dynamic");
            }
        }
    }

    // ------------------------------------------------------------------------------- loading

    /** Bytes read from a file at a time: bounds the JDK's temporary native buffer for each read. */
    private static final int READ_CHUNK = 1 << 20;

    /**
     * Reads and checks an ONNX file. Its first bytes are checked before the rest is read, so a file
     * that cannot be a model is refused at once, whatever its size; the file is read straight into
     * one array, never held twice.
     *
     * @throws OnnxFormatException naming the file, if it is no ONNX model, too large or unsupported
     * @throws IOException if the file cannot be read
     */
    public static OnnxModel load(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size > MAX_FILE_BYTES) {
                throw new OnnxFormatException(size + " bytes is larger than the limit of " + MAX_FILE_BYTES);
            }
            byte[] head = new byte[(int) Math.min(size, OnnxParser.START_BYTES)];
            OnnxParser.checkStart(head, readFully(channel, head));
            byte[] bytes = allocate(size);
            channel.position(0);
            int read = readFully(channel, bytes);
            if (read < size) {
                throw new OnnxFormatException("the file ended after " + read + " of its " + size
                        + " bytes (was it changed while being read?)");
            }
            return load(bytes, read);
        } catch (OnnxFormatException e) {
            throw new OnnxFormatException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads and checks an ONNX model from a stream (read to its end, not closed). The first bytes
     * are checked before the rest is read.
     */
    public static OnnxModel load(InputStream in) throws IOException {
        Buffer out = new Buffer();
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        boolean checked = false;
        for (int n; (n = in.read(buffer)) >= 0;) {
            total += n;
            if (total > MAX_FILE_BYTES) {
                throw new OnnxFormatException("the ONNX data is larger than the limit of " + MAX_FILE_BYTES + " bytes");
            }
            out.write(buffer, 0, n);
            if (!checked && total >= OnnxParser.START_BYTES) {
                OnnxParser.checkStart(out.array(), out.size());
                checked = true;
            }
        }
        return load(out.array(), out.size());
    }

    /** Checks a serialized ONNX model (the bytes are not kept). */
    public static OnnxModel load(byte[] bytes) throws OnnxFormatException {
        return load(bytes, bytes.length);
    }

    /** Checks the serialized ONNX model in the first {@code length} bytes of {@code bytes}. */
    private static OnnxModel load(byte[] bytes, int length) throws OnnxFormatException {
        try {
            return new OnnxModel(OnnxParser.parse(bytes, length));
        } catch (PlanException e) {
            throw new OnnxFormatException(e.getMessage(), e);
        } catch (OutOfMemoryError e) {
            throw new OnnxFormatException("not enough memory to load the model (" + length + " bytes)", e);
        }
    }

    /** An array for a whole file, or the reason there is no memory for one. */
    private static byte[] allocate(long size) throws OnnxFormatException {
        try {
            return new byte[(int) size];
        } catch (OutOfMemoryError e) {
            throw new OnnxFormatException("not enough memory to read the model (" + size + " bytes)", e);
        }
    }

    /** Reads from the channel's position into all of {@code into}, or to the end of the file; returns the bytes read. */
    private static int readFully(FileChannel channel, byte[] into) throws IOException {
        int off = 0;
        while (off < into.length) {
            int n = channel.read(ByteBuffer.wrap(into, off, Math.min(READ_CHUNK, into.length - off)));
            if (n < 0) {
                break;
            }
            off += n;
        }
        return off;
    }

    /** A byte stream whose array is parsed in place, not copied. */
    private static final class Buffer extends ByteArrayOutputStream {
        byte[] array() {
            return buf;
        }
    }

    // ------------------------------------------------------------------------------- description

    /** The names of the graph inputs the caller feeds, in graph order. */
    public List<String> inputNames() {
        return inputNames;
    }

    /** The names of the graph outputs, in graph order. */
    public List<String> outputNames() {
        return outputNames;
    }

    /** The model's metadata_props (key to value); empty if there are none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The declared shape of an input; -1 marks the dynamic batch dimension. */
    public int[] inputShape(String name) {
        for (OnnxParser.ValueInfo v : inputs) {
            if (v.name.equals(name)) {
                int[] s = v.dims.clone();
                for (int d = 0; d < s.length; d++) {
                    s[d] = Math.max(s[d], -1);
                }
                return s;
            }
        }
        throw new IllegalArgumentException("the model has no input '" + name + "'; inputs are " + inputNames);
    }

    /** The computed shape of an output; -1 marks a dimension that follows the batch size. */
    public int[] outputShape(String name) {
        int i = outputNames.indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("the model has no output '" + name + "'; outputs are " + outputNames);
        }
        return outputShapes[i].clone();
    }

    /** Whether the model evaluates batches of more than one observation. */
    public boolean supportsBatches() {
        return batched && batchError == null;
    }

    /** The version of the default ONNX operator set the model was exported with. */
    public int opsetVersion() {
        return opset;
    }

    /** The ONNX IR (file format) version. */
    public int irVersion() {
        return irVersion;
    }

    /** The exporting tool's name and version, as recorded in the file. */
    public String producer() {
        return producer;
    }

    /** The operator types the graph uses. */
    public Set<String> operators() {
        return operators;
    }

    /** Every operator type this evaluator supports. */
    public static Set<String> supportedOperators() {
        return Ops.SUPPORTED;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("OnnxModel[");
        for (int i = 0; i < inputs.size(); i++) {
            b.append(i == 0 ? "" : ", ").append(inputs.get(i).name).append(Planner.describeDims(inputs.get(i)));
        }
        b.append(" -> ");
        for (int i = 0; i < outputNames.size(); i++) {
            b.append(i == 0 ? "" : ", ").append(outputNames.get(i)).append(java.util.Arrays.toString(outputShapes[i]));
        }
        return b.append(", opset ").append(opset).append(", ").append(nodeCount).append(" nodes]").toString();
    }

    // ------------------------------------------------------------------------------- evaluation

    /**
     * Evaluates a model with one input and one output for a single observation (batch size 1).
     *
     * @param input the flat observation, as many values as the input shape holds for batch 1
     * @return a new array with the flat output
     * @throws IllegalArgumentException if {@code input} has the wrong length
     * @throws IllegalStateException if the model does not have exactly one input and one output
     */
    public float[] run(float[] input) {
        return run(input, 1);
    }

    /**
     * Evaluates a model with one input and one output for {@code batch} observations stored one
     * after the other in {@code input}; returns the outputs the same way.
     */
    public float[] run(float[] input, int batch) {
        if (inputNames.size() != 1 || outputNames.size() != 1) {
            throw new IllegalStateException("run(float[]) needs a model with one input and one output; this one has inputs "
                    + inputNames + " and outputs " + outputNames + ": use run(Map, int)");
        }
        Plan plan = plan(batch);
        Object[] ws = workspace(plan);
        fill(plan, ws, 0, input);
        plan.execute(ws);
        return plan.output(ws, 0);
    }

    /**
     * Evaluates the model for {@code batch} observations.
     *
     * @param inputs one flat array per input name ({@code batch} rows one after the other for an
     *     input with a batch dimension)
     * @return one new flat array per output name, in graph order
     */
    public Map<String, float[]> run(Map<String, float[]> inputs, int batch) {
        Plan plan = plan(batch);
        Object[] ws = workspace(plan);
        if (inputs.size() != inputNames.size() || !inputs.keySet().containsAll(inputNames)) {
            throw new IllegalArgumentException("expected inputs " + inputNames + ", got " + inputs.keySet());
        }
        for (int i = 0; i < inputNames.size(); i++) {
            fill(plan, ws, i, inputs.get(inputNames.get(i)));
        }
        plan.execute(ws);
        Map<String, float[]> out = new LinkedHashMap<>();
        for (int i = 0; i < outputNames.size(); i++) {
            out.put(outputNames.get(i), plan.output(ws, i));
        }
        return out;
    }

    private void fill(Plan plan, Object[] ws, int i, float[] values) {
        int n = plan.inputSizes[i];
        if (values == null || values.length != n) {
            throw new IllegalArgumentException("input '" + inputNames.get(i) + "' of shape "
                    + Planner.describeDims(inputs.get(i)) + " needs " + n + " values for batch size " + plan.batch + ", got "
                    + (values == null ? "null" : values.length));
        }
        System.arraycopy(values, 0, ws[plan.inputSlots[i]], 0, n);
    }

    private Plan plan(int batch) {
        if (batch == 1) {
            return single;
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batch);
        }
        if (!batched) {
            throw new IllegalArgumentException("the model's inputs have fixed shapes, so it evaluates one observation at a "
                    + "time; batch size " + batch + " is not possible");
        }
        if (batchError != null) {
            throw new IllegalArgumentException("the model evaluates only batch size 1: " + batchError);
        }
        Plan p = plans.get(batch);
        if (p == null) {
            try {
                p = new Planner(def, opset, batch, cache).build(inputs);
            } catch (OnnxFormatException | PlanException e) {
                throw new IllegalArgumentException("the model cannot evaluate batch size " + batch + ": " + e.getMessage(), e);
            }
            if (plans.size() < MAX_CACHED_PLANS) {
                plans.putIfAbsent(batch, p);
            }
        }
        return p;
    }

    private Object[] workspace(Plan plan) {
        Workspace w = workspaces.get();
        if (w == null || w.plan != plan) {
            w = new Workspace(plan);
            workspaces.set(w);
        }
        return w.slots;
    }
}
