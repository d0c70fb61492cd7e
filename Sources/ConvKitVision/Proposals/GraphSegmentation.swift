import ConvKit
import Foundation

/// Felzenszwalb–Huttenlocher graph-based segmentation (IJCV 2004), deterministic.
///
/// Pixels are nodes of an 8-connected grid; an edge weighs the Euclidean distance of its two pixels' values after
/// a Gaussian blur (σ). Edges are visited by weight (ties by position); two components merge when the edge is no
/// heavier than both internal differences plus k/|C| (Int(C) + τ(C), τ = k/|C|: larger k, larger segments).
/// Components under `minSize` pixels are then merged into a neighbour along the same edge order.
public enum GraphSegmentation {
    public struct Options: Equatable {
        public var sigma: Float = 0.8, k: Float = 100, minSize = 20
        public init(sigma: Float = 0.8, k: Float = 100, minSize: Int = 20) { self.sigma = sigma; self.k = k; self.minSize = minSize }
    }

    /// Segments an image [C, H, W] (any value range, 0…255 for k to mean what the paper's k means).
    /// Returns a label per pixel (row-major, 0…count−1 in order of first appearance) and the number of segments.
    public static func segment(_ image: Tensor, _ o: Options = Options()) -> (labels: [Int32], count: Int) {
        precondition(image.rank == 3, "segmentation takes [C, H, W], got \(image.shape)")
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        let smooth = blur(image, sigma: o.sigma)
        var edges = [(a: Int32, b: Int32, w: Float)]()
        edges.reserveCapacity(h * w * 4)
        func dist(_ p: Int, _ q: Int) -> Float {
            var s: Float = 0
            for ch in 0..<c { let d = smooth[ch * h * w + p] - smooth[ch * h * w + q]; s += d * d }
            return s.squareRoot()
        }
        for y in 0..<h {
            for x in 0..<w {
                let p = y * w + x
                if x + 1 < w { edges.append((Int32(p), Int32(p + 1), dist(p, p + 1))) }
                if y + 1 < h { edges.append((Int32(p), Int32(p + w), dist(p, p + w))) }
                if x + 1 < w && y + 1 < h { edges.append((Int32(p), Int32(p + w + 1), dist(p, p + w + 1))) }
                if x + 1 < w && y > 0 { edges.append((Int32(p), Int32(p - w + 1), dist(p, p - w + 1))) }
            }
        }
        let order = edges.indices.sorted { edges[$0].w < edges[$1].w || (edges[$0].w == edges[$1].w && $0 < $1) }
        var set = DisjointSets(h * w)
        var threshold = [Float](repeating: o.k, count: h * w)
        for i in order {
            let e = edges[i]
            let a = set.find(Int(e.a)), b = set.find(Int(e.b))
            if a != b && e.w <= threshold[a] && e.w <= threshold[b] {
                let r = set.union(a, b)
                threshold[r] = e.w + o.k / Float(set.size[r])
            }
        }
        for i in order {
            let e = edges[i]
            let a = set.find(Int(e.a)), b = set.find(Int(e.b))
            if a != b && (set.size[a] < o.minSize || set.size[b] < o.minSize) { _ = set.union(a, b) }
        }
        var ids = [Int: Int32](), labels = [Int32](repeating: 0, count: h * w)
        for p in 0..<h * w {
            let r = set.find(p)
            if let l = ids[r] { labels[p] = l } else { let l = Int32(ids.count); ids[r] = l; labels[p] = l }
        }
        return (labels, ids.count)
    }

    /// Separable Gaussian blur with a kernel of radius ⌈4σ⌉, borders clamped.
    static func blur(_ image: Tensor, sigma: Float) -> [Float] {
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        guard sigma > 0 else { return image.scalars }
        let r = Int((4 * sigma).rounded(.up))
        var k = (-r...r).map { Foundation.exp(-Float($0 * $0) / (2 * sigma * sigma)) }
        let s = k.reduce(0, +); k = k.map { $0 / s }
        var tmp = [Float](repeating: 0, count: image.count), out = tmp
        for ch in 0..<c {
            let base = ch * h * w
            for y in 0..<h { for x in 0..<w {
                var v: Float = 0
                for d in -r...r { v += k[d + r] * image.scalars[base + y * w + Swift.min(w - 1, Swift.max(0, x + d))] }
                tmp[base + y * w + x] = v
            } }
            for y in 0..<h { for x in 0..<w {
                var v: Float = 0
                for d in -r...r { v += k[d + r] * tmp[base + Swift.min(h - 1, Swift.max(0, y + d)) * w + x] }
                out[base + y * w + x] = v
            } }
        }
        return out
    }
}

/// Union–find with union by rank and path halving; `size` is valid at roots.
struct DisjointSets {
    var parent: [Int], rank: [UInt8], size: [Int]
    init(_ n: Int) { parent = Array(0..<n); rank = [UInt8](repeating: 0, count: n); size = [Int](repeating: 1, count: n) }
    mutating func find(_ x: Int) -> Int {
        var x = x
        while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
        return x
    }
    /// Joins two roots; returns the new root.
    mutating func union(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        if rank[a] < rank[b] { swap(&a, &b) }
        parent[b] = a; size[a] += size[b]
        if rank[a] == rank[b] { rank[a] += 1 }
        return a
    }
}
