import ArgumentParser
import ConvKit
import ConvKitVision
import Foundation

/// `convkit anchors`: YOLO v2's dimension clusters for a detection set.
struct AnchorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "anchors",
        abstract: "k-means (distance 1 − IoU, k-means++ start) on the box sizes of a YOLO folder's training split.")

    @Option(help: "YOLO folder (default: the generated digits set).") var data: String?
    @Option(help: "Number of anchors (1…64).") var k = 5
    @Option(help: "Report anchors in pixels of a SIZE×SIZE input as well (16…4096).") var size: Int?
    @Option(help: "Split to read.") var split = "train"
    @Option(help: "Seed of the k-means++ start.") var seed: UInt64 = 0
    @Option(name: .customLong("recall-iou"), help: "Shape IoU a box needs with its best anchor to count as recallable (0…1).") var recallIoU: Float = 0.5
    @Flag(help: "End with one JSON line.") var json = false

    func validate() throws {
        guard (1...64).contains(k) else { throw ValidationError("--k must be in 1…64, found \(k)") }
        if let size, !(16...4096).contains(size) { throw ValidationError("--size must be in 16…4096, found \(size)") }
        guard recallIoU.isFinite, (0...1).contains(recallIoU) else { throw ValidationError("--recall-iou must be in 0…1, found \(recallIoU)") }
    }

    func run() throws {
        let set = try DetectionFolder.load(try data ?? DigitsDetectionDefaults.folder(), split: split)
        let sizes = set.samples.flatMap { s -> [(w: Float, h: Float)] in
            let b = s.boxes.converted(to: .cxcywh)
            return (0..<b.count).map { (b[$0].2 / Float(s.width), b[$0].3 / Float(s.height)) }
        }
        let r = try AnchorClustering.kMeans(sizes, k: k, seed: seed, recallThreshold: recallIoU)
        let scale = Float(size ?? 1)
        print(String(format: "%d boxes, k = %d: mean IoU %.4f, best possible recall %.4f (IoU ≥ %.2f), %d iterations", sizes.count, k, r.meanIoU,
                     r.bestPossibleRecall, recallIoU, r.iterations))
        for a in r.anchors {
            print(String(format: "  %.4f × %.4f", a.w, a.h) + (size.map { String(format: "   (%.1f × %.1f px at %d)", a.w * scale, a.h * scale, $0) } ?? ""))
        }
        if json {
            var obj: [String: Any] = ["k": k, "boxes": sizes.count, "mean_iou": Double(r.meanIoU), "best_possible_recall": Double(r.bestPossibleRecall),
                                      "anchors": r.anchors.map { [Double($0.w), Double($0.h)] }]
            if size != nil { obj["anchors_pixels"] = r.anchors.map { [Double($0.w * scale), Double($0.h * scale)] } }
            print(String(data: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), encoding: .utf8)!)
        }
    }
}
