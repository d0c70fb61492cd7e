import XCTest
import ConvKit
import ConvKitVision

final class MetricLearningTests: XCTestCase {
    func testAUCEERAndCalibrationOnHandComputedScores() {
        // Positive/negative pairs: (0.9 > 0.8) 1, (0.9 > 0.3) 1, (0.8 = 0.8) ½, (0.8 > 0.3) 1 → 3.5 / 4.
        XCTAssertEqual(Verification.auc(scores: [0.9, 0.8, 0.8, 0.3], same: [true, false, true, false]), 0.875, accuracy: 1e-12)
        let scores: [Float] = [0.95, 0.9, 0.7, 0.4, 0.2, 0.1], same = [true, true, true, false, false, false]
        XCTAssertEqual(Verification.auc(scores: scores, same: same), 1)
        XCTAssertEqual(Verification.equalErrorRate(scores: scores, same: same).rate, 0)
        let (tau, accuracy) = Verification.calibrate(scores: scores, same: same)
        XCTAssertEqual(accuracy, 1)
        XCTAssertTrue(tau > 0.4 && tau <= 0.7, "τ \(tau) separates the classes")
        XCTAssertEqual(Verification.accuracy(scores: scores, same: same, threshold: 0.8), (2.0 / 3 + 1) / 2, accuracy: 1e-12)
        // One overlap: the EER is where one false accept (of 3) meets one false reject (of 3).
        let overlapped: [Float] = [0.95, 0.9, 0.3, 0.4, 0.2, 0.1]
        XCTAssertEqual(Verification.equalErrorRate(scores: overlapped, same: same).rate, 1.0 / 3, accuracy: 1e-12)
    }

    func testOneShotAccuracyOfPerfectAndUninformativeScores() {
        let labels = (0..<40).map { $0 % 4 }
        XCTAssertEqual(Verification.oneShot(labels: labels, ways: 4, episodes: 500, seed: 1) { labels[$0] == labels[$1] ? 1 : 0 }, 1)
        var rng = SeededGenerator(seed: 2)
        let noise = Tensor.uniform([40, 40], rng: &rng).scalars
        let chance = Verification.oneShot(labels: labels, ways: 4, episodes: 4000, seed: 1) { noise[$0 * 40 + $1] }
        XCTAssertEqual(chance, 0.25, accuracy: 0.04)
    }

    /// Labels [0, 0, 1, 1, 1]: hand-made squared distances decide every mined triplet.
    func testMiningPicksTheHardestAndTheSemiHardNegatives() {
        let d: [[Float]] = [[0, 1.0, 0.5, 2.0, 1.5],
                            [1.0, 0, 3.0, 0.2, 2.5],
                            [0.5, 3.0, 0, 0.7, 0.1],
                            [2.0, 0.2, 0.7, 0, 0.4],
                            [1.5, 2.5, 0.1, 0.4, 0]]
        let t = Tensor(shape: [5, 5], scalars: d.flatMap { $0 })
        let labels = [0, 0, 1, 1, 1]
        let hard = MetricLearning.mine(distances: t, labels: labels, mining: .batchHard)
        XCTAssertEqual(hard.map { [$0.0, $0.1, $0.2] }, [[0, 1, 2], [1, 0, 3], [2, 3, 0], [3, 2, 1], [4, 3, 0]])
        let semi = MetricLearning.mine(distances: t, labels: labels, mining: .semiHard)
        // Anchor 0, positive 1 (d 1.0): negatives farther than 1.0 are 3 (2.0) and 4 (1.5) → 4.
        XCTAssertEqual(semi.first.map { [$0.0, $0.1, $0.2] }, [0, 1, 4])
        // Anchor 1, positive 0 (d 1.0): negatives 2 (3.0), 3 (0.2), 4 (2.5) → the nearest farther one is 4.
        XCTAssertTrue(semi.contains { $0 == (1, 0, 4) })
        // Anchor 2, positive 3 (d 0.7): negatives 0 (0.5), 1 (3.0) → 1; positive 4 (d 0.1) → 0 (0.5).
        XCTAssertTrue(semi.contains { $0 == (2, 3, 1) } && semi.contains { $0 == (2, 4, 0) })
        XCTAssertEqual(semi.count, 2 + 6)
    }

    func testTripletAndContrastiveGradientsByFiniteDifferences() {
        var rng = SeededGenerator(seed: 5)
        let e0 = Tensor.normal([6, 4], rng: &rng)
        let labels = [0, 0, 1, 1, 2, 2]
        for kind in ["triplet", "contrastive", "normalize"] {
            func f(_ x: Tensor) -> Float {
                let v = Variable(x)
                switch kind {
                case "triplet": return MetricLearning.tripletLoss(v.l2Normalized(), labels: labels, margin: 0.5, mining: .batchHard).0.value.scalar
                case "contrastive": return MetricLearning.contrastiveLoss(v, labels: labels, margin: 2).0.value.scalar
                default: return (v.l2Normalized() * Tensor(shape: [6, 4], scalars: (0..<24).map { Float($0 % 5) - 2 })).sum().value.scalar
                }
            }
            let v = Variable(e0, requiresGrad: true)
            let loss: Variable
            switch kind {
            case "triplet": loss = MetricLearning.tripletLoss(v.l2Normalized(), labels: labels, margin: 0.5, mining: .batchHard).0
            case "contrastive": loss = MetricLearning.contrastiveLoss(v, labels: labels, margin: 2).0
            default: loss = (v.l2Normalized() * Tensor(shape: [6, 4], scalars: (0..<24).map { Float($0 % 5) - 2 })).sum()
            }
            XCTAssertGreaterThan(loss.value.scalar, 0, kind)
            loss.backward()
            let g = v.grad!
            let eps: Float = 1e-3
            for i in 0..<24 {
                var plus = e0, minus = e0
                plus.scalars[i] += eps; minus.scalars[i] -= eps
                XCTAssertEqual(g.scalars[i], (f(plus) - f(minus)) / (2 * eps), accuracy: 3e-3, "\(kind) element \(i)")
            }
        }
    }

    func testPKBatchesAndThePairClassifier() throws {
        let labels = (0..<60).map { $0 % 6 }
        let sampler = try PKSampler(labels: labels, p: 4, k: 3)
        var rng = SeededGenerator(seed: 1)
        let batches = sampler.epoch(rng: &rng)
        XCTAssertEqual(batches.count, 60 / 12)
        for b in batches {
            XCTAssertEqual(b.count, 12)
            let classes = b.map { labels[$0] }
            XCTAssertEqual(Set(classes).count, 4)
            XCTAssertTrue(Set(classes).allSatisfy { c in classes.filter { $0 == c }.count == 3 })
        }
        XCTAssertThrowsError(try PKSampler(labels: labels, p: 7, k: 2))
        // Separable embeddings: a few steps of the notes' pair head separate same from different pairs.
        let e = Tensor(shape: [4, 2], scalars: [1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9])
        let head = PairClassifier(dimensions: 2)
        let opt = Optimizer(.adam(), groups: [ParameterGroup(head.namedParameters(), learningRate: 0.1)])
        var first: Float = 0, last: Float = 0
        for step in 0..<60 {
            opt.zeroGrad()
            let (l, _) = head.loss(Variable(e), labels: [0, 0, 1, 1])
            l.backward(); opt.step()
            if step == 0 { first = l.value.scalar }
            last = l.value.scalar
        }
        XCTAssertLessThan(last, first / 4)
        XCTAssertGreaterThan(head.probability([1, 0], [0.9, 0.1]), 0.5)
        XCTAssertLessThan(head.probability([1, 0], [0, 1]), 0.5)
    }

    func testTheChiSquaredHeadComputesTheNotesForm() throws {
        let head = PairClassifier(dimensions: 3, chiSquared: true)
        head.weight.value = Tensor(shape: [3, 1], scalars: [1, 2, -1])
        head.bias.value = Tensor([0.5])
        let a: [Float] = [0.5, -0.25, 0.1], b: [Float] = [0.25, 0.25, 0.1]
        // Σ w_k (a_k − b_k)² / (|a_k| + |b_k| + ε) + b = 0.0625/0.75 + 2·0.25/0.5 − 0 + 0.5.
        let z = Float(0.0625 / 0.75 + 2 * 0.25 / 0.5 + 0.5)
        let logit = head.logits(Variable(Tensor(shape: [1, 3], scalars: a)), Variable(Tensor(shape: [1, 3], scalars: b)))
        XCTAssertEqual(logit.value.scalars[0], z, accuracy: 1e-5)
        XCTAssertEqual(head.probability(a, b), 1 / (1 + exp(-z)), accuracy: 1e-6)
    }
}
