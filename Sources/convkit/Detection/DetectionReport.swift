import ConvKit
import ConvKitData
import ConvKitVision
import Foundation

/// The report `convkit train --task detect` writes next to its checkpoint: report.html (summary table, loss
/// curve, precision/recall curves at IoU 0.5 per class, detections on test images), pr_curves.png,
/// detections.png (a grid of test images with boxes) and history.json.
struct DetectionReport {
    let dataset: String
    let history: [DetectionTrainer.EpochStats]
    let result: COCOEvaluator.Result
    let test: DetectionDataset
    let detections: [YOLOCodec.Detections]

    func write(to dir: String) throws -> String {
        let gt = test.cocoGroundTruth()
        let voc = VOCMetrics.evaluate(groundTruth: gt, detections: DetectionTrainer.cocoResults(detections))
        let curves = voc.map { c in
            Plot.Series(name: test.classNames[c.categoryId - 1], x: c.recall, y: c.precision, color: Drawing.color(c.categoryId - 1))
        }
        try PNG.save(PNG.Image(tensor: Plot.lines(curves, title: "PRECISION-RECALL AT IOU 0.5", xLabel: "RECALL", yLabel: "PRECISION")),
                     to: dir + "/pr_curves.png")
        let losses = history.map(\.loss)
        let lossPlot = Plot.lines([Plot.Series(name: "train", x: history.map { Double($0.epoch + 1) }, y: losses, color: Drawing.color(3))],
                                  title: "TRAINING LOSS", xLabel: "EPOCH", yLabel: "LOSS", xRange: 1...Double(Swift.max(2, history.count)),
                                  yRange: 0...Swift.max(1e-6, (losses.max() ?? 1) * 1.05))
        try PNG.save(PNG.Image(tensor: lossPlot), to: dir + "/loss.png")
        try PNG.save(PNG.Image(tensor: grid(count: 12, columns: 4)), to: dir + "/detections.png")
        let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let rows = history.map { ["epoch": Double($0.epoch + 1), "loss": $0.loss, "box": $0.parts.coordinate, "objectness": $0.parts.objectness,
                                  "no_object": $0.parts.noObject, "class": $0.parts.classification, "lr": Double($0.learningRate), "seconds": $0.seconds] }
        try AtomicFile.write(try enc.encode(rows), to: dir + "/history.json")
        let s = result.summary
        var html = """
        <!doctype html><html><head><meta charset="utf-8"><title>ConvKit — yolo_tiny on \(dataset)</title>
        <style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}td,th{padding:2px 10px;text-align:right}img{max-width:100%}</style>
        </head><body><h1>yolo_tiny on \(dataset)</h1>
        <p>\(test.count) test images, \(gt.annotations.count) objects, \(history.count) epochs. COCO metrics (pycocotools' definition):</p><table><tr>
        """
        html += COCOEvaluator.Summary.names.map { "<th>\($0)</th>" }.joined() + "</tr><tr>"
        html += s.values.map { String(format: "<td>%.3f</td>", $0) }.joined() + "</tr></table>"
        html += "<h2>Per class</h2><table><tr><th>class</th><th>objects</th><th>AP .50:.95</th><th>VOC07 AP50 (11-point)</th><th>VOC AP50 (area)</th></tr>"
        for c in voc {
            html += String(format: "<tr><td>%@</td><td>%d</td><td>%.3f</td><td>%.3f</td><td>%.3f</td></tr>", test.classNames[c.categoryId - 1], c.groundTruth,
                           result.perCategoryAP[c.categoryId] ?? -1, c.ap11, c.apArea)
        }
        html += "</table><h2>Curves</h2>" + embed(dir + "/loss.png") + embed(dir + "/pr_curves.png")
        html += "<h2>Detections on test images</h2>" + embed(dir + "/detections.png") + "</body></html>"
        let path = dir + "/report.html"
        try AtomicFile.write(Data(html.utf8), to: path)
        return path
    }

    func embed(_ png: String) -> String {
        let data = (try? AtomicFile.read(png)) ?? Data()
        return "<p><img src=\"data:image/png;base64,\(data.base64EncodedString())\"></p>"
    }

    /// The first `count` test images, enlarged 2×, with their detections (score ≥ 0.3) drawn.
    func grid(count: Int, columns: Int) -> Tensor {
        let tiles = (0..<Swift.min(count, test.count)).map { i -> Tensor in
            let s = test.samples[i], d = detections[i]
            let keep = (0..<d.count).filter { d.scores[$0] >= 0.3 }
            let labels = keep.map { String(format: "%@ %.2f", test.classNames[d.classes[$0]], d.scores[$0]) }
            return Drawing.detections(on: Drawing.enlarged(s.image, by: 2), boxes: d.boxes.gathered(keep).scaled(x: 2, y: 2),
                                      labels: labels, classes: keep.map { d.classes[$0] })
        }
        return UnitVisualization.grid(tiles, columns: columns)
    }
}
