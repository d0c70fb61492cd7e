import ConvKit
import Foundation

/// Anchor shapes by k-means on box sizes with the distance d(box, anchor) = 1 − IoU(box, anchor), both placed on
/// one center (YOLO v2's "dimension clusters"): boxes are assigned to the anchor of highest shape IoU and each
/// anchor moves to the mean (w, h) of its boxes, from a k-means++ start (seeded), until no assignment changes.
public enum AnchorClustering {
    public struct Result {
        /// (w, h) per anchor, sorted by area, in the units of the input sizes.
        public var anchors: [(w: Float, h: Float)]
        /// Mean over boxes of the best anchor's shape IoU.
        public var meanIoU: Float
        /// Fraction of boxes whose best anchor has shape IoU ≥ `recallThreshold` (best possible recall).
        public var bestPossibleRecall: Float
        public var recallThreshold: Float
        public var iterations: Int
    }

    /// - Parameters:
    ///   - sizes: (w, h) of every box, all > 0.
    ///   - k: number of anchors (1…sizes.count).
    public static func kMeans(_ sizes: [(w: Float, h: Float)], k: Int, seed: UInt64 = 0, recallThreshold: Float = 0.5,
                              maxIterations: Int = 300) throws -> Result {
        let valid = sizes.filter { $0.w > 0 && $0.h > 0 && $0.w.isFinite && $0.h.isFinite }
        guard k >= 1, valid.count >= k else {
            throw ConvKitError.invalidArgument(name: "k", expected: "1…\(valid.count) (at most the number of boxes with w, h > 0)", found: "\(k)")
        }
        var rng = SeededGenerator(seed: seed)
        // k-means++: each next center drawn with probability ∝ d(box, nearest center)².
        var centers = [valid[Int(rng.next() % UInt64(valid.count))]]
        while centers.count < k {
            let d2 = valid.map { b in centers.map { 1 - BoxOverlap.shapeIoU(b.w, b.h, $0.w, $0.h) }.min()!.squaredForSampling }
            let total = d2.reduce(0, +)
            if total <= 0 { centers.append(valid[Int(rng.next() % UInt64(valid.count))]); continue }
            var r = rng.nextUniform() * total, pick = valid.count - 1
            for (i, v) in d2.enumerated() { r -= v; if r <= 0 { pick = i; break } }
            centers.append(valid[pick])
        }
        var assignment = [Int](repeating: -1, count: valid.count), iterations = 0
        while iterations < maxIterations {
            iterations += 1
            var changed = false
            for (i, b) in valid.enumerated() {
                let best = nearest(b, centers).index
                if best != assignment[i] { assignment[i] = best; changed = true }
            }
            if !changed { break }
            var sums = [(Double, Double, Int)](repeating: (0, 0, 0), count: k)
            for (i, b) in valid.enumerated() { sums[assignment[i]].0 += Double(b.w); sums[assignment[i]].1 += Double(b.h); sums[assignment[i]].2 += 1 }
            for c in 0..<k where sums[c].2 > 0 { centers[c] = (Float(sums[c].0 / Double(sums[c].2)), Float(sums[c].1 / Double(sums[c].2))) }
        }
        centers.sort { $0.w * $0.h < $1.w * $1.h }
        let best = valid.map { nearest($0, centers).iou }
        return Result(anchors: centers, meanIoU: best.reduce(0, +) / Float(best.count),
                      bestPossibleRecall: Float(best.filter { $0 >= recallThreshold }.count) / Float(best.count),
                      recallThreshold: recallThreshold, iterations: iterations)
    }

    static func nearest(_ b: (w: Float, h: Float), _ centers: [(w: Float, h: Float)]) -> (index: Int, iou: Float) {
        var bi = 0, bv: Float = -1
        for (i, c) in centers.enumerated() {
            let v = BoxOverlap.shapeIoU(b.w, b.h, c.w, c.h)
            if v > bv { bv = v; bi = i }
        }
        return (bi, bv)
    }
}

extension Float {
    fileprivate var squaredForSampling: Float { self * self }
}
