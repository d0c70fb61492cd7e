import CConvKernels
import ConvKit
import Foundation

/// Non-maximum suppression: of boxes that overlap too much, keep the highest-scoring one.
///
/// Semantics (those of `torchvision.ops.nms`, checked against it on inputs with tied scores and pairs
/// built to sit exactly at the threshold):
/// 1. boxes are ordered by score descending, ties by index ascending (a stable sort); NaN scores first;
/// 2. a box is suppressed when its IoU with an already kept box is **strictly greater** than the threshold;
/// 3. the kept indices are returned in that order.
/// IoU uses torchvision's float arithmetic (see `BoxOverlap.iou`). Sparse scenes run in about O(N log N): kept
/// boxes are binned on a grid about the mean box size and a candidate is compared only with kept boxes in the
/// cells it covers (only intersecting boxes can exceed a threshold ≥ 0).
public enum NMS {
    /// Score order: descending, ties by index ascending, NaN first (as torch.sort descending puts it).
    static func order(_ scores: [Float], _ indices: [Int]? = nil) -> [Int] {
        var idx = indices ?? Array(scores.indices)
        idx.sort { a, b in
            let sa = scores[a], sb = scores[b]
            if sa.isNaN || sb.isNaN { return sa.isNaN && (!sb.isNaN || a < b) }
            return sa > sb || (sa == sb && a < b)
        }
        return idx
    }

    /// Greedy NMS of boxes already in priority order; the kept positions of `order`.
    static func keepMask(_ p: (x1: [Float], y1: [Float], x2: [Float], y2: [Float], area: [Float]), _ order: [Int],
                         iouThreshold: Double) -> [Bool] {
        let n = order.count
        let x1 = order.map { p.x1[$0] }, y1 = order.map { p.y1[$0] }, x2 = order.map { p.x2[$0] }, y2 = order.map { p.y2[$0] }
        let area = order.map { p.area[$0] }
        var keep = [UInt8](repeating: 0, count: n)
        let status = ck_nms_sorted(x1, y1, x2, y2, area, Int32(n), iouThreshold, &keep)
        precondition(status == 0, "out of memory in non-max suppression of \(n) boxes")
        return keep.map { $0 != 0 }
    }

    /// Candidates: indices whose score is above `scoreThreshold` (strictly), or all.
    static func candidates(_ scores: [Float], _ scoreThreshold: Float?) -> [Int]? {
        guard let t = scoreThreshold else { return nil }
        return scores.indices.filter { scores[$0] > t }
    }

    /// Class-agnostic greedy NMS. `boxes` `[N,4]`, `scores` `[N]` → kept indices in score order.
    /// - Parameters:
    ///   - iouThreshold: suppress when IoU > this (compared in double, as torchvision does).
    ///   - scoreThreshold: drop boxes whose score is not above it first (optional).
    ///   - maxOutputs: return at most this many (the top-k of the kept boxes).
    public static func greedy(_ boxes: BoxSet, scores: [Float], iouThreshold: Double, scoreThreshold: Float? = nil,
                              maxOutputs: Int? = nil) -> [Int] {
        precondition(boxes.count == scores.count, "\(boxes.count) boxes with \(scores.count) scores")
        let ord = order(scores, candidates(scores, scoreThreshold))
        let keep = keepMask(boxes.planes(), ord, iouThreshold: iouThreshold)
        var out = [Int]()
        for (i, k) in zip(ord, keep) where k {
            out.append(i)
            if let m = maxOutputs, out.count >= m { break }
        }
        return out
    }

    /// Per-class NMS: boxes suppress only boxes of their own class. Kept indices of all classes together,
    /// in score order (ties by index), as `torchvision.ops.batched_nms` returns them.
    public static func batched(_ boxes: BoxSet, scores: [Float], classes: [Int], iouThreshold: Double,
                               scoreThreshold: Float? = nil, maxOutputs: Int? = nil) -> [Int] {
        precondition(boxes.count == scores.count && scores.count == classes.count,
                     "\(boxes.count) boxes, \(scores.count) scores, \(classes.count) classes")
        let ord = order(scores, candidates(scores, scoreThreshold))
        var byClass = [Int: [Int]]()
        for i in ord { byClass[classes[i], default: []].append(i) }
        let p = boxes.planes()
        var kept = [Bool](repeating: false, count: boxes.count)
        let groups = Array(byClass.values)
        for g in groups {
            for (i, k) in zip(g, keepMask(p, g, iouThreshold: iouThreshold)) where k { kept[i] = true }
        }
        var out = [Int]()
        for i in ord where kept[i] {
            out.append(i)
            if let m = maxOutputs, out.count >= m { break }
        }
        return out
    }

    /// How soft-NMS decays the scores of boxes that overlap a selected one.
    public enum SoftDecay: Equatable, Sendable {
        /// s ← s·(1 − IoU) when IoU > the threshold.
        case linear(iouThreshold: Float)
        /// s ← s·exp(−IoU²/σ).
        case gaussian(sigma: Float)
    }

    /// Soft-NMS (Bodla et al. 2017): repeatedly select the highest score (ties by index), decay the scores of
    /// the others by their overlap with it, drop those that fall to `scoreThreshold` or below.
    /// Returns (index, decayed score) in selection order. O(N²).
    public static func soft(_ boxes: BoxSet, scores: [Float], decay: SoftDecay, scoreThreshold: Float = 0.001) -> [(index: Int, score: Float)] {
        precondition(boxes.count == scores.count, "\(boxes.count) boxes with \(scores.count) scores")
        let p = boxes.planes()
        var s = scores
        var alive = scores.indices.filter { scores[$0] > scoreThreshold }
        var out = [(index: Int, score: Float)]()
        while !alive.isEmpty {
            var best = 0
            for k in 1..<alive.count {
                let a = alive[k], b = alive[best]
                if s[a] > s[b] || (s[a] == s[b] && a < b) { best = k }
            }
            let m = alive.remove(at: best)
            out.append((m, s[m]))
            alive.removeAll { j in
                let v = pairIoU(p, m, j)
                switch decay {
                case .linear(let t): if v > t { s[j] *= 1 - v }
                case .gaussian(let sigma): s[j] *= Foundation.exp(-v * v / sigma)
                }
                return !(s[j] > scoreThreshold)
            }
        }
        return out
    }

    /// Weighted NMS (as BlazeFace decoders run it): take the highest-scoring remaining box, average it with every
    /// remaining box whose IoU with it exceeds the threshold (weights = scores), give the result the top score,
    /// remove the cluster. Returns the merged boxes (xyxy) and scores, in score order.
    public static func weighted(_ boxes: BoxSet, scores: [Float], iouThreshold: Float, scoreThreshold: Float? = nil)
        -> (boxes: BoxSet, scores: [Float], clusters: [[Int]]) {
        precondition(boxes.count == scores.count, "\(boxes.count) boxes with \(scores.count) scores")
        let p = boxes.planes()
        var remaining = order(scores, candidates(scores, scoreThreshold))
        var merged = [Float](), outScores = [Float](), clusters = [[Int]]()
        while let top = remaining.first {
            var cluster = [Int](), rest = [Int]()
            for j in remaining { if j == top || pairIoU(p, top, j) > iouThreshold { cluster.append(j) } else { rest.append(j) } }
            var acc: [Float] = [0, 0, 0, 0], total: Float = 0
            for j in cluster {
                let w = scores[j]
                acc[0] += w * p.x1[j]; acc[1] += w * p.y1[j]; acc[2] += w * p.x2[j]; acc[3] += w * p.y2[j]; total += w
            }
            if total > 0 { merged += acc.map { $0 / total } } else { merged += [p.x1[top], p.y1[top], p.x2[top], p.y2[top]] }
            outScores.append(scores[top]); clusters.append(cluster)
            remaining = rest
        }
        return (BoxSet(merged, format: .xyxy, units: boxes.units), outScores, clusters)
    }

    static func pairIoU(_ p: (x1: [Float], y1: [Float], x2: [Float], y2: [Float], area: [Float]), _ a: Int, _ b: Int) -> Float {
        let w = Swift.max(0, Swift.min(p.x2[a], p.x2[b]) - Swift.max(p.x1[a], p.x1[b]))
        let h = Swift.max(0, Swift.min(p.y2[a], p.y2[b]) - Swift.max(p.y1[a], p.y1[b]))
        let inter = w * h
        return inter / ((p.area[a] + p.area[b]) - inter)
    }
}
