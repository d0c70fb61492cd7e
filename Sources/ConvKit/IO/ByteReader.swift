import Foundation

/// Bounds-checked reading of binary files: every read that would run past the end throws an error naming
/// the file, the offset, and what was being read.
public struct ByteReader {
    public let bytes: [UInt8]
    public let path: String
    public private(set) var offset: Int = 0

    public init(_ data: Data, path: String) { bytes = [UInt8](data); self.path = path }
    public init(bytes: [UInt8], path: String) { self.bytes = bytes; self.path = path }

    public var remaining: Int { bytes.count - offset }

    public mutating func seek(_ o: Int, what: String) throws {
        guard o >= 0 && o <= bytes.count else {
            throw ConvKitError.corruptFile(path: path, offset: o, expected: what, found: "offset beyond the \(bytes.count)-byte file")
        }
        offset = o
    }

    public mutating func take(_ n: Int, _ what: String) throws -> ArraySlice<UInt8> {
        guard n >= 0 && n <= remaining else {
            throw ConvKitError.corruptFile(path: path, offset: offset, expected: "\(n) bytes of \(what)",
                                           found: "\(Swift.max(remaining, 0)) bytes left (file truncated?)")
        }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    public mutating func u8(_ what: String) throws -> UInt8 { try take(1, what).first! }

    public mutating func uint(_ size: Int, bigEndian: Bool, _ what: String) throws -> UInt64 {
        let b = try take(size, what)
        var v: UInt64 = 0
        if bigEndian { for x in b { v = v << 8 | UInt64(x) } } else { for x in b.reversed() { v = v << 8 | UInt64(x) } }
        return v
    }
    public mutating func u16le(_ w: String) throws -> Int { Int(try uint(2, bigEndian: false, w)) }
    public mutating func u32le(_ w: String) throws -> Int { Int(try uint(4, bigEndian: false, w)) }
    public mutating func u32be(_ w: String) throws -> Int { Int(try uint(4, bigEndian: true, w)) }
    public mutating func u64le(_ w: String) throws -> UInt64 { try uint(8, bigEndian: false, w) }

    /// A corrupt-file error at the current offset.
    public func error(expected: String, found: String) -> ConvKitError {
        .corruptFile(path: path, offset: offset, expected: expected, found: found)
    }
}
