import ConvKit
import ConvKitData
import XCTest

/// A run interrupted mid-epoch and resumed from its checkpoint into a model built with other initial weights ends
/// with exactly the parameters of the uninterrupted run: data order, augmentation, dropout masks, batch-norm
/// statistics, optimizer moments and the learning-rate schedule all continue where they were.
final class ExactResumeTests: XCTestCase {
    struct Interrupted: Error {}

    func model(seed: UInt64) -> Sequential {
        ConvKitRandom.seed(seed)
        return Sequential(Conv2D(1, 4, kernel: 3, padding: .same, bias: false), BatchNorm(4), ActivationLayer(.relu), MaxPool(2),
                          Dropout(0.3), Flatten(), Dense(4 * 4 * 4, 16, activation: .relu), Dropout(0.5), Dense(16, 3))
    }

    func data() throws -> LabeledImages {
        var rng = SeededGenerator(seed: 7)
        let images = Tensor.uniform([60, 1, 8, 8], low: 0, high: 255, rng: &rng)
        return try LabeledImages(images: images, labels: (0..<60).map { $0 % 3 }, classNames: ["a", "b", "c"])
    }

    /// Trains 3 epochs (cosine schedule, AdamW, augmentation); with `stopAfter`, throws after that many steps
    /// (after the checkpoint of that step), then resumes into a fresh model of other weights.
    func train(stopAfter: Int?, checkpoint: String) throws -> [String: Tensor] {
        let set = try data()
        let loader = DataLoader(set, batchSize: 8, shuffle: true, seed: 11) { x, rng in
            Augmentation.shift(0.2).apply(x * (1 / 255), fill: 0, rng: &rng)
        }
        func run(_ net: Sequential, from start: TrainingPosition?, stopAfter: Int?) throws -> Optimizer {
            let opt = Optimizer(.adamW(), module: net, learningRate: 0.01, weightDecay: 0.01)
            var position = TrainingPosition()
            if let start {
                let meta = try Checkpoint.load(checkpoint, into: net, optimizer: opt)
                position = try Checkpoint.trainingPosition(in: meta, path: checkpoint)
                XCTAssertEqual(position, start)
            }
            let trainer = Trainer(model: net, optimizer: opt, schedule: .cosine(period: 3))
            trainer.stepSeed = 5
            var steps = 0
            try trainer.fit(epochs: 3, batchesPerEpoch: loader.count, from: position, train: { loader.epoch($0, from: $1) },
                            validation: Optional<() -> [Batch]>.none, stepEnded: { p in
                try Checkpoint.save(net, optimizer: opt, position: p, to: checkpoint)
                steps += 1
                if let stopAfter, steps == stopAfter { throw Interrupted() }
            })
            return opt
        }
        let net = model(seed: 1)
        do { _ = try run(net, from: nil, stopAfter: stopAfter) } catch is Interrupted {
            let meta = try Safetensors.load(checkpoint).metadata
            let saved = try Checkpoint.trainingPosition(in: meta, path: checkpoint)
            XCTAssertGreaterThan(saved.batch, 0, "interrupted mid-epoch")
            let fresh = model(seed: 99)
            XCTAssertNotEqual(fresh.namedParameters()[0].1.value.scalars, net.namedParameters()[0].1.value.scalars)
            _ = try run(fresh, from: saved, stopAfter: nil)
            return Dictionary(uniqueKeysWithValues: fresh.namedParameters().map { ($0.0, $0.1.value) } + fresh.namedBuffers().map { ($0.0, $0.1.value) })
        }
        return Dictionary(uniqueKeysWithValues: net.namedParameters().map { ($0.0, $0.1.value) } + net.namedBuffers().map { ($0.0, $0.1.value) })
    }

    func testResumingMidEpochReproducesTheUninterruptedRunBitForBit() throws {
        let dir = NSTemporaryDirectory() + "convkit-resume-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let straight = try train(stopAfter: nil, checkpoint: dir + "/a.safetensors")
        for stop in [3, 11, 13] {   // mid-epoch in epochs 1, 2 and 2 (8 batches per epoch: 7 mid-epoch steps, then the epoch end)
            let resumed = try train(stopAfter: stop, checkpoint: dir + "/b\(stop).safetensors")
            XCTAssertEqual(resumed.keys.sorted(), straight.keys.sorted())
            for (k, v) in straight {
                XCTAssertEqual(resumed[k]!.scalars.map(\.bitPattern), v.scalars.map(\.bitPattern), "\(k) after an interruption at step \(stop)")
            }
        }
    }

    /// Dropout masks follow the step, not the history of calls: reseeding for a step gives that step's mask again.
    func testStochasticLayersAreReseededPerStep() {
        let net = model(seed: 1)
        net.train()
        let x = Variable(Tensor(repeating: 1, shape: [2, 1, 8, 8]))
        net.reseedStochasticLayers(SeededGenerator.derive(5, 0, 3))
        let a = net(x).value.scalars
        _ = net(x)
        net.reseedStochasticLayers(SeededGenerator.derive(5, 0, 3))
        XCTAssertEqual(net(x).value.scalars, a)
        net.reseedStochasticLayers(SeededGenerator.derive(5, 0, 4))
        XCTAssertNotEqual(net(x).value.scalars, a)
    }

    /// A loader's epoch from batch b is the tail of the same epoch from batch 0.
    func testLoaderEpochsResumeAtAnyBatch() throws {
        let loader = DataLoader(try data(), batchSize: 7, shuffle: true, seed: 3) { x, rng in Augmentation.shift(0.2).apply(x, fill: 0, rng: &rng) }
        let whole = Array(loader.epoch(2))
        XCTAssertEqual(whole.count, 9)
        let tail = Array(loader.epoch(2, from: 4))
        XCTAssertEqual(tail.count, 5)
        for (a, b) in zip(whole.dropFirst(4), tail) { XCTAssertEqual(a.images.scalars, b.images.scalars); XCTAssertEqual(a.labels, b.labels) }
        XCTAssertNotEqual(Array(loader.epoch(3)).first?.labels, whole.first?.labels)
    }
}
