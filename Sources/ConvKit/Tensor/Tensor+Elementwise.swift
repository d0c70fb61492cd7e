import CConvKernels
import Foundation

/// Broadcasting follows NumPy: shapes are right-aligned and an axis of extent 1 stretches to the other.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let r = max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
        let x = i < r - a.count ? 1 : a[i - (r - a.count)]
        let y = i < r - b.count ? 1 : b[i - (r - b.count)]
        if x != y && x != 1 && y != 1 { return nil }
        out[i] = x == 1 ? y : x
    }
    return out
}

extension Tensor {
    /// Strides of `self` viewed with shape `target` (0 where broadcast).
    func broadcastStrides(to target: [Int]) -> [Int] {
        let own = strides
        let pad = target.count - rank
        return (0..<target.count).map { i in
            i < pad ? 0 : (shape[i - pad] == 1 ? 0 : own[i - pad])
        }
    }

    /// Applies `f` elementwise to `a` and `b` after broadcasting them to a common shape.
    public static func broadcastZip(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape {
            return Tensor(shape: a.shape) { o in
                a.scalars.withUnsafeBufferPointer { pa in b.scalars.withUnsafeBufferPointer { pb in
                    for i in 0..<o.count { o[i] = f(pa[i], pb[i]) }
                } }
            }
        }
        guard let shape = broadcastShape(a.shape, b.shape) else {
            preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        if b.count == 1 { let s = b.scalars[0]; return a.broadcast(to: shape).map { f($0, s) } }
        if a.count == 1 { let s = a.scalars[0]; return b.broadcast(to: shape).map { f(s, $0) } }
        let sa = a.broadcastStrides(to: shape), sb = b.broadcastStrides(to: shape)
        return Tensor(shape: shape) { o in
            a.scalars.withUnsafeBufferPointer { pa in b.scalars.withUnsafeBufferPointer { pb in
                var idx = [Int](repeating: 0, count: shape.count)
                var ia = 0, ib = 0
                let last = shape.count - 1
                let n = shape[last], la = sa[last], lb = sb[last]
                var i = 0
                while i < o.count {
                    var ja = ia, jb = ib
                    for j in 0..<n { o[i + j] = f(pa[ja], pb[jb]); ja += la; jb += lb }
                    i += n
                    // advance the outer index
                    var d = last - 1
                    while d >= 0 {
                        idx[d] += 1; ia += sa[d]; ib += sb[d]
                        if idx[d] < shape[d] { break }
                        ia -= sa[d] * shape[d]; ib -= sb[d] * shape[d]; idx[d] = 0; d -= 1
                    }
                }
            } }
        }
    }

    /// Applies `f` to every element.
    public func map(_ f: (Float) -> Float) -> Tensor {
        Tensor(shape: shape) { o in scalars.withUnsafeBufferPointer { p in for i in 0..<o.count { o[i] = f(p[i]) } } }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { broadcastZip(a, b, +) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { broadcastZip(a, b, -) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { broadcastZip(a, b, *) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { broadcastZip(a, b, /) }
    public static func + (a: Tensor, s: Float) -> Tensor { a.map { $0 + s } }
    public static func - (a: Tensor, s: Float) -> Tensor { a.map { $0 - s } }
    public static func * (a: Tensor, s: Float) -> Tensor { a.map { $0 * s } }
    public static func / (a: Tensor, s: Float) -> Tensor { a.map { $0 / s } }
    public static func + (s: Float, a: Tensor) -> Tensor { a.map { s + $0 } }
    public static func - (s: Float, a: Tensor) -> Tensor { a.map { s - $0 } }
    public static func * (s: Float, a: Tensor) -> Tensor { a.map { s * $0 } }
    public static func / (s: Float, a: Tensor) -> Tensor { a.map { s / $0 } }
    public static prefix func - (a: Tensor) -> Tensor { a.map { -$0 } }

    /// In-place `self += other` (same shape, or other broadcast to self's shape).
    public static func += (a: inout Tensor, b: Tensor) {
        if a.shape == b.shape {
            a.scalars.withUnsafeMutableBufferPointer { pa in b.scalars.withUnsafeBufferPointer { pb in
                ck_axpy_wrapper(pa, pb, 1)
            } }
        } else { a = a + b }
    }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, s: Float) {
        a.scalars.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] *= s } }
    }

    public func exp() -> Tensor { map { Foundation.exp($0) } }
    public func log() -> Tensor { map { Foundation.log($0) } }
    public func sqrt() -> Tensor { map { $0.squareRoot() } }
    public func abs() -> Tensor { map { Swift.abs($0) } }
    public func squared() -> Tensor { map { $0 * $0 } }
    public func pow(_ e: Float) -> Tensor { map { Foundation.pow($0, e) } }
    public func tanh() -> Tensor { map { Foundation.tanh($0) } }
    public func sin() -> Tensor { map { Foundation.sin($0) } }
    public func cos() -> Tensor { map { Foundation.cos($0) } }
    public func sign() -> Tensor { map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) } }
    public func clamped(min lo: Float = -.infinity, max hi: Float = .infinity) -> Tensor {
        map { Swift.min(Swift.max($0, lo), hi) }
    }
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastZip(a, b) { Swift.max($0, $1) } }
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastZip(a, b) { Swift.min($0, $1) } }

    // Comparisons give 1 (true) or 0 (false).
    public func eq(_ b: Tensor) -> Tensor { Tensor.broadcastZip(self, b) { $0 == $1 ? 1 : 0 } }
    public func lt(_ b: Tensor) -> Tensor { Tensor.broadcastZip(self, b) { $0 < $1 ? 1 : 0 } }
    public func le(_ b: Tensor) -> Tensor { Tensor.broadcastZip(self, b) { $0 <= $1 ? 1 : 0 } }
    public func gt(_ b: Tensor) -> Tensor { Tensor.broadcastZip(self, b) { $0 > $1 ? 1 : 0 } }
    public func ge(_ b: Tensor) -> Tensor { Tensor.broadcastZip(self, b) { $0 >= $1 ? 1 : 0 } }

    /// `condition != 0 ? a : b`, all three broadcast together.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        guard let s1 = broadcastShape(condition.shape, a.shape), let s = broadcastShape(s1, b.shape) else {
            preconditionFailure("shapes \(condition.shape), \(a.shape), \(b.shape) do not broadcast")
        }
        let c = condition.broadcast(to: s), x = a.broadcast(to: s), y = b.broadcast(to: s)
        return Tensor(shape: s) { o in for i in 0..<o.count { o[i] = c.scalars[i] != 0 ? x.scalars[i] : y.scalars[i] } }
    }

    /// True when every element is within `atol + rtol·|other|` of `other`.
    public func isClose(to other: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6) -> Bool {
        shape == other.shape && Swift.zip(scalars, other.scalars).allSatisfy { Swift.abs($0 - $1) <= atol + rtol * Swift.abs($1) }
    }

    /// Largest absolute difference to `other` (same shape).
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
        return Swift.zip(scalars, other.scalars).reduce(0) { Swift.max($0, Swift.abs($1.0 - $1.1)) }
    }
}

@inline(__always) func ck_axpy_wrapper(_ y: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, _ a: Float) {
    ck_axpy(y.count, a, x.baseAddress, y.baseAddress)
}
