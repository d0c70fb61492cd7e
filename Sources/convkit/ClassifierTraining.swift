import ArgumentParser
import ConvKit
import ConvKitData
import ConvKitModels
import Foundation

/// Everything that defines a classification run: stored in its resumable checkpoint so `--resume RUN_DIR`
/// rebuilds the same data, model, optimizer and schedule.
struct ClassifierRunConfig: Codable, Equatable {
    var model: String
    /// The dataset path (nil: the bundled MNIST-5k).
    var data: String?
    var epochs: Int
    var batchSize: Int
    var optimizer: String
    var lr: Float
    var schedule: String
    var augment: String
    var seed: UInt64
    /// Fraction of each training class held out for validation (0: validate on nothing, select the last epoch).
    var valSplit: Double
    /// Fraction of each class held out as the test split when the data has none.
    var testSplit: Double
    /// Epochs without a better validation loss before stopping (nil: never stop early).
    var patience: Int?
    /// Steps between resumable checkpoints (0: at epoch ends only).
    var checkpointEvery: Int
    var threads: Int?
    var dataOptions: TrainingDataOptions
}

/// The classify task: a zoo model trained on IDX, class-folder or CSV data with a validation split carved from the
/// training data for the per-epoch report, early stopping and choosing the checkpoint, the test split evaluated
/// once at the end, and exact resume from `RUN_DIR/resume.safetensors`.
struct ClassifierTraining {
    var config: ClassifierRunConfig
    var out: String
    var json: Bool
    /// The checkpoint to resume from, when resuming.
    var resume: String?

    static let resumeFile = "resume.safetensors"

    /// Reads the configuration stored in a run's resumable checkpoint.
    static func config(ofRun dir: String) throws -> ClassifierRunConfig {
        let path = dir + "/" + resumeFile
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConvKitError.io(path: path, reason: "no resumable checkpoint (a run of convkit train --task classify writes one)")
        }
        let meta = try Safetensors.load(path).metadata
        guard let text = meta["run_config"] else {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "metadata \"run_config\"", found: "none")
        }
        do { return try JSONDecoder().decode(ClassifierRunConfig.self, from: Data(text.utf8)) } catch {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "a classification run's configuration", found: "\(error)")
        }
    }

    func run() throws {
        let c = config
        if let t = c.threads { Parallel.threads = t }
        guard let dataPath = c.data ?? Datasets.bundledDataDirectory().map({ $0 + "/mnist5k" }) else {
            throw ConvKitError.io(path: "Data/mnist5k", reason: "bundled data not found; run from the repository or pass --data DIR")
        }
        let source = try TrainingData.load(dataPath, options: c.dataOptions)
        var train = source.train
        let test: LabeledImages
        if let t = source.test { test = t } else {
            (train, test) = TrainingData.stratifiedSplit(train, fraction: c.testSplit, seed: SeededGenerator.derive(c.seed, 1))
            note("\(source.name) has no test split: \(test.count) images (\(Int(c.testSplit * 100)) % of each class) held out as the test split")
        }
        var validation: LabeledImages?
        if c.valSplit > 0 {
            let (kept, held) = TrainingData.stratifiedSplit(train, fraction: c.valSplit, seed: SeededGenerator.derive(c.seed, 2))
            train = kept; validation = held
        }
        guard train.count > 0, test.count > 0 else {
            throw ConvKitError.invalidArgument(name: "--data \(dataPath)", expected: "training and test images", found: "\(train.count) and \(test.count)")
        }
        let augmentations = try c.augment.lowercased() == "none" ? [] : c.augment.split(separator: ",").map { try Augmentation.parse(String($0)) }
        ConvKitRandom.seed(c.seed)
        let (net, entry) = try ModelZoo.make(c.model, classes: train.classNames.count, inputChannels: train.imageShape[0])
        let imageShape = train.imageShape
        try entry.validate(input: imageShape)
        let stats = train.channelStatistics()
        let mean = stats.mean.map { $0 / 255 }, std = stats.std.map { Swift.max($0 / 255, 1e-3) }
        let prepare: (Tensor) -> Tensor = { Preprocessing.standardize(Preprocessing.scaleToUnit($0), mean: mean, std: std) }
        let fill = -mean[0] / std[0]   // the background (0) after standardization
        let trainLoader = DataLoader(train, batchSize: c.batchSize, shuffle: true, seed: c.seed) { x, rng in
            var y = prepare(x)
            for a in augmentations { y = a.apply(y, fill: fill, rng: &rng) }
            return y
        }
        let validationLoader = validation.map { v in DataLoader(v, batchSize: 500, shuffle: false) { x, _ in prepare(x) } }
        let testLoader = DataLoader(test, batchSize: 500, shuffle: false) { x, _ in prepare(x) }

        guard let choice = OptimizerChoice(rawValue: c.optimizer) else {
            throw ConvKitError.invalidArgument(name: "optimizer", expected: OptimizerChoice.allCases.map(\.rawValue).joined(separator: ", "), found: c.optimizer)
        }
        let opt = Optimizer(choice.rule, module: net, learningRate: c.lr)
        let sched: LearningRateSchedule = c.schedule == "cosine" ? .cosine(period: c.epochs) : c.schedule == "step" ? .step(size: Swift.max(1, c.epochs / 3), gamma: 0.1) : .constant
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        removeStaleTemporaries(in: out)
        let checkpoint = out + "/\(entry.name).safetensors", resumePath = out + "/" + ClassifierTraining.resumeFile
        let input = ModelInput(model: entry.name, shape: imageShape, mean: mean, std: std, classes: train.classNames)
        var callbacks: [TrainingCallback] = []
        if let p = c.patience { callbacks.append(EarlyStopping(patience: p)) }
        let best = BestValidationCheckpoint(path: checkpoint, metadata: input.metadata)
        if validation != nil { callbacks.append(best) }
        let trainer = Trainer(model: net, optimizer: opt, schedule: sched, callbacks: callbacks)
        trainer.stepSeed = c.seed

        var start = TrainingPosition()
        if let resume {
            let meta = try Checkpoint.load(resume, into: net, optimizer: opt)
            start = try Checkpoint.trainingPosition(in: meta, path: resume)
            note("resuming \(out) at epoch \(start.epoch + 1), batch \(start.batch) of \(trainLoader.count)")
        }
        let configJSON = String(decoding: try JSONEncoder().encode(c), as: UTF8.self)
        var resumeMeta = input.metadata
        resumeMeta["run_config"] = configJSON
        let progress = ProgressDisplay(epochs: c.epochs, quiet: false)
        let wallStart = Date()
        if !start.stopped {
            try trainer.fit(epochs: c.epochs, batchesPerEpoch: trainLoader.count, from: start,
                            train: { e, b in trainLoader.epoch(e, from: b) }, validation: validationLoader.map { l in { l } },
                            progress: progress.batch, epochEnd: progress.epoch,
                            stepEnded: { p in
                                if p.batch == 0 || (c.checkpointEvery > 0 && p.batch % c.checkpointEvery == 0) {
                                    try Checkpoint.save(net, optimizer: opt, position: p, metadata: resumeMeta, to: resumePath)
                                }
                            })
        }
        let wall = Date().timeIntervalSince(wallStart)
        // The checkpoint kept is the epoch of best validation accuracy; without validation, the last.
        var selectedEpoch = trainer.history.count
        if validation != nil, let e = BestValidationCheckpoint.bestEpoch(trainer.history), FileManager.default.fileExists(atPath: checkpoint) {
            try Checkpoint.load(checkpoint, into: net)
            selectedEpoch = e + 1
        } else {
            var meta = input.metadata
            meta["selected_epoch"] = String(selectedEpoch)
            try Checkpoint.save(net, optimizer: opt, epoch: selectedEpoch, metadata: meta, to: checkpoint)
        }
        let result = trainer.evaluate(testLoader)
        let trainSeconds = trainer.history.reduce(0) { $0 + $1.trainSeconds }
        let imagesPerSecond = Double(train.count * trainer.history.count) / Swift.max(trainSeconds, 1e-9)
        let pictures = try ReportVisualizations.write(net: net, input: input, test: test, to: out)
        let report = try TrainingReport(model: entry.name, dataset: source.name, history: trainer.history, evaluation: result,
                                        test: test, classNames: test.classNames, pictures: pictures).write(to: out)
        let summary = String(format: "test accuracy %.2f%% (checkpoint of epoch %d of %d), test loss %.4f, %.0f images/s, %.1f s; checkpoint %@, report %@",
                             result.accuracy * 100, selectedEpoch, trainer.history.count, result.loss, imagesPerSecond, wall, checkpoint, report)
        note(summary)
        if json {
            var obj: [String: Any] = ["model": entry.name, "dataset": source.name, "layout": source.layout, "epochs": trainer.history.count,
                                      "selected_epoch": selectedEpoch, "train_images": train.count, "test_images": test.count,
                                      "train_accuracy": Double(trainer.history.last?.trainAccuracy ?? 0), "test_accuracy": Double(result.accuracy),
                                      "test_loss": Double(result.loss), "images_per_second": imagesPerSecond, "wall_seconds": wall,
                                      "checkpoint": checkpoint, "resume_checkpoint": resumePath]
            if let validation, let v = trainer.history.last?.validationAccuracy {
                obj["validation_images"] = validation.count
                obj["validation_accuracy"] = Double(v)
            }
            print(String(data: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), encoding: .utf8)!)
        }
    }

    func note(_ s: String) { FileHandle.standardError.write((s + "\n").data(using: .utf8)!) }

    /// Temporary files of atomic writes a killed run left behind (never a file a user had).
    func removeStaleTemporaries(in dir: String) {
        for f in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where f.hasPrefix(".") && f.contains(".tmp-") {
            try? FileManager.default.removeItem(atPath: dir + "/" + f)
        }
    }
}

/// Writes the model whenever an epoch's validation accuracy beats every earlier epoch's (ties: lower validation
/// loss), atomically: the file always holds the best epoch so far.
final class BestValidationCheckpoint: TrainingCallback {
    let path: String, metadata: [String: String]
    init(path: String, metadata: [String: String]) { self.path = path; self.metadata = metadata }

    /// The 0-based epoch of the best validation accuracy (ties: lower loss, then earlier).
    static func bestEpoch(_ history: [EpochRecord]) -> Int? {
        var best: EpochRecord?
        for r in history {
            guard let a = r.validationAccuracy else { continue }
            if let b = best, let ba = b.validationAccuracy, a < ba || (a == ba && (r.validationLoss ?? .infinity) >= (b.validationLoss ?? .infinity)) { continue }
            best = r
        }
        return best?.epoch
    }

    func epochEnded(_ r: EpochRecord, trainer: Trainer) throws -> Bool {
        if BestValidationCheckpoint.bestEpoch(trainer.history) == r.epoch {
            var meta = metadata
            meta["selected_epoch"] = String(r.epoch + 1)
            try Checkpoint.save(trainer.model, epoch: r.epoch + 1, metadata: meta, to: path)
        }
        return true
    }
}

extension TrainingDataOptions.ResizePolicy: ExpressibleByArgument {}
