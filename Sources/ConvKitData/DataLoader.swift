import ConvKit
import Dispatch
import Foundation

/// Iterates a dataset in mini-batches: seeded shuffling per epoch, optional drop-last, a per-sample
/// transform (preprocessing and augmentation), and the next batch prepared on a background thread while
/// the current one trains.
public final class DataLoader: Sequence {
    public let data: LabeledImages
    public let batchSize: Int
    public let shuffle: Bool
    public let dropLast: Bool
    /// Applied to each image [C, H, W] (raw values) with the loader's generator; returns the model input.
    public let transform: (Tensor, inout SeededGenerator) -> Tensor
    var rng: SeededGenerator
    let seed: UInt64

    public init(_ data: LabeledImages, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false, seed: UInt64 = 0,
                transform: @escaping (Tensor, inout SeededGenerator) -> Tensor = { x, _ in x }) {
        precondition(batchSize > 0, "batch size must be positive")
        self.data = data; self.batchSize = batchSize; self.shuffle = shuffle; self.dropLast = dropLast
        self.transform = transform
        rng = SeededGenerator(seed: seed)
        self.seed = seed
    }

    /// Batches per epoch.
    public var count: Int { dropLast ? data.count / batchSize : (data.count + batchSize - 1) / batchSize }

    /// One epoch. Each call draws a new order from the loader's generator (so epochs differ, but a
    /// run with the same seed repeats exactly).
    public func makeIterator() -> Iterator {
        let order = shuffle ? Tensor.permutation(data.count, rng: &rng) : Array(0..<data.count)
        // Each batch gets its own generator derived from the loader's, so the background thread and the
        // order of preparation cannot change what a batch contains.
        let seeds = (0..<count).map { _ in rng.next() }
        return Iterator(loader: self, order: order, seeds: seeds, start: 0)
    }

    /// Epoch `epoch`'s batches from `firstBatch` on, as a pure function of (seed, epoch): the order and every batch's
    /// augmentation seed are derived from those numbers alone, so a run resumed mid-epoch sees the very batches an
    /// uninterrupted run saw. (Iterating the loader itself draws epochs from one running generator instead.)
    public func epoch(_ epoch: Int, from firstBatch: Int = 0) -> Iterator {
        var g = SeededGenerator(seed: SeededGenerator.derive(seed, UInt64(epoch)))
        let order = shuffle ? Tensor.permutation(data.count, rng: &g) : Array(0..<data.count)
        let seeds = (0..<count).map { SeededGenerator.derive(seed, UInt64(epoch), UInt64($0)) }
        return Iterator(loader: self, order: order, seeds: seeds, start: Swift.min(Swift.max(firstBatch, 0), seeds.count))
    }

    func makeBatch(_ b: Int, order: [Int], seed: UInt64) -> Batch {
        let idx = Array(order[(b * batchSize)..<Swift.min(order.count, (b + 1) * batchSize)])
        var g = SeededGenerator(seed: seed)
        let samples = idx.map { transform(data.image($0), &g) }
        let shape = samples[0].shape
        let per = shape.reduce(1, *)
        let images = Tensor(shape: [samples.count] + shape) { o in
            for (j, s) in samples.enumerated() {
                precondition(s.shape == shape, "transform produced \(s.shape) and \(shape) in one batch")
                s.withUnsafeBufferPointer { p in for k in 0..<per { o[j * per + k] = p[k] } }
            }
        }
        return Batch(images: images, labels: idx.map { data.labels[$0] })
    }

    public struct Iterator: IteratorProtocol, Sequence {
        let loader: DataLoader
        let order: [Int]
        let seeds: [UInt64]
        var position = 0
        var pending: (DispatchGroup, Box)?

        final class Box { var batch: Batch? }

        init(loader: DataLoader, order: [Int], seeds: [UInt64], start: Int) {
            self.loader = loader; self.order = order; self.seeds = seeds
            position = start
            pending = prepare(start)
        }

        func prepare(_ b: Int) -> (DispatchGroup, Box)? {
            guard b < seeds.count else { return nil }
            let group = DispatchGroup(), box = Box()
            let (loader, order, seed) = (self.loader, self.order, seeds[b])
            DispatchQueue.global(qos: .userInitiated).async(group: group) { box.batch = loader.makeBatch(b, order: order, seed: seed) }
            return (group, box)
        }

        public mutating func next() -> Batch? {
            guard let (group, box) = pending else { return nil }
            group.wait()
            position += 1
            pending = prepare(position)
            return box.batch
        }
    }
}
