import Foundation

/// A parsed JSON value.
public enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? { if case .object(let o) = self { return o[key] } else { return nil } }
    public var number: Double? { if case .number(let d) = self { return d } else { return nil } }
    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var object: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }
}

/// A strict RFC 8259 JSON reader: numbers parsed by `strtod` (correctly rounded, as Python reads them), nesting
/// capped at 512 levels, errors with the byte offset. Several times faster than Foundation's JSONSerialization,
/// which goes through Decimal for every number (what large COCO files are made of).
public enum JSON {
    public static func parse(_ bytes: [UInt8], path: String) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { buf in
            var p = Parser(b: buf, path: path)
            p.skipSpace()
            let v = try p.value(depth: 0)
            p.skipSpace()
            guard p.i == buf.count else { throw p.fail("the end of the file") }
            return v
        }
    }

    public static func load(_ path: String) throws -> JSONValue { try parse([UInt8](AtomicFile.read(path)), path: path) }

    struct Parser {
        let b: UnsafeBufferPointer<UInt8>
        let path: String
        var i = 0

        init(b: UnsafeBufferPointer<UInt8>, path: String) { self.b = b; self.path = path }

        func fail(_ expected: String) -> ConvKitError {
            let found = i < b.count ? "\"\(String(decoding: b[i..<Swift.min(b.count, i + 16)], as: UTF8.self))\"" : "the end of the file"
            return .corruptFile(path: path, offset: i, expected: "valid JSON: \(expected)", found: found)
        }

        mutating func skipSpace() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        }

        mutating func literal(_ word: StaticString, _ v: JSONValue) throws -> JSONValue {
            let n = word.utf8CodeUnitCount
            guard i + n <= b.count else { throw fail("\(word)") }
            for k in 0..<n where b[i + k] != word.utf8Start[k] { throw fail("\(word)") }
            i += n
            return v
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard depth < 512 else { throw fail("at most 512 levels of nesting") }
            guard i < b.count else { throw fail("a value") }
            switch b[i] {
            case UInt8(ascii: "{"):
                i += 1
                var o = [String: JSONValue]()
                skipSpace()
                if i < b.count && b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                while true {
                    skipSpace()
                    guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("a key string") }
                    let k = try string()
                    skipSpace()
                    guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("':'") }
                    i += 1; skipSpace()
                    o[k] = try value(depth: depth + 1)
                    skipSpace()
                    guard i < b.count else { throw fail("',' or '}'") }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    if b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                    throw fail("',' or '}'")
                }
            case UInt8(ascii: "["):
                i += 1
                var a = [JSONValue]()
                skipSpace()
                if i < b.count && b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                while true {
                    skipSpace()
                    a.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < b.count else { throw fail("',' or ']'") }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    if b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                    throw fail("',' or ']'")
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default: return .number(try number())
            }
        }

        mutating func number() throws -> Double {
            let start = i
            if i < b.count && b[i] == UInt8(ascii: "-") { i += 1 }
            func digits() -> Int { let s = i; while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }; return i - s }
            let intStart = i
            let intDigits = digits()
            guard intDigits > 0 else { i = start; throw fail("a value") }
            guard intDigits == 1 || b[intStart] != 0x30 else { i = intStart; throw fail("no leading zeros") }
            if i < b.count && b[i] == UInt8(ascii: ".") { i += 1; guard digits() > 0 else { throw fail("digits after '.'") } }
            if i < b.count && (b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")) {
                i += 1
                if i < b.count && (b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) { i += 1 }
                guard digits() > 0 else { throw fail("exponent digits") }
            }
            let n = i - start
            return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { t in
                for k in 0..<n { t[k] = CChar(bitPattern: b[start + k]) }
                t[n] = 0
                return strtod(t.baseAddress!, nil)
            }
        }

        mutating func hex4() throws -> UInt32 {
            guard i + 4 <= b.count else { throw fail("4 hex digits") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = b[i]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw fail("a hex digit")
                }
                v = v << 4 | d; i += 1
            }
            return v
        }

        mutating func string() throws -> String {
            i += 1
            let start = i
            while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\"), b[i] >= 0x20 { i += 1 }
            if i < b.count, b[i] == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            var out = [UInt8](b[start..<i])
            while true {
                guard i < b.count else { throw fail("a closing '\"'") }
                let c = b[i]
                if c == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
                if c < 0x20 { throw fail("no control characters in strings") }
                if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
                i += 1
                guard i < b.count else { throw fail("an escape") }
                let e = b[i]; i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "u"):
                    var u = try hex4()
                    if (0xD800..<0xDC00).contains(u), i + 6 <= b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                        i += 2
                        let lo = try hex4()
                        u = (0xDC00..<0xE000).contains(lo) ? 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00) : 0xFFFD
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(u) ?? "\u{FFFD}")).utf8))
                default: throw fail("a valid escape")
                }
            }
        }
    }
}
