import Foundation

/// A mini-batch: images [B, C, H, W] ready for the model, and their labels.
public struct Batch {
    public var images: Tensor
    public var labels: [Int]
    public init(images: Tensor, labels: [Int]) { self.images = images; self.labels = labels }
}

/// What one pass over a dataset measured.
public struct EvaluationResult {
    public var loss: Float
    public var accuracy: Float
    /// Fraction of samples whose label is among the k highest scores, for k = 1…5.
    public var topK: [Int: Float]
    /// confusion[true][predicted]
    public var confusion: [[Int]]
    /// (sample index in pass order, true label, predicted label, probability of the prediction) for mistakes.
    public var mistakes: [(index: Int, label: Int, predicted: Int, probability: Float)]
    public var count: Int
}

/// One epoch's record.
public struct EpochRecord: Codable, Equatable {
    public var epoch: Int
    public var trainLoss: Float
    public var trainAccuracy: Float
    public var validationLoss: Float?
    public var validationAccuracy: Float?
    public var learningRate: Float
    /// Wall time of the epoch, and of its training part alone (without the validation pass).
    public var seconds: Double
    public var trainSeconds: Double
}

/// Hooks into training. Return false from `epochEnded` to stop (early stopping).
public protocol TrainingCallback: AnyObject {
    func epochEnded(_ record: EpochRecord, trainer: Trainer) throws -> Bool
    /// Called once when a run resumes, with the epochs already done, so a callback can rebuild what it had
    /// learned from them (the best loss so far, epochs without improvement).
    func restore(from history: [EpochRecord])
}

extension TrainingCallback {
    public func restore(from history: [EpochRecord]) {}
}

/// Stops when the validation loss (or training loss without validation) has not improved by `minDelta`
/// for `patience` epochs.
public final class EarlyStopping: TrainingCallback {
    public let patience: Int, minDelta: Float
    var best = Float.infinity, bad = 0
    public init(patience: Int = 3, minDelta: Float = 0) { self.patience = patience; self.minDelta = minDelta }
    public func epochEnded(_ r: EpochRecord, trainer: Trainer) -> Bool { observe(r) }
    func observe(_ r: EpochRecord) -> Bool {
        let v = r.validationLoss ?? r.trainLoss
        if v < best - minDelta { best = v; bad = 0 } else { bad += 1 }
        return bad < patience
    }
    public func restore(from history: [EpochRecord]) {
        best = .infinity; bad = 0
        for r in history { _ = observe(r) }
    }
}

/// Saves a checkpoint (model and optimizer) every `every` epochs, atomically.
public final class CheckpointEvery: TrainingCallback {
    public let every: Int, path: String
    public let metadata: [String: String]
    public init(every: Int = 1, path: String, metadata: [String: String] = [:]) { self.every = every; self.path = path; self.metadata = metadata }
    public func epochEnded(_ r: EpochRecord, trainer: Trainer) throws -> Bool {
        if (r.epoch + 1) % every == 0 {
            try Checkpoint.save(trainer.model, optimizer: trainer.optimizer, epoch: r.epoch + 1, metadata: metadata, to: path)
        }
        return true
    }
}

/// The training loop for the common case: epochs over mini-batches, a validation pass, metrics, a
/// learning-rate schedule and callbacks. A custom loop needs none of it: call the model, a loss,
/// `backward()` and `optimizer.step()` directly.
public final class Trainer {
    public let model: any UnaryLayer
    public let optimizer: Optimizer
    public var schedule: LearningRateSchedule
    public var callbacks: [TrainingCallback]
    /// Loss from logits and labels (default: softmax cross-entropy).
    public var loss: (Variable, [Int]) -> Variable = { Loss.crossEntropy($0, labels: $1) }
    public private(set) var history: [EpochRecord] = []
    let baseRates: [Float]

    public init(model: any UnaryLayer, optimizer: Optimizer, schedule: LearningRateSchedule = .constant, callbacks: [TrainingCallback] = []) {
        self.model = model; self.optimizer = optimizer; self.schedule = schedule; self.callbacks = callbacks
        baseRates = optimizer.groups.map(\.learningRate)
    }

    /// Progress of one batch: (epoch, batch index, batches per epoch, running loss, running accuracy).
    public typealias Progress = (_ epoch: Int, _ batch: Int, _ batches: Int, _ loss: Float, _ accuracy: Float) -> Void

    /// When set, every `StochasticLayer` (dropout) is reseeded before each step from (seed, epoch, batch), so a
    /// run resumed at any step draws the masks the uninterrupted run drew.
    public var stepSeed: UInt64?

    /// Trains for `epochs`; `train(epoch)` returns that epoch's batches, `validation()` the validation batches.
    public func fit<S: Sequence, V: Sequence>(epochs: Int, batchesPerEpoch: Int, train: (Int) -> S, validation: (() -> V)?,
                                              progress: Progress? = nil, epochEnd: ((EpochRecord) -> Void)? = nil) throws
        where S.Element == Batch, V.Element == Batch {
        try fit(epochs: epochs, batchesPerEpoch: batchesPerEpoch, from: TrainingPosition(), train: { e, _ in train(e) },
                validation: validation, progress: progress, epochEnd: epochEnd)
    }

    /// Trains from `start` (a fresh position, or one saved by a resumable checkpoint) up to `epochs`.
    /// `train(epoch, firstBatch)` returns that epoch's batches from `firstBatch` on — the same batches an
    /// uninterrupted epoch would reach there. `stepEnded` sees the position after every step (checkpoints every N
    /// steps hang here); it is called before the epoch's validation pass, and again with `batch == 0` of the next
    /// epoch once the epoch's record is in `history`.
    public func fit<S: Sequence, V: Sequence>(epochs: Int, batchesPerEpoch: Int, from start: TrainingPosition,
                                              train: (_ epoch: Int, _ firstBatch: Int) -> S, validation: (() -> V)?,
                                              progress: Progress? = nil, epochEnd: ((EpochRecord) -> Void)? = nil,
                                              stepEnded: ((TrainingPosition) throws -> Void)? = nil) throws
        where S.Element == Batch, V.Element == Batch {
        var position = start
        history = start.history
        for c in callbacks { c.restore(from: history) }
        while position.epoch < epochs {
            let epoch = position.epoch
            for (i, base) in baseRates.enumerated() { optimizer.groups[i].learningRate = schedule.rate(at: epoch, base: base) }
            model.train()
            let start = Date(), secondsBefore = position.trainSeconds
            for batch in train(epoch, position.batch) {
                if let stepSeed { model.reseedStochasticLayers(SeededGenerator.derive(stepSeed, UInt64(epoch), UInt64(position.batch))) }
                optimizer.zeroGrad()
                let logits = model(Variable(batch.images))
                let l = loss(logits, batch.labels)
                l.backward()
                optimizer.step()
                let n = batch.labels.count
                position.lossSum += l.value.scalar * Float(n); position.seen += n
                position.correct += zip(logits.value.argmax(axis: 1), batch.labels).filter { $0 == $1 }.count
                position.batch += 1
                position.trainSeconds = secondsBefore + Date().timeIntervalSince(start)
                progress?(epoch, position.batch, batchesPerEpoch, position.lossSum / Float(position.seen), Float(position.correct) / Float(position.seen))
                if position.batch < batchesPerEpoch { try stepEnded?(position) }
            }
            let seen = Float(Swift.max(position.seen, 1))
            var record = EpochRecord(epoch: epoch, trainLoss: position.lossSum / seen, trainAccuracy: Float(position.correct) / seen,
                                     learningRate: optimizer.groups.first?.learningRate ?? 0, seconds: 0,
                                     trainSeconds: position.trainSeconds)
            let validationStart = Date()
            if let validation {
                let r = evaluate(validation())
                record.validationLoss = r.loss; record.validationAccuracy = r.accuracy
            }
            record.seconds = record.trainSeconds + Date().timeIntervalSince(validationStart)
            history.append(record)
            epochEnd?(record)
            var keepGoing = true
            for c in callbacks { if try !c.epochEnded(record, trainer: self) { keepGoing = false } }
            position = TrainingPosition(epoch: epoch + 1, history: history, stopped: !keepGoing)
            try stepEnded?(position)
            if !keepGoing { break }
        }
    }

    /// Loss, accuracy, top-k, the confusion matrix and the mistakes over `batches`, in evaluation mode.
    public func evaluate<S: Sequence>(_ batches: S) -> EvaluationResult where S.Element == Batch {
        Trainer.evaluate(model, batches, loss: loss)
    }

    public static func evaluate<S: Sequence>(_ model: any UnaryLayer, _ batches: S,
                                             loss: (Variable, [Int]) -> Variable = { Loss.crossEntropy($0, labels: $1) }) -> EvaluationResult
        where S.Element == Batch {
        model.eval()
        defer { model.train() }
        var lossSum: Float = 0, n = 0
        var topHits = [Int: Int]()
        var confusion = [[Int]]()
        var mistakes = [(index: Int, label: Int, predicted: Int, probability: Float)]()
        Autograd.withoutGradients {
            for batch in batches {
                let logits = model(Variable(batch.images))
                let k = logits.shape[1]
                if confusion.isEmpty { confusion = Array(repeating: Array(repeating: 0, count: k), count: k) }
                lossSum += loss(logits, batch.labels).value.scalar * Float(batch.labels.count)
                let probs = logits.value.softmax(axis: 1)
                for (i, label) in batch.labels.enumerated() {
                    let row = Array(probs.scalars[(i * k)..<((i + 1) * k)])
                    let ranked = row.indices.sorted { row[$0] > row[$1] }
                    for t in 1...Swift.min(5, k) where ranked.prefix(t).contains(label) { topHits[t, default: 0] += 1 }
                    if label < k { confusion[label][ranked[0]] += 1 }
                    if ranked[0] != label { mistakes.append((n + i, label, ranked[0], row[ranked[0]])) }
                }
                n += batch.labels.count
            }
        }
        let denom = Float(Swift.max(n, 1))
        return EvaluationResult(loss: lossSum / denom, accuracy: Float(topHits[1] ?? 0) / denom,
                                topK: topHits.mapValues { Float($0) / denom }, confusion: confusion, mistakes: mistakes, count: n)
    }
}

/// Where a run stands: the epoch in progress, how many of its batches are done and their running sums, the
/// records of the epochs before, and whether a callback stopped the run. With the weights, the optimizer state
/// and the run's seed this is everything a resumed run needs to continue exactly.
public struct TrainingPosition: Codable, Equatable {
    public var epoch: Int
    public var batch: Int
    public var lossSum: Float
    public var correct: Int
    public var seen: Int
    /// Training seconds of the epoch in progress so far.
    public var trainSeconds: Double
    public var history: [EpochRecord]
    /// True when early stopping ended the run at `epoch`.
    public var stopped: Bool

    public init(epoch: Int = 0, batch: Int = 0, lossSum: Float = 0, correct: Int = 0, seen: Int = 0, trainSeconds: Double = 0,
                history: [EpochRecord] = [], stopped: Bool = false) {
        self.epoch = epoch; self.batch = batch; self.lossSum = lossSum; self.correct = correct; self.seen = seen
        self.trainSeconds = trainSeconds; self.history = history; self.stopped = stopped
    }

    enum CodingKeys: String, CodingKey { case epoch, batch, lossSumBits = "loss_sum_bits", correct, seen, trainSeconds = "train_seconds", history, stopped }

    // The running loss sum is stored by its bit pattern: a decimal round trip must not change a resumed epoch's mean.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try c.decode(Int.self, forKey: .epoch); batch = try c.decode(Int.self, forKey: .batch)
        lossSum = Float(bitPattern: try c.decode(UInt32.self, forKey: .lossSumBits))
        correct = try c.decode(Int.self, forKey: .correct); seen = try c.decode(Int.self, forKey: .seen)
        trainSeconds = try c.decode(Double.self, forKey: .trainSeconds)
        history = try c.decode([EpochRecord].self, forKey: .history); stopped = try c.decode(Bool.self, forKey: .stopped)
        guard epoch >= 0, batch >= 0, correct >= 0, seen >= correct, history.count == epoch else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription:
                "a position with epoch \(epoch), batch \(batch), \(correct) of \(seen) correct and \(history.count) epoch records"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epoch, forKey: .epoch); try c.encode(batch, forKey: .batch); try c.encode(lossSum.bitPattern, forKey: .lossSumBits)
        try c.encode(correct, forKey: .correct); try c.encode(seen, forKey: .seen); try c.encode(trainSeconds, forKey: .trainSeconds)
        try c.encode(history, forKey: .history); try c.encode(stopped, forKey: .stopped)
    }
}
