import ConvKit
import ConvKitData
import ConvKitModels
import ConvKitVision
import Foundation

/// `convkit train --task siamese`: one-shot learning measured on classes the encoder never saw (notes 004 §4.2–4.4).
/// The first 60 % of the classes (digits 0–5 of MNIST) train an `EmbeddingNet` from P×K batches with the triplet
/// loss (semi-hard or batch-hard mining; margin 0.5 by default), the contrastive loss, or the notes' pair classifier; the remaining classes
/// (6–9) are held out: τ is calibrated on their train-split images, and the test split's images give the ROC AUC,
/// EER, verification accuracy at τ and one-shot N-way accuracy (N = the number of held-out classes).
struct SiameseTraining {
    enum LossKind: String, CaseIterable { case triplet, contrastive, pairs }

    let data: String?
    let loss: LossKind
    let mining: TripletMining
    let margin: Float?
    let epochs: Int
    let lr: Float
    let seed: UInt64
    let out: String
    let json: Bool
    /// Six symmetries of each training image as classes of their own (`ClassAugmentation`).
    let classAugmentation: Bool

    func run() throws {
        guard let dir = data ?? Datasets.bundledDataDirectory().map({ $0 + "/mnist5k" }) else {
            throw ConvKitError.io(path: "Data/mnist5k", reason: "bundled data not found; run from the repository or pass --data DIR")
        }
        let splits = try Datasets.idxFolder(dir)
        let classes = splits.train.classNames.count
        guard classes >= 4 else { throw ConvKitError.invalidArgument(name: "--data", expected: "at least 4 classes (some seen, some held out)", found: "\(classes)") }
        let seen = Set(0..<Int((Double(classes) * 0.6).rounded())), unseen = Set(seen.count..<classes)
        let seenImages = splits.train.subset(splits.train.labels.indices.filter { seen.contains(splits.train.labels[$0]) })
        let train = classAugmentation ? try ClassAugmentation.expand(seenImages) : seenImages
        let validation = balanced(splits.train, classes: unseen, perClass: 100)
        let test = splits.test.subset(splits.test.labels.indices.filter { unseen.contains(splits.test.labels[$0]) })
        guard train.count > 0, validation.count > 0, test.count > 1 else {
            throw ConvKitError.invalidArgument(name: "--data", expected: "images of both the seen and the held-out classes in both splits", found: dir)
        }
        let stats = train.channelStatistics()
        let mean = stats.mean.map { $0 / 255 }, std = stats.std.map { max($0 / 255, 1e-3) }
        let c = train.imageShape[0]
        let meanT = Tensor(shape: [1, c, 1, 1], scalars: mean), stdT = Tensor(shape: [1, c, 1, 1], scalars: std)
        let prepare: (Tensor) -> Tensor = { (Preprocessing.scaleToUnit($0) - meanT) / stdT }   // a batch [N, C, H, W]

        ConvKitRandom.seed(seed)
        let net = EmbeddingNet(inputChannels: train.imageShape[0], dimensions: 64, width: 32)
        let head = loss == .pairs ? PairClassifier(dimensions: 64) : nil
        var parameters = net.namedParameters()
        if let head { parameters += head.namedParameters().map { ("head." + $0.0, $0.1) } }
        let optimizer = Optimizer(.adam(), groups: [ParameterGroup(parameters, learningRate: lr)])
        let schedule = LearningRateSchedule.cosine(period: epochs)
        let sampler = try PKSampler(labels: train.labels, p: min(12, Set(train.labels).count), k: 16)
        let margin = self.margin ?? (loss == .contrastive ? 1 : 0.5)
        var rng = SeededGenerator(seed: seed)
        let log = FileHandle.standardError
        let start = Date()
        for epoch in 0..<epochs {
            optimizer.setLearningRate(schedule.rate(at: epoch, base: lr))
            net.train()
            var total: Float = 0, distance: Float = 0, active: Float = 0, steps = 0
            for batch in sampler.epoch(rng: &rng) {
                let b = train.subset(batch)
                optimizer.zeroGrad()
                let e = net(Variable(prepare(b.images)))
                let (l, monitor): (Variable, MetricLearning.Monitor)
                switch loss {
                case .triplet: (l, monitor) = MetricLearning.tripletLoss(e, labels: b.labels, margin: margin, mining: mining)
                case .contrastive: (l, monitor) = MetricLearning.contrastiveLoss(e, labels: b.labels, margin: margin)
                case .pairs: (l, monitor) = head!.loss(e, labels: b.labels)
                }
                l.backward()
                optimizer.step()
                total += l.value.scalar; distance += monitor.meanDistance; active += monitor.activeFraction; steps += 1
            }
            let n = Float(max(steps, 1))
            log.write(String(format: "epoch %d/%d  loss %.4f  mean pairwise distance %.3f  %@ %.1f%%  %.1fs\n", epoch + 1, epochs, total / n,
                             distance / n, loss == .pairs ? "misclassified pairs" : "active", 100 * active / n,
                             Date().timeIntervalSince(start)).data(using: .utf8)!)
        }
        net.eval()
        let ev = embeddings(net, validation, prepare), et = embeddings(net, test, prepare)
        func scorer(_ e: [[Float]]) -> (Int, Int) -> Float {
            if let head { return { head.probability(e[$0], e[$1]) } }
            return { i, j in -zip(e[i], e[j]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) }
        }
        let v = Verification.pairs(count: validation.count, labels: validation.labels, score: scorer(ev))
        let tau = Verification.calibrate(scores: v.scores, same: v.same)
        let t = Verification.pairs(count: test.count, labels: test.labels, score: scorer(et))
        let auc = Verification.auc(scores: t.scores, same: t.same)
        let eer = Verification.equalErrorRate(scores: t.scores, same: t.same)
        let accuracy = Verification.accuracy(scores: t.scores, same: t.same, threshold: tau.threshold)
        let oneShot = Verification.oneShot(labels: test.labels, ways: unseen.count, episodes: 2000, seed: seed, score: scorer(et))
        // The same measures on test images of the training classes: the gap says how much is class memory.
        let seenTest = balanced(splits.test, classes: seen, perClass: 100)
        let es = embeddings(net, seenTest, prepare)
        let sp = Verification.pairs(count: seenTest.count, labels: seenTest.labels, score: scorer(es))
        let seenAUC = Verification.auc(scores: sp.scores, same: sp.same)
        let wall = Date().timeIntervalSince(start)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let checkpoint = out + "/siamese.safetensors"
        try Checkpoint.save(net, metadata: ["model": "embedding_net", "task": "siamese", "loss": loss.rawValue, "dimensions": "64",
                                            "threshold": String(tau.threshold), "mean": mean.map { String($0) }.joined(separator: ","),
                                            "std": std.map { String($0) }.joined(separator: ",")], to: checkpoint)
        let summary = String(format: "held-out classes %@: ROC AUC %.4f, EER %.2f%%, verification accuracy %.2f%% at τ = %.4g (calibrated on other images), one-shot %d-way %.2f%%; seen classes' AUC %.4f; %.1f s",
                             unseen.sorted().map { splits.test.classNames[$0] }.joined(separator: ","), auc, eer.rate * 100, accuracy * 100,
                             tau.threshold, unseen.count, oneShot * 100, seenAUC, wall)
        log.write((summary + "\n").data(using: .utf8)!)
        if json {
            let obj: [String: Any] = ["task": "siamese", "loss": loss.rawValue, "mining": loss == .triplet ? mining.rawValue : "none", "class_augmentation": classAugmentation, "margin": Double(margin),
                                      "auc": auc, "eer": eer.rate, "verification_accuracy": accuracy, "oneshot_accuracy": oneShot,
                                      "threshold": Double(tau.threshold), "ways": unseen.count, "seen_classes_auc": seenAUC, "wall_seconds": wall, "epochs": epochs,
                                      "checkpoint": checkpoint]
            print(String(data: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), encoding: .utf8)!)
        }
    }

    /// Up to `perClass` images of each class in `classes`, in file order.
    func balanced(_ set: LabeledImages, classes: Set<Int>, perClass: Int) -> LabeledImages {
        var taken = [Int: Int](), indices = [Int]()
        for (i, l) in set.labels.enumerated() where classes.contains(l) && taken[l, default: 0] < perClass {
            taken[l, default: 0] += 1; indices.append(i)
        }
        return set.subset(indices)
    }

    func embeddings(_ net: EmbeddingNet, _ set: LabeledImages, _ prepare: (Tensor) -> Tensor) -> [[Float]] {
        var out = [[Float]]()
        for b in stride(from: 0, to: set.count, by: 256) {
            let e = net.predict(prepare(set.subset(Array(b..<min(set.count, b + 256))).images))
            let d = e.shape[1]
            out += (0..<e.shape[0]).map { Array(e.scalars[($0 * d)..<(($0 + 1) * d)]) }
        }
        return out
    }
}

/// New classes from old ones (as Omniglot's rotations are used): each image under each of six symmetries of the
/// square — identity, quarter turns both ways, mirror, transpose, anti-transpose — is an example of its own class
/// (class·6 + symmetry). The half turn and the vertical flip are left out: they would turn a 6 into a 9, one of
/// the held-out classes. Square images only.
enum ClassAugmentation {
    static let symmetries = 6

    static func expand(_ set: LabeledImages) throws -> LabeledImages {
        let (c, h, w) = (set.imageShape[0], set.imageShape[1], set.imageShape[2])
        guard h == w else { throw ConvKitError.shapeMismatch(expected: "square images for class augmentation", found: "\(w)×\(h)") }
        let n = set.count, plane = h * w
        let images = Tensor(shape: [n * symmetries, c, h, w]) { o in
            set.images.withUnsafeBufferPointer { src in
                for i in 0..<n { for t in 0..<symmetries { for ch in 0..<c { for y in 0..<h { for x in 0..<w {
                    let (sx, sy): (Int, Int)
                    switch t {
                    case 1: (sx, sy) = (y, w - 1 - x)          // quarter turn
                    case 2: (sx, sy) = (w - 1 - y, x)          // quarter turn the other way
                    case 3: (sx, sy) = (w - 1 - x, y)          // mirror
                    case 4: (sx, sy) = (y, x)                  // transpose
                    case 5: (sx, sy) = (w - 1 - y, h - 1 - x)  // anti-transpose
                    default: (sx, sy) = (x, y)
                    }
                    o[((i * symmetries + t) * c + ch) * plane + y * w + x] = src[(i * c + ch) * plane + sy * w + sx]
                } } } } }
            }
        }
        let labels = set.labels.flatMap { l in (0..<symmetries).map { l * symmetries + $0 } }
        let names = set.classNames.flatMap { n in (0..<symmetries).map { "\(n)/\($0)" } }
        return try LabeledImages(images: images, labels: labels, classNames: names)
    }
}
