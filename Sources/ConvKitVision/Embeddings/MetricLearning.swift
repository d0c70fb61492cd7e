import ConvKit
import Foundation

/// How triplets (anchor, positive, negative) are chosen inside a P×K batch, on squared distances d.
public enum TripletMining: String, CaseIterable, Sendable {
    /// Hermans, Beyer and Leibe 2017: per anchor, the farthest positive and the nearest negative.
    case batchHard = "batch-hard"
    /// Schroff, Kalenichenko and Philbin 2015 (FaceNet): per (anchor, positive) pair, the nearest negative that
    /// is still farther than the positive (d_an > d_ap); when there is none, the farthest negative.
    case semiHard = "semi-hard"
}

/// Losses of metric learning on a batch of embeddings `[B, D]` with class labels, and the collapse monitor.
public enum MetricLearning {
    /// What one loss evaluation saw: the mean pairwise distance ‖f(x_i) − f(x_j)‖ over the batch (it falls to 0
    /// when the encoder collapses to one point) and the fraction of mined triplets or pairs with a positive loss.
    public struct Monitor: Sendable {
        public var meanDistance: Float
        public var activeFraction: Float
    }

    /// Squared Euclidean distances between the rows of `e` `[B, D]` → `[B, B]`.
    public static func squaredDistances(_ e: Tensor) -> Tensor {
        let b = e.shape[0], d = e.shape[1]
        return Tensor(shape: [b, b]) { o in
            e.withUnsafeBufferPointer { p in
                for i in 0..<b {
                    for j in 0..<b {
                        var s: Float = 0
                        for k in 0..<d { let v = p[i * d + k] - p[j * d + k]; s += v * v }
                        o[i * b + j] = s
                    }
                }
            }
        }
    }

    /// Rows `indices` of `x` `[B, D]` as `[T, D]`, differentiably (a one-hot `[T, B]` matrix times x).
    public static func rows(_ x: Variable, _ indices: [Int]) -> Variable {
        let b = x.shape[0]
        let onehot = Tensor(shape: [indices.count, b]) { o in
            for i in 0..<o.count { o[i] = 0 }
            for (t, i) in indices.enumerated() { o[t * b + i] = 1 }
        }
        return Variable.matmul(Variable(onehot), x)
    }

    /// The mined (anchor, positive, negative) index triplets; anchors without a positive or a negative are skipped.
    public static func mine(distances d: Tensor, labels: [Int], mining: TripletMining) -> [(Int, Int, Int)] {
        let b = labels.count
        precondition(d.shape == [b, b], "distances \(d.shape) for \(b) labels")
        var out = [(Int, Int, Int)]()
        for a in 0..<b {
            let positives = (0..<b).filter { $0 != a && labels[$0] == labels[a] }
            let negatives = (0..<b).filter { labels[$0] != labels[a] }
            guard !positives.isEmpty, !negatives.isEmpty else { continue }
            let row = { (j: Int) in d.scalars[a * b + j] }
            switch mining {
            case .batchHard:
                let p = positives.max { row($0) < row($1) }!, n = negatives.min { row($0) < row($1) }!
                out.append((a, p, n))
            case .semiHard:
                for p in positives {
                    let dp = row(p)
                    let farther = negatives.filter { row($0) > dp }
                    let n = farther.min { row($0) < row($1) } ?? negatives.max { row($0) < row($1) }!
                    out.append((a, p, n))
                }
            }
        }
        return out
    }

    /// The mean pairwise distance over distinct pairs of a `[B, B]` squared-distance matrix.
    static func meanDistance(_ d: Tensor) -> Float {
        let b = d.shape[0]
        guard b > 1 else { return 0 }
        var s: Float = 0
        for i in 0..<b { for j in (i + 1)..<b { s += d.scalars[i * b + j].squareRoot() } }
        return s / Float(b * (b - 1) / 2)
    }

    /// FaceNet's triplet loss mean(max(‖a − p‖² − ‖a − n‖² + α, 0)) over the mined triplets of the batch.
    public static func tripletLoss(_ e: Variable, labels: [Int], margin: Float = 0.2, mining: TripletMining = .batchHard) -> (Variable, Monitor) {
        let d = squaredDistances(e.value)
        let triplets = mine(distances: d, labels: labels, mining: mining)
        let monitor = { (active: Float) in Monitor(meanDistance: meanDistance(d), activeFraction: active) }
        guard !triplets.isEmpty else { return (Variable(Tensor(0)), monitor(0)) }
        let active = triplets.filter { d.scalars[$0.0 * labels.count + $0.1] - d.scalars[$0.0 * labels.count + $0.2] + margin > 0 }.count
        let loss = Loss.triplet(anchor: rows(e, triplets.map(\.0)), positive: rows(e, triplets.map(\.1)),
                                negative: rows(e, triplets.map(\.2)), margin: margin)
        return (loss, monitor(Float(active) / Float(triplets.count)))
    }

    /// The contrastive loss (Hadsell, Chopra and LeCun 2006) over every pair i < j of the batch:
    /// y·d² + (1 − y)·max(m − d, 0)², y = 1 for the same class. Positive pairs are weighted so that both kinds
    /// count equally (a P×K batch has far more negative pairs).
    public static func contrastiveLoss(_ e: Variable, labels: [Int], margin: Float = 1) -> (Variable, Monitor) {
        let b = labels.count
        var first = [Int](), second = [Int](), same = [Float]()
        for i in 0..<b { for j in (i + 1)..<b { first.append(i); second.append(j); same.append(labels[i] == labels[j] ? 1 : 0) } }
        let d = squaredDistances(e.value)
        let positives = same.reduce(0, +), negatives = Float(same.count) - positives
        guard positives > 0, negatives > 0 else { return (Variable(Tensor(0)), Monitor(meanDistance: meanDistance(d), activeFraction: 0)) }
        let weights = Tensor(same.map { $0 > 0 ? 0.5 / positives : 0.5 / negatives })
        let perPair = Loss.contrastive(rows(e, first), rows(e, second), same: Tensor(same), margin: margin, reduction: .none)
        let active = zip(first, second).enumerated().filter { t, p in
            same[t] > 0 ? d.scalars[p.0 * b + p.1] > 0 : d.scalars[p.0 * b + p.1].squareRoot() < margin
        }.count
        return ((perPair * weights).sum(), Monitor(meanDistance: meanDistance(d), activeFraction: Float(active) / Float(same.count)))
    }
}

/// The notes' verification head over two encodings (004 §4.4): ŷ = σ(Σ_k w_k·|f(x_i)_k − f(x_j)_k| + b), or with
/// the χ² form (f(x_i)_k − f(x_j)_k)² / (f(x_i)_k + f(x_j)_k) in place of the absolute difference (DeepFace's; the
/// denominator taken as |f(x_i)_k| + |f(x_j)_k| + 10⁻⁶, since L2-normalized encodings have negative components). Trained as binary classification on
/// pairs ("same" = 1); at use it scores precomputed encodings.
public final class PairClassifier: Module {
    public var weight: Parameter
    public var bias: Parameter
    public let chiSquared: Bool
    static let chiEpsilon: Float = 1e-6

    public init(dimensions: Int, chiSquared: Bool = false) {
        weight = Parameter(Tensor(repeating: -1, shape: [dimensions, 1]), requiresGrad: true, label: "weight")
        bias = Parameter(Tensor([1]), requiresGrad: true, label: "bias")
        self.chiSquared = chiSquared
    }

    /// The logit Σ w_k·φ(e_i − e_j)_k + b for rows `[T, D]` of each side → `[T]`.
    public func logits(_ a: Variable, _ b: Variable) -> Variable {
        let diff = a - b
        let features = chiSquared ? diff.squared() / (a.abs() + b.abs() + PairClassifier.chiEpsilon) : diff.abs()
        return (Variable.matmul(features, weight) + bias).reshaped([a.shape[0]])
    }

    /// Binary cross-entropy over every pair i < j of the batch, positives weighted to count as much as negatives.
    public func loss(_ e: Variable, labels: [Int]) -> (Variable, MetricLearning.Monitor) {
        let b = labels.count
        var first = [Int](), second = [Int](), same = [Float]()
        for i in 0..<b { for j in (i + 1)..<b { first.append(i); second.append(j); same.append(labels[i] == labels[j] ? 1 : 0) } }
        let positives = same.reduce(0, +), negatives = Float(same.count) - positives
        let z = logits(MetricLearning.rows(e, first), MetricLearning.rows(e, second))
        let loss = Loss.binaryCrossEntropyWithLogits(z, Tensor(same), posWeight: positives > 0 ? negatives / positives : 1)
        let wrong = zip(z.value.scalars, same).filter { ($0 > 0) != ($1 > 0) }.count
        return (loss, MetricLearning.Monitor(meanDistance: MetricLearning.meanDistance(MetricLearning.squaredDistances(e.value)),
                                             activeFraction: Float(wrong) / Float(max(same.count, 1))))
    }

    /// σ(logit) for precomputed encodings.
    public func probability(_ a: [Float], _ b: [Float]) -> Float {
        var z = bias.value.scalars[0]
        for k in a.indices {
            let d = a[k] - b[k]
            z += weight.value.scalars[k] * (chiSquared ? d * d / (Swift.abs(a[k]) + Swift.abs(b[k]) + PairClassifier.chiEpsilon) : Swift.abs(d))
        }
        return 1 / (1 + exp(-z))
    }
}
