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
public struct EpochRecord: Codable {
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
}

/// Stops when the validation loss (or training loss without validation) has not improved by `minDelta`
/// for `patience` epochs.
public final class EarlyStopping: TrainingCallback {
    public let patience: Int, minDelta: Float
    var best = Float.infinity, bad = 0
    public init(patience: Int = 3, minDelta: Float = 0) { self.patience = patience; self.minDelta = minDelta }
    public func epochEnded(_ r: EpochRecord, trainer: Trainer) -> Bool {
        let v = r.validationLoss ?? r.trainLoss
        if v < best - minDelta { best = v; bad = 0 } else { bad += 1 }
        return bad < patience
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

    /// Trains for `epochs`; `train(epoch)` returns that epoch's batches, `validation()` the validation batches.
    public func fit<S: Sequence, V: Sequence>(epochs: Int, batchesPerEpoch: Int, train: (Int) -> S, validation: (() -> V)?,
                                              progress: Progress? = nil, epochEnd: ((EpochRecord) -> Void)? = nil) throws
        where S.Element == Batch, V.Element == Batch {
        for epoch in 0..<epochs {
            for (i, base) in baseRates.enumerated() { optimizer.groups[i].learningRate = schedule.rate(at: epoch, base: base) }
            model.train()
            let start = Date()
            var lossSum: Float = 0, correct = 0, seen = 0, b = 0
            for batch in train(epoch) {
                optimizer.zeroGrad()
                let logits = model(Variable(batch.images))
                let l = loss(logits, batch.labels)
                l.backward()
                optimizer.step()
                let n = batch.labels.count
                lossSum += l.value.scalar * Float(n); seen += n
                correct += zip(logits.value.argmax(axis: 1), batch.labels).filter { $0 == $1 }.count
                b += 1
                progress?(epoch, b, batchesPerEpoch, lossSum / Float(seen), Float(correct) / Float(seen))
            }
            var record = EpochRecord(epoch: epoch, trainLoss: lossSum / Float(Swift.max(seen, 1)), trainAccuracy: Float(correct) / Float(Swift.max(seen, 1)),
                                     learningRate: optimizer.groups.first?.learningRate ?? 0, seconds: 0,
                                     trainSeconds: Date().timeIntervalSince(start))
            if let validation {
                let r = evaluate(validation())
                record.validationLoss = r.loss; record.validationAccuracy = r.accuracy
            }
            record.seconds = Date().timeIntervalSince(start)
            history.append(record)
            epochEnd?(record)
            var keepGoing = true
            for c in callbacks { if try !c.epochEnded(record, trainer: self) { keepGoing = false } }
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
