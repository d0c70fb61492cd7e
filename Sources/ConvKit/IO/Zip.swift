import CZlib
import Foundation

/// Minimal ZIP archives (what NumPy's .npz is): reading stored and deflated entries, writing stored or
/// deflated entries. No ZIP64 beyond what numpy writes for small files, no encryption.
public enum Zip {
    /// CRC-32 (the ZIP/PNG polynomial) through zlib.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(CZlib.crc32(0, $0.baseAddress, UInt32($0.count))) }
    }

    /// Inflates raw DEFLATE data (no zlib header) when `raw`, else zlib-wrapped data; `expected` sizes the output.
    public static func inflate(_ input: ArraySlice<UInt8>, expectedSize: Int?, raw: Bool, path: String) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, raw ? -15 : 15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ConvKitError.io(path: path, reason: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        // The expected size comes from the file and may lie: start no larger than DEFLATE's 1032:1 ratio allows.
        var out = [UInt8](repeating: 0, count: Swift.max(Swift.min(expectedSize ?? input.count * 4, input.count * 1032 + 1024), 64))
        var produced = 0
        var input = Array(input)
        let status: Int32 = input.withUnsafeMutableBufferPointer { inb in
            stream.next_in = inb.baseAddress
            stream.avail_in = UInt32(inb.count)
            var st: Int32 = Z_OK
            while true {
                if produced == out.count { out.append(contentsOf: [UInt8](repeating: 0, count: out.count)) }
                st = out.withUnsafeMutableBufferPointer { ob in
                    stream.next_out = ob.baseAddress! + produced
                    stream.avail_out = UInt32(ob.count - produced)
                    let r = CZlib.inflate(&stream, Z_NO_FLUSH)
                    produced = ob.count - Int(stream.avail_out)
                    return r
                }
                if st == Z_STREAM_END || (st != Z_OK && st != Z_BUF_ERROR) { break }
                if st == Z_BUF_ERROR && stream.avail_in == 0 { break }
            }
            return st
        }
        guard status == Z_STREAM_END else {
            throw ConvKitError.corruptFile(path: path, offset: Int(stream.total_in), expected: "complete DEFLATE data",
                                           found: status == Z_BUF_ERROR ? "truncated compressed stream" : "zlib error \(status)")
        }
        return Array(out[..<produced])
    }

    /// Compresses with zlib (raw DEFLATE when `raw`, else with zlib header and Adler-32 trailer).
    public static func deflate(_ input: [UInt8], raw: Bool, level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        deflateInit2_(&stream, level, Z_DEFLATED, raw ? -15 : 15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 16)
        var input = input
        let n: Int = input.withUnsafeMutableBufferPointer { inb in
            out.withUnsafeMutableBufferPointer { ob in
                stream.next_in = inb.baseAddress; stream.avail_in = UInt32(inb.count)
                stream.next_out = ob.baseAddress; stream.avail_out = UInt32(ob.count)
                CZlib.deflate(&stream, Z_FINISH)
                return ob.count - Int(stream.avail_out)
            }
        }
        return Array(out[..<n])
    }

    /// The entries of an archive, by name, decompressed and CRC-checked.
    public static func read(_ data: Data, path: String) throws -> [(name: String, bytes: [UInt8])] {
        var r = ByteReader(data, path: path)
        // End of central directory: the last "PK\u{5}\u{6}" within the final 64 KiB + 22 bytes.
        let b = r.bytes
        guard b.count >= 22 else { throw r.error(expected: "a ZIP archive (at least 22 bytes)", found: "\(b.count) bytes") }
        var eocd = -1
        var i = b.count - 22
        while i >= Swift.max(0, b.count - 65_557) {
            if b[i] == 0x50 && b[i + 1] == 0x4B && b[i + 2] == 5 && b[i + 3] == 6 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw ConvKitError.corruptFile(path: path, offset: nil, expected: "a ZIP end-of-central-directory record", found: "none (truncated or not a ZIP file)") }
        try r.seek(eocd + 10, what: "entry count")
        let count = try r.u16le("entry count")
        _ = try r.u32le("central directory size")
        let cdOffset = try r.u32le("central directory offset")
        try r.seek(cdOffset, what: "central directory")
        var entries = [(String, [UInt8])]()
        for _ in 0..<count {
            guard try r.u32le("central directory signature") == 0x0201_4B50 else {
                throw r.error(expected: "central directory signature PK\\1\\2", found: "other bytes")
            }
            _ = try r.take(6, "versions and flags")
            let method = try r.u16le("compression method")
            _ = try r.take(4, "time and date")
            let crc = UInt32(try r.u32le("CRC-32"))
            let csize = try r.u32le("compressed size"), usize = try r.u32le("uncompressed size")
            let nlen = try r.u16le("name length"), xlen = try r.u16le("extra length"), clen = try r.u16le("comment length")
            _ = try r.take(8, "disk and attributes")
            let local = try r.u32le("local header offset")
            let name = String(decoding: try r.take(nlen, "entry name"), as: UTF8.self)
            _ = try r.take(xlen + clen, "extra and comment")
            var lr = r
            try lr.seek(local, what: "local header of \(name)")
            guard try lr.u32le("local header signature") == 0x0403_4B50 else { throw lr.error(expected: "local header PK\\3\\4 of \(name)", found: "other bytes") }
            _ = try lr.take(22, "local header")
            let lnlen = try lr.u16le("name length"), lxlen = try lr.u16le("extra length")
            _ = try lr.take(lnlen + lxlen, "local name and extra")
            let payload = try lr.take(csize, "data of \(name)")
            let bytes: [UInt8]
            switch method {
            case 0: bytes = Array(payload)
            case 8: bytes = try inflate(payload, expectedSize: usize, raw: true, path: "\(path):\(name)")
            default: throw lr.error(expected: "compression method 0 (stored) or 8 (deflate) for \(name)", found: "method \(method)")
            }
            guard bytes.count == usize, crc32(bytes) == crc else {
                throw ConvKitError.corruptFile(path: path, offset: local, expected: "entry \(name) of \(usize) bytes with CRC \(String(crc, radix: 16))",
                                               found: "\(bytes.count) bytes with CRC \(String(crc32(bytes), radix: 16))")
            }
            entries.append((name, bytes))
        }
        return entries
    }

    /// An archive of the given entries (deflated when `compress`).
    public static func archive(_ entries: [(name: String, bytes: [UInt8])], compress: Bool) -> Data {
        var out = [UInt8](), central = [UInt8]()
        func le16(_ v: Int, _ a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func le32(_ v: Int, _ a: inout [UInt8]) { for s in stride(from: 0, to: 32, by: 8) { a.append(UInt8(v >> s & 0xFF)) } }
        for (name, bytes) in entries {
            let crc = Int(crc32(bytes))
            let payload = compress ? deflate(bytes, raw: true) : bytes
            let nameBytes = Array(name.utf8)
            let offset = out.count
            le32(0x0403_4B50, &out); le16(20, &out); le16(0, &out); le16(compress ? 8 : 0, &out)
            le16(0, &out); le16(0x21, &out)   // time 00:00, date 1980-01-01
            le32(crc, &out); le32(payload.count, &out); le32(bytes.count, &out)
            le16(nameBytes.count, &out); le16(0, &out)
            out += nameBytes; out += payload
            le32(0x0201_4B50, &central); le16(20, &central); le16(20, &central); le16(0, &central); le16(compress ? 8 : 0, &central)
            le16(0, &central); le16(0x21, &central)
            le32(crc, &central); le32(payload.count, &central); le32(bytes.count, &central)
            le16(nameBytes.count, &central); le16(0, &central); le16(0, &central); le16(0, &central); le16(0, &central)
            le32(0, &central); le32(offset, &central)
            central += nameBytes
        }
        let cdOffset = out.count
        out += central
        le32(0x0605_4B50, &out); le16(0, &out); le16(0, &out); le16(entries.count, &out); le16(entries.count, &out)
        le32(central.count, &out); le32(cdOffset, &out); le16(0, &out)
        return Data(out)
    }
}
