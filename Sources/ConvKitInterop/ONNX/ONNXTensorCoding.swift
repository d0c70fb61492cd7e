import ConvKit
import Foundation

/// `TensorProto` ⇄ `ONNXValue`: initializers, constants, test data and exported weights.
///
/// Reading checks every claim of the header against the bytes actually present before allocating: extents
/// non-negative, their product free of overflow and within `ONNXLimits.maxElements`, `raw_data` exactly
/// count × element size, typed fields exactly count long. Little-endian raw data, as the format specifies.
enum ONNXTensorCoding {
    static func decode(_ p: Onnx_TensorProto, baseDirectory: URL? = nil, limits: ONNXLimits = .default) throws -> ONNXValue {
        let what = p.name.isEmpty ? "tensor" : "tensor '\(p.name)'"
        guard let type = ONNXElementType(rawValue: p.dataType) else {
            throw ONNXError.invalidModel("\(what) has element type \(p.dataType), expected one of float, double, float16, bfloat16, int8…int64, uint8…uint64, bool")
        }
        guard type != .string else { throw ONNXError.invalidModel("\(what) holds strings; ConvKit computes with numbers only") }
        let dims = p.dims.map { Int(clamping: $0) }
        guard let count = limits.elementCount(dims) else {
            throw ONNXError.invalidModel("\(what) has dims \(p.dims): expected non-negative extents whose product is at most \(limits.maxElements)")
        }
        if type.rawValue >= 17 { return try decodeLowPrecision(p, type: type, dims: dims, count: count, what: what, base: baseDirectory) }
        var raw = p.rawData
        if p.dataLocation == .external {
            raw = try readExternal(p, what: what, base: baseDirectory, expectedBytes: count * byteSize(type))
        }
        if !raw.isEmpty || p.dataLocation == .external {
            let size = byteSize(type)
            guard raw.count == count * size else {
                throw ONNXError.invalidModel("\(what) of dims \(dims) (\(type)) needs \(count * size) bytes of raw data, found \(raw.count)")
            }
            return fromRaw(raw, type: type, shape: dims, count: count)
        }
        func check(_ n: Int, _ field: String) throws {
            guard n == count else { throw ONNXError.invalidModel("\(what) of dims \(dims) needs \(count) values in \(field), found \(n)") }
        }
        switch type {
        case .float:
            try check(p.floatData.count, "float_data")
            return .float(Tensor(shape: dims, scalars: p.floatData), type: .float)
        case .double:
            try check(p.doubleData.count, "double_data")
            return .float(Tensor(shape: dims, scalars: p.doubleData.map { Float($0) }), type: .double)
        case .float16, .bfloat16:
            try check(p.int32Data.count, "int32_data")
            return .float(Tensor(shape: dims, scalars: p.int32Data.map { halfToFloat(UInt16(truncatingIfNeeded: $0), type) }), type: type)
        case .int64:
            try check(p.int64Data.count, "int64_data")
            return .integer(IntegerTensor(shape: dims, values: p.int64Data, type: .int64))
        case .uint32, .uint64:
            try check(p.uint64Data.count, "uint64_data")
            return .integer(IntegerTensor(shape: dims, values: p.uint64Data.map { Int64(truncatingIfNeeded: $0) }, type: type))
        default:
            try check(p.int32Data.count, "int32_data")
            return .integer(IntegerTensor(shape: dims, values: p.int32Data.map { type.wrap(Int64($0)) }, type: type))
        }
    }

    /// The low-precision types: raw bytes (packed two or four per byte) or one element per int32_data entry.
    private static func decodeLowPrecision(_ p: Onnx_TensorProto, type: ONNXElementType, dims: [Int], count: Int, what: String, base: URL?) throws -> ONNXValue {
        let size = ONNXLowPrecision.rawSize(type, count: count)
        var raw = p.rawData
        if p.dataLocation == .external { raw = try readExternal(p, what: what, base: base, expectedBytes: size) }
        if raw.isEmpty && count > 0 {
            let packed = ONNXLowPrecision.packedBits(type) != nil
            guard p.int32Data.count == (packed ? size : count) else {
                throw ONNXError.invalidModel("\(what) of dims \(dims) (\(type)) needs \(packed ? size : count) int32_data entries, found \(p.int32Data.count)")
            }
            raw = Data(p.int32Data.map { UInt8(truncatingIfNeeded: $0) })
        }
        guard raw.count == size else { throw ONNXError.invalidModel("\(what) of dims \(dims) (\(type)) needs \(size) bytes of raw data, found \(raw.count)") }
        let (floats, ints) = ONNXLowPrecision.decode(raw, type: type, count: count)
        if let floats { return .float(Tensor(shape: dims, scalars: floats), type: type) }
        return .integer(IntegerTensor(shape: dims, values: ints ?? [], type: type))
    }

    static func byteSize(_ t: ONNXElementType) -> Int {
        switch t {
        case .bool, .int8, .uint8: return 1
        case .int16, .uint16, .float16, .bfloat16: return 2
        case .int32, .uint32, .float: return 4
        case .int64, .uint64, .double: return 8
        case .string: return 0
        case .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0: return 1
        case .int4, .uint4, .int2, .uint2, .float4e2m1: return 1   // packed; see ONNXLowPrecision.rawSize
        }
    }

    static func halfToFloat(_ bits: UInt16, _ type: ONNXElementType) -> Float {
        type == .bfloat16 ? Float(bitPattern: UInt32(bits) << 16) : Float(Float16(bitPattern: bits))
    }

    private static func fromRaw(_ raw: Data, type: ONNXElementType, shape: [Int], count: Int) -> ONNXValue {
        raw.withUnsafeBytes { (b: UnsafeRawBufferPointer) -> ONNXValue in
            func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T { T(littleEndian: b.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
            switch type {
            case .float:
                let s = [Float](unsafeUninitializedCapacity: count) { buf, n in
                    for i in 0..<count { buf[i] = Float(bitPattern: load(UInt32.self, i)) }
                    n = count
                }
                return .float(Tensor(shape: shape, scalars: s), type: .float)
            case .double:
                return .float(Tensor(shape: shape, scalars: (0..<count).map { Float(Double(bitPattern: load(UInt64.self, $0))) }), type: .double)
            case .float16, .bfloat16:
                return .float(Tensor(shape: shape, scalars: (0..<count).map { halfToFloat(load(UInt16.self, $0), type) }), type: type)
            case .bool, .uint8: return .integer(IntegerTensor(shape: shape, values: (0..<count).map { type.wrap(Int64(b[$0])) }, type: type))
            case .int8: return .integer(IntegerTensor(shape: shape, values: (0..<count).map { Int64(Int8(bitPattern: b[$0])) }, type: type))
            case .int16: return .integer(IntegerTensor(shape: shape, values: (0..<count).map { Int64(load(Int16.self, $0)) }, type: type))
            case .uint16: return .integer(IntegerTensor(shape: shape, values: (0..<count).map { Int64(load(UInt16.self, $0)) }, type: type))
            case .int32: return .integer(IntegerTensor(shape: shape, values: (0..<count).map { Int64(load(Int32.self, $0)) }, type: type))
            case .uint32: return .integer(IntegerTensor(shape: shape, values: (0..<count).map { Int64(load(UInt32.self, $0)) }, type: type))
            case .int64: return .integer(IntegerTensor(shape: shape, values: (0..<count).map { load(Int64.self, $0) }, type: type))
            case .uint64: return .integer(IntegerTensor(shape: shape, values: (0..<count).map { Int64(bitPattern: load(UInt64.self, $0)) }, type: type))
            case .string: preconditionFailure("strings are refused before decoding")
            default: preconditionFailure("low-precision types are decoded by decodeLowPrecision")
            }
        }
    }

    /// Reads `location` (relative to the model's folder, never outside it), `offset` and `length` from the
    /// external-data entries.
    private static func readExternal(_ p: Onnx_TensorProto, what: String, base: URL?, expectedBytes: Int) throws -> Data {
        var entries = [String: String]()
        for e in p.externalData { entries[e.key] = e.value }
        guard let location = entries["location"], !location.isEmpty else {
            throw ONNXError.invalidModel("\(what) is stored externally but names no location")
        }
        guard let base else { throw ONNXError.invalidModel("\(what) is stored in external file '\(location)', but the model was not read from a folder") }
        guard !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
            throw ONNXError.invalidModel("\(what) names external file '\(location)': expected a path inside the model's folder")
        }
        let offset = Int(entries["offset"] ?? "0") ?? -1
        let length = entries["length"].map { Int($0) ?? -1 } ?? expectedBytes
        guard offset >= 0, length == expectedBytes else {
            throw ONNXError.invalidModel("\(what) external data: expected offset ≥ 0 and length \(expectedBytes), found offset \(entries["offset"] ?? "0"), length \(entries["length"] ?? "-")")
        }
        let url = base.appendingPathComponent(location)
        guard let h = try? FileHandle(forReadingFrom: url) else { throw ONNXError.invalidModel("\(what): cannot open external file \(url.path)") }
        defer { try? h.close() }
        let size = (try? h.seekToEnd()) ?? 0
        guard UInt64(offset) + UInt64(length) <= size else {
            throw ONNXError.invalidModel("\(what): external file \(location) has \(size) bytes, expected at least \(offset + length)")
        }
        try h.seek(toOffset: UInt64(offset))
        return try h.read(upToCount: length) ?? Data()
    }

    /// The protobuf form of a value (raw little-endian data), for test data, outputs and export.
    static func encode(_ v: ONNXValue, name: String) -> Onnx_TensorProto {
        var p = Onnx_TensorProto()
        p.name = name
        p.dims = v.shape.map(Int64.init)
        switch v {
        case .float(let x, let type):
            p.dataType = (type == .double ? ONNXElementType.double : .float).rawValue
            var d = Data(capacity: x.value.count * (type == .double ? 8 : 4))
            if type == .double {
                for f in x.value.scalars { withUnsafeBytes(of: Double(f).bitPattern.littleEndian) { d.append(contentsOf: $0) } }
            } else {
                for f in x.value.scalars { withUnsafeBytes(of: f.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
            }
            p.rawData = d
        case .integer(let t):
            p.dataType = t.type.rawValue
            let size = byteSize(t.type)
            var d = Data(capacity: t.count * size)
            for x in t.values {
                withUnsafeBytes(of: x.littleEndian) { d.append(contentsOf: $0.prefix(size)) }
            }
            p.rawData = d
        }
        return p
    }
}
