import ConvKit
import Foundation

/// Selective search (Uijlings et al., IJCV 2013): region proposals by hierarchical grouping of a
/// Felzenszwalb–Huttenlocher over-segmentation, the R-CNN family's proposal method (notes §3.10).
///
/// Starting from the segments, the two most similar neighbouring regions are merged until one is left;
/// similarity s = s_colour + s_texture + s_size + s_fill with s_colour = Σ min of the two L1-normalized
/// 25-bin-per-channel intensity histograms, s_texture the same on gradient histograms (8 orientations × 10
/// magnitudes per channel), s_size = 1 − (|r_i| + |r_j|)/|image| (small regions merge first) and s_fill =
/// 1 − (|B_ij| − |r_i| − |r_j|)/|image| (B_ij the joint bounding box). Every region's box is a proposal. Proposals
/// of each segmentation (one per k) are ranked by hierarchy level (the last merge is 1) times a seeded random
/// number in (0, 1], as the paper does, then merged and deduplicated. Deterministic for a seed.
public enum SelectiveSearch {
    public struct Options: Equatable {
        /// One segmentation per k (the paper's diversification over thresholds).
        public var ks: [Float] = [50, 100, 200]
        public var sigma: Float = 0.8
        public var minSize = 10
        public var seed: UInt64 = 0
        public init() {}
    }

    struct Region {
        var size: Int
        var box: (Int, Int, Int, Int)   // x1, y1, x2 (exclusive), y2 (exclusive)
        var colour: [Float], texture: [Float]
    }

    /// Proposals for an image [C, H, W] with values 0…255: boxes (xyxy pixels) best-ranked first.
    public static func proposals(_ image: Tensor, _ o: Options = Options()) -> BoxSet {
        var rng = SeededGenerator(seed: o.seed)
        var ranked = [(rank: Float, box: (Int, Int, Int, Int))]()
        let gradients = gradientBins(image)
        for k in o.ks {
            let (labels, count) = GraphSegmentation.segment(image, .init(sigma: o.sigma, k: k, minSize: o.minSize))
            let boxes = group(image, labels: labels, count: count, gradients: gradients)
            // boxes are in creation order: the last is the top of the hierarchy (level 1).
            for (i, b) in boxes.enumerated() {
                let level = Float(boxes.count - i)
                ranked.append((level * (1 - rng.nextUniform()), b))
            }
        }
        ranked.sort { $0.rank < $1.rank }
        var seen = Set<[Int]>(), coords = [Float]()
        for r in ranked where seen.insert([r.box.0, r.box.1, r.box.2, r.box.3]).inserted {
            coords += [Float(r.box.0), Float(r.box.1), Float(r.box.2), Float(r.box.3)]
        }
        return BoxSet(coords)
    }

    /// Per pixel and channel, the texture bin (orientation·10 + magnitude level) of the Sobel gradient.
    static func gradientBins(_ image: Tensor) -> [UInt8] {
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        var bins = [UInt8](repeating: 0, count: c * h * w)
        for ch in 0..<c {
            let base = ch * h * w
            func v(_ y: Int, _ x: Int) -> Float { image.scalars[base + Swift.min(h - 1, Swift.max(0, y)) * w + Swift.min(w - 1, Swift.max(0, x))] }
            for y in 0..<h { for x in 0..<w {
                let gx = v(y - 1, x + 1) + 2 * v(y, x + 1) + v(y + 1, x + 1) - v(y - 1, x - 1) - 2 * v(y, x - 1) - v(y + 1, x - 1)
                let gy = v(y + 1, x - 1) + 2 * v(y + 1, x) + v(y + 1, x + 1) - v(y - 1, x - 1) - 2 * v(y - 1, x) - v(y - 1, x + 1)
                let angle = Foundation.atan2(gy, gx) + Float.pi   // 0…2π
                let o = Swift.min(7, Int(angle / (2 * Float.pi) * 8))
                let m = Swift.min(9, Int((gx * gx + gy * gy).squareRoot() / 1020 * 10))   // |∇| ≤ 4·255·√2 / √2
                bins[base + y * w + x] = UInt8(o * 10 + m)
            } }
        }
        return bins
    }

    /// Hierarchical grouping of one segmentation; returns every region's box in creation order.
    static func group(_ image: Tensor, labels: [Int32], count: Int, gradients: [UInt8]) -> [(Int, Int, Int, Int)] {
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        var regions = [Region](repeating: Region(size: 0, box: (w, h, 0, 0), colour: [Float](repeating: 0, count: 25 * c),
                                                 texture: [Float](repeating: 0, count: 80 * c)), count: count)
        for y in 0..<h {
            for x in 0..<w {
                let p = y * w + x, r = Int(labels[p])
                regions[r].size += 1
                let b = regions[r].box
                regions[r].box = (Swift.min(b.0, x), Swift.min(b.1, y), Swift.max(b.2, x + 1), Swift.max(b.3, y + 1))
                for ch in 0..<c {
                    let v = image.scalars[ch * h * w + p]
                    regions[r].colour[ch * 25 + Swift.min(24, Swift.max(0, Int(v / 256 * 25)))] += 1
                    regions[r].texture[ch * 80 + Int(gradients[ch * h * w + p])] += 1
                }
            }
        }
        for i in regions.indices {
            let s = Float(regions[i].size * c)
            regions[i].colour = regions[i].colour.map { $0 / s }; regions[i].texture = regions[i].texture.map { $0 / s }
        }
        var neighbours = [Set<Int>](repeating: [], count: count)
        for y in 0..<h {
            for x in 0..<w {
                let a = Int(labels[y * w + x])
                if x + 1 < w { let b = Int(labels[y * w + x + 1]); if a != b { neighbours[a].insert(b); neighbours[b].insert(a) } }
                if y + 1 < h { let b = Int(labels[(y + 1) * w + x]); if a != b { neighbours[a].insert(b); neighbours[b].insert(a) } }
            }
        }
        let total = Float(h * w)
        func similarity(_ a: Region, _ b: Region) -> Float {
            var colour: Float = 0, texture: Float = 0
            for i in a.colour.indices { colour += Swift.min(a.colour[i], b.colour[i]) }
            for i in a.texture.indices { texture += Swift.min(a.texture[i], b.texture[i]) }
            let bw = Swift.max(a.box.2, b.box.2) - Swift.min(a.box.0, b.box.0), bh = Swift.max(a.box.3, b.box.3) - Swift.min(a.box.1, b.box.1)
            let size = 1 - Float(a.size + b.size) / total
            let fill = 1 - (Float(bw * bh) - Float(a.size + b.size)) / total
            return colour + texture + size + fill
        }
        var sims = [Int: Float]()   // key: lo·2^32 + hi
        func key(_ a: Int, _ b: Int) -> Int { Swift.min(a, b) << 32 | Swift.max(a, b) }
        for a in 0..<count { for b in neighbours[a] where a < b { sims[key(a, b)] = similarity(regions[a], regions[b]) } }
        var boxes = regions.map(\.box)
        var alive = Set(0..<count)
        while let best = sims.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) {
            let (a, b) = (best.key >> 32, best.key & 0xFFFF_FFFF)
            let ra = regions[a], rb = regions[b], n = Float(ra.size + rb.size)
            let merged = Region(size: ra.size + rb.size,
                                box: (Swift.min(ra.box.0, rb.box.0), Swift.min(ra.box.1, rb.box.1), Swift.max(ra.box.2, rb.box.2), Swift.max(ra.box.3, rb.box.3)),
                                colour: zip(ra.colour, rb.colour).map { (Float(ra.size) * $0 + Float(rb.size) * $1) / n },
                                texture: zip(ra.texture, rb.texture).map { (Float(ra.size) * $0 + Float(rb.size) * $1) / n })
            let t = regions.count
            regions.append(merged); boxes.append(merged.box)
            let around = neighbours[a].union(neighbours[b]).subtracting([a, b])
            neighbours.append(around)
            for nb in neighbours[a] { sims.removeValue(forKey: key(a, nb)); neighbours[nb].remove(a) }
            for nb in neighbours[b] { sims.removeValue(forKey: key(b, nb)); neighbours[nb].remove(b) }
            alive.remove(a); alive.remove(b); alive.insert(t)
            for nb in around { neighbours[nb].insert(t); sims[key(t, nb)] = similarity(merged, regions[nb]) }
        }
        return boxes
    }

    /// Recall at N: the fraction of ground-truth boxes that one of the first `n` proposals of their image covers
    /// with IoU ≥ `iou`.
    public static func recall(proposals: [BoxSet], groundTruth: [BoxSet], n: Int, iou: Float = 0.5) -> Double {
        var hit = 0, total = 0
        for (p, g) in zip(proposals, groundTruth) where !g.isEmpty {
            total += g.count
            let top = p.gathered(Array(0..<Swift.min(n, p.count)))
            if top.isEmpty { continue }
            let m = BoxOverlap.iou(g, top)
            for i in 0..<g.count where (0..<top.count).contains(where: { m.scalars[i * top.count + $0] >= iou }) { hit += 1 }
        }
        return total == 0 ? 0 : Double(hit) / Double(total)
    }
}
