import ConvKit
import Foundation

/// The parts of a `.tflite` flatbuffer a float CNN needs, read into Swift values.
///
/// Field indices follow TensorFlow Lite's `schema.fbs` (the authority): `Model{version, operator_codes, subgraphs,
/// description, buffers, …}`, `SubGraph{tensors, inputs, outputs, operators, name}`, `Tensor{shape, type, buffer,
/// name, quantization, …, shape_signature}`, `Operator{opcode_index, inputs, outputs, builtin_options_type,
/// builtin_options, …}`, `Buffer{data, offset, size}`, `OperatorCode{deprecated_builtin_code, custom_code, version,
/// builtin_code}`.
struct TFLiteFile {
    var version: Int
    var description: String
    var operatorCodes: [TFLiteOperatorCode]
    var tensors: [TFLiteTensor]
    var operators: [TFLiteOperator]
    var inputs: [Int]
    var outputs: [Int]
    var subgraphCount: Int
    /// Byte range of each buffer's data in `buffer` (empty when the buffer holds nothing).
    var bufferRanges: [Range<Int>]
    let buffer: FlatBuffer

    /// Parses `data`. Only subgraph 0 (the main graph) is read; a file with more subgraphs (control flow) is
    /// reported by the importer when an operator needs them.
    init(data: Data, limits: ONNXLimits) throws {
        let fb = FlatBuffer(data)
        guard fb.count >= 8 else {
            throw FlatBufferError(offset: 0, reading: "file header", reason: "a TFLite file has at least 8 bytes, found \(fb.count)")
        }
        if let id = fb.identifier, id != "TFL3" {
            throw FlatBufferError(offset: 4, reading: "file identifier", reason: "expected \"TFL3\", found \(id.debugDescription)")
        }
        buffer = fb
        let model = try fb.root()
        version = Int(try model.u32(0))
        description = try model.string(3, what: "Model.description") ?? ""
        operatorCodes = try model.tables(1, what: "OperatorCode").map(TFLiteOperatorCode.init)
        let subgraphs = try model.tables(2, what: "SubGraph")
        subgraphCount = subgraphs.count
        guard let main = subgraphs.first else {
            throw FlatBufferError(offset: model.position, reading: "Model.subgraphs", reason: "the model has no subgraph")
        }
        bufferRanges = try model.tables(4, what: "Buffer").map { b in
            let offset = try b.u64(1), size = try b.u64(2)
            if offset > 1 {   // large models keep data after the flatbuffer, addressed from the file's start
                guard size <= UInt64(fb.count), offset <= UInt64(fb.count) - size else {
                    throw FlatBufferError(offset: b.position, reading: b.name,
                                          reason: "data at \(offset)+\(size) lies outside the \(fb.count)-byte file")
                }
                return Int(offset)..<Int(offset + size)
            }
            return try b.byteRange(0, what: "\(b.name).data")
        }
        tensors = try main.tables(0, what: "Tensor").map { try TFLiteTensor($0, limits: limits) }
        inputs = try main.int32Vector(1, what: "SubGraph.inputs").map(Int.init)
        outputs = try main.int32Vector(2, what: "SubGraph.outputs").map(Int.init)
        operators = try main.tables(3, what: "Operator").map(TFLiteOperator.init)
        for t in tensors where t.buffer >= bufferRanges.count && t.buffer != 0 {
            throw FlatBufferError(offset: 0, reading: "Tensor '\(t.name)'",
                                  reason: "buffer index \(t.buffer) but the model has \(bufferRanges.count) buffers")
        }
    }

    /// The constant data of tensor `t`, or nil when it has none (an activation).
    func data(of t: TFLiteTensor) -> ArraySlice<UInt8>? {
        guard t.buffer > 0, t.buffer < bufferRanges.count, !bufferRanges[t.buffer].isEmpty else { return nil }
        return buffer.bytes[bufferRanges[t.buffer]]
    }
}

struct TFLiteOperatorCode {
    /// The builtin operator (`max(deprecated_builtin_code, builtin_code)`, as TFLite resolves it).
    var builtin: Int
    var custom: String?
    var version: Int

    init(_ t: FlatTable) throws {
        let deprecated = Int(try t.i8(0))
        let code = Int(try t.i32(3))
        builtin = max(deprecated, code)
        custom = try t.string(1, what: "\(t.name).custom_code")
        version = Int(try t.i32(2, default: 1))
    }

    var name: String {
        if builtin == 32, let custom { return "CUSTOM(\(custom))" }
        return TFLiteBuiltin.name(builtin)
    }
}

/// TFLite's `TensorType`.
enum TFLiteTensorType: Int {
    case float32 = 0, float16 = 1, int32 = 2, uint8 = 3, int64 = 4, string = 5, bool = 6, int16 = 7, complex64 = 8
    case int8 = 9, float64 = 10

    var name: String { "\(self)".uppercased() }
    var byteSize: Int? {
        switch self {
        case .float32, .int32: return 4
        case .float16, .int16: return 2
        case .uint8, .int8, .bool: return 1
        case .int64, .float64, .complex64: return 8
        case .string: return nil
        }
    }
}

struct TFLiteTensor {
    var name: String
    var shape: [Int]
    /// `shape_signature`: −1 marks a dynamic extent (the batch, usually).
    var signature: [Int]
    var typeCode: Int
    var buffer: Int
    /// Per-tensor affine quantization (scale, zero point) when present.
    var quantization: (scale: [Float], zeroPoint: [Int64])?
    /// The axis per-channel scales run along (`quantized_dimension`).
    var quantizationDimension: Int?

    var type: TFLiteTensorType? { TFLiteTensorType(rawValue: typeCode) }
    var typeName: String { type?.name ?? "type \(typeCode)" }

    init(_ t: FlatTable, limits: ONNXLimits) throws {
        name = try t.string(3, what: "\(t.name).name") ?? t.name
        shape = try t.int32Vector(0, what: "Tensor '\(name)'.shape").map(Int.init)
        signature = try t.int32Vector(7, what: "Tensor '\(name)'.shape_signature").map(Int.init)
        typeCode = Int(try t.u8(1))
        buffer = Int(try t.u32(2))
        if let q = try t.table(4, name: "Tensor '\(name)'.quantization") {
            let scale = try q.floatVector(2, what: "Tensor '\(name)' quantization scale")
            let zero = try q.int64Vector(3, what: "Tensor '\(name)' quantization zero_point")
            quantization = scale.isEmpty ? nil : (scale, zero)
            quantizationDimension = Int(try q.i32(6))
        }
        guard shape.allSatisfy({ $0 >= 0 }), limits.elementCount(shape) != nil else {
            throw FlatBufferError(offset: t.position, reading: "Tensor '\(name)'",
                                  reason: "shape \(shape) is negative or holds more than \(limits.maxElements) elements")
        }
    }
}

struct TFLiteOperator {
    var opcodeIndex: Int
    /// Tensor indices; −1 marks an omitted optional input.
    var inputs: [Int]
    var outputs: [Int]
    /// The builtin options table, when the operator has one.
    var options: FlatTable?
    var position: Int

    init(_ t: FlatTable) throws {
        opcodeIndex = Int(try t.u32(0))
        inputs = try t.int32Vector(1, what: "\(t.name).inputs").map(Int.init)
        outputs = try t.int32Vector(2, what: "\(t.name).outputs").map(Int.init)
        options = try t.u8(3) == 0 ? nil : try t.table(4, name: "\(t.name) options")
        position = t.position
    }
}

/// TFLite's `ActivationFunctionType`, fused into convolutions, pooling, fully connected layers and arithmetic.
enum TFLiteActivation: Int {
    case none = 0, relu = 1, reluN1To1 = 2, relu6 = 3, tanh = 4, signBit = 5
}

/// Names of TFLite's builtin operators (`BuiltinOperator` in schema.fbs), by code.
enum TFLiteBuiltin {
    static let add = 0, averagePool2D = 1, concatenation = 2, conv2D = 3, depthwiseConv2D = 4, depthToSpace = 5
    static let dequantize = 6, fullyConnected = 9, localResponseNorm = 13, logistic = 14
    static let maxPool2D = 17, mul = 18, relu = 19, reluN1To1 = 20, relu6 = 21, reshape = 22, resizeBilinear = 23
    static let softmax = 25, spaceToDepth = 26, tanh = 28, pad = 34, transpose = 39, mean = 40, sub = 41
    static let div = 42, squeeze = 43, exp = 47, logSoftmax = 50, prelu = 54, maximum = 55, minimum = 57, padV2 = 60
    static let transposeConv = 67, expandDims = 70, sum = 74, sqrt = 75, rsqrt = 76, reduceMax = 82, resizeNearest = 97
    static let leakyRelu = 98, squaredDifference = 99, mirrorPad = 100, abs = 101, hardSwish = 117

    private static let names: [Int: String] = [
        0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D", 5: "DEPTH_TO_SPACE",
        6: "DEQUANTIZE", 7: "EMBEDDING_LOOKUP", 8: "FLOOR", 9: "FULLY_CONNECTED", 10: "HASHTABLE_LOOKUP",
        11: "L2_NORMALIZATION", 12: "L2_POOL_2D", 13: "LOCAL_RESPONSE_NORMALIZATION", 14: "LOGISTIC",
        15: "LSH_PROJECTION", 16: "LSTM", 17: "MAX_POOL_2D", 18: "MUL", 19: "RELU", 20: "RELU_N1_TO_1", 21: "RELU6",
        22: "RESHAPE", 23: "RESIZE_BILINEAR", 24: "RNN", 25: "SOFTMAX", 26: "SPACE_TO_DEPTH", 27: "SVDF", 28: "TANH",
        29: "CONCAT_EMBEDDINGS", 30: "SKIP_GRAM", 31: "CALL", 32: "CUSTOM", 33: "EMBEDDING_LOOKUP_SPARSE", 34: "PAD",
        35: "UNIDIRECTIONAL_SEQUENCE_RNN", 36: "GATHER", 37: "BATCH_TO_SPACE_ND", 38: "SPACE_TO_BATCH_ND",
        39: "TRANSPOSE", 40: "MEAN", 41: "SUB", 42: "DIV", 43: "SQUEEZE", 44: "UNIDIRECTIONAL_SEQUENCE_LSTM",
        45: "STRIDED_SLICE", 46: "BIDIRECTIONAL_SEQUENCE_RNN", 47: "EXP", 48: "TOPK_V2", 49: "SPLIT",
        50: "LOG_SOFTMAX", 51: "DELEGATE", 52: "BIDIRECTIONAL_SEQUENCE_LSTM", 53: "CAST", 54: "PRELU", 55: "MAXIMUM",
        56: "ARG_MAX", 57: "MINIMUM", 58: "LESS", 59: "NEG", 60: "PADV2", 61: "GREATER", 62: "GREATER_EQUAL",
        63: "LESS_EQUAL", 64: "SELECT", 65: "SLICE", 66: "SIN", 67: "TRANSPOSE_CONV", 68: "SPARSE_TO_DENSE",
        69: "TILE", 70: "EXPAND_DIMS", 71: "EQUAL", 72: "NOT_EQUAL", 73: "LOG", 74: "SUM", 75: "SQRT", 76: "RSQRT",
        77: "SHAPE", 78: "POW", 79: "ARG_MIN", 80: "FAKE_QUANT", 81: "REDUCE_PROD", 82: "REDUCE_MAX", 83: "PACK",
        84: "LOGICAL_OR", 85: "ONE_HOT", 86: "LOGICAL_AND", 87: "LOGICAL_NOT", 88: "UNPACK", 89: "REDUCE_MIN",
        90: "FLOOR_DIV", 91: "REDUCE_ANY", 92: "SQUARE", 93: "ZEROS_LIKE", 94: "FILL", 95: "FLOOR_MOD", 96: "RANGE",
        97: "RESIZE_NEAREST_NEIGHBOR", 98: "LEAKY_RELU", 99: "SQUARED_DIFFERENCE", 100: "MIRROR_PAD", 101: "ABS",
        102: "SPLIT_V", 103: "UNIQUE", 104: "CEIL", 105: "REVERSE_V2", 106: "ADD_N", 107: "GATHER_ND", 108: "COS",
        109: "WHERE", 110: "RANK", 111: "ELU", 112: "REVERSE_SEQUENCE", 113: "MATRIX_DIAG", 114: "QUANTIZE",
        115: "MATRIX_SET_DIAG", 116: "ROUND", 117: "HARD_SWISH", 118: "IF", 119: "WHILE", 120: "NON_MAX_SUPPRESSION_V4",
        121: "NON_MAX_SUPPRESSION_V5", 122: "SCATTER_ND", 123: "SELECT_V2", 124: "DENSIFY", 125: "SEGMENT_SUM",
        126: "BATCH_MATMUL", 150: "GELU",
    ]
    static func name(_ code: Int) -> String { names[code] ?? "BUILTIN_\(code)" }
}
