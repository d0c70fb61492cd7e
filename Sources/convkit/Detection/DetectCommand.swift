import ArgumentParser
import ConvKit
import ConvKitData
import ConvKitModels
import ConvKitVision
import Foundation

/// `convkit detect`: runs a trained detector on images; draws the boxes, or prints them as JSON.
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "detect", abstract: "Detect objects in images with a detector trained by `convkit train --task detect`.")

    @Option(help: "Detector checkpoint (yolo_tiny.safetensors).") var weights: String
    @Argument(help: "Images (PNG, JPEG, PGM, PPM).") var images: [String]
    @Option(help: "Folder for the pictures with boxes drawn (IMAGE_detections.png); none when omitted.") var out: String?
    @Option(help: "Score threshold (0…1).") var score: Float = 0.3
    @Option(help: "IoU threshold of the per-class NMS (0…1).") var iou: Double = 0.5
    @Option(name: .customLong("max-detections"), help: "At most this many boxes per image (1…10000).") var maxDetections = 100
    @OptionGroup var threadOptions: ThreadOptions
    @Flag(help: "Print {\"detections\":[{\"image\",\"boxes\":[{\"box\":[x1,y1,x2,y2],\"score\",\"class\"}]}]}.") var json = false

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        guard score.isFinite, (0...1).contains(score) else { throw ValidationError("--score must be in 0…1, found \(score)") }
        guard iou.isFinite, (0...1).contains(iou) else { throw ValidationError("--iou must be in 0…1, found \(iou)") }
        guard (1...10_000).contains(maxDetections) else { throw ValidationError("--max-detections must be in 1…10000, found \(maxDetections)") }
    }

    func run() throws {
        threadOptions.apply()
        let input = try DetectorInput(checkpoint: weights)
        let net = YOLOTiny(classes: input.classes.count, anchors: input.anchors, inputChannels: input.shape[0])
        try Checkpoint.load(weights, into: net)
        let codec = YOLOCodec(rows: input.shape[1] / YOLOTiny.stride, cols: input.shape[2] / YOLOTiny.stride, anchors: input.anchors, classes: input.classes.count)
        let detector = DetectionTrainer(model: net, codec: codec, inputShape: input.shape, mean: input.mean, std: input.std)
        let pictures = try images.map { try ImageFile.load($0) }
        let dets = detector.predict(pictures, scoreThreshold: score, iouThreshold: iou, maxDetections: maxDetections)
        if let out { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
        var records = [[String: Any]]()
        for (path, (image, d)) in zip(images, zip(pictures, dets)) {
            let b = d.boxes.xyxy
            let boxes: [[String: Any]] = (0..<d.count).map { i in
                let (x1, y1, x2, y2) = b[i]
                return ["box": [x1, y1, x2, y2].map { Double($0) }, "score": Double(d.scores[i]), "class": input.classes[d.classes[i]]]
            }
            records.append(["image": path, "boxes": boxes])
            if !json {
                let list = (0..<d.count).map { String(format: "%@ %.2f [%.0f,%.0f,%.0f,%.0f]", input.classes[d.classes[$0]], d.scores[$0], b[$0].0, b[$0].1, b[$0].2, b[$0].3) }
                print("\(path): \(d.count) objects" + (list.isEmpty ? "" : ": " + list.joined(separator: "; ")))
            }
            if let out {
                let factor = Swift.max(1, 384 / Swift.max(image.shape[1], image.shape[2]))
                let labels = (0..<d.count).map { String(format: "%@ %.2f", input.classes[d.classes[$0]], d.scores[$0]) }
                let drawn = Drawing.detections(on: Drawing.enlarged(image, by: factor), boxes: d.boxes.scaled(x: Float(factor), y: Float(factor)),
                                               labels: labels, classes: d.classes, scale: Swift.max(1, factor - 1))
                let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
                try PNG.save(PNG.Image(tensor: drawn), to: "\(out)/\(stem)_detections.png")
            }
        }
        if json {
            print(String(data: try JSONSerialization.data(withJSONObject: ["detections": records], options: [.sortedKeys]), encoding: .utf8)!)
        }
    }
}
