import ConvKit

/// Bounds-checked reading of dlib's serialization format (dlib/serialize.h), the format of every `.dat`
/// model dlib writes. There is no file header and nothing is self-describing; the primitives are:
///
/// - integer: one control byte (bit 7 = negative, low 4 bits = n, the magnitude's byte count, n ≤ 8), then
///   n little-endian magnitude bytes;
/// - float/double: an integer mantissa m (int64) then an integer exponent e (int16), value m·2^e; the
///   exponents 32000, 32001 and 32002 mean +∞, −∞ and NaN;
/// - bool: the ASCII byte '1' or '0';
/// - string: an integer length, then the bytes;
/// - tensor (dlib/cuda/tensor.h, version 2): version, num_samples, k, nr, nc, then n·k·nr·nc raw
///   little-endian float32 values in NCHW order; an alias tensor (version 1) is the four sizes only.
///
/// Every read that fails throws an error naming the file, the byte offset and the record being read
/// (`context`, set by the caller: "layer 12 (con_4)"), so a truncated or corrupt file says where it broke.
public struct DlibReader {
    var bytes: ByteReader
    /// What is being read, named in errors: the record and field.
    public var context = ""

    public init(bytes: [UInt8], path: String) { self.bytes = ByteReader(bytes: bytes, path: path) }

    public var offset: Int { bytes.offset }
    public var remaining: Int { bytes.remaining }
    public var path: String { bytes.path }

    func what(_ field: String) -> String { context.isEmpty ? field : "\(field) of \(context)" }

    /// An error at the current offset naming the record being read.
    public func error(expected: String, found: String) -> ConvKitError {
        bytes.error(expected: what(expected), found: found)
    }

    /// A signed integer (any C++ integer type up to 64 bits).
    public mutating func int(_ field: String) throws -> Int64 {
        let start = offset
        let control = try bytes.u8(what(field))
        let n = Int(control & 0x0F)
        guard n <= 8, control & 0x70 == 0 else {
            try bytes.seek(start, what: what(field))
            throw error(expected: "\(field): an integer control byte (sign bit, 0…8 bytes)", found: "byte 0x\(String(control, radix: 16))")
        }
        var magnitude: UInt64 = 0
        for (i, b) in try bytes.take(n, what(field)).enumerated() { magnitude |= UInt64(b) << (8 * UInt64(i)) }
        let negative = control & 0x80 != 0
        guard magnitude <= UInt64(Int64.max) else {
            throw ConvKitError.corruptFile(path: path, offset: start, expected: what("\(field): an integer that fits 64 bits"), found: "\(negative ? "-" : "")\(magnitude)")
        }
        return negative ? -Int64(magnitude) : Int64(magnitude)
    }

    /// A non-negative integer within `range`, as `Int` (sizes, counts, indices).
    public mutating func count(_ field: String, in range: ClosedRange<Int> = 0...Int(Int32.max)) throws -> Int {
        let start = offset
        let v = try int(field)
        guard v >= Int64(range.lowerBound), v <= Int64(range.upperBound) else {
            throw ConvKitError.corruptFile(path: path, offset: start, expected: what("\(field) in \(range.lowerBound)…\(range.upperBound)"), found: "\(v)")
        }
        return Int(v)
    }

    /// A version integer that must be one of `allowed`.
    public mutating func version(_ field: String, allowed: [Int]) throws -> Int {
        let start = offset
        let v = try int(field)
        guard allowed.contains(where: { Int64($0) == v }) else {
            throw ConvKitError.corruptFile(path: path, offset: start, expected: what("\(field) \(allowed.map(String.init).joined(separator: " or "))"), found: "\(v)")
        }
        return Int(v)
    }

    /// A float or double in dlib's portable (mantissa, exponent) form.
    public mutating func double(_ field: String) throws -> Double {
        let mantissa = try int("\(field) (mantissa)")
        let start = offset
        let exponent = try int("\(field) (exponent)")
        switch exponent {
        case 32000: return .infinity
        case 32001: return -.infinity
        case 32002: return .nan
        case -1100...1100: return Double(sign: mantissa < 0 ? .minus : .plus, exponent: Int(exponent),
                                         significand: Double(mantissa.magnitude))
        default:
            throw ConvKitError.corruptFile(path: path, offset: start, expected: what("\(field): a float exponent"), found: "\(exponent)")
        }
    }

    public mutating func float(_ field: String) throws -> Float { Float(try double(field)) }

    /// A finite float (weights, thresholds, coordinates).
    public mutating func finiteFloat(_ field: String) throws -> Float {
        let start = offset
        let v = try float(field)
        guard v.isFinite else {
            throw ConvKitError.corruptFile(path: path, offset: start, expected: what("\(field): a finite number"), found: "\(v)")
        }
        return v
    }

    public mutating func bool(_ field: String) throws -> Bool {
        let start = offset
        switch try bytes.u8(what(field)) {
        case UInt8(ascii: "1"): return true
        case UInt8(ascii: "0"): return false
        case let b:
            throw ConvKitError.corruptFile(path: path, offset: start, expected: what("\(field): '1' or '0'"), found: "byte 0x\(String(b, radix: 16))")
        }
    }

    /// A string of at most `maxLength` bytes (dlib's record names are short).
    public mutating func string(_ field: String, maxLength: Int = 4096) throws -> String {
        let n = try count("\(field) (length)", in: 0...maxLength)
        return String(decoding: try bytes.take(n, what(field)), as: UTF8.self)
    }

    /// The string at the current offset without consuming it, or nil when the bytes there are not a short
    /// printable name.
    public func peekName() -> String? {
        var copy = self
        guard let s = try? copy.string("name", maxLength: 64), !s.isEmpty,
              s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        return s
    }

    /// A string that must be one of `allowed`; returns which.
    public mutating func tag(_ field: String, allowed: [String]) throws -> String {
        let start = offset
        let s = try string(field, maxLength: 256)
        guard allowed.contains(s) else {
            throw ConvKitError.corruptFile(path: path, offset: start, expected: what("\(field) \(allowed.map { "'\($0)'" }.joined(separator: " or "))"),
                                           found: "'\(s.prefix(40))'")
        }
        return s
    }

    /// Four tensor sizes, each checked, and their product checked against what the file can still hold.
    mutating func sizes(_ field: String, bytesPerElement: Int) throws -> [Int] {
        let start = offset
        var dims = [Int]()
        for name in ["num_samples", "k", "nr", "nc"] { dims.append(try count("\(field) \(name)")) }
        var total = 1
        for d in dims {
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw ConvKitError.corruptFile(path: path, offset: start, expected: what("\(field): sizes whose product fits memory"), found: "\(dims)")
            }
            total = p
        }
        if bytesPerElement > 0, total > remaining / bytesPerElement {
            throw ConvKitError.corruptFile(path: path, offset: start, expected: what("\(field): \(dims) = \(total) floats"),
                                           found: "\(remaining) bytes left (file truncated?)")
        }
        return dims
    }

    /// A dlib tensor (version 2, raw float32) as `[num_samples, k, nr, nc]`.
    public mutating func tensor(_ field: String) throws -> Tensor {
        _ = try version("\(field) version", allowed: [2])
        let dims = try sizes(field, bytesPerElement: 4)
        let n = dims.reduce(1, *)
        let raw = try bytes.take(4 * n, what(field))
        var values = [Float](repeating: 0, count: n)
        raw.withUnsafeBytes { src in
            values.withUnsafeMutableBytes { dst in dst.copyMemory(from: src) }
        }
        #if _endian(big)
        values = values.map { Float(bitPattern: $0.bitPattern.byteSwapped) }
        #endif
        return Tensor(shape: dims, scalars: values)
    }

    /// An alias tensor (dlib's view into a parameter tensor): version 1 and its four sizes.
    public mutating func aliasTensor(_ field: String) throws -> [Int] {
        _ = try version("\(field) version", allowed: [1])
        return try sizes(field, bytesPerElement: 0)
    }

    /// A `dlib::matrix<float>` (rows, columns, then the elements as portable floats). dlib writes the sizes
    /// negated in its current format; either sign is accepted.
    public mutating func matrix(_ field: String, maxElements: Int = 1 << 24) throws -> (rows: Int, columns: Int, values: [Float]) {
        let start = offset
        let r = try int("\(field) rows"), c = try int("\(field) columns")
        let rows = Int(r.magnitude), columns = Int(c.magnitude)
        let (n, overflow) = rows.multipliedReportingOverflow(by: columns)
        // Each portable float takes at least 4 bytes (two control bytes and a byte of each).
        guard r.magnitude < 1 << 31, c.magnitude < 1 << 31, !overflow, n <= maxElements, n <= remaining / 2 else {
            throw ConvKitError.corruptFile(path: path, offset: start, expected: what("\(field): a matrix of at most \(maxElements) elements"),
                                           found: "\(r) × \(c)")
        }
        var values = [Float]()
        values.reserveCapacity(n)
        for _ in 0..<n { values.append(try finiteFloat(field)) }
        return (rows, columns, values)
    }
}
