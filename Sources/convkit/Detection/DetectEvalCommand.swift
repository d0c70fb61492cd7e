import ArgumentParser
import ConvKit
import ConvKitVision
import Foundation

/// `convkit detect-eval`: COCO-style box AP/AR of a results file against a ground-truth instances file.
struct DetectEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect-eval",
        abstract: "Score detections the way pycocotools does: AP at IoU .50:.95, .50, .75, by area, and AR at 1/10/100 detections.")

    @Option(name: .customLong("ground-truth"), help: "COCO instances JSON (images, categories, annotations).") var groundTruth: String
    @Option(help: "COCO results JSON: a list of {image_id, category_id, bbox [x,y,w,h], score}.") var detections: String
    @Flag(help: "End with one JSON line with the 12 summary numbers.") var json = false
    @Flag(name: .customLong("per-class"), help: "Also print the AP of every category.") var perClass = false

    func run() throws {
        let start = Date()
        let gt = try COCODataset.load(groundTruth)
        let dt = try COCODetection.load(detections)
        let r = try COCOEvaluator().evaluate(groundTruth: gt, detections: dt)
        let seconds = Date().timeIntervalSince(start)
        let labels = ["Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]",
                      "Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ]",
                      "Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ]",
                      "Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]",
                      "Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]",
                      "Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]",
                      "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ]",
                      "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ]",
                      "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]",
                      "Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]",
                      "Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]",
                      "Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]"]
        let log = FileHandle.standardError
        log.write(String(format: "%d images, %d annotations, %d detections, %.3f s\n", gt.images.count, gt.annotations.count, dt.count, seconds).data(using: .utf8)!)
        let out = json ? log : FileHandle.standardOutput
        for (l, v) in zip(labels, r.summary.values) { out.write(String(format: " %@ = %.3f\n", l, v).data(using: .utf8)!) }
        if perClass {
            let names = Dictionary(uniqueKeysWithValues: gt.categories.map { ($0.id, $0.name) })
            for (id, ap) in r.perCategoryAP.sorted(by: { $0.key < $1.key }) {
                out.write(String(format: " AP %-20@ %.3f\n", names[id] ?? "\(id)", ap).data(using: .utf8)!)
            }
        }
        if json {
            print(String(data: try JSONSerialization.data(withJSONObject: r.summary.dictionary, options: [.sortedKeys]), encoding: .utf8)!)
        }
    }
}
