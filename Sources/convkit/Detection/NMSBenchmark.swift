import ConvKit
import ConvKitVision
import Foundation

/// `convkit bench` NMS cases, on boxes drawn as shared/anchors/torch_nms.py draws them: centers uniform in
/// [0, 1000)², w and h uniform in [10, 110), scores uniform in [0, 1), classes uniform in [0, C).
enum NMSBenchmark {
    static func boxes(_ n: Int, classes: Int, rng: inout SeededGenerator) -> (BoxSet, [Float], [Int]) {
        var c = [Float](), s = [Float](), k = [Int]()
        c.reserveCapacity(4 * n)
        for _ in 0..<n {
            let cx = rng.nextUniform() * 1000, cy = rng.nextUniform() * 1000
            let w = rng.nextUniform() * 100 + 10, h = rng.nextUniform() * 100 + 10
            c += [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
            s.append(rng.nextUniform()); k.append(Int(rng.next() % UInt64(classes)))
        }
        return (BoxSet(c), s, k)
    }

    static func run(_ cases: [BenchShapes.NMSCase], seconds: Double, progress: (String) -> Void) -> [KernelBenchmark.NMSResult] {
        var rng = SeededGenerator(seed: 0)
        return cases.map { c in
            let classes = c.classes ?? 80
            let (b, s, k) = boxes(c.boxes, classes: classes, rng: &rng)
            let first = b.gathered(Array(0..<Swift.min(1000, b.count)))
            var kept = 0
            let nms = medianMilliseconds(seconds: seconds) { kept = NMS.greedy(b, scores: s, iouThreshold: c.iou).count }
            let batched = medianMilliseconds(seconds: seconds) { _ = NMS.batched(b, scores: s, classes: k, iouThreshold: c.iou) }
            let iou = medianMilliseconds(seconds: seconds) { _ = BoxOverlap.iou(first, b) }
            progress(String(format: "nms %d boxes: %.3f ms (%d kept), batched (%d classes) %.3f ms, box_iou %d×%d %.3f ms",
                            c.boxes, nms, kept, classes, batched, first.count, b.count, iou))
            return KernelBenchmark.NMSResult(boxes: c.boxes, iou: c.iou, classes: classes, nms_ms: nms, batched_ms: batched, box_iou_ms: iou, kept: kept)
        }
    }
}
