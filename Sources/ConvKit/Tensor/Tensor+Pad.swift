/// How `padded` fills the new border (NumPy `pad` modes).
public enum PaddingMode: Equatable {
    /// A constant value.
    case constant(Float)
    /// Mirror without repeating the edge: [a b c d] padded by 2 → c b | a b c d | c b.
    case reflect
    /// Repeat the edge value: a a | a b c d | d d.
    case replicate
}

extension Tensor {
    /// Pads each axis by `(before, after)` amounts (one pair per axis, or per trailing axes when fewer are
    /// given). Output extent per axis: before + n + after. Reflect requires amounts < n.
    public func padded(_ amounts: [(Int, Int)], mode: PaddingMode = .constant(0)) -> Tensor {
        precondition(amounts.count <= rank, "\(amounts.count) pad pairs for rank \(rank)")
        let pads = [(Int, Int)](repeating: (0, 0), count: rank - amounts.count) + amounts
        let out = Swift.zip(shape, pads).map { $0 + $1.0 + $1.1 }
        for (n, p) in Swift.zip(shape, pads) {
            precondition(p.0 >= 0 && p.1 >= 0, "negative padding \(p)")
            if mode == .reflect { precondition(p.0 < n && p.1 < n || n == 1 && p == (0, 0), "reflect padding \(p) needs extent > pad, got \(n)") }
            if mode == .replicate { precondition(n > 0 || p == (0, 0), "replicate padding of an empty axis") }
        }
        // Source index along each axis for each output index (-1 → constant).
        let maps: [[Int]] = (0..<rank).map { d in
            let n = shape[d], b = pads[d].0
            return (0..<out[d]).map { i -> Int in
                let j = i - b
                if j >= 0 && j < n { return j }
                switch mode {
                case .constant: return -1
                case .replicate: return j < 0 ? 0 : n - 1
                case .reflect:
                    if n == 1 { return 0 }
                    var k = j
                    let period = 2 * (n - 1)
                    k = ((k % period) + period) % period
                    return k < n ? k : period - k
                }
            }
        }
        let fill: Float = { if case .constant(let v) = mode { return v } else { return 0 } }()
        let st = strides
        return Tensor(shape: out) { o in
            scalars.withUnsafeBufferPointer { p in
                if o.count == 0 { return }
                var idx = [Int](repeating: 0, count: rank)
                for i in 0..<o.count {
                    var src = 0
                    var inside = true
                    for d in 0..<rank {
                        let m = maps[d][idx[d]]
                        if m < 0 { inside = false; break }
                        src += m * st[d]
                    }
                    o[i] = inside ? p[src] : fill
                    var d = rank - 1
                    while d >= 0 { idx[d] += 1; if idx[d] < out[d] { break }; idx[d] = 0; d -= 1 }
                }
            }
        }
    }
}
