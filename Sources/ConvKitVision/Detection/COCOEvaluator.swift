import Foundation
import ConvKit

/// Detection evaluation exactly as pycocotools' `COCOeval` (iouType "bbox") defines it, number for number.
///
/// Per image and category: detections sorted by score (stable), at most `maxDets.last` of them; IoU in double,
/// with crowd ground truth measured against the detection's area alone (IoU = |d ∩ g| / |d|); for each IoU
/// threshold t ∈ .50:.05:.95 detections are matched greedily in score order to the unmatched ground truth of
/// highest IoU ≥ t (crowd may be matched repeatedly; ignored ground truth — crowd or outside the area range —
/// only when nothing else is left, and detections matched to it are ignored, as are unmatched detections outside
/// the area range). Then per category, area range and maxDets, detections of all images are merged by score, and
/// precision is made monotone and read at the 101 recall points 0:.01:1. AP/AR average every entry that is
/// defined (categories with ground truth). Reproduced details: thresholds as numpy's `linspace` rounds them, IoU
/// capped at 1 − 1e-10, ties kept in file order, and a ground-truth id of 0 counting as "unmatched".
public struct COCOEvaluator {
    public var iouThresholds: [Double] = linspace(0.5, 0.95, 10)
    public var recallThresholds: [Double] = linspace(0, 1, 101)
    public var maxDetections: [Int] = [1, 10, 100]
    /// all, small (< 32²), medium (32²–96²), large (> 96²), on the annotation's area.
    public var areaRanges: [(label: String, range: ClosedRange<Double>)] =
        [("all", 0...1e10), ("small", 0...1024), ("medium", 1024...9216), ("large", 9216...1e10)]

    public init() {}

    /// numpy.linspace(start, stop, n): start + i·((stop − start)/(n − 1)), the last exactly stop.
    public static func linspace(_ start: Double, _ stop: Double, _ n: Int) -> [Double] {
        let step = (stop - start) / Double(n - 1)
        return (0..<n).map { $0 == n - 1 ? stop : Double($0) * step + start }
    }

    /// pycocotools' 12 summary numbers, in `summarize()` order.
    public struct Summary: Equatable {
        public static let names = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]
        public var values: [Double]
        public subscript(name: String) -> Double { values[Summary.names.firstIndex(of: name)!] }
        public var dictionary: [String: Double] { Dictionary(uniqueKeysWithValues: zip(Summary.names, values)) }
    }

    /// The accumulated arrays: precision [T][R][K][A][M] and recall [T][K][A][M] (−1 where undefined), flattened
    /// row-major, with the category ids in K order.
    public struct Result {
        public var summary: Summary
        public var categoryIds: [Int]
        public var precision: [Double]
        public var recall: [Double]
        let dims: (t: Int, r: Int, k: Int, a: Int, m: Int)
        public func precision(t: Int, r: Int, k: Int, a: Int, m: Int) -> Double {
            precision[(((t * dims.r + r) * dims.k + k) * dims.a + a) * dims.m + m]
        }
        public func recall(t: Int, k: Int, a: Int, m: Int) -> Double { recall[((t * dims.k + k) * dims.a + a) * dims.m + m] }
        /// AP (.50:.95, all areas, 100 detections) of each category, −1 for categories without ground truth.
        public var perCategoryAP: [Int: Double] {
            var out = [Int: Double]()
            for (k, id) in categoryIds.enumerated() {
                var s = [Double]()
                for t in 0..<dims.t { for r in 0..<dims.r { let v = precision(t: t, r: r, k: k, a: 0, m: dims.m - 1); if v > -1 { s.append(v) } } }
                out[id] = s.isEmpty ? -1 : s.reduce(0, +) / Double(s.count)
            }
            return out
        }
    }

    /// Per image × category × area range: what the matching decided (pycocotools' `evaluateImg` record).
    struct ImageEval {
        var dtScores: [Double]
        var dtMatched: [Bool]       // [T·D]: matched to ground truth with a non-zero id
        var dtIgnore: [Bool]        // [T·D]
        var gtIgnoreCount: Int      // ground truth that is not ignored
    }

    /// Evaluates detections against ground truth. Detections on images that are not in the ground truth are an
    /// error (pycocotools asserts the same); detections of categories it does not list are not scored.
    public func evaluate(groundTruth gt: COCODataset, detections: [COCODetection]) throws -> Result {
        let imageIds = Array(Set(gt.images.map(\.id))).sorted(), catIds = Array(Set(gt.categories.map(\.id))).sorted()
        let imageIndex = Dictionary(uniqueKeysWithValues: imageIds.enumerated().map { ($1, $0) })
        let catIndex = Dictionary(uniqueKeysWithValues: catIds.enumerated().map { ($1, $0) })
        let I = imageIds.count, K = catIds.count, A = areaRanges.count, M = maxDetections.count
        let T = iouThresholds.count, R = recallThresholds.count
        // Group by (category, image), each group in file order.
        var gts = [Int: [Int]](), dts = [Int: [Int]]()
        for (i, a) in gt.annotations.enumerated() {
            guard let im = imageIndex[a.imageId], let c = catIndex[a.categoryId] else { continue }
            gts[c * I + im, default: []].append(i)
        }
        for (i, d) in detections.enumerated() {
            guard let im = imageIndex[d.imageId] else {
                throw ConvKitErrorBridge.unknownImage(d.imageId, i)
            }
            guard let c = catIndex[d.categoryId] else { continue }
            dts[c * I + im, default: []].append(i)
        }
        let maxDet = maxDetections.max() ?? 100
        var evals = [ImageEval?](repeating: nil, count: K * A * I)
        // Image × category groups are independent: matched in parallel, each writing its own slots.
        let keys = Array(Set(gts.keys).union(dts.keys))
        evals.withUnsafeMutableBufferPointer { slots in
          Parallel.forRanges(keys.count, minChunk: 64) { range in
           for key in keys[range] {
            let g = gts[key] ?? [], dAll = dts[key] ?? []
            // Detections by score (stable), truncated; IoUs [D][G] in double as maskUtils.iou computes them.
            var d = dAll.enumerated().sorted { a, b in
                let sa = detections[a.element].score, sb = detections[b.element].score
                return sa > sb || (sa == sb && a.offset < b.offset)
            }.map(\.element)
            if d.count > maxDet { d.removeLast(d.count - maxDet) }
            let ious = d.map { di in g.map { gi in Self.iou(detections[di].bbox, gt.annotations[gi].bbox, crowd: gt.annotations[gi].isCrowd) } }
            for (a, area) in areaRanges.enumerated() {
                slots[(key / I * A + a) * I + key % I] = match(gt: g.map { gt.annotations[$0] }, dt: d.map { detections[$0] }, ious: ious, area: area.range)
            }
           }
          }
        }
        // Accumulate.
        var precision = [Double](repeating: -1, count: T * R * K * A * M), recall = [Double](repeating: -1, count: T * K * A * M)
        // Categories are independent too: each writes only its own precision and recall entries.
        precision.withUnsafeMutableBufferPointer { precision in recall.withUnsafeMutableBufferPointer { recall in
        Parallel.forEach(K) { k in
            for a in 0..<A {
                let E = (0..<I).compactMap { evals[(k * A + a) * I + $0] }
                if E.isEmpty { continue }
                for (m, md) in maxDetections.enumerated() {
                    let npig = E.reduce(0) { $0 + $1.gtIgnoreCount }
                    if npig == 0 { continue }
                    // The first md detections of every image, merged by score (stable); per threshold a flag each:
                    // 1 true positive, 2 false positive, 0 ignored.
                    var scores = [Double](), flags = [[UInt8]](repeating: [], count: T)
                    for e in E {
                        let d = Swift.min(md, e.dtScores.count)
                        scores.append(contentsOf: e.dtScores[0..<d])
                        for t in 0..<T {
                            for j in 0..<d { flags[t].append(e.dtIgnore[t * e.dtScores.count + j] ? 0 : (e.dtMatched[t * e.dtScores.count + j] ? 1 : 2)) }
                        }
                    }
                    let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
                    var rc = [Double](repeating: 0, count: order.count), pr = rc
                    for t in 0..<T {
                        var tp = 0.0, fp = 0.0
                        flags[t].withUnsafeBufferPointer { f in
                            for (i, o) in order.enumerated() {
                                if f[o] == 1 { tp += 1 } else if f[o] == 2 { fp += 1 }
                                rc[i] = tp / Double(npig); pr[i] = tp / (fp + tp + Double.ulpOfOne)
                            }
                        }
                        recall[((t * K + k) * A + a) * M + m] = rc.last ?? 0
                        if pr.count > 1 { for i in stride(from: pr.count - 1, to: 0, by: -1) where pr[i] > pr[i - 1] { pr[i - 1] = pr[i] } }
                        // searchsorted(rc, recThrs, side: left); points beyond the last recall keep precision 0.
                        var i = 0
                        for (ri, thr) in recallThresholds.enumerated() {
                            while i < rc.count && rc[i] < thr { i += 1 }
                            precision[(((t * R + ri) * K + k) * A + a) * M + m] = i < rc.count ? pr[i] : 0
                        }
                    }
                }
            }
        }
        } }
        let dims = (T, R, K, A, M)
        func summarize(ap: Bool, iou: Double? = nil, area: String = "all", maxDets: Int = 100) -> Double {
            let ai = areaRanges.firstIndex { $0.label == area }!, mi = maxDetections.firstIndex(of: maxDets)!
            var s = 0.0, n = 0
            for t in 0..<T where iou == nil || iouThresholds[t] == iou {
                for k in 0..<K {
                    if ap {
                        for r in 0..<R { let v = precision[(((t * R + r) * K + k) * A + ai) * M + mi]; if v > -1 { s += v; n += 1 } }
                    } else {
                        let v = recall[((t * K + k) * A + ai) * M + mi]; if v > -1 { s += v; n += 1 }
                    }
                }
            }
            return n == 0 ? -1 : s / Double(n)
        }
        let md = maxDetections
        let values = [summarize(ap: true), summarize(ap: true, iou: 0.5, maxDets: md[2]), summarize(ap: true, iou: 0.75, maxDets: md[2]),
                      summarize(ap: true, area: "small", maxDets: md[2]), summarize(ap: true, area: "medium", maxDets: md[2]),
                      summarize(ap: true, area: "large", maxDets: md[2]),
                      summarize(ap: false, maxDets: md[0]), summarize(ap: false, maxDets: md[1]), summarize(ap: false, maxDets: md[2]),
                      summarize(ap: false, area: "small", maxDets: md[2]), summarize(ap: false, area: "medium", maxDets: md[2]),
                      summarize(ap: false, area: "large", maxDets: md[2])]
        return Result(summary: Summary(values: values), categoryIds: catIds, precision: precision, recall: recall, dims: dims)
    }

    /// pycocotools' `evaluateImg` for one image, category and area range (detections already sorted and truncated).
    func match(gt gAll: [COCODataset.Annotation], dt: [COCODetection], ious: [[Double]], area: ClosedRange<Double>) -> ImageEval? {
        if gAll.isEmpty && dt.isEmpty { return nil }
        let ignoredAll = gAll.map { $0.isCrowd || !area.contains($0.area) }
        // Ground truth that counts first, ignored last (stable).
        let gOrder = gAll.indices.filter { !ignoredAll[$0] } + gAll.indices.filter { ignoredAll[$0] }
        let G = gOrder.count, D = dt.count
        let gtIg = gOrder.map { ignoredAll[$0] }, crowd = gOrder.map { gAll[$0].isCrowd }, gid = gOrder.map { gAll[$0].id }
        var dtMatched = [Bool](repeating: false, count: D * iouThresholds.count)
        var dtIgnore = dtMatched
        let outside = dt.map { !area.contains($0.bbox[2] * $0.bbox[3]) }
        if G > 0 && D > 0 {
            for (t, thr) in iouThresholds.enumerated() {
                var gtTaken = [Bool](repeating: false, count: G)
                for di in 0..<D {
                    var best = Swift.min(thr, 1 - 1e-10), m = -1
                    for gi in 0..<G {
                        if gtTaken[gi] && !crowd[gi] { continue }
                        if m > -1 && !gtIg[m] && gtIg[gi] { break }
                        let v = ious[di][gOrder[gi]]
                        if v < best { continue }
                        best = v; m = gi
                    }
                    if m == -1 { continue }
                    dtIgnore[t * D + di] = gtIg[m]
                    dtMatched[t * D + di] = gid[m] != 0
                    gtTaken[m] = true
                }
            }
        }
        for t in 0..<iouThresholds.count { for di in 0..<D where !dtMatched[t * D + di] && outside[di] { dtIgnore[t * D + di] = true } }
        return ImageEval(dtScores: dt.map(\.score), dtMatched: dtMatched, dtIgnore: dtIgnore, gtIgnoreCount: gtIg.filter { !$0 }.count)
    }

    /// maskUtils' bbIou on [x, y, w, h] boxes, in double: |d ∩ g| / (|d| + |g| − |d ∩ g|), or / |d| for crowd g.
    static func iou(_ d: [Double], _ g: [Double], crowd: Bool) -> Double {
        let w = Swift.min(d[2] + d[0], g[2] + g[0]) - Swift.max(d[0], g[0])
        if w <= 0 { return 0 }
        let h = Swift.min(d[3] + d[1], g[3] + g[1]) - Swift.max(d[1], g[1])
        if h <= 0 { return 0 }
        let i = w * h, da = d[2] * d[3]
        return i / (crowd ? da : da + g[2] * g[3] - i)
    }
}

enum ConvKitErrorBridge {
    static func unknownImage(_ id: Int, _ index: Int) -> Error {
        ConvKitError.invalidArgument(name: "detection[\(index)].image_id", expected: "an image id of the ground truth", found: "\(id)")
    }
}
