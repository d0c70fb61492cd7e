import ConvKit
import ConvKitData
import ConvKitModels
import ConvKitVision
import Foundation

enum DetectionTrainingDefaults {
    static let epochs = 20, batchSize = 16
}

/// `convkit train --task detect`: a YOLO detector on a YOLO folder (default: the generated digits set), scored
/// on its test split as pycocotools would.
struct DetectionTraining {
    let model: String
    let data: String?
    let epochs: Int, batchSize: Int
    let optimizer: OptimizerChoice, lr: Float, schedule: String, seed: UInt64, out: String, json: Bool

    func run() throws {
        guard model.lowercased() == "yolo_tiny" else {
            throw ConvKitError.invalidArgument(name: "--model", expected: "yolo_tiny (the detector of the zoo)", found: model)
        }
        let dir = try data ?? DigitsDetectionDefaults.folder()
        let train = try DetectionFolder.load(dir, split: "train")
        let testSplit = DetectionFolder.testSplit(dir)
        var test = try DetectionFolder.load(dir, split: testSplit)
        // The detector's classes are the training split's; a test label outside them is an error, not a crash.
        if let bad = test.samples.first(where: { $0.classes.contains { $0 >= train.classNames.count } }) {
            throw ConvKitError.invalidArgument(name: "class in \(dir)/\(testSplit) (\(bad.name))", expected: "0..<\(train.classNames.count) (the training split's classes)",
                                               found: "\(bad.classes.max() ?? 0)")
        }
        test.classNames = train.classNames
        let first = train.samples[0].image
        let inputShape = [first.shape[0], first.shape[1] / YOLOTiny.stride * YOLOTiny.stride, first.shape[2] / YOLOTiny.stride * YOLOTiny.stride]
        guard inputShape[1] >= YOLOTiny.stride, inputShape[2] >= YOLOTiny.stride else {
            throw ConvKitError.shapeMismatch(expected: "images of at least 16×16", found: "\(first.shape)")
        }
        // Anchors: k-means (1 − IoU) on the normalized box sizes of the training split.
        let sizes = train.samples.flatMap { s -> [(w: Float, h: Float)] in
            let b = s.boxes.converted(to: .cxcywh)
            return (0..<b.count).map { (b[$0].2 / Float(s.width), b[$0].3 / Float(s.height)) }
        }
        let clusters = try AnchorClustering.kMeans(sizes, k: Swift.min(5, sizes.count), seed: seed)
        ConvKitRandom.seed(seed)
        let net = YOLOTiny(classes: train.classNames.count, anchors: clusters.anchors, inputChannels: inputShape[0])
        let codec = YOLOCodec(rows: inputShape[1] / YOLOTiny.stride, cols: inputShape[2] / YOLOTiny.stride, anchors: clusters.anchors,
                              classes: train.classNames.count)
        let (mean, std) = Self.statistics(train)
        let trainer = DetectionTrainer(model: net, codec: codec, inputShape: inputShape, mean: mean, std: std)
        let opt = Optimizer(optimizer.rule, module: net, learningRate: lr)
        let sched: LearningRateSchedule = schedule == "cosine" ? .warmup(1, then: .cosine(period: epochs)) : schedule == "step" ? .step(size: Swift.max(1, epochs / 3), gamma: 0.1) : .constant
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let log = FileHandle.standardError
        log.write(String(format: "%d train / %d test images, %d classes, grid %d×%d, anchors %@ (mean IoU %.3f)\n", train.count, test.count,
                         train.classNames.count, codec.rows, codec.cols,
                         clusters.anchors.map { String(format: "%.3f×%.3f", $0.w, $0.h) }.joined(separator: " "), clusters.meanIoU).data(using: .utf8)!)
        let progress = ProgressDisplay(epochs: epochs, quiet: false)
        let start = Date()
        var history = [DetectionTrainer.EpochStats]()
        trainer.fit(train: train, epochs: epochs, batchSize: batchSize, optimizer: opt, schedule: sched, baseLR: lr, seed: seed, translate: 8,
                    progress: { e, b, n, l in progress.batch(e, b, n, l, 0) },
                    epochEnd: { s in
                        history.append(s)
                        progress.write(String(format: "%@epoch %d/%d  loss %.4f (box %.3f, obj %.3f, noobj %.3f, cls %.3f)  lr %.2e  %.1fs\n",
                                              progress.tty ? "\r\u{1B}[2K" : "", s.epoch + 1, epochs, s.loss, s.parts.coordinate, s.parts.objectness,
                                              s.parts.noObject, s.parts.classification, s.learningRate, s.seconds))
                    })
        let trainSeconds = Date().timeIntervalSince(start)
        let checkpoint = out + "/yolo_tiny.safetensors"
        let meta = DetectorInput(shape: inputShape, mean: mean, std: std, classes: train.classNames, anchors: clusters.anchors).metadata
        try Checkpoint.save(net, optimizer: opt, epoch: epochs, metadata: meta, to: checkpoint)
        let (result, detections) = try trainer.evaluate(test)
        let wall = Date().timeIntervalSince(start)
        let s = result.summary
        let report = try DetectionReport(dataset: URL(fileURLWithPath: dir).lastPathComponent, history: history, result: result, test: test,
                                         detections: detections).write(to: out)
        log.write(String(format: "test AP %.4f, AP50 %.4f, AP75 %.4f, AR100 %.4f; %.1f s training, %.1f s in all; checkpoint %@, report %@\n",
                         s["AP"], s["AP50"], s["AP75"], s["AR100"], trainSeconds, wall, checkpoint, report).data(using: .utf8)!)
        if json {
            var obj: [String: Any] = ["task": "detect", "model": "yolo_tiny", "dataset": URL(fileURLWithPath: dir).lastPathComponent, "epochs": epochs,
                                      "wall_seconds": wall, "train_seconds": trainSeconds, "checkpoint": checkpoint,
                                      "images_per_second": Double(train.count * epochs) / Swift.max(trainSeconds, 1e-9)]
            for (k, v) in s.dictionary { obj[k] = v }
            print(String(data: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), encoding: .utf8)!)
        }
    }

    /// Per-channel mean and standard deviation of the training images, after scaling to [0, 1].
    static func statistics(_ set: DetectionDataset) -> ([Float], [Float]) {
        let c = set.samples[0].image.shape[0]
        var sum = [Double](repeating: 0, count: c), sq = sum, n = 0.0
        for s in set.samples.prefix(500) {
            let plane = s.image.count / s.image.shape[0]
            for ch in 0..<Swift.min(c, s.image.shape[0]) {
                for i in 0..<plane { let v = Double(s.image.scalars[ch * plane + i]) / 255; sum[ch] += v; sq[ch] += v * v }
            }
            n += Double(plane)
        }
        let mean = sum.map { $0 / n }
        return (mean.map(Float.init), zip(sq, mean).map { Float(Swift.max(($0 / n - $1 * $1).squareRoot(), 1e-3)) })
    }
}

/// What a detector checkpoint needs besides its weights: input shape and normalization, classes, anchors.
struct DetectorInput {
    let shape: [Int], mean: [Float], std: [Float], classes: [String]
    let anchors: [(w: Float, h: Float)]

    var metadata: [String: String] {
        ["model": "yolo_tiny", "task": "detect", "input_shape": shape.map(String.init).joined(separator: ","),
         "input_mean": mean.map { "\($0)" }.joined(separator: ","), "input_std": std.map { "\($0)" }.joined(separator: ","),
         "classes": classes.joined(separator: ","), "anchors": anchors.map { "\($0.w)x\($0.h)" }.joined(separator: ",")]
    }

    init(shape: [Int], mean: [Float], std: [Float], classes: [String], anchors: [(w: Float, h: Float)]) {
        self.shape = shape; self.mean = mean; self.std = std; self.classes = classes; self.anchors = anchors
    }

    init(checkpoint path: String) throws {
        let meta = try Safetensors.load(path).metadata
        func fail(_ k: String) -> ConvKitError {
            .corruptFile(path: path, offset: nil, expected: "metadata \"\(k)\" of a detector (a checkpoint written by convkit train --task detect)", found: meta[k] ?? "none")
        }
        func floats(_ k: String) throws -> [Float] {
            guard let v = meta[k]?.split(separator: ",").compactMap({ Float($0) }), !v.isEmpty, v.allSatisfy(\.isFinite) else { throw fail(k) }
            return v
        }
        guard meta["task"] == "detect" else { throw fail("task") }
        let shape = try floats("input_shape").map { Int($0) }
        guard shape.count == 3, shape[0] >= 1, shape[0] <= 4, (16...4096).contains(shape[1]), (16...4096).contains(shape[2]),
              shape[1] % YOLOTiny.stride == 0, shape[2] % YOLOTiny.stride == 0 else { throw fail("input_shape") }
        guard let c = meta["classes"], !c.isEmpty else { throw fail("classes") }
        let anchors = (meta["anchors"] ?? "").split(separator: ",").compactMap { a -> (w: Float, h: Float)? in
            let p = a.split(separator: "x").compactMap { Float($0) }
            return p.count == 2 && p[0] > 0 && p[1] > 0 ? (p[0], p[1]) : nil
        }
        guard !anchors.isEmpty else { throw fail("anchors") }
        let mean = try floats("input_mean"), std = try floats("input_std")
        guard mean.count == shape[0], std.count == shape[0] else { throw fail("input_mean") }
        self.init(shape: shape, mean: mean, std: std, classes: c.split(separator: ",", omittingEmptySubsequences: false).map(String.init), anchors: anchors)
    }
}
