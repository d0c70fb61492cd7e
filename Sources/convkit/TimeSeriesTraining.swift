import ConvKit
import ConvKitData
import ConvKitModels
import Foundation

/// `convkit train --task timeseries --data DIR [--model fcn1d|resnet1d|tcn]`: classification of the UCR/UEA sets
/// (a folder with NAME_TRAIN.ts and NAME_TEST.ts, or .tsv), as Wang, Yan and Oates (2017) train their baselines:
/// Adam, batches of min(16, N/10), the test split only at the end. Channels are standardized with the training
/// split's statistics; unequal-length series are padded with their last value to the longest training length.
struct TimeSeriesTraining {
    static let models = ["fcn1d", "resnet1d", "tcn"]

    let data: String?
    /// Sequential MNIST instead of a UCR/UEA folder: "sequential" (784 pixels in row order) or "permuted" (one
    /// fixed random order), from an IDX folder (default the bundled MNIST-5k), as in the TCN paper.
    let pixelSequences: String?
    /// For pixel sequences: augmentations of each training image (before it is flattened), drawn anew every epoch.
    var augmentations: [Augmentation] = []
    let model: String
    let epochs: Int
    let batchSize: Int?
    let lr: Float
    let seed: UInt64
    let out: String
    let json: Bool

    /// The TRAIN and TEST files of a set folder.
    static func files(_ dir: String) throws -> (train: String, test: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for ext in ["ts", "tsv"] {
            if let train = names.first(where: { $0.uppercased().hasSuffix("_TRAIN." + ext.uppercased()) }) {
                let stem = String(train.dropLast(("_TRAIN." + ext).count))
                if let test = names.first(where: { $0.uppercased() == (stem + "_TEST." + ext).uppercased() }) {
                    return (dir + "/" + train, dir + "/" + test)
                }
            }
        }
        throw ConvKitError.io(path: dir, reason: "expected NAME_TRAIN.ts and NAME_TEST.ts (or .tsv) in the folder, found \(names.isEmpty ? "no such folder or nothing" : names.prefix(5).joined(separator: ", "))")
    }

    func makeModel(channels: Int, classes: Int) throws -> Module & UnaryLayer {
        switch model {
        case "fcn1d": return FCN1D(inputChannels: channels, classes: classes)
        case "resnet1d": return ResNet1D(inputChannels: channels, classes: classes)
        case "tcn" where pixelSequences != nil:
            // Bai et al.'s sequential-MNIST network: 8 levels of 25 channels, k = 7 (receptive field 1,531 ≥ 784), last step.
            return TCN(inputChannels: channels, classes: classes, levels: 8, channels: 25, kernel: 7, dropout: 0.05, readout: .last)
        case "tcn": return TCN(inputChannels: channels, classes: classes, readout: .mean)   // the mean over time: 98.7 % on GunPoint, 96.7 % from the last step
        default: throw ConvKitError.invalidArgument(name: "--model", expected: Self.models.joined(separator: ", ") + " for --task timeseries", found: model)
        }
    }

    /// The pixel order of a sequence: row order, or one fixed permutation (seed 0).
    static func pixelOrder(_ n: Int, permuted: Bool) -> [Int] {
        var rng = SeededGenerator(seed: 0)
        return permuted ? Array((0..<n).shuffled(using: &rng)) : Array(0..<n)
    }

    /// MNIST images as sequences `[1, H·W]` of pixels in 0…1, in row order or one fixed permutation (seed 0).
    /// Also the training images [N, 1, H, W] in 0…1, for augmentation.
    static func pixelSequences(_ dir: String, permuted: Bool) throws -> (TimeSeriesSet, TimeSeriesSet, trainImages: Tensor) {
        let splits = try Datasets.idxFolder(dir)
        let n = splits.train.images.shape[1...].reduce(1, *)
        let order = pixelOrder(n, permuted: permuted)
        func set(_ images: LabeledImages, _ name: String) -> TimeSeriesSet {
            let per = images.images.count / Swift.max(images.count, 1)
            let series = (0..<images.count).map { i -> [[Float]] in [order.map { images.images.scalars[i * per + $0] / 255 }] }
            return TimeSeriesSet(series: series, labels: images.labels, classNames: images.classNames, name: name)
        }
        let name = permuted ? "PermutedMNIST" : "SequentialMNIST"
        return (set(splits.train, name), set(splits.test, name), splits.train.images * (1 / 255))
    }

    func run() throws {
        let train: TimeSeriesSet, test: TimeSeriesSet, testPath: String
        var images: Tensor? = nil   // pixel sequences with augmentation: the training images [N, 1, H, W] in 0…1
        if let kind = pixelSequences {
            guard kind == "sequential" || kind == "permuted" else {
                throw ConvKitError.invalidArgument(name: "--pixel-sequences", expected: "sequential or permuted", found: kind)
            }
            guard let dir = data ?? Datasets.bundledDataDirectory().map({ $0 + "/mnist5k" }) else {
                throw ConvKitError.io(path: "Data/mnist5k", reason: "bundled data not found; run from the repository or pass --data DIR")
            }
            let trainImages: Tensor
            (train, test, trainImages) = try Self.pixelSequences(dir, permuted: kind == "permuted")
            testPath = dir
            if !augmentations.isEmpty { images = trainImages }
        } else {
            guard let dir = data ?? Datasets.bundledDataDirectory().map({ $0 + "/timeseries/GunPoint" }) else {
                throw ConvKitError.io(path: "Data/timeseries", reason: "bundled data not found; run from the repository or pass --data DIR")
            }
            let files = try Self.files(dir)
            train = try TimeSeriesSet.load(files.train)
            test = try TimeSeriesSet.load(files.test, classNames: train.classNames)
            testPath = files.test
        }
        guard train.classNames.count >= 2 else {
            throw ConvKitError.invalidArgument(name: "--data \(data ?? "the bundled set")", expected: "at least 2 classes", found: "\(train.classNames.count)")
        }
        guard test.dimensions == train.dimensions else {
            throw ConvKitError.shapeMismatch(expected: "\(testPath): \(train.dimensions) dimensions like the training file", found: "\(test.dimensions)")
        }
        let length = train.maxLength
        var x = train.tensor(length: length), xt = test.tensor(length: length)
        // Per-channel standardization with the training split's statistics.
        let (n, d) = (train.count, train.dimensions)
        var mean = [Float](repeating: 0, count: d), std = [Float](repeating: 1, count: d)
        for c in 0..<d {
            var s = 0.0, s2 = 0.0
            for i in 0..<n { for t in 0..<length { let v = Double(x.scalars[(i * d + c) * length + t]); s += v; s2 += v * v } }
            let m = s / Double(n * length)
            mean[c] = Float(m); std[c] = Float(Swift.max((s2 / Double(n * length) - m * m).squareRoot(), 1e-6))
        }
        let mT = Tensor(shape: [1, d, 1], scalars: mean), sT = Tensor(shape: [1, d, 1], scalars: std)
        x = (x - mT) / sT; xt = (xt - mT) / sT

        ConvKitRandom.seed(seed)
        let net = try makeModel(channels: d, classes: train.classNames.count)
        let optimizer = Optimizer(.adam(), groups: [ParameterGroup(net.namedParameters(), learningRate: lr)])
        let schedule = LearningRateSchedule.cosine(period: epochs)
        let batch = batchSize ?? (pixelSequences != nil ? 64 : Swift.max(1, Swift.min(16, n / 10)))
        var rng = SeededGenerator(seed: seed)
        let log = FileHandle.standardError
        let start = Date()
        let pixelOrder = Self.pixelOrder(length, permuted: pixelSequences == "permuted")
        for epoch in 0..<epochs {
            optimizer.setLearningRate(schedule.rate(at: epoch, base: lr))
            net.train()
            let order = (0..<n).shuffled(using: &rng)
            var total: Float = 0, steps = 0
            for s in stride(from: 0, to: n, by: batch) {
                let idx = Array(order[s..<Swift.min(s + batch, n)])
                guard idx.count > 1 || n == 1 else { continue }   // batch norm needs two samples
                optimizer.zeroGrad()
                let xb: Tensor
                if let images {
                    // A new random view of each image, flattened in the sequence order and standardized.
                    xb = Tensor.stack(idx.map { i -> Tensor in
                        var view = images.slice(axis: 0, i..<i + 1).reshaped(Array(images.shape[1...]))
                        for a in augmentations { view = a.apply(view, rng: &rng) }
                        let v = view.scalars
                        return Tensor(shape: [1, length], scalars: pixelOrder.map { (v[$0] - mean[0]) / std[0] })
                    })
                } else {
                    xb = Tensor.stack(idx.map { x.slice(axis: 0, $0..<$0 + 1).reshaped([d, length]) })
                }
                let l = Loss.crossEntropy(net(Variable(xb)), labels: idx.map { train.labels[$0] })
                l.backward()
                optimizer.step()
                total += l.value.scalar; steps += 1
            }
            if epoch == 0 || (epoch + 1) % Swift.max(1, epochs / 10) == 0 || epoch + 1 == epochs {
                log.write(String(format: "epoch %d/%d  loss %.4f  %.1fs\n", epoch + 1, epochs, total / Float(Swift.max(steps, 1)),
                                 Date().timeIntervalSince(start)).data(using: .utf8)!)
            }
        }
        net.eval()
        var correct = 0
        for s in stride(from: 0, to: test.count, by: 256) {
            let logits = net.predict(xt.slice(axis: 0, s..<Swift.min(s + 256, test.count)))
            let k = logits.shape[1]
            for i in 0..<logits.shape[0] {
                var best = 0
                for j in 1..<k where logits.scalars[i * k + j] > logits.scalars[i * k + best] { best = j }
                if best == test.labels[s + i] { correct += 1 }
            }
        }
        let accuracy = Double(correct) / Double(test.count), wall = Date().timeIntervalSince(start)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let checkpoint = out + "/\(model)_\(train.name).safetensors"
        try Checkpoint.save(net, metadata: ["model": model, "task": "timeseries", "dataset": train.name, "classes": train.classNames.joined(separator: ","),
                                            "length": String(length), "mean": mean.map { String($0) }.joined(separator: ","),
                                            "std": std.map { String($0) }.joined(separator: ",")], to: checkpoint)
        log.write(String(format: "%@ (%d train, %d test, %d classes, %d×%d): test accuracy %.2f%%, %.1f s\n", train.name, n, test.count,
                         train.classNames.count, d, length, accuracy * 100, wall).data(using: .utf8)!)
        if json {
            let obj: [String: Any] = ["task": "timeseries", "dataset": train.name, "model": model, "test_accuracy": accuracy, "wall_seconds": wall,
                                      "augmentations": images == nil ? "none" : augmentations.map { "\($0)" }.joined(separator: ","),
                                      "epochs": epochs, "train": n, "test": test.count, "classes": train.classNames.count, "length": length,
                                      "dimensions": d, "checkpoint": checkpoint]
            print(String(data: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), encoding: .utf8)!)
        }
    }
}
