package com.alpyperl.policy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes the parts of an ONNX {@code ModelProto} that the evaluator needs. Field numbers follow
 * {@code onnx.proto3}; unknown fields are skipped, fields that would change the meaning of the
 * model in ways this evaluator does not implement (external data, sparse tensors, segments,
 * attribute references) are refused.
 */
final class OnnxParser {

    /** The decoded model. */
    static final class ModelDef {
        long irVersion;
        final Map<String, Long> opsets = new LinkedHashMap<>();
        String producerName = "";
        String producerVersion = "";
        GraphDef graph;
        final Map<String, String> metadata = new LinkedHashMap<>();
    }

    /** The decoded main graph. */
    static final class GraphDef {
        String name = "";
        final List<NodeDef> nodes = new ArrayList<>();
        final Map<String, Tensor> initializers = new LinkedHashMap<>();
        final List<ValueInfo> inputs = new ArrayList<>();
        final List<ValueInfo> outputs = new ArrayList<>();
    }

    /** One node of the graph. */
    static final class NodeDef {
        String name = "";
        String opType = "";
        String domain = "";
        final List<String> inputs = new ArrayList<>();
        final List<String> outputs = new ArrayList<>();
        final Map<String, Attr> attributes = new LinkedHashMap<>();

        /** How messages refer to this node: its name, or its first output if it has none. */
        String label() {
            if (!name.isEmpty()) {
                return "node '" + name + "'";
            }
            return outputs.isEmpty() ? "an unnamed " + opType + " node" : "the node computing '" + outputs.get(0) + "'";
        }
    }

    // AttributeProto.AttributeType codes.
    static final int ATTR_FLOAT = 1;
    static final int ATTR_INT = 2;
    static final int ATTR_STRING = 3;
    static final int ATTR_TENSOR = 4;
    static final int ATTR_GRAPH = 5;
    static final int ATTR_FLOATS = 6;
    static final int ATTR_INTS = 7;
    static final int ATTR_STRINGS = 8;
    static final int ATTR_TENSORS = 9;
    static final int ATTR_GRAPHS = 10;
    static final int ATTR_SPARSE_TENSOR = 11;

    /** One node attribute; only the field matching {@link #type} is meaningful. */
    static final class Attr {
        String name = "";
        int type;
        float f;
        long i;
        String s;
        Tensor t;
        float[] floats = new float[0];
        long[] ints = new long[0];
        boolean reference;

        static String typeName(int type) {
            switch (type) {
                case ATTR_FLOAT: return "FLOAT";
                case ATTR_INT: return "INT";
                case ATTR_STRING: return "STRING";
                case ATTR_TENSOR: return "TENSOR";
                case ATTR_GRAPH: return "GRAPH";
                case ATTR_FLOATS: return "FLOATS";
                case ATTR_INTS: return "INTS";
                case ATTR_STRINGS: return "STRINGS";
                case ATTR_TENSORS: return "TENSORS";
                case ATTR_GRAPHS: return "GRAPHS";
                case ATTR_SPARSE_TENSOR: return "SPARSE_TENSOR";
                default: return "type " + type;
            }
        }
    }

    /** A graph input or output: its element type and shape (-1 for a dynamic dimension). */
    static final class ValueInfo {
        String name = "";
        boolean isTensor;
        int elemType;
        boolean hasShape;
        int[] dims = new int[0];
        String[] dimParams = new String[0];
    }

    private OnnxParser() {
    }

    /**
     * Each field of a ModelProto (onnx.proto, ONNX 1.18) with its wire type. Protobuf writes fields
     * in any order, so any of them may come first (exporters start with ir_version, key 0x08).
     */
    private static final Map<Integer, Integer> MODEL_FIELDS = Map.ofEntries(
            Map.entry(1, ProtoReader.VARINT), // ir_version
            Map.entry(2, ProtoReader.LENGTH_DELIMITED), // producer_name
            Map.entry(3, ProtoReader.LENGTH_DELIMITED), // producer_version
            Map.entry(4, ProtoReader.LENGTH_DELIMITED), // domain
            Map.entry(5, ProtoReader.VARINT), // model_version
            Map.entry(6, ProtoReader.LENGTH_DELIMITED), // doc_string
            Map.entry(7, ProtoReader.LENGTH_DELIMITED), // graph
            Map.entry(8, ProtoReader.LENGTH_DELIMITED), // opset_import
            Map.entry(14, ProtoReader.LENGTH_DELIMITED), // metadata_props
            Map.entry(20, ProtoReader.LENGTH_DELIMITED), // training_info
            Map.entry(25, ProtoReader.LENGTH_DELIMITED), // functions
            Map.entry(26, ProtoReader.LENGTH_DELIMITED)); // configuration

    /** How many leading bytes {@link #checkStart} needs: the longest key of a ModelProto field. */
    static final int START_BYTES = 5;

    /**
     * Refuses data that cannot be a ModelProto from its first bytes alone, so that a large file of
     * something else is rejected before it is read: the data must start with the key of one of the
     * ModelProto's fields, with that field's wire type.
     *
     * @param head the first bytes of the data
     * @param length how many bytes of {@code head} there are (fewer than {@link #START_BYTES} only
     *     if the data is that short)
     * @throws OnnxFormatException if the data is empty or starts with anything else
     */
    static void checkStart(byte[] head, int length) throws OnnxFormatException {
        if (length == 0) {
            throw new OnnxFormatException("not an ONNX model: the ONNX data is empty");
        }
        long key = 0;
        int n = Math.min(length, START_BYTES);
        for (int i = 0; i < n; i++) {
            key |= (long) (head[i] & 0x7f) << (7 * i);
            if ((head[i] & 0x80) == 0) {
                Integer wire = MODEL_FIELDS.get((int) Math.min(key >>> 3, Integer.MAX_VALUE));
                if (wire != null && wire == (key & 7)) {
                    return;
                }
                break;
            }
        }
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < n; i++) {
            hex.append(String.format("%02x ", head[i] & 0xff));
        }
        throw new OnnxFormatException("not an ONNX model: it starts with the bytes " + hex.toString().trim()
                + ", which are not the key of any ONNX ModelProto field (an exported model starts with 08,"
                + " the key of ir_version)");
    }

    /** Parses a serialized ModelProto. */
    static ModelDef parse(byte[] bytes) throws OnnxFormatException {
        return parse(bytes, bytes.length);
    }

    /** Parses a serialized ModelProto held in the first {@code length} bytes of {@code bytes}. */
    static ModelDef parse(byte[] bytes, int length) throws OnnxFormatException {
        checkStart(bytes, length);
        ModelDef model = new ModelDef();
        ProtoReader r = new ProtoReader(bytes, 0, length, 0);
        boolean sawGraph = false;
        while (r.hasMore()) {
            r.readTag();
            switch (r.fieldNumber()) {
                case 1: // ir_version
                    r.expect(ProtoReader.VARINT);
                    model.irVersion = r.readVarint();
                    break;
                case 2: // producer_name
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    model.producerName = r.readString();
                    break;
                case 3: // producer_version
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    model.producerVersion = r.readString();
                    break;
                case 7: // graph
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    if (sawGraph) {
                        throw new OnnxFormatException("the ONNX model holds more than one graph field");
                    }
                    sawGraph = true;
                    model.graph = parseGraph(r.readMessage());
                    break;
                case 8: { // opset_import
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    ProtoReader o = r.readMessage();
                    String domain = "";
                    long version = 0;
                    while (o.hasMore()) {
                        o.readTag();
                        if (o.fieldNumber() == 1 && o.wireType() == ProtoReader.LENGTH_DELIMITED) {
                            domain = o.readString();
                        } else if (o.fieldNumber() == 2 && o.wireType() == ProtoReader.VARINT) {
                            version = o.readVarint();
                        } else {
                            o.skipField();
                        }
                    }
                    model.opsets.put(domain, version);
                    break;
                }
                case 14: { // metadata_props
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    String[] kv = parseStringEntry(r.readMessage());
                    model.metadata.put(kv[0], kv[1]);
                    break;
                }
                default:
                    r.skipField();
            }
        }
        if (model.irVersion == 0 && model.graph == null) {
            throw new OnnxFormatException("not an ONNX model: the data holds neither an IR version nor a graph");
        }
        if (model.graph == null) {
            throw new OnnxFormatException("the ONNX model holds no graph");
        }
        return model;
    }

    private static String[] parseStringEntry(ProtoReader r) throws OnnxFormatException {
        String key = "";
        String value = "";
        while (r.hasMore()) {
            r.readTag();
            if (r.fieldNumber() == 1 && r.wireType() == ProtoReader.LENGTH_DELIMITED) {
                key = r.readString();
            } else if (r.fieldNumber() == 2 && r.wireType() == ProtoReader.LENGTH_DELIMITED) {
                value = r.readString();
            } else {
                r.skipField();
            }
        }
        return new String[] {key, value};
    }

    private static GraphDef parseGraph(ProtoReader r) throws OnnxFormatException {
        GraphDef g = new GraphDef();
        while (r.hasMore()) {
            r.readTag();
            switch (r.fieldNumber()) {
                case 1:
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    g.nodes.add(parseNode(r.readMessage()));
                    break;
                case 2:
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    g.name = r.readString();
                    break;
                case 5: {
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    NamedTensor t = parseTensor(r.readMessage());
                    if (t.name.isEmpty()) {
                        throw new OnnxFormatException("the graph has an initializer without a name");
                    }
                    if (g.initializers.put(t.name, t.tensor) != null) {
                        throw new OnnxFormatException("the graph has two initializers named '" + t.name + "'");
                    }
                    break;
                }
                case 11:
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    g.inputs.add(parseValueInfo(r.readMessage()));
                    break;
                case 12:
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    g.outputs.add(parseValueInfo(r.readMessage()));
                    break;
                case 15:
                    throw new OnnxFormatException("the graph has sparse initializers, which are not supported");
                default:
                    r.skipField();
            }
        }
        return g;
    }

    private static NodeDef parseNode(ProtoReader r) throws OnnxFormatException {
        NodeDef n = new NodeDef();
        while (r.hasMore()) {
            r.readTag();
            switch (r.fieldNumber()) {
                case 1:
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    n.inputs.add(r.readString());
                    break;
                case 2:
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    n.outputs.add(r.readString());
                    break;
                case 3:
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    n.name = r.readString();
                    break;
                case 4:
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    n.opType = r.readString();
                    break;
                case 5: {
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    Attr a = parseAttribute(r.readMessage());
                    if (n.attributes.put(a.name, a) != null) {
                        throw new OnnxFormatException(n.label() + " has two attributes named '" + a.name + "'");
                    }
                    break;
                }
                case 7:
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    n.domain = r.readString();
                    break;
                default:
                    r.skipField();
            }
        }
        return n;
    }

    private static Attr parseAttribute(ProtoReader r) throws OnnxFormatException {
        Attr a = new Attr();
        int inferred = 0;
        ProtoReader.FloatList floats = new ProtoReader.FloatList();
        ProtoReader.LongList ints = new ProtoReader.LongList();
        while (r.hasMore()) {
            r.readTag();
            switch (r.fieldNumber()) {
                case 1:
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    a.name = r.readString();
                    break;
                case 20:
                    r.expect(ProtoReader.VARINT);
                    a.type = r.readInt32();
                    break;
                case 21: // ref_attr_name: only meaningful inside functions
                    r.skipField();
                    a.reference = true;
                    break;
                case 2:
                    r.expect(ProtoReader.FIXED32);
                    a.f = r.readFloat();
                    inferred = ATTR_FLOAT;
                    break;
                case 3:
                    r.expect(ProtoReader.VARINT);
                    a.i = r.readVarint();
                    inferred = ATTR_INT;
                    break;
                case 4:
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    a.s = r.readString();
                    inferred = ATTR_STRING;
                    break;
                case 5:
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    a.t = parseTensor(r.readMessage()).tensor;
                    inferred = ATTR_TENSOR;
                    break;
                case 6:
                    r.skipField();
                    inferred = ATTR_GRAPH;
                    break;
                case 7:
                    r.readFloats(floats);
                    inferred = ATTR_FLOATS;
                    break;
                case 8:
                    r.readVarints(ints);
                    inferred = ATTR_INTS;
                    break;
                case 9:
                    r.skipField();
                    inferred = ATTR_STRINGS;
                    break;
                case 10:
                    r.skipField();
                    inferred = ATTR_TENSORS;
                    break;
                case 11:
                    r.skipField();
                    inferred = ATTR_GRAPHS;
                    break;
                case 22:
                    r.skipField();
                    inferred = ATTR_SPARSE_TENSOR;
                    break;
                default:
                    r.skipField();
            }
        }
        if (a.type == 0) {
            a.type = inferred; // IR version 1 files carry no type field
        }
        a.floats = floats.toArray();
        a.ints = ints.toArray();
        if (a.type == ATTR_TENSOR && a.t == null) {
            throw new OnnxFormatException("attribute '" + a.name + "' is declared as a tensor but holds none");
        }
        return a;
    }

    /** A tensor with the name it was stored under. */
    static final class NamedTensor {
        final String name;
        final Tensor tensor;

        NamedTensor(String name, Tensor tensor) {
            this.name = name;
            this.tensor = tensor;
        }
    }

    /**
     * Decodes a TensorProto. The element count that the dims declare must match the data present
     * exactly, so nothing is allocated beyond what the file really contains.
     */
    static NamedTensor parseTensor(ProtoReader r) throws OnnxFormatException {
        ProtoReader.LongList dims = new ProtoReader.LongList();
        int dataType = 0;
        String name = "";
        int rawOffset = -1;
        int rawLength = 0;
        ProtoReader.FloatList floatData = new ProtoReader.FloatList();
        ProtoReader.DoubleList doubleData = new ProtoReader.DoubleList();
        ProtoReader.LongList int32Data = new ProtoReader.LongList();
        ProtoReader.LongList int64Data = new ProtoReader.LongList();
        ProtoReader.LongList uint64Data = new ProtoReader.LongList();
        boolean external = false;
        while (r.hasMore()) {
            r.readTag();
            switch (r.fieldNumber()) {
                case 1:
                    r.readVarints(dims);
                    break;
                case 2:
                    r.expect(ProtoReader.VARINT);
                    dataType = r.readInt32();
                    break;
                case 3:
                    throw new OnnxFormatException("segmented tensors are not supported");
                case 4:
                    r.readFloats(floatData);
                    break;
                case 5:
                    r.readVarints(int32Data);
                    break;
                case 6:
                    throw new OnnxFormatException("string tensors are not supported");
                case 7:
                    r.readVarints(int64Data);
                    break;
                case 8:
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    name = r.readString();
                    break;
                case 9:
                    r.expect(ProtoReader.LENGTH_DELIMITED);
                    rawOffset = r.skipBytes();
                    rawLength = r.lastLength();
                    break;
                case 10:
                    r.readDoubles(doubleData);
                    break;
                case 11:
                    r.readVarints(uint64Data);
                    break;
                case 13:
                    r.skipField();
                    external = true;
                    break;
                case 14:
                    r.expect(ProtoReader.VARINT);
                    if (r.readVarint() != 0) {
                        external = true;
                    }
                    break;
                default:
                    r.skipField();
            }
        }
        String label = name.isEmpty() ? "a tensor" : "tensor '" + name + "'";
        if (external) {
            throw new OnnxFormatException(label + " keeps its data in an external file, which is not supported: "
                    + "export the model with all weights inside the .onnx file");
        }
        Tensor.DType type = Tensor.fromOnnx(dataType);
        if (type == null) {
            throw new OnnxFormatException(label + " has element type " + Tensor.onnxTypeName(dataType)
                    + ", which is not supported (FLOAT, DOUBLE, BOOL and integer types are)");
        }
        int[] shape;
        int n;
        try {
            shape = Shapes.toInts(dims.toArray(), label);
            n = Shapes.size(shape);
        } catch (PlanException e) {
            throw new OnnxFormatException(e.getMessage());
        }
        int typed = floatData.size + doubleData.size + int32Data.size + int64Data.size + uint64Data.size;
        if (rawOffset >= 0 && typed > 0) {
            throw new OnnxFormatException(label + " holds both raw and typed data");
        }
        Object data;
        if (rawOffset >= 0) {
            data = decodeRaw(r.array(), rawOffset, rawLength, dataType, n, label);
        } else {
            data = decodeTyped(dataType, n, label, floatData, doubleData, int32Data, int64Data, uint64Data);
        }
        return new NamedTensor(name, new Tensor(type, shape, data));
    }

    private static int elementBytes(int dataType) {
        switch (dataType) {
            case Tensor.ONNX_DOUBLE:
            case Tensor.ONNX_INT64:
                return 8;
            case Tensor.ONNX_FLOAT:
            case Tensor.ONNX_INT32:
            case Tensor.ONNX_UINT32:
                return 4;
            case Tensor.ONNX_INT16:
            case Tensor.ONNX_UINT16:
                return 2;
            default:
                return 1;
        }
    }

    private static Object decodeRaw(byte[] b, int off, int len, int dataType, int n, String label)
            throws OnnxFormatException {
        int width = elementBytes(dataType);
        if ((long) n * width != len) {
            throw new OnnxFormatException(label + " declares " + n + " elements of " + Tensor.onnxTypeName(dataType)
                    + " (" + (long) n * width + " bytes) but holds " + len + " bytes of raw data");
        }
        switch (dataType) {
            case Tensor.ONNX_FLOAT: {
                float[] out = new float[n];
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat(le32(b, off + 4 * i));
                }
                return out;
            }
            case Tensor.ONNX_DOUBLE: {
                double[] out = new double[n];
                for (int i = 0; i < n; i++) {
                    out[i] = Double.longBitsToDouble(le64(b, off + 8 * i));
                }
                return out;
            }
            default: {
                long[] out = new long[n];
                for (int i = 0; i < n; i++) {
                    int p = off + width * i;
                    switch (dataType) {
                        case Tensor.ONNX_INT64:
                            out[i] = le64(b, p);
                            break;
                        case Tensor.ONNX_INT32:
                            out[i] = le32(b, p);
                            break;
                        case Tensor.ONNX_UINT32:
                            out[i] = le32(b, p) & 0xffffffffL;
                            break;
                        case Tensor.ONNX_INT16:
                            out[i] = (short) ((b[p] & 0xff) | (b[p + 1] & 0xff) << 8);
                            break;
                        case Tensor.ONNX_UINT16:
                            out[i] = (b[p] & 0xff) | (b[p + 1] & 0xff) << 8;
                            break;
                        case Tensor.ONNX_INT8:
                            out[i] = b[p];
                            break;
                        case Tensor.ONNX_BOOL:
                            out[i] = b[p] != 0 ? 1 : 0;
                            break;
                        default: // UINT8
                            out[i] = b[p] & 0xff;
                    }
                }
                return out;
            }
        }
    }

    private static Object decodeTyped(int dataType, int n, String label, ProtoReader.FloatList floatData,
            ProtoReader.DoubleList doubleData, ProtoReader.LongList int32Data, ProtoReader.LongList int64Data,
            ProtoReader.LongList uint64Data) throws OnnxFormatException {
        int present;
        String field;
        switch (dataType) {
            case Tensor.ONNX_FLOAT:
                present = floatData.size;
                field = "float_data";
                break;
            case Tensor.ONNX_DOUBLE:
                present = doubleData.size;
                field = "double_data";
                break;
            case Tensor.ONNX_INT64:
                present = int64Data.size;
                field = "int64_data";
                break;
            case Tensor.ONNX_UINT32:
                present = uint64Data.size;
                field = "uint64_data";
                break;
            default:
                present = int32Data.size;
                field = "int32_data";
        }
        int others = floatData.size + doubleData.size + int32Data.size + int64Data.size + uint64Data.size - present;
        if (present != n || others != 0) {
            throw new OnnxFormatException(label + " declares " + n + " elements of " + Tensor.onnxTypeName(dataType)
                    + " but holds " + present + " values in " + field
                    + (others != 0 ? " and " + others + " values in fields of other types" : ""));
        }
        switch (dataType) {
            case Tensor.ONNX_FLOAT:
                return floatData.toArray();
            case Tensor.ONNX_DOUBLE:
                return doubleData.toArray();
            case Tensor.ONNX_INT64:
                return int64Data.toArray();
            case Tensor.ONNX_UINT32:
                return uint64Data.toArray();
            default: {
                long[] out = int32Data.toArray();
                for (int i = 0; i < n; i++) {
                    out[i] = (int) out[i]; // int32_data holds int32 varints
                    if (dataType == Tensor.ONNX_BOOL) {
                        out[i] = out[i] != 0 ? 1 : 0;
                    }
                }
                return out;
            }
        }
    }

    private static int le32(byte[] b, int p) {
        return (b[p] & 0xff) | (b[p + 1] & 0xff) << 8 | (b[p + 2] & 0xff) << 16 | (b[p + 3] & 0xff) << 24;
    }

    private static long le64(byte[] b, int p) {
        return (le32(b, p) & 0xffffffffL) | (long) le32(b, p + 4) << 32;
    }

    private static ValueInfo parseValueInfo(ProtoReader r) throws OnnxFormatException {
        ValueInfo v = new ValueInfo();
        while (r.hasMore()) {
            r.readTag();
            if (r.fieldNumber() == 1 && r.wireType() == ProtoReader.LENGTH_DELIMITED) {
                v.name = r.readString();
            } else if (r.fieldNumber() == 2 && r.wireType() == ProtoReader.LENGTH_DELIMITED) {
                parseType(r.readMessage(), v);
            } else {
                r.skipField();
            }
        }
        return v;
    }

    private static void parseType(ProtoReader r, ValueInfo v) throws OnnxFormatException {
        while (r.hasMore()) {
            r.readTag();
            if (r.fieldNumber() == 1 && r.wireType() == ProtoReader.LENGTH_DELIMITED) {
                v.isTensor = true;
                ProtoReader t = r.readMessage();
                while (t.hasMore()) {
                    t.readTag();
                    if (t.fieldNumber() == 1 && t.wireType() == ProtoReader.VARINT) {
                        v.elemType = t.readInt32();
                    } else if (t.fieldNumber() == 2 && t.wireType() == ProtoReader.LENGTH_DELIMITED) {
                        parseShape(t.readMessage(), v);
                    } else {
                        t.skipField();
                    }
                }
            } else {
                r.skipField();
            }
        }
    }

    private static void parseShape(ProtoReader r, ValueInfo v) throws OnnxFormatException {
        v.hasShape = true;
        List<Integer> dims = new ArrayList<>();
        List<String> params = new ArrayList<>();
        while (r.hasMore()) {
            r.readTag();
            if (r.fieldNumber() != 1 || r.wireType() != ProtoReader.LENGTH_DELIMITED) {
                r.skipField();
                continue;
            }
            ProtoReader d = r.readMessage();
            long value = -1;
            String param = null;
            while (d.hasMore()) {
                d.readTag();
                if (d.fieldNumber() == 1 && d.wireType() == ProtoReader.VARINT) {
                    value = d.readVarint();
                    if (value < 0 || value > Shapes.MAX_ELEMENTS) {
                        throw new OnnxFormatException("value '" + v.name + "' declares an invalid dimension " + value);
                    }
                } else if (d.fieldNumber() == 2 && d.wireType() == ProtoReader.LENGTH_DELIMITED) {
                    param = d.readString();
                    value = -1;
                } else {
                    d.skipField();
                }
            }
            dims.add((int) value);
            params.add(param);
        }
        v.dims = new int[dims.size()];
        for (int i = 0; i < v.dims.length; i++) {
            v.dims[i] = dims.get(i);
        }
        v.dimParams = params.toArray(new String[0]);
    }
}
