package com.alpyperl.policy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds ONNX ModelProto bytes for tests, field by field (numbers from onnx.proto3), so that
 * tests can write exactly the model, or the broken model, they need.
 */
final class OnnxBuilder {

    static final int FLOAT = 1;
    static final int INT32 = 6;
    static final int INT64 = 7;
    static final int BOOL = 9;
    static final int DOUBLE = 11;

    long irVersion = 8;
    int opset = 17;
    String opsetDomain = "";
    private final List<ProtoWriter> nodes = new ArrayList<>();
    private final List<ProtoWriter> initializers = new ArrayList<>();
    private final List<ProtoWriter> inputs = new ArrayList<>();
    private final List<ProtoWriter> outputs = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    OnnxBuilder opset(int version) {
        this.opset = version;
        return this;
    }

    /** A float input; dims are Integers (fixed) or Strings (named dynamic dimensions). */
    OnnxBuilder input(String name, Object... dims) {
        inputs.add(valueInfo(name, FLOAT, dims));
        return this;
    }

    OnnxBuilder typedInput(String name, int elemType, Object... dims) {
        inputs.add(valueInfo(name, elemType, dims));
        return this;
    }

    /** A graph input with no shape at all. */
    OnnxBuilder inputWithoutShape(String name) {
        ProtoWriter tensorType = new ProtoWriter().varint(1, FLOAT);
        inputs.add(new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType)));
        return this;
    }

    OnnxBuilder output(String name, Object... dims) {
        outputs.add(valueInfo(name, FLOAT, dims));
        return this;
    }

    /** An output that declares no type or shape (allowed by ONNX for outputs). */
    OnnxBuilder output(String name) {
        outputs.add(new ProtoWriter().string(1, name));
        return this;
    }

    OnnxBuilder metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** A float initializer stored as little-endian raw_data. */
    OnnxBuilder initializer(String name, int[] dims, float... values) {
        initializers.add(floatTensor(name, dims, values, true));
        return this;
    }

    /** A float initializer stored in the typed float_data field. */
    OnnxBuilder typedInitializer(String name, int[] dims, float... values) {
        initializers.add(floatTensor(name, dims, values, false));
        return this;
    }

    OnnxBuilder longInitializer(String name, int[] dims, long... values) {
        initializers.add(longTensor(name, dims, values));
        return this;
    }

    OnnxBuilder initializer(ProtoWriter tensor) {
        initializers.add(tensor);
        return this;
    }

    /** Adds a node; attributes are added to the returned writer with the {@code attr*} helpers. */
    Node node(String opType, String name, String[] in, String... out) {
        Node n = new Node(this, opType, name, in, out);
        nodes.add(n.proto);
        return n;
    }

    /** A node being built: its attributes. */
    static final class Node {
        final ProtoWriter proto = new ProtoWriter();
        private final OnnxBuilder graph;

        Node(OnnxBuilder graph, String opType, String name, String[] in, String[] out) {
            this.graph = graph;
            for (String s : in) {
                proto.string(1, s);
            }
            for (String s : out) {
                proto.string(2, s);
            }
            proto.string(3, name).string(4, opType);
        }

        /** Adds the next node to the same graph. */
        Node node(String opType, String name, String[] in, String... out) {
            return graph.node(opType, name, in, out);
        }

        Node domain(String domain) {
            proto.string(7, domain);
            return this;
        }

        Node attr(String name, long value) {
            proto.message(5, new ProtoWriter().string(1, name).varint(20, 2).varint(3, value));
            return this;
        }

        Node attr(String name, float value) {
            proto.message(5, new ProtoWriter().string(1, name).varint(20, 1).floatValue(2, value));
            return this;
        }

        Node attr(String name, String value) {
            proto.message(5, new ProtoWriter().string(1, name).varint(20, 3).string(4, value));
            return this;
        }

        Node attrInts(String name, long... values) {
            proto.message(5, new ProtoWriter().string(1, name).varint(20, 7).packedVarints(8, values));
            return this;
        }

        Node attrFloats(String name, float... values) {
            proto.message(5, new ProtoWriter().string(1, name).varint(20, 6).packedFloats(7, values));
            return this;
        }

        Node attrTensor(String name, ProtoWriter tensor) {
            proto.message(5, new ProtoWriter().string(1, name).varint(20, 4).message(5, tensor));
            return this;
        }

        Node attrGraph(String name) {
            proto.message(5, new ProtoWriter().string(1, name).varint(20, 5).message(6, new ProtoWriter().string(2, "g")));
            return this;
        }
    }

    static ProtoWriter floatTensor(String name, int[] dims, float[] values, boolean raw) {
        ProtoWriter t = new ProtoWriter();
        for (int d : dims) {
            t.varint(1, d);
        }
        t.varint(2, FLOAT);
        if (raw) {
            t.bytes(9, ProtoWriter.littleEndianFloats(values));
        } else {
            t.packedFloats(4, values);
        }
        return t.string(8, name);
    }

    static ProtoWriter longTensor(String name, int[] dims, long... values) {
        ProtoWriter t = new ProtoWriter();
        for (int d : dims) {
            t.varint(1, d);
        }
        return t.varint(2, INT64).packedVarints(7, values).string(8, name);
    }

    private static ProtoWriter valueInfo(String name, int elemType, Object... dims) {
        ProtoWriter shape = new ProtoWriter();
        for (Object d : dims) {
            ProtoWriter dim = new ProtoWriter();
            if (d instanceof Integer) {
                dim.varint(1, (Integer) d);
            } else {
                dim.string(2, (String) d);
            }
            shape.message(1, dim);
        }
        ProtoWriter tensorType = new ProtoWriter().varint(1, elemType).message(2, shape);
        return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
    }

    byte[] build() {
        ProtoWriter graph = new ProtoWriter();
        for (ProtoWriter n : nodes) {
            graph.message(1, n);
        }
        graph.string(2, "test-graph");
        for (ProtoWriter t : initializers) {
            graph.message(5, t);
        }
        for (ProtoWriter v : inputs) {
            graph.message(11, v);
        }
        for (ProtoWriter v : outputs) {
            graph.message(12, v);
        }
        ProtoWriter model = new ProtoWriter().varint(1, irVersion).string(2, "alpyperl-tests").string(3, "1.0");
        model.message(8, new ProtoWriter().string(1, opsetDomain).varint(2, opset));
        model.message(7, graph);
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            model.message(14, new ProtoWriter().string(1, e.getKey()).string(2, e.getValue()));
        }
        return model.toByteArray();
    }

    OnnxModel load() throws OnnxFormatException {
        return OnnxModel.load(build());
    }
}
