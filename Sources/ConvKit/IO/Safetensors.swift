import Foundation

/// The safetensors format (readable by Python's `safetensors` and PyTorch):
/// 8-byte little-endian header length N, an N-byte JSON header
/// `{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ..., "__metadata__": {...}}`
/// padded with spaces to a multiple of 8, then the data buffer (offsets are relative to its start).
/// Writing uses F32, tensors in name order. Reading accepts F32, F64, F16, BF16 and integer dtypes.
public enum Safetensors {
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> [UInt8] {
        var entries = [String]()
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            entries.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + 4 * t.count)]}")
            offset += 4 * t.count
        }
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
            entries.insert("\"__metadata__\":{\(m)}", at: 0)
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + header.count + offset)
        var n = UInt64(header.count).littleEndian
        withUnsafeBytes(of: &n) { out += $0 }
        out += header
        for name in names {
            tensors[name]!.scalars.withUnsafeBytes { out += $0 }   // little-endian hosts (x86-64, arm64)
        }
        return out
    }

    /// Tensors and metadata of a safetensors file; every structural problem is a thrown error.
    public static func decode(_ bytes: [UInt8], path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        var r = ByteReader(bytes: bytes, path: path)
        let n = try r.u64le("header length")
        guard n <= UInt64(r.remaining), n < 100_000_000 else {
            throw ConvKitError.corruptFile(path: path, offset: 0, expected: "a header length within the \(bytes.count)-byte file", found: "\(n)")
        }
        let headerBytes = try r.take(Int(n), "JSON header")
        let dataStart = r.offset
        guard let obj = try? JSONSerialization.jsonObject(with: Data(headerBytes)), let header = obj as? [String: Any] else {
            throw ConvKitError.corruptFile(path: path, offset: 8, expected: "a JSON object header", found: String(decoding: headerBytes.prefix(80), as: UTF8.self))
        }
        var metadata = [String: String]()
        var tensors = [String: Tensor]()
        let dataLength = bytes.count - dataStart
        for (name, value) in header {
            if name == "__metadata__" {
                for (k, v) in value as? [String: Any] ?? [:] { metadata[k] = v as? String ?? "\(v)" }
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let rawShape = info["shape"] as? [Any], let rawOffsets = info["data_offsets"] as? [Any], rawOffsets.count == 2,
                  case let shape = rawShape.compactMap({ ($0 as? NSNumber).flatMap { Extents.exactInt($0.doubleValue) } }), shape.count == rawShape.count,
                  case let offs = rawOffsets.compactMap({ ($0 as? NSNumber).flatMap { Extents.exactInt($0.doubleValue) } }), offs.count == 2 else {
                throw ConvKitError.corruptFile(path: path, offset: 8, expected: "dtype, shape and data_offsets for \(name)", found: "\(value)")
            }
            guard let size = elementSize[dtype] else {
                throw ConvKitError.corruptFile(path: path, offset: 8, expected: "a numeric dtype for \(name)", found: dtype)
            }
            guard let count = Extents.product(shape), let byteCount = Extents.bytes(shape, bytesPerElement: size, limit: dataLength) else {
                throw ConvKitError.corruptFile(path: path, offset: 8, expected: "\(name): a shape whose \(dtype) data fits in the \(dataLength)-byte data buffer",
                                               found: "shape \(shape)")
            }
            guard offs[0] >= 0, offs[1] <= dataLength, offs[1] - offs[0] == byteCount else {
                throw ConvKitError.corruptFile(path: path, offset: dataStart + Swift.max(offs[0], 0),
                                               expected: "\(name): \(count) × \(size) bytes inside the \(dataLength)-byte data buffer",
                                               found: "offsets \(offs) (truncated file?)")
            }
            let base = dataStart + offs[0]
            let values = (0..<count).map { i -> Float in convert(bytes, at: base + i * size, dtype: dtype) }
            tensors[name] = Tensor(shape: shape, scalars: values)
        }
        return (tensors, metadata)
    }

    public static func load(_ path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        try decode([UInt8](AtomicFile.read(path)), path: path)
    }

    /// Writes atomically: a crash while saving leaves the previous file intact.
    public static func save(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String) throws {
        try AtomicFile.write(Data(encode(tensors, metadata: metadata)), to: path)
    }

    static let elementSize: [String: Int] = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]

    static func convert(_ b: [UInt8], at o: Int, dtype: String) -> Float {
        func le(_ n: Int) -> UInt64 { (0..<n).reduce(UInt64(0)) { $0 | UInt64(b[o + $1]) << (8 * UInt64($1)) } }
        switch dtype {
        case "F32": return Float(bitPattern: UInt32(le(4)))
        case "F64": return Float(Double(bitPattern: le(8)))
        case "F16": return Float(Float16(bitPattern: UInt16(le(2))))
        case "BF16": return Float(bitPattern: UInt32(le(2)) << 16)
        case "I64": return Float(Int64(bitPattern: le(8)))
        case "I32": return Float(Int32(bitPattern: UInt32(le(4))))
        case "I16": return Float(Int16(bitPattern: UInt16(le(2))))
        case "I8": return Float(Int8(bitPattern: b[o]))
        default: return Float(b[o])
        }
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where c.value < 0x20: out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
