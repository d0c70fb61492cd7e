import ConvKit
import ConvKitData
import ConvKitModels
import ConvKitVision
import Foundation

/// `convkit train --task volume` (a 3-D CNN names the lesion's shape in CT-like phantoms) and `--task volume-segment`
/// (a 3-D U-Net labels every voxel: air, body, organ, lesion). The phantoms are generated from the seed
/// (`VolumePhantoms`): `--train-size` training volumes of `--length`³ voxels and a quarter as many test volumes from a
/// different seed.
struct VolumeTraining {
    let segment: Bool
    let side: Int, trainSize: Int, epochs: Int, batchSize: Int, lr: Float, seed: UInt64, out: String, json: Bool

    func run() throws {
        guard (16...128).contains(side), side % 8 == 0 else {
            throw ConvKitError.invalidArgument(name: "--length", expected: "a volume side of 16…128 voxels divisible by 8", found: "\(side)")
        }
        guard (8...100_000).contains(trainSize) else {
            throw ConvKitError.invalidArgument(name: "--train-size", expected: "8…100000 volumes", found: "\(trainSize)")
        }
        let start = Date()
        let log = FileHandle.standardError
        let trainSet = try VolumePhantoms(size: [side, side, side], seed: seed)
        let testSet = try VolumePhantoms(size: [side, side, side], seed: seed &+ 1_000_003)
        let train = (0..<trainSize).map { trainSet.phantom(index: $0) }
        let test = (0..<Swift.max(12, trainSize / 4)).map { testSet.phantom(index: $0) }
        log.write("generated \(train.count) + \(test.count) phantoms of \(side)³ voxels in \(String(format: "%.1f", Date().timeIntervalSince(start))) s\n".data(using: .utf8)!)
        ConvKitRandom.seed(seed)
        let classes = segment ? VolumePhantoms.voxelClasses.count : VolumePhantoms.lesionShapes.count
        let net: Module & UnaryLayer = segment ? UNet(classes: classes, inputChannels: 1, depth: 2, width: 8, spatialDimensions: 3)
                                               : VolumeClassifier(inputChannels: 1, classes: classes)
        let opt = Optimizer(.adam(), module: net, learningRate: lr)
        let schedule = LearningRateSchedule.cosine(period: epochs)
        var rng = SeededGenerator(seed: seed)
        for e in 0..<epochs {
            opt.setLearningRate(schedule.rate(at: e, base: lr))
            net.train()
            let order = Tensor.permutation(train.count, rng: &rng).map { train[$0] }
            var total: Float = 0, n = 0
            for b in stride(from: 0, to: order.count, by: batchSize) {
                let chunk = order[b..<Swift.min(order.count, b + batchSize)]
                let x = Variable(Tensor.stack(chunk.map(\.volume), axis: 0))
                opt.zeroGrad()
                let logits = net(x)
                let loss = segment
                    ? SegmentationLoss.crossEntropy(logits, labels: chunk.flatMap(\.voxelLabels)) + SegmentationLoss.dice(logits, labels: chunk.flatMap(\.voxelLabels))
                    : Loss.crossEntropy(logits, labels: chunk.map(\.lesionShape))
                loss.backward(); opt.step()
                total += loss.value.scalar; n += 1
            }
            log.write(String(format: "epoch %d/%d  loss %.4f  %.1fs\n", e + 1, epochs, total / Float(Swift.max(n, 1)), Date().timeIntervalSince(start)).data(using: .utf8)!)
        }
        net.eval()
        let task = segment ? "volume-segment" : "volume"
        var result: [String: Any] = ["task": task, "epochs": epochs, "side": side, "train_size": train.count,
                                     "test_size": test.count]
        var correct = 0
        var metrics = SegmentationMetrics(classes: classes)
        for b in stride(from: 0, to: test.count, by: 4) {
            let chunk = test[b..<Swift.min(test.count, b + 4)]
            let y = net.predict(Tensor.stack(chunk.map(\.volume), axis: 0))
            if segment {
                let vol = side * side * side
                for (i, s) in chunk.enumerated() {
                    metrics.add(predicted: VolumeLabels.argmax(y, sample: i, classes: classes, positions: vol), truth: s.voxelLabels)
                }
            } else {
                for (i, s) in chunk.enumerated() where VolumeLabels.argmax(y, sample: i, classes: classes, positions: 1)[0] == Int32(s.lesionShape) {
                    correct += 1
                }
            }
        }
        let wall = Date().timeIntervalSince(start)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let name = segment ? "unet3d" : "volume_classifier"
        try Checkpoint.save(net, optimizer: opt, epoch: epochs, metadata: ["model": name, "task": task, "side": "\(side)",
                                                                          "classes": (segment ? VolumePhantoms.voxelClasses : VolumePhantoms.lesionShapes).joined(separator: ",")],
                            to: out + "/\(name).safetensors")
        if segment {
            result["mean_dice"] = metrics.meanDice; result["mIoU"] = metrics.meanIoU; result["voxel_accuracy"] = metrics.pixelAccuracy
            result["class_dice"] = SegmentationMetrics.dice(metrics.confusion).map { $0 ?? -1 }
            log.write(String(format: "test mean Dice %.4f, mIoU %.4f, voxel accuracy %.4f; %.1f s\n", metrics.meanDice, metrics.meanIoU, metrics.pixelAccuracy, wall).data(using: .utf8)!)
        } else {
            let accuracy = Double(correct) / Double(test.count)
            result["test_accuracy"] = accuracy
            log.write(String(format: "test accuracy %.4f (%d/%d); %.1f s\n", accuracy, correct, test.count, wall).data(using: .utf8)!)
        }
        result["wall_seconds"] = wall
        if json { print(String(data: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), encoding: .utf8)!) }
    }
}

/// Class indices from logits `[N, K, positions…]`.
enum VolumeLabels {
    static func argmax(_ y: Tensor, sample i: Int, classes k: Int, positions: Int) -> [Int32] {
        y.withUnsafeBufferPointer { p in
            (0..<positions).map { q in
                var best = 0
                for c in 1..<k where p[(i * k + c) * positions + q] > p[(i * k + best) * positions + q] { best = c }
                return Int32(best)
            }
        }
    }
}
