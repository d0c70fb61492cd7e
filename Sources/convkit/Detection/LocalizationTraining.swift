import ConvKit
import ConvKitData
import ConvKitModels
import ConvKitVision
import Foundation

/// `convkit train --task localize`: the notes' classification-with-localization-and-landmarks example on generated
/// one-digit canvases (64×64; train digits for training, test digits for the test): a `Localizer` trained with
/// the masked "don't care" loss, scored by presence and class accuracy, box IoU and landmark error in pixels.
struct LocalizationTraining {
    let epochs: Int, batchSize: Int, lr: Float, seed: UInt64, out: String, json: Bool
    static let trainImages = 4000, testImages = 1000
    static let coordinateWeight: Float = 10, classWeight: Float = 4

    func run() throws {
        let digits = try DigitsDetectionDefaults.mnist(nil)
        let task = DigitLocalization()
        let train = task.generate(from: digits.train, count: Self.trainImages, seed: seed, split: "train")
        let test = task.generate(from: digits.test, count: Self.testImages, seed: seed, split: "test")
        ConvKitRandom.seed(seed)
        let net = Localizer(classes: 10, landmarks: DigitLocalization.landmarkNames.count, size: task.size)
        let pixels = train.prefix(500).flatMap { $0.image.scalars.map { Double($0) / 255 } }
        let mean = pixels.reduce(0, +) / Double(pixels.count)
        let std = Swift.max(1e-3, (pixels.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(pixels.count)).squareRoot())
        func batch(_ s: ArraySlice<DigitLocalization.Sample>) -> (Tensor, Tensor) {
            let x = Tensor.stack(s.map { ($0.image * (1 / 255) - Float(mean)) * Float(1 / std) }, axis: 0)
            let y = Tensor(shape: [s.count, net.outputSize], scalars: s.flatMap { task.target($0) })
            return (x, y)
        }
        // Coordinates are fractions of the image, so their squared errors are small next to p_c's: weight box and
        // landmark components up, and the class one-hot somewhat (squared error on it learns slowly).
        let weights = (0..<net.outputSize).map { j -> Float in (1...4).contains(j) || j >= 15 ? Self.coordinateWeight : j >= 5 ? Self.classWeight : 1 }
        let opt = Optimizer(.adam(), module: net, learningRate: lr)
        let schedule = LearningRateSchedule.cosine(period: epochs)
        var rng = SeededGenerator(seed: seed)
        let start = Date()
        let log = FileHandle.standardError
        for e in 0..<epochs {
            opt.setLearningRate(schedule.rate(at: e, base: lr))
            net.train()
            let order = Tensor.permutation(train.count, rng: &rng).map { train[$0] }
            var total = 0.0, batches = 0
            for b in stride(from: 0, to: order.count, by: batchSize) {
                let (x, y) = batch(order[b..<Swift.min(order.count, b + batchSize)])
                opt.zeroGrad()
                let l = Loss.maskedLocalization(net(Variable(x)), y, weights: weights)
                l.backward()
                opt.step()
                total += Double(l.value.scalar); batches += 1
            }
            log.write(String(format: "epoch %d/%d  loss %.5f  %.1fs\n", e + 1, epochs, total / Double(batches), Date().timeIntervalSince(start)).data(using: .utf8)!)
        }
        net.eval()
        var predictions = [DigitLocalization.Prediction]()
        for b in stride(from: 0, to: test.count, by: 250) {
            let (x, _) = batch(test[b..<Swift.min(test.count, b + 250)])
            let y = net.predict(x)
            for i in 0..<x.shape[0] { predictions.append(task.decode(Array(y.scalars[i * net.outputSize..<(i + 1) * net.outputSize]))) }
        }
        let m = task.metrics(test, predictions)
        let wall = Date().timeIntervalSince(start)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let checkpoint = out + "/localizer.safetensors"
        try Checkpoint.save(net, optimizer: opt, epoch: epochs, metadata: ["model": "localizer", "task": "localize", "input_mean": "\(mean)", "input_std": "\(std)"], to: checkpoint)
        try drawExamples(test, predictions, to: out + "/localization.png")
        log.write(String(format: "test: presence %.2f%%, class %.2f%%, box IoU %.4f, landmark error %.2f px; %.1f s; checkpoint %@\n", m.presenceAccuracy * 100,
                         m.classAccuracy * 100, m.meanBoxIoU, m.landmarkErrorPixels, wall, checkpoint).data(using: .utf8)!)
        if json {
            let obj: [String: Any] = ["task": "localize", "presence_accuracy": m.presenceAccuracy, "class_accuracy": m.classAccuracy, "box_iou": m.meanBoxIoU,
                                      "landmark_error_px": m.landmarkErrorPixels, "wall_seconds": wall, "epochs": epochs, "checkpoint": checkpoint]
            print(String(data: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), encoding: .utf8)!)
        }
    }

    /// The first 12 test canvases (4× enlarged) with the predicted box, class and landmarks.
    func drawExamples(_ test: [DigitLocalization.Sample], _ p: [DigitLocalization.Prediction], to path: String) throws {
        let f = 4
        let tiles = (0..<Swift.min(12, test.count)).map { i -> Tensor in
            var img = Drawing.enlarged(Drawing.rgb(test[i].image), by: f)
            if p[i].present {
                img = Drawing.detections(on: img, boxes: p[i].box.scaled(x: Float(f), y: Float(f)), labels: ["\(p[i].digit)"], classes: [p[i].digit], scale: 2)
                for l in p[i].landmarks {
                    Drawing.fill(&img, x0: Int(l.x * Float(f)) - 2, y0: Int(l.y * Float(f)) - 2, x1: Int(l.x * Float(f)) + 3, y1: Int(l.y * Float(f)) + 3, color: (255, 255, 0))
                }
            }
            return img
        }
        let canvas = UnitVisualization.grid(tiles, columns: 4)
        try PNG.save(PNG.Image(tensor: canvas), to: path)
    }
}
