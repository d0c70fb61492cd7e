import ConvKit

/// Batches of P classes × K examples each (the sampler batch-hard and semi-hard mining need: every anchor has
/// K − 1 positives and (P − 1)·K negatives in its batch). Classes with fewer than K examples are sampled with
/// replacement.
public struct PKSampler {
    public let p: Int, k: Int
    let byClass: [Int: [Int]]

    public init(labels: [Int], p: Int, k: Int) throws {
        var groups = [Int: [Int]]()
        for (i, l) in labels.enumerated() { groups[l, default: []].append(i) }
        guard p >= 2, k >= 2, groups.count >= p else {
            throw ConvKitError.invalidArgument(name: "P×K sampler", expected: "P ≥ 2 of the \(groups.count) classes and K ≥ 2", found: "P \(p), K \(k)")
        }
        self.p = p; self.k = k; byClass = groups
    }

    /// One epoch: ⌊N / (P·K)⌋ batches of indices, drawn with `rng`.
    public func epoch(rng: inout SeededGenerator) -> [[Int]] {
        let n = byClass.values.map(\.count).reduce(0, +)
        let classes = byClass.keys.sorted()
        return (0..<max(1, n / (p * k))).map { _ in
            classes.shuffled(using: &rng).prefix(p).flatMap { c -> [Int] in
                let members = byClass[c]!
                return members.count >= k ? Array(members.shuffled(using: &rng).prefix(k)) : (0..<k).map { _ in members.randomElement(using: &rng)! }
            }
        }
    }
}

/// Face verification and one-shot recognition measured as the notes define them: d(img1, img2) ≤ τ means
/// "same". Scores are "higher = more alike" (a negative distance, or a pair classifier's probability).
public enum Verification {
    /// ROC AUC: the probability that a random "same" pair scores above a random "different" one (ties count ½),
    /// by ranks (Mann–Whitney U).
    public static func auc(scores: [Float], same: [Bool]) -> Double {
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var ranks = [Double](repeating: 0, count: scores.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let r = Double(i + j) / 2 + 1
            for t in i...j { ranks[order[t]] = r }
            i = j + 1
        }
        let pos = Double(same.filter { $0 }.count), neg = Double(same.count) - pos
        guard pos > 0, neg > 0 else { return .nan }
        let sum = zip(ranks, same).filter(\.1).map(\.0).reduce(0, +)
        return (sum - pos * (pos + 1) / 2) / (pos * neg)
    }

    /// Every threshold between consecutive distinct scores, with its false-accept and false-reject rates.
    static func sweep(scores: [Float], same: [Bool]) -> [(threshold: Float, far: Double, frr: Double)] {
        let pos = Double(same.filter { $0 }.count), neg = Double(same.count) - pos
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var out = [(Float, Double, Double)]()
        var accepted = 0.0, falseAccepts = 0.0
        out.append((scores.max().map { $0.nextUp } ?? 0, 0, 1))
        for (n, i) in order.enumerated() {
            if same[i] { accepted += 1 } else { falseAccepts += 1 }
            if n + 1 == order.count || scores[order[n + 1]] != scores[i] {
                out.append((scores[i], neg > 0 ? falseAccepts / neg : 0, pos > 0 ? 1 - accepted / pos : 0))
            }
        }
        return out
    }

    /// The equal error rate (where the false-accept rate meets the false-reject rate) and its threshold
    /// ("same" when score ≥ threshold).
    public static func equalErrorRate(scores: [Float], same: [Bool]) -> (rate: Double, threshold: Float) {
        let s = sweep(scores: scores, same: same)
        let best = s.min { Swift.abs($0.far - $0.frr) < Swift.abs($1.far - $1.frr) }!
        return ((best.far + best.frr) / 2, best.threshold)
    }

    /// Balanced accuracy (mean of the true-accept and true-reject rates) at `threshold`.
    public static func accuracy(scores: [Float], same: [Bool], threshold: Float) -> Double {
        let pos = same.filter { $0 }.count, neg = same.count - pos
        let ta = zip(scores, same).filter { $0.1 && $0.0 >= threshold }.count, tr = zip(scores, same).filter { !$0.1 && $0.0 < threshold }.count
        return (Double(ta) / Double(max(pos, 1)) + Double(tr) / Double(max(neg, 1))) / 2
    }

    /// The lowest threshold whose false-accept rate is at most `rate` (the most accepting one that keeps
    /// impostors at or below the target), with its false-reject rate.
    public static func threshold(falseAcceptRate rate: Double, scores: [Float], same: [Bool]) -> (threshold: Float, frr: Double) {
        let s = sweep(scores: scores, same: same).filter { $0.far <= rate }
        let best = s.min { $0.threshold < $1.threshold }!   // the first entry (above every score) always qualifies
        return (best.threshold, best.frr)
    }

    /// The threshold of best balanced accuracy (τ calibrated on labelled pairs) and that accuracy.
    public static func calibrate(scores: [Float], same: [Bool]) -> (threshold: Float, accuracy: Double) {
        let s = sweep(scores: scores, same: same)
        let best = s.max { (1 - $0.far + 1 - $0.frr) < (1 - $1.far + 1 - $1.frr) }!
        return (best.threshold, (2 - best.far - best.frr) / 2)
    }

    /// All pairs i < j of a labelled set with their scores.
    public static func pairs(count: Int, labels: [Int], score: (Int, Int) -> Float) -> (scores: [Float], same: [Bool]) {
        var scores = [Float](), same = [Bool]()
        for i in 0..<count { for j in (i + 1)..<count { scores.append(score(i, j)); same.append(labels[i] == labels[j]) } }
        return (scores, same)
    }

    /// One-shot N-way accuracy: per episode, N classes, one enrolled example each and one other query of one of
    /// them; correct when the query's best-scoring enrolled example is of its class.
    public static func oneShot(labels: [Int], ways: Int, episodes: Int, seed: UInt64, score: (Int, Int) -> Float) -> Double {
        var byClass = [Int: [Int]]()
        for (i, l) in labels.enumerated() { byClass[l, default: []].append(i) }
        let usable = byClass.filter { $0.value.count >= 2 }.keys.sorted()
        guard usable.count >= ways, ways >= 2, episodes > 0 else { return .nan }
        var rng = SeededGenerator(seed: seed)
        var correct = 0
        for _ in 0..<episodes {
            let classes = Array(usable.shuffled(using: &rng).prefix(ways))
            let truth = classes.randomElement(using: &rng)!
            let enrolled = classes.map { c in byClass[c]!.randomElement(using: &rng)! }
            let query = byClass[truth]!.filter { !enrolled.contains($0) }.randomElement(using: &rng)!
            let best = enrolled.indices.max { score(query, enrolled[$0]) < score(query, enrolled[$1]) }!
            if classes[best] == truth { correct += 1 }
        }
        return Double(correct) / Double(episodes)
    }
}
