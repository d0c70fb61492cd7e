import Foundation

/// NumPy `.npy` and `.npz` files. Reading accepts every numeric dtype (bool, signed/unsigned 8–64-bit
/// integers, float16/32/64, either byte order, C or Fortran order) and converts to Float; writing produces
/// little-endian float32 (`<f4`) in C order, format version 1.0 (2.0 when the header needs it).
public enum NumPy {
    /// Parses .npy bytes.
    public static func decode(_ bytes: [UInt8], path: String) throws -> Tensor {
        var r = ByteReader(bytes: bytes, path: path)
        let magic = try r.take(6, "magic \\x93NUMPY")
        guard Array(magic) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] else {
            throw ConvKitError.corruptFile(path: path, offset: 0, expected: "magic \\x93NUMPY", found: magic.map { String(format: "%02x", $0) }.joined(separator: " "))
        }
        let major = try r.u8("format version")
        _ = try r.u8("format version")
        let hlen: Int
        switch major {
        case 1: hlen = try r.u16le("header length")
        case 2, 3: hlen = try r.u32le("header length")
        default: throw ConvKitError.corruptFile(path: path, offset: 6, expected: "format version 1, 2 or 3", found: "\(major)")
        }
        let headerStart = r.offset
        let header = String(decoding: try r.take(hlen, "header"), as: UTF8.self)
        guard let descr = field(header, "descr").flatMap(quoted),
              let fortran = field(header, "fortran_order"),
              let shapeText = field(header, "shape") else {
            throw ConvKitError.corruptFile(path: path, offset: headerStart, expected: "a header dict with descr, fortran_order, shape", found: header)
        }
        let shape = try parseShape(shapeText, path: path, offset: headerStart)
        let count = shape.reduce(1, *)
        let (kind, size, bigEndian) = try dtype(descr, path: path, offset: headerStart)
        let raw = try r.take(count * size, "\(count) elements of \(descr)")
        var values = [Float](repeating: 0, count: count)
        raw.withUnsafeBytes { p in
            for i in 0..<count {
                var bits: UInt64 = 0
                for j in 0..<size {
                    let byte = UInt64(p[i * size + (bigEndian ? j : size - 1 - j)])
                    bits = bits << 8 | byte
                }
                values[i] = convert(bits, kind: kind, size: size)
            }
        }
        let t = Tensor(shape: shape, scalars: values)
        if fortran.trimmingCharacters(in: .whitespaces).hasPrefix("True") && shape.count > 1 {
            return Tensor(shape: shape.reversed(), scalars: values).permuted(Array((0..<shape.count).reversed()))
        }
        return t
    }

    /// .npy bytes for a tensor (float32, C order).
    public static func encode(_ t: Tensor) -> [UInt8] {
        let shape = t.shape.count == 1 ? "(\(t.shape[0]),)" : "(\(t.shape.map(String.init).joined(separator: ", ")))"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        let v1 = header.utf8.count + 1 + 10 < 65_536
        let prefix = v1 ? 10 : 12
        let padded = (prefix + header.utf8.count + 1 + 63) / 64 * 64
        header += String(repeating: " ", count: padded - prefix - header.utf8.count - 1) + "\n"
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, v1 ? 1 : 2, 0]
        let hl = header.utf8.count
        if v1 { out += [UInt8(hl & 0xFF), UInt8(hl >> 8)] } else { for s in stride(from: 0, to: 32, by: 8) { out.append(UInt8(hl >> s & 0xFF)) } }
        out += Array(header.utf8)
        out.reserveCapacity(out.count + t.count * 4)
        for v in t.scalars { let b = v.bitPattern.littleEndian; out += [UInt8(b & 0xFF), UInt8(b >> 8 & 0xFF), UInt8(b >> 16 & 0xFF), UInt8(b >> 24)] }
        return out
    }

    public static func load(_ path: String) throws -> Tensor { try decode([UInt8](AtomicFile.read(path)), path: path) }
    public static func save(_ t: Tensor, to path: String) throws { try AtomicFile.write(Data(encode(t)), to: path) }

    /// The arrays of an .npz file by name (without the ".npy" suffix).
    public static func loadArchive(_ path: String) throws -> [String: Tensor] {
        var out = [String: Tensor]()
        for (name, bytes) in try Zip.read(try AtomicFile.read(path), path: path) {
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            out[key] = try decode(bytes, path: "\(path):\(name)")
        }
        return out
    }

    /// Writes an .npz (deflated when `compressed`, like `np.savez_compressed`); names sorted for determinism.
    public static func saveArchive(_ arrays: [String: Tensor], to path: String, compressed: Bool = false) throws {
        let entries = arrays.keys.sorted().map { (name: $0 + ".npy", bytes: encode(arrays[$0]!)) }
        try AtomicFile.write(Zip.archive(entries, compress: compressed), to: path)
    }

    // MARK: header parsing

    private static func field(_ header: String, _ key: String) -> String? {
        guard let r = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else { return nil }
        var rest = header[r.upperBound...].drop { $0 == " " || $0 == ":" }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...close])
        }
        if rest.first == "'" || rest.first == "\"" {
            let q = rest.first!
            rest = rest.dropFirst()
            guard let close = rest.firstIndex(of: q) else { return nil }
            return "'" + rest[..<close] + "'"
        }
        return String(rest.prefix { $0 != "," && $0 != "}" })
    }

    private static func quoted(_ s: String) -> String? { s.hasPrefix("'") ? String(s.dropFirst().dropLast()) : nil }

    private static func parseShape(_ s: String, path: String, offset: Int) throws -> [Int] {
        let inner = s.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        if inner.isEmpty { return [] }
        var dims = [Int]()
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0, v < 1 << 40 else {
                throw ConvKitError.corruptFile(path: path, offset: offset, expected: "a shape of non-negative integers", found: s)
            }
            dims.append(v)
        }
        guard let count = Extents.product(dims), count < 1 << 34 else {
            throw ConvKitError.corruptFile(path: path, offset: offset, expected: "a shape under 2^34 elements", found: s)
        }
        return dims
    }

    enum Kind { case float, signed, unsigned, bool }

    private static func dtype(_ d: String, path: String, offset: Int) throws -> (Kind, Int, Bool) {
        guard d.count >= 3, let size = Int(d.dropFirst(2)) else {
            throw ConvKitError.corruptFile(path: path, offset: offset, expected: "a dtype like <f4", found: "'\(d)'")
        }
        let order = d.first!, code = d[d.index(after: d.startIndex)]
        let big = order == ">" || (order == "=" && 1.bigEndian == 1)
        let kind: Kind
        switch (code, size) {
        case ("f", 2), ("f", 4), ("f", 8): kind = .float
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8): kind = .signed
        case ("u", 1), ("u", 2), ("u", 4), ("u", 8): kind = .unsigned
        case ("b", 1): kind = .bool
        default: throw ConvKitError.corruptFile(path: path, offset: offset, expected: "a numeric dtype (f2/f4/f8, i1–i8, u1–u8, b1)", found: "'\(d)'")
        }
        return (kind, size, big)
    }

    private static func convert(_ bits: UInt64, kind: Kind, size: Int) -> Float {
        switch kind {
        case .bool, .unsigned: return Float(bits)
        case .signed:
            let shift = UInt64(64 - size * 8)
            return Float(Int64(bitPattern: bits << shift) >> Int64(shift))
        case .float:
            switch size {
            case 2: return Float(Float16(bitPattern: UInt16(bits)))
            case 4: return Float(bitPattern: UInt32(bits))
            default: return Float(Double(bitPattern: bits))
            }
        }
    }
}
