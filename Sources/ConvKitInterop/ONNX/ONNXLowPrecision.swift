import Foundation

/// ONNX's low-precision element types (float8 E4M3FN/E4M3FNUZ/E5M2/E5M2FNUZ, float4 E2M1, float8 E8M0, int4/uint4,
/// int2/uint2): decoding their bit patterns, and the rounding Cast applies (round to nearest even; with `saturate`
/// values beyond the largest finite one clip to it, without it they become ∞ or NaN where the type has them) — the
/// semantics of ONNX's reference (`saturate_cast`, ml_dtypes).
enum ONNXLowPrecision {
    /// A minifloat: `exponent` and `mantissa` bits, `bias`, and how it spells ∞ and NaN.
    struct Minifloat {
        let exponent: Int, mantissa: Int, bias: Int
        /// IEEE-like: the all-ones exponent is ∞ (mantissa 0) or NaN (E5M2).
        let ieee: Bool
        /// FNUZ: one NaN, 0x80, and no negative zero.
        let unsignedZero: Bool
        /// No NaN or ∞ at all (float4 E2M1).
        let finiteOnly: Bool
        var bits: Int { 1 + exponent + mantissa }

        /// Bit pattern → value.
        func decode(_ code: UInt8) -> Float {
            let signBit = UInt8(1) << (bits - 1), c = code & (signBit | (signBit - 1))
            if unsignedZero && c == signBit { return .nan }
            let sign: Float = c & signBit != 0 ? -1 : 1
            let e = Int(c >> mantissa) & ((1 << exponent) - 1), m = Int(c) & ((1 << mantissa) - 1)
            if ieee && e == (1 << exponent) - 1 { return m == 0 ? sign * .infinity : .nan }
            if !ieee && !unsignedZero && !finiteOnly && e == (1 << exponent) - 1 && m == (1 << mantissa) - 1 { return .nan }
            if e == 0 { return sign * Float(m) * Float(sign: .plus, exponent: 1 - bias - mantissa, significand: 1) }
            return sign * (1 + Float(m) / Float(1 << mantissa)) * Float(sign: .plus, exponent: e - bias, significand: 1)
        }

        /// The largest finite value.
        var maxFinite: Float {
            (0..<(1 << (bits - 1))).map { decode(UInt8($0)) }.filter { $0.isFinite }.max()!
        }

        /// The value Cast produces: round to nearest even on this type's grid.
        /// `top` is `maxFinite`, computed once by the caller (it scans the code table).
        func round(_ x: Float, saturate: Bool, top: Float) -> Float {
            if x.isNaN { return finiteOnly ? -0.0 : .nan }
            var a = Swift.abs(x)
            if (saturate || finiteOnly) && a > top { a = top }
            if a == 0 { return unsignedZero ? 0 : x }
            if a.isInfinite { return ieee ? x : .nan }
            // Quantum of a's binade (the subnormal quantum below the smallest normal).
            let e = Swift.max(Int(a.exponent), 1 - bias)
            let quantum = Float(sign: .plus, exponent: e - mantissa, significand: 1)
            var v = (a / quantum).rounded(.toNearestOrEven) * quantum
            if v > top { v = ieee ? .infinity : .nan }
            if v == 0 && unsignedZero { return 0 }
            return x < 0 ? -v : v
        }
    }

    static func minifloat(_ t: ONNXElementType) -> Minifloat? {
        switch t {
        case .float8e4m3fn: return Minifloat(exponent: 4, mantissa: 3, bias: 7, ieee: false, unsignedZero: false, finiteOnly: false)
        case .float8e4m3fnuz: return Minifloat(exponent: 4, mantissa: 3, bias: 8, ieee: false, unsignedZero: true, finiteOnly: false)
        case .float8e5m2: return Minifloat(exponent: 5, mantissa: 2, bias: 15, ieee: true, unsignedZero: false, finiteOnly: false)
        case .float8e5m2fnuz: return Minifloat(exponent: 5, mantissa: 2, bias: 16, ieee: false, unsignedZero: true, finiteOnly: false)
        case .float4e2m1: return Minifloat(exponent: 2, mantissa: 1, bias: 1, ieee: false, unsignedZero: false, finiteOnly: true)
        default: return nil
        }
    }

    /// Bits per element of the packed types (4 or 2), nil for whole-byte types.
    static func packedBits(_ t: ONNXElementType) -> Int? {
        switch t {
        case .int4, .uint4, .float4e2m1: return 4
        case .int2, .uint2: return 2
        default: return nil
        }
    }

    /// E8M0 (an exponent only, 2^(e − 127); 0xFF is NaN).
    static func decodeE8M0(_ code: UInt8) -> Float {
        code == 0xFF ? .nan : Float(sign: .plus, exponent: Int(code) - 127, significand: 1)
    }

    /// Cast to E8M0 with round_mode up (default), down or nearest, as ONNX's `to_float8e8m0`.
    static func roundE8M0(_ x: Float, saturate: Bool, mode: String) -> Float {
        let bits = x.bitPattern
        var e = Int((bits >> 23) & 0xFF)
        if e == 0xFF { return .nan }
        switch mode {
        case "nearest":
            let g = bits & 0x40_0000 != 0, r = bits & 0x20_0000 != 0, s = bits & 0x1F_FFFF != 0, lsb = e > 0
            if g && (r || s || lsb) && !(saturate && e == 0xFE) { e += 1 }
        case "down": break
        default:
            if bits & 0x7F_FFFF != 0 && !(saturate && e == 0xFE) { e += 1 }
        }
        return decodeE8M0(UInt8(Swift.min(e, 0xFF)))
    }

    /// A float cast to a packed integer type: truncated toward zero, then wrapped to the type's bits (what ONNX's
    /// test data expects: 8 → −8 in int4); NaN and ±∞ become 0.
    static func integerFromFloat(_ x: Float, _ t: ONNXElementType) -> Int64 {
        guard x.isFinite else { return 0 }
        return t.wrap(Int64(saturating: x))
    }

    /// Decodes `count` elements of a low-precision type from raw bytes (packed types low bits first).
    static func decode(_ raw: Data, type t: ONNXElementType, count: Int) -> (floats: [Float]?, ints: [Int64]?) {
        let bytes = [UInt8](raw)
        var codes = [UInt8]()
        if let bits = packedBits(t) {
            let per = 8 / bits, mask = UInt8((1 << bits) - 1)
            codes = (0..<count).map { (bytes[$0 / per] >> UInt8(($0 % per) * bits)) & mask }
        } else {
            codes = Array(bytes.prefix(count))
        }
        switch t {
        case .float8e8m0: return (codes.map(decodeE8M0), nil)
        case .int4, .uint4, .int2, .uint2: return (nil, codes.map { t.wrap(Int64($0)) })
        default: let f = minifloat(t)!; return (codes.map(f.decode), nil)
        }
    }

    /// Bytes `count` elements of `t` take in raw_data.
    static func rawSize(_ t: ONNXElementType, count: Int) -> Int {
        guard let bits = packedBits(t) else { return count }
        let per = 8 / bits
        return (count + per - 1) / per
    }
}
