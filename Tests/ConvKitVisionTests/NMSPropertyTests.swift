import ConvKit
import ConvKitVision
import PropertyBased
import Testing

/// Property-based tests of IoU and greedy non-max suppression on random boxes (swift-property-based).
struct NMSPropertyTests {
    static func boxes(_ seed: Int, count: Int) -> (BoxSet, [Float]) {
        var rng = SeededGenerator(seed: UInt64(seed))
        var rows = [[Float]](), scores = [Float]()
        for _ in 0..<count {
            let x = rng.nextUniform() * 100, y = rng.nextUniform() * 100
            rows.append([x, y, x + 1 + rng.nextUniform() * 40, y + 1 + rng.nextUniform() * 40])
            scores.append(Float(Int(rng.nextUniform() * 20)) / 20)   // ties happen
        }
        return (BoxSet(rows: rows), scores)
    }

    /// IoU is symmetric, in [0, 1], and 1 on the diagonal.
    @Test func iouIsSymmetricBoundedAndOneOnTheDiagonal() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...Int(Int32.max)), Gen.int(in: 1...30)) { seed, count in
            let (b, _) = Self.boxes(seed, count: count)
            let m = BoxOverlap.iou(b, b)
            for i in 0..<count {
                #expect(abs(m.scalars[i * count + i] - 1) < 1e-5)
                for j in 0..<count {
                    let v = m.scalars[i * count + j]
                    #expect(v >= 0 && v <= 1 + 1e-6)
                    #expect(abs(v - m.scalars[j * count + i]) < 1e-6)
                }
            }
        }
    }

    /// Greedy NMS: kept boxes come in score order, no two kept boxes overlap above the threshold, and every
    /// dropped box overlaps a kept box of at least its score above the threshold (it was suppressed, not lost).
    @Test func greedyNMSKeepsAMaximalNonOverlappingSetInScoreOrder() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int(Int32.max)), Gen.int(in: 0...60), Gen.int(in: 1...9)) { seed, count, t in
            let threshold = Double(t) / 10
            let (b, scores) = Self.boxes(seed, count: count)
            let keep = NMS.greedy(b, scores: scores, iouThreshold: threshold)
            let m = BoxOverlap.iou(b, b)
            func iou(_ i: Int, _ j: Int) -> Double { Double(m.scalars[i * count + j]) }
            #expect(Set(keep).count == keep.count)
            #expect(zip(keep, keep.dropFirst()).allSatisfy { scores[$0] >= scores[$1] })
            for (a, i) in keep.enumerated() { for j in keep[(a + 1)...] { #expect(iou(i, j) <= threshold + 1e-6) } }
            for i in 0..<count where !keep.contains(i) {
                #expect(keep.contains { scores[$0] >= scores[i] && iou($0, i) > threshold - 1e-6 }, "box \(i) dropped without a suppressor")
            }
        }
    }
}
