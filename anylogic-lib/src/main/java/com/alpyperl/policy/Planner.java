package com.alpyperl.policy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a parsed graph into an execution {@link Plan} for one batch size. With the batch size
 * fixed every shape is known, so shape inference is exact: each node's output shapes are computed
 * from its inputs' shapes, and any node whose inputs are all constants (initializers, Constant
 * nodes, Shape of anything, arithmetic on those) is evaluated once here ("constant folding").
 * What remains are the kernels that depend on the graph inputs.
 */
final class Planner {

    /**
     * The most bytes one plan may allocate (tensors, folded constants, packed weights and index
     * tables; not the initializers, which the file itself holds): 128 MB. A hostile graph is
     * refused when it reaches this, so it cannot make a load allocate more.
     */
    static final long MAX_PLAN_BYTES = 128L << 20;

    /** A tensor value during planning: its type, shape and workspace slot. */
    static final class Value {
        final String name;
        final Tensor.DType type;
        final int[] shape;
        final int slot;
        boolean constant;

        Value(String name, Tensor.DType type, int[] shape, int slot, boolean constant) {
            this.name = name;
            this.type = type;
            this.shape = shape;
            this.slot = slot;
            this.constant = constant;
        }

        int size() {
            return Shapes.size(shape);
        }

        int rank() {
            return shape.length;
        }

        @Override
        public String toString() {
            return "'" + name + "' " + type + Arrays.toString(shape);
        }
    }

    /** Weight layouts derived from initializers, shared by the plans of all batch sizes. */
    static final class SharedCache {
        private final Map<Object, Map<String, Object>> entries = new IdentityHashMap<>();

        synchronized Object get(Object source, String key) {
            Map<String, Object> m = entries.get(source);
            return m == null ? null : m.get(key);
        }

        synchronized void put(Object source, String key, Object derived) {
            entries.computeIfAbsent(source, s -> new HashMap<>()).put(key, derived);
        }
    }

    final OnnxParser.ModelDef model;
    final int opset;
    final int batch;
    final SharedCache cache;

    private final Map<String, Value> values = new HashMap<>();
    private final ArrayList<Object> slots = new ArrayList<>();
    private final ArrayList<Tensor.DType> slotTypes = new ArrayList<>();
    private final ArrayList<Integer> slotSizes = new ArrayList<>();
    private final List<Kernels.Kernel> kernels = new ArrayList<>();
    /** For each slot written by a kernel: the index of that kernel in {@link #kernels}. */
    private final Map<Integer, Integer> producer = new HashMap<>();
    /** For each slot written by a kernel: the name of the value it was created for (not a view's). */
    private final Map<Integer, String> producedValue = new HashMap<>();
    /** How many node inputs and graph outputs read each value name. */
    private final Map<String, Integer> readers = new HashMap<>();
    private final Set<String> graphOutputs = new HashSet<>();
    private long allocated;

    Planner(OnnxParser.ModelDef model, int opset, int batch, SharedCache cache) {
        this.model = model;
        this.opset = opset;
        this.batch = batch;
        this.cache = cache;
    }

    /** Builds the plan; {@code inputs} are the graph inputs that the caller feeds. */
    Plan build(List<OnnxParser.ValueInfo> inputs) throws OnnxFormatException {
        OnnxParser.GraphDef g = model.graph;
        for (OnnxParser.NodeDef node : g.nodes) {
            for (String in : node.inputs) {
                readers.merge(in, 1, Integer::sum);
            }
        }
        for (OnnxParser.ValueInfo out : g.outputs) {
            readers.merge(out.name, 1, Integer::sum);
            graphOutputs.add(out.name);
        }
        for (Map.Entry<String, Tensor> e : g.initializers.entrySet()) {
            Tensor t = e.getValue();
            define(new Value(e.getKey(), t.type, t.shape, newSlot(t.type, t.size(), t.data, false), true));
        }
        int[] inputSlots = new int[inputs.size()];
        int[] inputSizes = new int[inputs.size()];
        for (int i = 0; i < inputs.size(); i++) {
            OnnxParser.ValueInfo info = inputs.get(i);
            int[] shape = info.dims.clone();
            if (shape.length > 0 && shape[0] < 0) {
                shape[0] = batch;
            }
            int size = sizeOf(shape, "input '" + info.name + "'");
            Value v = new Value(info.name, Tensor.DType.FLOAT, shape, newSlot(Tensor.DType.FLOAT, size, null, true), false);
            define(v);
            inputSlots[i] = v.slot;
            inputSizes[i] = size;
        }
        for (int i = 0; i < g.nodes.size(); i++) {
            OnnxParser.NodeDef def = g.nodes.get(i);
            Node node = new Node(def);
            try {
                Ops.plan(node);
                node.finish();
            } catch (PlanException e) {
                throw new OnnxFormatException(def.label() + " (" + def.opType + "): " + e.getMessage()
                        + (batch != 1 ? " [batch size " + batch + "]" : ""));
            } catch (RuntimeException e) {
                // Not expected, whatever the file holds; reported as a refusal that names the node.
                throw new OnnxFormatException(def.label() + " (" + def.opType + ") cannot be evaluated: " + e, e);
            }
        }
        int nOut = g.outputs.size();
        int[] outputSlots = new int[nOut];
        int[][] outputShapes = new int[nOut][];
        Tensor.DType[] outputTypes = new Tensor.DType[nOut];
        for (int i = 0; i < nOut; i++) {
            OnnxParser.ValueInfo info = g.outputs.get(i);
            Value v = values.get(info.name);
            if (v == null) {
                throw new OnnxFormatException("graph output '" + info.name + "' is not computed by any node");
            }
            if (v.type == Tensor.DType.DOUBLE) {
                throw new OnnxFormatException("graph output '" + info.name + "' has type DOUBLE, which is not supported");
            }
            checkDeclaredShape(info, v);
            outputSlots[i] = v.slot;
            outputShapes[i] = v.shape.clone();
            outputTypes[i] = v.type;
        }
        Object[] template = slots.toArray();
        List<Integer> runtime = new ArrayList<>();
        for (int s = 0; s < template.length; s++) {
            if (template[s] == null) {
                runtime.add(s);
            }
        }
        int[] runtimeSlots = new int[runtime.size()];
        Tensor.DType[] runtimeTypes = new Tensor.DType[runtime.size()];
        int[] runtimeSizes = new int[runtime.size()];
        for (int i = 0; i < runtimeSlots.length; i++) {
            int s = runtime.get(i);
            runtimeSlots[i] = s;
            runtimeTypes[i] = slotTypes.get(s);
            runtimeSizes[i] = slotSizes.get(s);
        }
        return new Plan(batch, kernels.toArray(new Kernels.Kernel[0]), template, runtimeSlots, runtimeTypes, runtimeSizes,
                inputSlots, inputSizes, outputSlots, outputShapes, outputTypes);
    }

    private void checkDeclaredShape(OnnxParser.ValueInfo info, Value v) throws OnnxFormatException {
        if (!info.hasShape) {
            return;
        }
        boolean ok = info.dims.length == v.shape.length;
        for (int d = 0; ok && d < info.dims.length; d++) {
            ok = info.dims[d] < 0 || info.dims[d] == v.shape[d];
        }
        if (!ok) {
            throw new OnnxFormatException("graph output '" + info.name + "' is declared with shape "
                    + describeDims(info) + " but the graph computes " + Shapes.str(v.shape)
                    + (batch != 1 ? " for batch size " + batch : ""));
        }
    }

    static String describeDims(OnnxParser.ValueInfo info) {
        StringBuilder b = new StringBuilder("[");
        for (int d = 0; d < info.dims.length; d++) {
            if (d > 0) {
                b.append(", ");
            }
            b.append(info.dims[d] >= 0 ? String.valueOf(info.dims[d])
                    : info.dimParams[d] != null ? info.dimParams[d] : "?");
        }
        return b.append(']').toString();
    }

    private int sizeOf(int[] shape, String what) throws OnnxFormatException {
        try {
            return Shapes.size(shape);
        } catch (PlanException e) {
            throw new OnnxFormatException(what + ": " + e.getMessage());
        }
    }

    private void define(Value v) throws OnnxFormatException {
        if (values.put(v.name, v) != null) {
            throw new OnnxFormatException("value '" + v.name + "' is defined more than once");
        }
    }

    private int newSlot(Tensor.DType type, int size, Object data, boolean charged) {
        if (charged) {
            charge((long) size * (type == Tensor.DType.FLOAT ? 4 : 8));
        }
        slots.add(data);
        slotTypes.add(type);
        slotSizes.add(size);
        return slots.size() - 1;
    }

    /** Counts {@code bytes} against the plan's allocation limit (before they are allocated). */
    void charge(long bytes) {
        allocated += bytes;
        if (allocated > MAX_PLAN_BYTES) {
            throw new PlanException("the graph needs more than " + (MAX_PLAN_BYTES >> 20) + " MB of working memory"
                    + (batch != 1 ? " at batch size " + batch : ""));
        }
    }

    /**
     * The planning view of one node: its input values, typed attribute access (every attribute
     * an operator does not read is refused when the node is finished) and ways to define outputs.
     */
    final class Node {
        final OnnxParser.NodeDef def;
        private final Value[] outs;
        private final Set<String> readAttributes = new HashSet<>();
        private final List<Integer> freshSlots = new ArrayList<>();
        private final int firstKernel = kernels.size();

        Node(OnnxParser.NodeDef def) {
            this.def = def;
            this.outs = new Value[def.outputs.size()];
        }

        int opset() {
            return opset;
        }

        String op() {
            return def.opType;
        }

        PlanException fail(String message) {
            return new PlanException(message);
        }

        int inputCount() {
            return def.inputs.size();
        }

        int outputCount() {
            return def.outputs.size();
        }

        boolean hasOutput(int i) {
            return i < def.outputs.size() && !def.outputs.get(i).isEmpty();
        }

        /** A required input. */
        Value in(int i) {
            Value v = opt(i);
            if (v == null) {
                throw fail("required input " + (i + 1) + " is missing");
            }
            return v;
        }

        /** An optional input, or null if it is absent. */
        Value opt(int i) {
            if (i >= def.inputs.size() || def.inputs.get(i).isEmpty()) {
                return null;
            }
            String name = def.inputs.get(i);
            Value v = values.get(name);
            if (v == null) {
                throw fail("input '" + name + "' is not defined by an initializer, a graph input or an earlier node");
            }
            return v;
        }

        /** The constant data of a value (which must be constant). */
        Object data(Value v) {
            if (!v.constant) {
                throw fail("input '" + v.name + "' must be a constant (known when the model loads), "
                        + "but it depends on the graph's inputs");
            }
            return slots.get(v.slot);
        }

        /** A constant integer input as longs, or null if the input is absent. */
        long[] constInts(int i) {
            Value v = opt(i);
            if (v == null) {
                return null;
            }
            if (v.type != Tensor.DType.INT64) {
                throw fail("input '" + v.name + "' must hold integers, not " + v.type);
            }
            return (long[]) data(v);
        }

        /** A constant input as doubles (any type). */
        double[] constNumbers(Value v) {
            Object d = data(v);
            int n = Tensor.length(d);
            double[] out = new double[n];
            Tensor t = new Tensor(v.type, v.shape, d);
            for (int i = 0; i < n; i++) {
                out[i] = t.getDouble(i);
            }
            return out;
        }

        // --- attributes

        boolean has(String name) {
            return def.attributes.containsKey(name);
        }

        private OnnxParser.Attr attr(String name, int type) {
            OnnxParser.Attr a = def.attributes.get(name);
            if (a == null) {
                return null;
            }
            readAttributes.add(name);
            if (a.reference) {
                throw fail("attribute '" + name + "' refers to a function attribute, which is not supported");
            }
            if (a.type != type) {
                throw fail("attribute '" + name + "' has type " + OnnxParser.Attr.typeName(a.type) + ", expected "
                        + OnnxParser.Attr.typeName(type));
            }
            return a;
        }

        long attrInt(String name, long defaultValue) {
            OnnxParser.Attr a = attr(name, OnnxParser.ATTR_INT);
            return a == null ? defaultValue : a.i;
        }

        float attrFloat(String name, float defaultValue) {
            OnnxParser.Attr a = attr(name, OnnxParser.ATTR_FLOAT);
            return a == null ? defaultValue : a.f;
        }

        String attrString(String name, String defaultValue) {
            OnnxParser.Attr a = attr(name, OnnxParser.ATTR_STRING);
            return a == null ? defaultValue : a.s;
        }

        long[] attrInts(String name) {
            OnnxParser.Attr a = attr(name, OnnxParser.ATTR_INTS);
            return a == null ? null : a.ints;
        }

        float[] attrFloats(String name) {
            OnnxParser.Attr a = attr(name, OnnxParser.ATTR_FLOATS);
            return a == null ? null : a.floats;
        }

        Tensor attrTensor(String name) {
            OnnxParser.Attr a = attr(name, OnnxParser.ATTR_TENSOR);
            return a == null ? null : a.t;
        }

        /** Marks an attribute as accepted although it does not change the result. */
        void ignoreAttribute(String name) {
            readAttributes.add(name);
        }

        // --- outputs

        /** Defines output i as a new tensor computed by this node's kernels; returns its slot. */
        int out(int i, Tensor.DType type, int[] shape) {
            int size = Shapes.size(shape);
            int slot = newSlot(type, size, null, true);
            freshSlots.add(slot);
            set(i, new Value(outputName(i), type, shape.clone(), slot, false));
            producedValue.put(slot, outputName(i));
            return slot;
        }

        /** A temporary run-time tensor of this node (not visible in the graph). */
        Value temp(Tensor.DType type, int[] shape) {
            int slot = newSlot(type, Shapes.size(shape), null, true);
            freshSlots.add(slot);
            return new Value("", type, shape.clone(), slot, false);
        }

        /** A constant derived from an input, not visible in the graph. */
        Value hiddenConstant(Tensor t, String derivedFrom) {
            return new Value(derivedFrom, t.type, t.shape, newSlot(t.type, t.size(), t.data, true), true);
        }

        /**
         * Defines output i as a constant of the given shape and returns its zero-filled array for
         * the caller to fill; the size is checked against the limits before anything is allocated.
         */
        Object newConstant(int i, Tensor.DType type, int[] shape) {
            int size = Shapes.size(shape);
            int slot = newSlot(type, size, null, true);
            Object data = Tensor.newArray(type, size);
            slots.set(slot, data);
            set(i, new Value(outputName(i), type, shape.clone(), slot, true));
            return data;
        }

        /** Defines output i as a view of {@code source} with another shape (no copy). */
        void alias(int i, Value source, int[] shape) {
            if (Shapes.size(shape) != source.size()) {
                throw fail("cannot view " + Shapes.str(source.shape) + " as " + Shapes.str(shape));
            }
            set(i, new Value(outputName(i), source.type, shape.clone(), source.slot, source.constant));
        }

        /** Defines output i as a constant. */
        void constant(int i, Tensor t) {
            set(i, new Value(outputName(i), t.type, t.shape, newSlot(t.type, t.size(), t.data, true), true));
        }

        void kernel(Kernels.Kernel k) {
            for (int s : freshSlots) {
                producer.putIfAbsent(s, kernels.size());
            }
            kernels.add(k);
        }

        /** Counts {@code n} four-byte elements (ints or floats) against the allocation limit. */
        void charge(long n) {
            Planner.this.charge(4 * n);
        }

        SharedCache cache() {
            return cache;
        }

        private String outputName(int i) {
            if (i >= def.outputs.size()) {
                throw fail("the node declares " + def.outputs.size() + " outputs, the operator needs at least " + (i + 1));
            }
            return def.outputs.get(i);
        }

        private void set(int i, Value v) {
            if (outs[i] != null) {
                throw new IllegalStateException("output " + i + " defined twice");
            }
            outs[i] = v;
        }

        /**
         * Tries to fold the activation {@code op} applied to {@code input} into the Gemm kernel
         * that computes it; returns true if output 0 is now an alias of the Gemm's result.
         */
        boolean fuseActivation(Value input, int op) {
            if (input.constant || graphOutputs.contains(input.name) || readers.getOrDefault(input.name, 0) != 1
                    || !input.name.equals(producedValue.get(input.slot))) {
                return false; // the plain product is observable elsewhere, or input is a view of it
            }
            Integer k = producer.get(input.slot);
            if (k == null || !(kernels.get(k) instanceof Kernels.Gemm)) {
                return false;
            }
            Kernels.Gemm gemm = (Kernels.Gemm) kernels.get(k);
            if (gemm.activation != Kernels.IDENTITY || gemm.out != input.slot) {
                return false;
            }
            kernels.set(k, gemm.withActivation(op));
            set(0, new Value(outputName(0), input.type, input.shape, input.slot, false));
            return true;
        }

        /** Checks outputs and attributes, then folds the node if all its inputs are constants. */
        void finish() throws OnnxFormatException {
            for (String name : def.attributes.keySet()) {
                if (!readAttributes.contains(name)) {
                    throw fail("unsupported attribute '" + name + "' of ONNX operator '" + def.opType + "'"
                            + (opset > 0 ? " (opset " + opset + ")" : ""));
                }
            }
            for (int i = 0; i < outs.length; i++) {
                if (outs[i] == null && !def.outputs.get(i).isEmpty()) {
                    throw fail("output " + (i + 1) + " ('" + def.outputs.get(i) + "') is not supported by this evaluator");
                }
            }
            boolean allConstant = true;
            for (int i = 0; i < def.inputs.size(); i++) {
                Value v = opt(i);
                allConstant &= v == null || v.constant;
            }
            if (allConstant && kernels.size() > firstKernel) {
                for (int s : freshSlots) {
                    slots.set(s, Tensor.newArray(slotTypes.get(s), slotSizes.get(s)));
                }
                Object[] view = slots.toArray();
                for (int k = firstKernel; k < kernels.size(); k++) {
                    kernels.get(k).run(view);
                }
                kernels.subList(firstKernel, kernels.size()).clear();
                for (Value v : outs) {
                    if (v != null) {
                        v.constant = true;
                    }
                }
            } else {
                for (Value v : outs) {
                    if (v != null && !v.constant && v.type == Tensor.DType.DOUBLE) {
                        throw fail("DOUBLE tensors computed from the graph's inputs are not supported");
                    }
                }
            }
            for (Value v : outs) {
                if (v != null && !v.name.isEmpty()) {
                    define(v);
                }
            }
        }
    }
}
