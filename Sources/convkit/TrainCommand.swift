import ArgumentParser
import ConvKit
import ConvKitData
import ConvKitModels
import ConvKitVision
import Foundation

enum OptimizerChoice: String, ExpressibleByArgument, CaseIterable {
    case sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw
    var rule: OptimizerRule {
        switch self {
        case .sgd: return .sgd()
        case .momentum: return .sgd(momentum: 0.9)
        case .nesterov: return .sgd(momentum: 0.9, nesterov: true)
        case .adagrad: return .adagrad()
        case .rmsprop: return .rmsprop()
        case .adam: return .adam()
        case .adamw: return .adamW()
        }
    }
}

/// `convkit train`: trains a model from the zoo on a dataset folder and writes a checkpoint and a report.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model (default: LeNet-5 on the bundled MNIST-5k) and write a checkpoint and a report.")

    enum Task: String, ExpressibleByArgument, CaseIterable { case classify, detect, localize, rcnn, segment, siamese, timeseries, adding, volume, volumeSegment = "volume-segment" }

    @Option(help: "What to train: classify (default), detect (a YOLO detector) localize (one digit: class, box, landmarks) rcnn (selective search + a proposal classifier), segment (a U-Net on index masks) siamese (an embedding for one-shot verification, measured on held-out classes) or timeseries (UCR/UEA classification: --data a folder with NAME_TRAIN.ts and NAME_TEST.ts, --model fcn1d, resnet1d or tcn) or adding (the adding problem with a TCN, --length T) or volume (a 3-D CNN names the lesion shape in generated CT-like phantoms of --side³ voxels) or volume-segment (a 3-D U-Net labels their voxels).") var task = Task.classify
    @Option(help: "For --task siamese: triplet, contrastive or pairs (the notes' σ(Σ w·|f(a) − f(b)| + b) head).") var loss = "triplet"
    @Option(help: "For --loss triplet: semi-hard or batch-hard mining.") var mining = "semi-hard"
    @Flag(help: "For --task siamese: six symmetries of each training image as new classes (6 classes become 36).") var classAugmentation = false
    @Option(help: "For --task timeseries: MNIST as 784-step pixel sequences, sequential or permuted (the TCN paper's benchmarks; --data an IDX folder, default the bundled MNIST-5k).") var pixelSequences: String?
    @Option(help: "For --task adding: the sequence length T (10…100000).") var length = 200
    @Option(help: "For --task adding: training sequences (100…1000000; default 20000); for volume tasks: training phantoms (8…100000; default 240).") var trainSize: Int?
    @Option(help: "For --task volume and volume-segment: the phantoms' side in voxels (16…128, divisible by 8).") var side = 32
    @Option(help: "Margin α of the triplet (default 0.5) or contrastive (default 1) loss.") var margin: Float?
    @Option(help: "Model name (see `convkit models`; default lenet5, yolo_tiny for detect).") var model: String?
    @Option(help: "Dataset folder: MNIST's IDX layout (default: the bundled Data/mnist5k); for detect a YOLO or COCO folder (default: the generated digits set).") var data: String?
    @Option(help: "Epochs (1…10000; default 40, \(DetectionTrainingDefaults.epochs) for detect).") var epochs: Int?
    @Option(name: .customLong("batch-size"), help: "Mini-batch size (1…65536; default 64, \(DetectionTrainingDefaults.batchSize) for detect).") var batchSize: Int?
    @Option(help: "Optimizer: \(OptimizerChoice.allCases.map(\.rawValue).joined(separator: ", ")).") var optimizer = OptimizerChoice.adam
    @Option(name: .customLong("lr"), help: "Learning rate (0 < lr ≤ 10; default 0.002, 0.001 for siamese).") var lrOption: Float?
    @Option(help: "Learning-rate schedule: constant, cosine, step (×0.1 every third of the run).") var schedule = "cosine"
    @Option(help: "Comma-separated augmentations (mirror, crop, rotate, shear, shift, zoom, elastic, color; NAME=VALUE to tune) or none.")
    var augment = "rotate=12,shift=0.1,zoom=0.1,shear=0.15"
    @Option(help: "Seed for initialization, shuffling and augmentation.") var seed: UInt64 = 1
    @OptionGroup var threadOptions: ThreadOptions
    @Option(help: "Output folder for the checkpoint and report.") var out = "runs/latest"
    @Flag(help: "End with one JSON line of results.") var json = false

    func validate() throws {
        if let epochs, !(1...10_000).contains(epochs) { throw ValidationError("--epochs must be in 1…10000, found \(epochs)") }
        if let batchSize, !(1...65_536).contains(batchSize) { throw ValidationError("--batch-size must be in 1…65536, found \(batchSize)") }
        if let lr = lrOption { guard lr > 0 && lr <= 10 && lr.isFinite else { throw ValidationError("--lr must be in (0, 10], found \(lr)") } }
        guard ["constant", "cosine", "step"].contains(schedule) else {
            throw ValidationError("--schedule must be constant, cosine or step, found \(schedule)")
        }
    }

    /// The learning rate of every task but siamese.
    var lr: Float { lrOption ?? 0.002 }

    func run() throws {
        threadOptions.apply()
        if task == .detect {
            try DetectionTraining(model: model ?? "yolo_tiny", data: data, epochs: epochs ?? DetectionTrainingDefaults.epochs,
                                  batchSize: batchSize ?? DetectionTrainingDefaults.batchSize, optimizer: optimizer, lr: lr,
                                  schedule: schedule, seed: seed, out: out, json: json).run()
            return
        }
        if task == .localize {
            try LocalizationTraining(epochs: epochs ?? 25, batchSize: batchSize ?? 64, lr: lr, seed: seed, out: out, json: json).run()
            return
        }
        if task == .siamese {
            guard let kind = SiameseTraining.LossKind(rawValue: loss) else {
                throw ConvKitError.invalidArgument(name: "--loss", expected: "triplet, contrastive or pairs", found: loss)
            }
            guard let m = TripletMining(rawValue: mining) else {
                throw ConvKitError.invalidArgument(name: "--mining", expected: "batch-hard or semi-hard", found: mining)
            }
            if let margin, !(margin.isFinite && margin > 0 && margin <= 10) {
                throw ConvKitError.invalidArgument(name: "--margin", expected: "a number in (0, 10]", found: "\(margin)")
            }
            try SiameseTraining(data: data, loss: kind, mining: m, margin: margin, epochs: epochs ?? 10, lr: lrOption ?? 0.001, seed: seed, out: out, json: json,
                                classAugmentation: classAugmentation).run()
            return
        }
        if task == .adding {
            let trainSize = self.trainSize ?? 20_000
            guard (100...1_000_000).contains(trainSize) else { throw ValidationError("--train-size must be in 100…1000000, found \(trainSize)") }
            try AddingProblem(length: length, epochs: epochs ?? 5, trainSize: trainSize, lr: lrOption ?? 0.002, seed: seed, json: json).run()
            return
        }
        if task == .timeseries {
            try TimeSeriesTraining(data: data, pixelSequences: pixelSequences, model: model ?? (pixelSequences != nil ? "tcn" : "fcn1d"),
                                   epochs: epochs ?? (pixelSequences != nil ? 20 : 300), batchSize: batchSize,
                                   lr: lrOption ?? (pixelSequences != nil ? 0.002 : 0.001), seed: seed, out: out, json: json).run()
            return
        }
        if task == .volume || task == .volumeSegment {
            try VolumeTraining(segment: task == .volumeSegment, side: side, trainSize: trainSize ?? 240, epochs: epochs ?? 12,
                               batchSize: batchSize ?? 4, lr: lrOption ?? 0.003, seed: seed, out: out, json: json).run()
            return
        }
        if task == .segment {
            try SegmentationTraining(data: data, epochs: epochs ?? 9, batchSize: batchSize ?? 16, lr: lr, seed: seed, out: out, json: json).run()
            return
        }
        if task == .rcnn {
            try RCNNTraining(data: data, epochs: epochs ?? 8, batchSize: batchSize ?? 128, lr: lr, seed: seed, out: out, json: json).run()
            return
        }
        let epochs = self.epochs ?? 40, batchSize = self.batchSize ?? 64, model = self.model ?? "lenet5"
        let augmentations = try augment.lowercased() == "none" ? [] : augment.split(separator: ",").map { try Augmentation.parse(String($0)) }
        guard let dataDir = data ?? Datasets.bundledDataDirectory().map({ $0 + "/mnist5k" }) else {
            throw ConvKitError.io(path: "Data/mnist5k", reason: "bundled data not found; run from the repository or pass --data DIR")
        }
        let splits = try Datasets.idxFolder(dataDir)
        ConvKitRandom.seed(seed)
        let (net, entry) = try ModelZoo.make(model, classes: splits.train.classNames.count, inputChannels: splits.train.imageShape[0])
        let imageShape = splits.train.imageShape
        try entry.validate(input: imageShape)
        let stats = splits.train.channelStatistics()
        let mean = stats.mean.map { $0 / 255 }, std = stats.std.map { Swift.max($0 / 255, 1e-3) }
        let prepare: (Tensor) -> Tensor = { Preprocessing.standardize(Preprocessing.scaleToUnit($0), mean: mean, std: std) }
        let fill = -mean[0] / std[0]   // the background (0) after standardization
        let trainLoader = DataLoader(splits.train, batchSize: batchSize, shuffle: true, seed: seed) { x, rng in
            var y = prepare(x)
            for a in augmentations { y = a.apply(y, fill: fill, rng: &rng) }
            return y
        }
        let testLoader = DataLoader(splits.test, batchSize: 500, shuffle: false) { x, _ in prepare(x) }

        let opt = Optimizer(optimizer.rule, module: net, learningRate: lr)
        let sched: LearningRateSchedule = schedule == "cosine" ? .cosine(period: epochs) : schedule == "step" ? .step(size: Swift.max(1, epochs / 3), gamma: 0.1) : .constant
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let checkpoint = out + "/\(entry.name).safetensors"
        let input = ModelInput(model: entry.name, shape: imageShape, mean: mean, std: std, classes: splits.train.classNames)
        let trainer = Trainer(model: net, optimizer: opt, schedule: sched,
                              callbacks: [CheckpointEvery(every: Swift.max(1, epochs / 5), path: checkpoint, metadata: input.metadata)])
        let progress = ProgressDisplay(epochs: epochs, quiet: false)
        let start = Date()
        try trainer.fit(epochs: epochs, batchesPerEpoch: trainLoader.count, train: { _ in trainLoader }, validation: { testLoader },
                        progress: progress.batch, epochEnd: progress.epoch)
        let wall = Date().timeIntervalSince(start)
        let trainSeconds = trainer.history.reduce(0) { $0 + $1.trainSeconds }
        try Checkpoint.save(net, optimizer: opt, epoch: epochs, metadata: input.metadata, to: checkpoint)
        let result = trainer.evaluate(testLoader)
        let imagesPerSecond = Double(splits.train.count * trainer.history.count) / Swift.max(trainSeconds, 1e-9)
        let pictures = try ReportVisualizations.write(net: net, input: input, test: splits.test, to: out)
        let report = try TrainingReport(model: entry.name, dataset: splits.name, history: trainer.history, evaluation: result,
                                        test: splits.test, classNames: splits.test.classNames, pictures: pictures).write(to: out)
        let summary = String(format: "test accuracy %.2f%%, test loss %.4f, %.0f images/s, %.1f s; checkpoint %@, report %@",
                             result.accuracy * 100, result.loss, imagesPerSecond, wall, checkpoint, report)
        FileHandle.standardError.write((summary + "\n").data(using: .utf8)!)
        if json {
            let obj: [String: Any] = ["model": entry.name, "dataset": splits.name, "epochs": trainer.history.count,
                                      "train_accuracy": Double(trainer.history.last?.trainAccuracy ?? 0), "test_accuracy": Double(result.accuracy),
                                      "test_loss": Double(result.loss), "images_per_second": imagesPerSecond, "wall_seconds": wall,
                                      "checkpoint": checkpoint]
            print(String(data: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), encoding: .utf8)!)
        }
    }
}
