import ConvKit

/// ONNX's element types (`TensorProto.DataType`), with the ones ConvKit computes in.
///
/// Floating types (float, double, float16, bfloat16) are computed in `Float` on ConvKit's tensors; the type is
/// kept so that outputs and `Cast` say what the graph declared. Integer and boolean types are held exactly as
/// `Int64` (`IntegerTensor`): they carry shapes, indices and masks, not activations.
public enum ONNXElementType: Int32, CustomStringConvertible, Sendable {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, string = 8, bool = 9
    case float16 = 10, double = 11, uint32 = 12, uint64 = 13, bfloat16 = 16
    /// The low-precision types of opsets 19–25 (values held exactly in Float / Int64; see `ONNXLowPrecision`).
    case float8e4m3fn = 17, float8e4m3fnuz = 18, float8e5m2 = 19, float8e5m2fnuz = 20, uint4 = 21, int4 = 22
    case float4e2m1 = 23, float8e8m0 = 24, uint2 = 25, int2 = 26

    public var isFloatingPoint: Bool {
        switch self {
        case .float, .double, .float16, .bfloat16, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float4e2m1, .float8e8m0: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .float: return "float"
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .string: return "string"
        case .bool: return "bool"
        case .float16: return "float16"
        case .double: return "double"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .bfloat16: return "bfloat16"
        case .float8e4m3fn: return "float8e4m3fn"
        case .float8e4m3fnuz: return "float8e4m3fnuz"
        case .float8e5m2: return "float8e5m2"
        case .float8e5m2fnuz: return "float8e5m2fnuz"
        case .uint4: return "uint4"
        case .int4: return "int4"
        case .float4e2m1: return "float4e2m1"
        case .float8e8m0: return "float8e8m0"
        case .uint2: return "uint2"
        case .int2: return "int2"
        }
    }

    /// Wraps an integer into this type's range the way a C cast does (int32 overflow wraps, bool is x ≠ 0).
    func wrap(_ v: Int64) -> Int64 {
        switch self {
        case .bool: return v != 0 ? 1 : 0
        case .int8: return Int64(Int8(truncatingIfNeeded: v))
        case .uint8: return Int64(UInt8(truncatingIfNeeded: v))
        case .int16: return Int64(Int16(truncatingIfNeeded: v))
        case .uint16: return Int64(UInt16(truncatingIfNeeded: v))
        case .int32: return Int64(Int32(truncatingIfNeeded: v))
        case .uint32: return Int64(UInt32(truncatingIfNeeded: v))
        case .int4: return ((v & 0xF) ^ 0x8) - 0x8
        case .uint4: return v & 0xF
        case .int2: return ((v & 0x3) ^ 0x2) - 0x2
        case .uint2: return v & 0x3
        default: return v
        }
    }
}

/// A tensor of integers or booleans, row-major, held exactly (shape arithmetic, indices, masks).
public struct IntegerTensor: Equatable {
    public var shape: [Int]
    public var values: [Int64]
    public var type: ONNXElementType

    public init(shape: [Int], values: [Int64], type: ONNXElementType = .int64) {
        precondition(shape.reduce(1, *) == values.count, "integer tensor shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        self.shape = shape; self.values = values; self.type = type
    }

    /// A rank-1 int64 tensor.
    public init(_ values: [Int64]) { self.init(shape: [values.count], values: values) }

    public var count: Int { values.count }
}

/// One value flowing along a graph edge.
public enum ONNXValue {
    /// A floating-point tensor as a ConvKit variable (gradients flow through it), with its declared element type.
    case float(Variable, ONNXElementType)
    /// An integer or boolean tensor.
    case integer(IntegerTensor)

    public var shape: [Int] {
        switch self {
        case .float(let v, _): return v.shape
        case .integer(let t): return t.shape
        }
    }

    public var elementType: ONNXElementType {
        switch self {
        case .float(_, let t): return t
        case .integer(let t): return t.type
        }
    }

    public var count: Int { shape.reduce(1, *) }

    /// The value as floats (integers converted), for comparisons and reports.
    public var floatTensor: Tensor {
        switch self {
        case .float(let v, _): return v.value
        case .integer(let t): return Tensor(shape: t.shape, scalars: t.values.map { Float($0) })
        }
    }

    public static func float(_ t: Tensor, type: ONNXElementType = .float) -> ONNXValue { .float(Variable(t), type) }
}

extension Int64 {
    /// The float rounded toward zero, saturated at the ends of the range; NaN becomes 0 (never traps).
    init(saturating f: Float) {
        if f.isNaN { self = 0 } else if f >= 9.2233715e18 { self = .max } else if f <= -9.2233715e18 { self = .min } else { self = Int64(f.rounded(.towardZero)) }
    }
}
