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
    @Option(help: "For --task timeseries: MNIST as 784-step pixel sequences, sequential or permuted (the TCN paper's benchmarks; --data an IDX folder, default the bundled MNIST-5k; the images take --augment before they are flattened, --augment none for the paper's setting).") var pixelSequences: String?
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
    @Option(name: .customLong("val-split"), help: "For classify: fraction of each training class held out for validation — the per-epoch report, early stopping and the checkpoint kept (0…0.9; default 0.1; 0: none, the last epoch is kept).") var valSplit = 0.1
    @Option(name: .customLong("test-split"), help: "For classify data without a test split (class folders, one CSV): fraction of each class held out as the test split, evaluated once at the end (0.05…0.9; default 0.2).") var testSplit = 0.2
    @Option(help: "For classify: stop after this many epochs without a better validation loss (1…10000).") var patience: Int?
    @Option(name: .customLong("checkpoint-every"), help: "For classify: steps between resumable checkpoints (RUN_DIR/resume.safetensors, written atomically; 0: at epoch ends only).") var checkpointEvery = 0
    @Option(help: "For classify: continue the run in this folder (its resume.safetensors) exactly where it stopped; its options are used, --epochs may extend it.") var resume: String?
    @Option(name: .customLong("image-size"), help: "For class folders: H,W (or S) the images are brought to (default: the first image's size).") var imageSize: String?
    @Option(help: "For class folders: stretch (resize to H×W) or crop (keep the aspect ratio, cover H×W, crop the centre).") var resize = TrainingDataOptions.ResizePolicy.stretch
    @Option(name: .customLong("image-shape"), help: "For CSV rows: C,H,W of the pixels (default: inferred, s² → 1×s×s, 3·s² → 3×s×s).") var imageShape: String?
    @Option(help: "The largest raw value of the data (default 255; the 8×8 digits: 16). Values outside 0…MAX are an error.") var scale: Float?
    @Option(help: "Declared classes: a count K (integer labels 0..<K) or comma-separated names in index order.") var classes: String?
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
        guard valSplit.isFinite, (0...0.9).contains(valSplit) else { throw ValidationError("--val-split must be in 0…0.9, found \(valSplit)") }
        guard testSplit.isFinite, (0.05...0.9).contains(testSplit) else { throw ValidationError("--test-split must be in 0.05…0.9, found \(testSplit)") }
        if let patience, !(1...10_000).contains(patience) { throw ValidationError("--patience must be in 1…10000, found \(patience)") }
        guard (0...100_000_000).contains(checkpointEvery) else { throw ValidationError("--checkpoint-every must be in 0…100000000, found \(checkpointEvery)") }
        if let scale { guard scale.isFinite && scale > 0 else { throw ValidationError("--scale must be a positive number, found \(scale)") } }
        if let margin { guard margin.isFinite && margin > 0 && margin <= 10 else { throw ValidationError("--margin must be in (0, 10], found \(margin)") } }
        if resume != nil, task != .classify { throw ValidationError("--resume continues a classify run; found --task \(task.rawValue)") }
    }

    /// Integers from "A,B,…" (or one value repeated to `count`).
    func integers(_ text: String, option: String, count: Int, range: ClosedRange<Int>) throws -> [Int] {
        let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.allSatisfy({ $0 != nil && range.contains($0!) }), parts.count == count || (count == 2 && parts.count == 1) else {
            throw ConvKitError.invalidArgument(name: option, expected: "\(count) comma-separated integers in \(range.lowerBound)…\(range.upperBound)", found: text)
        }
        let v = parts.map { $0! }
        return v.count == count ? v : Array(repeating: v[0], count: count)
    }

    /// The classify run these options describe.
    func classifierConfig() throws -> ClassifierRunConfig {
        var declared: [String]?
        if let classes {
            let names = classes.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard !names.contains(""), Set(names).count == names.count else {
                throw ConvKitError.invalidArgument(name: "--classes", expected: "a count K or distinct comma-separated names", found: classes)
            }
            if names.count == 1, let k = Int(names[0]), !(2...100_000).contains(k) {
                throw ConvKitError.invalidArgument(name: "--classes", expected: "a count in 2…100000", found: classes)
            }
            declared = names
        }
        let options = TrainingDataOptions(imageSize: try imageSize.map { try integers($0, option: "--image-size", count: 2, range: 1...4096) },
                                          resize: resize,
                                          csvShape: try imageShape.map { try integers($0, option: "--image-shape", count: 3, range: 1...4096) },
                                          scale: scale, classes: declared)
        return ClassifierRunConfig(model: model ?? "lenet5", data: data, epochs: epochs ?? 40, batchSize: batchSize ?? 64, optimizer: optimizer.rawValue,
                                   lr: lr, schedule: schedule, augment: augment, seed: seed, valSplit: valSplit, testSplit: testSplit,
                                   patience: patience, checkpointEvery: checkpointEvery, threads: threadOptions.threads, dataOptions: options)
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
            var run = TimeSeriesTraining(data: data, pixelSequences: pixelSequences, model: model ?? (pixelSequences != nil ? "tcn" : "fcn1d"),
                                         epochs: epochs ?? (pixelSequences != nil ? 20 : 300), batchSize: batchSize,
                                         lr: lrOption ?? (pixelSequences != nil ? 0.002 : 0.001), seed: seed, out: out, json: json)
            // Pixel sequences are images: they take the image augmentations (the default set unless --augment none).
            if pixelSequences != nil, augment.lowercased() != "none" {
                run.augmentations = try augment.split(separator: ",").map { try Augmentation.parse(String($0)) }
            }
            try run.run()
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
        if let resume {
            var config = try ClassifierTraining.config(ofRun: resume)
            if let epochs { config.epochs = epochs }
            if let t = threadOptions.threads { config.threads = t }
            try ClassifierTraining(config: config, out: resume, json: json, resume: resume + "/" + ClassifierTraining.resumeFile).run()
            return
        }
        _ = try augment.lowercased() == "none" ? [] : augment.split(separator: ",").map { try Augmentation.parse(String($0)) }
        try ClassifierTraining(config: try classifierConfig(), out: out, json: json, resume: nil).run()
    }
}
