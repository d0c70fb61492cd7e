import ConvKit
import Foundation

/// Pascal VOC average precision per class at one IoU threshold (default 0.5), on COCO-form inputs.
///
/// Detections of a class, by score descending (ties in file order), are matched to the unmatched ground truth of
/// the same image with the highest IoU; IoU ≥ threshold makes a true positive, a second match of the same object
/// a false positive, a match to a crowd ("difficult") object neither. Boxes are continuous (no VOC +1 pixel).
/// - `ap11`: VOC2007's 11-point interpolation, the mean over r ∈ {0, 0.1, …, 1} of the best precision at recall ≥ r;
/// - `apArea`: VOC2010+'s area under the monotone precision envelope.
public enum VOCMetrics {
    public struct ClassCurve {
        public var categoryId: Int
        public var groundTruth: Int
        /// Recall and precision after each detection, in score order.
        public var recall: [Double], precision: [Double]
        public var ap11: Double, apArea: Double
    }

    public static func evaluate(groundTruth gt: COCODataset, detections: [COCODetection], iouThreshold: Double = 0.5) -> [ClassCurve] {
        gt.categories.map(\.id).sorted().map { cat in
            var objects = [Int: [(box: [Double], crowd: Bool)]]()
            for a in gt.annotations where a.categoryId == cat { objects[a.imageId, default: []].append((a.bbox, a.isCrowd)) }
            let npos = objects.values.reduce(0) { $0 + $1.filter { !$0.crowd }.count }
            let dets = detections.enumerated().filter { $0.element.categoryId == cat }
                .sorted { $0.element.score > $1.element.score || ($0.element.score == $1.element.score && $0.offset < $1.offset) }.map(\.element)
            var taken = [Int: [Bool]]()
            var tp = 0.0, fp = 0.0, recall = [Double](), precision = [Double]()
            for d in dets {
                let objs = objects[d.imageId] ?? []
                var best = -1.0, bi = -1
                for (j, o) in objs.enumerated() {
                    let v = COCOEvaluator.iou(d.bbox, o.box, crowd: false)
                    if v > best { best = v; bi = j }
                }
                if bi >= 0 && best >= iouThreshold {
                    if objs[bi].crowd { continue }
                    var t = taken[d.imageId] ?? [Bool](repeating: false, count: objs.count)
                    if t[bi] { fp += 1 } else { tp += 1; t[bi] = true; taken[d.imageId] = t }
                } else { fp += 1 }
                recall.append(npos > 0 ? tp / Double(npos) : 0); precision.append(tp / (tp + fp))
            }
            return ClassCurve(categoryId: cat, groundTruth: npos, recall: recall, precision: precision,
                              ap11: ap11(recall, precision), apArea: apArea(recall, precision))
        }
    }

    /// VOC2007 11-point AP.
    public static func ap11(_ recall: [Double], _ precision: [Double]) -> Double {
        (0...10).map { i -> Double in
            let t = Double(i) / 10
            return zip(recall, precision).filter { $0.0 >= t }.map(\.1).max() ?? 0
        }.reduce(0, +) / 11
    }

    /// Area under the precision envelope (VOC2010+): Σ (r_{i+1} − r_i)·p̂_{i+1}, p̂ made non-increasing.
    public static func apArea(_ recall: [Double], _ precision: [Double]) -> Double {
        let r = [0] + recall + [1]
        var p = [0] + precision + [0]
        if p.count > 1 { for i in stride(from: p.count - 2, through: 0, by: -1) { p[i] = Swift.max(p[i], p[i + 1]) } }
        var ap = 0.0
        for i in 1..<r.count where r[i] != r[i - 1] { ap += (r[i] - r[i - 1]) * p[i] }
        return ap
    }
}
