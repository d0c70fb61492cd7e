import ConvKit
import Foundation

/// LeCun's IDX format (MNIST), plain or gzip-compressed: big-endian magic `00 00 TT D` (TT the element
/// type, D the number of dimensions), D big-endian uint32 extents, then the elements in C order.
public enum IDX {
    /// An IDX array: extents and elements as Float (every IDX element type converts exactly up to 2²⁴).
    public struct Array: Equatable {
        public var shape: [Int]
        public var values: [Float]
        public init(shape: [Int], values: [Float]) { self.shape = shape; self.values = values }
    }

    public static func load(_ path: String) throws -> Array {
        var bytes = [UInt8](try AtomicFile.read(path))
        if bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B { bytes = try Gzip.decompress(bytes, path: path) }
        return try decode(bytes, path: path)
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> Array {
        var r = ByteReader(bytes: bytes, path: path)
        let magic = try r.take(4, "IDX magic")
        guard magic[magic.startIndex] == 0, magic[magic.startIndex + 1] == 0 else {
            throw r.error(expected: "IDX magic 00 00 <type> <dims>", found: magic.map { String(format: "%02x", $0) }.joined(separator: " "))
        }
        let type = magic[magic.startIndex + 2], dims = Int(magic[magic.startIndex + 3])
        let size: Int
        switch type {
        case 0x08, 0x09: size = 1
        case 0x0B: size = 2
        case 0x0C, 0x0D: size = 4
        case 0x0E: size = 8
        default: throw ConvKitError.corruptFile(path: path, offset: 2, expected: "IDX element type 08, 09, 0B, 0C, 0D or 0E", found: String(format: "%02x", type))
        }
        guard dims >= 1 && dims <= 8 else { throw ConvKitError.corruptFile(path: path, offset: 3, expected: "1 to 8 dimensions", found: "\(dims)") }
        var shape = [Int]()
        for i in 0..<dims { shape.append(try r.u32be("extent \(i)")) }
        guard let count = Extents.product(shape), count <= r.remaining / size else {
            throw ConvKitError.corruptFile(path: path, offset: r.offset, expected: "\(shape.map(String.init).joined(separator: "×")) elements of \(size) bytes",
                                           found: "\(r.remaining) bytes (file truncated?)")
        }
        let data = try r.take(count * size, "elements")
        var values = [Float](repeating: 0, count: count)
        data.withUnsafeBufferPointer { p in
            switch type {
            case 0x08: for i in 0..<count { values[i] = Float(p[i]) }
            case 0x09: for i in 0..<count { values[i] = Float(Int8(bitPattern: p[i])) }
            case 0x0B: for i in 0..<count { values[i] = Float(Int16(bitPattern: UInt16(p[2 * i]) << 8 | UInt16(p[2 * i + 1]))) }
            case 0x0C:
                for i in 0..<count {
                    let u = (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(p[4 * i + $1]) }
                    values[i] = Float(Int32(bitPattern: u))
                }
            case 0x0D:
                for i in 0..<count { values[i] = Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(p[4 * i + $1]) }) }
            default:
                for i in 0..<count { values[i] = Float(Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 << 8 | UInt64(p[8 * i + $1]) })) }
            }
        }
        return Array(shape: shape, values: values)
    }

    /// Encodes unsigned bytes (type 08) with the given extents; values are clamped to 0…255.
    public static func encodeUInt8(_ values: [Float], shape: [Int]) -> [UInt8] {
        var out: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
        for d in shape { out += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        out += values.map { UInt8(Swift.max(0, Swift.min(255, $0.rounded()))) }
        return out
    }
}

/// gzip (RFC 1952) through zlib.
public enum Gzip {
    public static func decompress(_ bytes: [UInt8], path: String) throws -> [UInt8] {
        guard bytes.count >= 18 else {
            throw ConvKitError.corruptFile(path: path, offset: 0, expected: "a gzip stream (at least 18 bytes)", found: "\(bytes.count) bytes")
        }
        // Header: ID1 ID2 CM FLG MTIME(4) XFL OS, then optional fields per FLG.
        var r = ByteReader(bytes: bytes, path: path)
        _ = try r.take(3, "gzip magic and method")
        let flags = try r.u8("gzip flags")
        _ = try r.take(6, "gzip mtime, xfl, os")
        if flags & 4 != 0 { let n = try r.u16le("gzip extra length"); _ = try r.take(n, "gzip extra field") }
        if flags & 8 != 0 { while try r.u8("gzip file name") != 0 {} }
        if flags & 16 != 0 { while try r.u8("gzip comment") != 0 {} }
        if flags & 2 != 0 { _ = try r.take(2, "gzip header CRC") }
        let trailerSize = Int(bytes[bytes.count - 4]) | Int(bytes[bytes.count - 3]) << 8 | Int(bytes[bytes.count - 2]) << 16 | Int(bytes[bytes.count - 1]) << 24
        let out = try Zip.inflate(bytes[r.offset...], expectedSize: trailerSize, raw: true, path: path)
        let crc = UInt32(bytes[bytes.count - 8]) | UInt32(bytes[bytes.count - 7]) << 8 | UInt32(bytes[bytes.count - 6]) << 16 | UInt32(bytes[bytes.count - 5]) << 24
        guard Zip.crc32(out) == crc else {
            throw ConvKitError.corruptFile(path: path, offset: bytes.count - 8, expected: "CRC-32 \(String(crc, radix: 16)) of the data", found: String(Zip.crc32(out), radix: 16))
        }
        return out
    }

    public static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
        out += Zip.deflate(bytes, raw: true)
        let crc = Zip.crc32(bytes), n = UInt32(truncatingIfNeeded: bytes.count)
        for v in [crc, n] { out += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        return out
    }
}
