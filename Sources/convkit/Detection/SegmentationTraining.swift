import ConvKit
import ConvKitData
import ConvKitModels
import ConvKitVision
import Foundation

/// `convkit train --task segment`: a U-Net on index masks (default: the generated digits set's masks, 11 classes),
/// trained with pixel cross-entropy + soft Dice, scored by mIoU (dataset confusion matrix, background included,
/// classes absent from truth and prediction excluded) and pixel accuracy.
struct SegmentationTraining {
    let data: String?
    let epochs: Int, batchSize: Int, lr: Float, seed: UInt64, out: String, json: Bool

    func run() throws {
        let start = Date()
        let dir = try data ?? DigitsDetectionDefaults.folder()
        let names = try SegmentationFolder.classNames(dir)
        let train = try SegmentationFolder.load(dir, split: "train", classes: names.count)
        let test = try SegmentationFolder.load(dir, split: DetectionFolder.testSplit(dir), classes: names.count)
        let shape = train[0].image.shape
        guard shape[1] % 16 == 0, shape[2] % 16 == 0, train.allSatisfy({ $0.image.shape == shape }), test.allSatisfy({ $0.image.shape == shape }) else {
            throw ConvKitError.shapeMismatch(expected: "images of one size divisible by 16", found: "\(shape) and others")
        }
        ConvKitRandom.seed(seed)
        let net = UNet(classes: names.count, inputChannels: shape[0], depth: 4, width: 8)
        let opt = Optimizer(.adam(), module: net, learningRate: lr)
        let schedule = LearningRateSchedule.cosine(period: epochs)
        func batch(_ s: ArraySlice<SegmentationFolder.Sample>) -> (Tensor, [Int32]) {
            (Tensor.stack(s.map { $0.image * (1 / 255) }, axis: 0), s.flatMap(\.mask))
        }
        var rng = SeededGenerator(seed: seed)
        let log = FileHandle.standardError
        for e in 0..<epochs {
            opt.setLearningRate(schedule.rate(at: e, base: lr))
            net.train()
            let order = Tensor.permutation(train.count, rng: &rng).map { train[$0] }
            var total: Float = 0, n = 0
            for b in stride(from: 0, to: order.count, by: batchSize) {
                let (x, y) = batch(order[b..<Swift.min(order.count, b + batchSize)])
                opt.zeroGrad()
                let logits = net(Variable(x))
                let l = SegmentationLoss.crossEntropy(logits, labels: y, ignoreIndex: SegmentationFolder.ignoreIndex)
                    + SegmentationLoss.dice(logits, labels: y, ignoreIndex: SegmentationFolder.ignoreIndex)
                l.backward(); opt.step()
                total += l.value.scalar; n += 1
            }
            log.write(String(format: "epoch %d/%d  loss %.4f  %.1fs\n", e + 1, epochs, total / Float(Swift.max(n, 1)), Date().timeIntervalSince(start)).data(using: .utf8)!)
        }
        net.eval()
        var metrics = SegmentationMetrics(classes: names.count, ignoreIndex: SegmentationFolder.ignoreIndex)
        var firstPredictions = [[Int32]]()
        for b in stride(from: 0, to: test.count, by: 32) {
            let chunk = test[b..<Swift.min(test.count, b + 32)]
            let (x, _) = batch(chunk)
            let y = net.predict(x)
            let plane = shape[1] * shape[2], k = names.count
            for (i, s) in chunk.enumerated() {
                var pred = [Int32](repeating: 0, count: plane)
                for p in 0..<plane {
                    var best = 0
                    for c in 1..<k where y.scalars[(i * k + c) * plane + p] > y.scalars[(i * k + best) * plane + p] { best = c }
                    pred[p] = Int32(best)
                }
                metrics.add(predicted: pred, truth: s.mask)
                if firstPredictions.count < 6 { firstPredictions.append(pred) }
            }
        }
        let wall = Date().timeIntervalSince(start)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Checkpoint.save(net, optimizer: opt, epoch: epochs, metadata: ["model": "unet", "task": "segment", "classes": names.joined(separator: ","), "input_channels": "\(shape[0])"], to: out + "/unet.safetensors")
        // Input, prediction and truth side by side for the first test images.
        let (h, w) = (shape[1], shape[2])
        let tiles = firstPredictions.enumerated().flatMap { r, pred in
            [Drawing.rgb(test[r].image), SegmentationFolder.colorized(pred, height: h, width: w), SegmentationFolder.colorized(test[r].mask, height: h, width: w)]
        }
        let sheet = UnitVisualization.grid(tiles, columns: 3)
        try PNG.save(PNG.Image(tensor: sheet), to: out + "/segmentation.png")
        log.write(String(format: "test mIoU %.4f, pixel accuracy %.4f, mean Dice %.4f; %.1f s\n", metrics.meanIoU, metrics.pixelAccuracy, metrics.meanDice, wall).data(using: .utf8)!)
        if json {
            let obj: [String: Any] = ["task": "segment", "mIoU": metrics.meanIoU, "pixel_accuracy": metrics.pixelAccuracy, "mean_dice": metrics.meanDice,
                                      "class_iou": metrics.classIoU.map { $0 ?? -1 }, "wall_seconds": wall, "epochs": epochs]
            print(String(data: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), encoding: .utf8)!)
        }
    }
}
