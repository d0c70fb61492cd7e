import ConvKit
import ConvKitVision
import XCTest

final class NMSTests: XCTestCase {
    /// The definition, slowly: torchvision's test reference built on the IoU matrix.
    func referenceNMS(_ boxes: BoxSet, _ scores: [Float], _ threshold: Double) -> [Int] {
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        let iou = BoxOverlap.iou(boxes, boxes), n = boxes.count
        var suppressed = [Bool](repeating: false, count: n), keep = [Int]()
        for i in order where !suppressed[i] {
            keep.append(i)
            for j in 0..<n where Double(iou.scalars[i * n + j]) > threshold { suppressed[j] = true }
        }
        return keep
    }

    func testAgreesWithTorchvisionOnEveryGoldenCase() throws {
        let count = Int(Golden.array(Golden.boxes, "nms.count").scalars.first ?? 0)
        XCTAssertGreaterThan(count, 30)
        for c in 0..<count {
            let k = "nms.\(c)"
            let boxes = try BoxSet(validating: Golden.array(Golden.boxes, k + ".boxes"))
            let scores = Golden.array(Golden.boxes, k + ".scores").scalars
            // Stored as float32; torchvision was called with the decimal threshold as a double.
            let thr = Double("\(Golden.array(Golden.boxes, k + ".iou").scalars[0])")!
            let expected = Golden.array(Golden.boxes, k + ".keep").scalars.map { Int($0) }
            let kept = NMS.greedy(boxes, scores: scores, iouThreshold: thr)
            XCTAssertEqual(kept, expected, "case \(c): \(boxes.count) boxes at IoU \(thr)")
            XCTAssertEqual(referenceNMS(boxes, scores, thr), expected, "reference, case \(c)")
        }
    }

    func testBatchedAgreesWithTorchvision() throws {
        let count = Int(Golden.array(Golden.boxes, "batched.count").scalars.first ?? 0)
        XCTAssertEqual(count, 4)
        for c in 0..<count {
            let k = "batched.\(c)"
            let boxes = try BoxSet(validating: Golden.array(Golden.boxes, k + ".boxes"))
            let scores = Golden.array(Golden.boxes, k + ".scores").scalars
            let classes = Golden.array(Golden.boxes, k + ".classes").scalars.map { Int($0) }
            let expected = Golden.array(Golden.boxes, k + ".keep").scalars.map { Int($0) }
            let kept = NMS.batched(boxes, scores: scores, classes: classes, iouThreshold: 0.5)
            // batched_nms sorts its result with an unstable sort, so tied scores come in any order there: compare
            // the kept sets, and check ours is in score order with ties by index.
            XCTAssertEqual(Set(kept), Set(expected), "batched case \(c)")
            XCTAssertEqual(kept.count, expected.count)
            XCTAssertTrue(zip(kept, kept.dropFirst()).allSatisfy { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) })
            // Per class it is plain NMS.
            for cls in Set(classes) {
                let members = classes.indices.filter { classes[$0] == cls }
                let sub = NMS.greedy(boxes.gathered(members), scores: members.map { scores[$0] }, iouThreshold: 0.5).map { members[$0] }
                XCTAssertEqual(kept.filter { classes[$0] == cls }, sub)
            }
        }
    }

    func testExactThresholdTiesAndDegenerateBoxes() {
        // IoU exactly 0.5 is not > 0.5: both kept. Tied scores: the lower index wins.
        let b = BoxSet(rows: [[0, 0, 10, 10], [0, 0, 10, 20], [0, 0, 10, 10], [50, 50, 50, 50], [50, 50, 50, 50]])
        XCTAssertEqual(NMS.greedy(b, scores: [0.9, 0.9, 0.9, 0.5, 0.5], iouThreshold: 0.5), [0, 1, 3, 4])
        XCTAssertEqual(NMS.greedy(b, scores: [0.9, 0.9, 0.9, 0.5, 0.5], iouThreshold: 0.49), [0, 3, 4])
        // A negative threshold suppresses every box after the first (IoU ≥ 0 > t), even disjoint ones — except that
        // two empty boxes have IoU 0/0 = NaN, which is not > t (as in torchvision).
        XCTAssertEqual(NMS.greedy(b, scores: [0.1, 0.2, 0.3, 0.4, 0.5], iouThreshold: -0.1), [4, 3])
        XCTAssertEqual(NMS.greedy(.empty(), scores: [], iouThreshold: 0.5), [])
        // Score threshold (strict) and top-k.
        XCTAssertEqual(NMS.greedy(b, scores: [0.9, 0.8, 0.7, 0.5, 0.4], iouThreshold: 0.7, scoreThreshold: 0.5), [0, 1])
        XCTAssertEqual(NMS.greedy(b, scores: [0.9, 0.8, 0.7, 0.5, 0.4], iouThreshold: 0.7, scoreThreshold: 0.45), [0, 1, 3])
        XCTAssertEqual(NMS.greedy(b, scores: [0.9, 0.8, 0.7, 0.5, 0.4], iouThreshold: 0.7, maxOutputs: 2), [0, 1])
    }

    func testGridAgreesWithDefinitionOnRandomScenes() {
        var rng = SeededGenerator(seed: 11)
        for trial in 0..<30 {
            let n = [40, 300, 2000][trial % 3]
            let size: Float = [5, 40, 300][trial % 3 == 0 ? 2 : (trial / 3) % 3]   // also huge boxes over many cells
            var coords = [Float](), scores = [Float]()
            for _ in 0..<n {
                let x = (rng.nextUniform() * 1000).rounded(), y = (rng.nextUniform() * 1000).rounded()
                coords += [x, y, x + 1 + (rng.nextUniform() * size).rounded(), y + 1 + (rng.nextUniform() * size).rounded()]
                scores.append((rng.nextUniform() * 10).rounded() / 10)
            }
            let boxes = BoxSet(coords)
            for thr in [0.0, 0.3, 0.5, 0.9] {
                XCTAssertEqual(NMS.greedy(boxes, scores: scores, iouThreshold: thr), referenceNMS(boxes, scores, thr), "trial \(trial) thr \(thr)")
            }
        }
    }

    func testNonFiniteCoordinatesFallBackToTheDefinition() {
        let b = BoxSet(rows: [[0, 0, 10, 10], [.nan, 0, 10, 10], [1, 1, 10, 10], [0, 0, .infinity, 10]])
        XCTAssertEqual(NMS.greedy(b, scores: [0.9, 0.8, 0.7, 0.6], iouThreshold: 0.5), referenceNMS(b, [0.9, 0.8, 0.7, 0.6], 0.5))
    }

    func testSoftNMS() {
        let b = BoxSet(rows: [[0, 0, 10, 10], [0, 0, 10, 20], [100, 100, 110, 110]])
        let lin = NMS.soft(b, scores: [0.9, 0.8, 0.7], decay: .linear(iouThreshold: 0.3))
        XCTAssertEqual(lin.map(\.index), [0, 2, 1])
        XCTAssertEqual(lin[2].score, 0.8 * 0.5, accuracy: 1e-6)
        let gauss = NMS.soft(b, scores: [0.9, 0.8, 0.7], decay: .gaussian(sigma: 0.5))
        XCTAssertEqual(gauss.map(\.index), [0, 2, 1])
        XCTAssertEqual(gauss[2].score, 0.8 * Foundation.exp(-0.25 / 0.5), accuracy: 1e-6)
        XCTAssertEqual(gauss[1].score, 0.7, "a disjoint box keeps its score (IoU 0)")
        // Scores decayed to the threshold or below are dropped.
        XCTAssertEqual(NMS.soft(b, scores: [0.9, 0.8, 0.7], decay: .linear(iouThreshold: 0.3), scoreThreshold: 0.5).map(\.index), [0, 2])
    }

    func testWeightedNMSAveragesClusters() {
        let b = BoxSet(rows: [[0, 0, 10, 10], [2, 0, 12, 10], [100, 100, 110, 110]])
        let r = NMS.weighted(b, scores: [0.75, 0.25, 0.5], iouThreshold: 0.5)
        XCTAssertEqual(r.clusters, [[0, 1], [2]])
        XCTAssertEqual(r.scores, [0.75, 0.5])
        XCTAssertEqual(Array(r.boxes.coordinates[0..<4]), [0.5, 0, 10.5, 10])
        XCTAssertEqual(Array(r.boxes.coordinates[4..<8]), [100, 100, 110, 110])
    }
}
