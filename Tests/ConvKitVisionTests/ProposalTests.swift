import ConvKit
import ConvKitModels
import ConvKitVision
import XCTest

final class ProposalTests: XCTestCase {
    /// A dark 40×48 image with a bright square and a mid-gray rectangle.
    func scene() -> Tensor {
        var t = Tensor(repeating: 10, shape: [1, 40, 48])
        for y in 5..<15 { for x in 6..<16 { t[0, y, x] = 250 } }
        for y in 20..<36 { for x in 25..<45 { t[0, y, x] = 140 } }
        return t
    }

    func testGraphSegmentationFindsTheRegions() {
        let (labels, count) = GraphSegmentation.segment(scene(), .init(sigma: 0, k: 100, minSize: 5))
        XCTAssertEqual(count, 3)
        XCTAssertEqual(labels[0], 0, "labels in order of first appearance")
        XCTAssertEqual(labels[10 * 48 + 10], labels[6 * 48 + 7])
        XCTAssertNotEqual(labels[10 * 48 + 10], labels[0])
        XCTAssertNotEqual(labels[30 * 48 + 30], labels[10 * 48 + 10])
        // With the blur, thin segments appear along edges, but none is under minSize pixels.
        let blurred = GraphSegmentation.segment(scene())
        var sizes = [Int](repeating: 0, count: blurred.count)
        for l in blurred.labels { sizes[Int(l)] += 1 }
        XCTAssertGreaterThanOrEqual(sizes.min() ?? 0, GraphSegmentation.Options().minSize)
        // A constant image is one segment.
        XCTAssertEqual(GraphSegmentation.segment(Tensor(repeating: 3, shape: [3, 9, 9])).count, 1)
    }

    func testSelectiveSearchProposesTheObjectsAndIsDeterministic() {
        var o = SelectiveSearch.Options(); o.minSize = 5
        let p = SelectiveSearch.proposals(scene(), o)
        XCTAssertEqual(p, SelectiveSearch.proposals(scene(), o))
        let gt = BoxSet(rows: [[6, 5, 16, 15], [25, 20, 45, 36]])
        let iou = BoxOverlap.iou(gt, p)
        for i in 0..<2 { XCTAssertEqual((0..<p.count).map { iou.scalars[i * p.count + $0] }.max(), 1, "object \(i) proposed exactly") }
        XCTAssertTrue((0..<p.count).contains { p[$0] == (0, 0, 48, 40) }, "the whole image is the top of the hierarchy")
        XCTAssertEqual(SelectiveSearch.recall(proposals: [p], groundTruth: [gt], n: p.count), 1)
        XCTAssertEqual(SelectiveSearch.recall(proposals: [.empty()], groundTruth: [gt], n: 10), 0)
    }
}

final class RCNNTests: XCTestCase {
    func testTrainingCropsAreLabelledByOverlapAndDetectionsComeFromProposals() throws {
        var img = Tensor(repeating: 10, shape: [1, 40, 48])
        for y in 5..<15 { for x in 6..<16 { img[0, y, x] = 250 } }
        let sample = DetectionSample(image: img, boxes: BoxSet(rows: [[6, 5, 16, 15]]), classes: [1], name: "s")
        let set = DetectionDataset(samples: [sample], classNames: ["a", "b"])
        let proposals = BoxSet(rows: [[6, 5, 16, 16], [30, 20, 45, 36], [0, 0, 48, 40], [7, 6, 12, 12]])
        var r = RCNN(); r.backgroundPerImage = 5
        let crops = try r.trainingCrops(set, proposals: [proposals], seed: 1)
        // The ground-truth box and the near-identical proposal are class 1; the far and whole-image boxes background (2);
        // the small inner box (IoU 0.3) is neither.
        XCTAssertEqual(crops.labels.sorted(), [1, 1, 2, 2])
        XCTAssertEqual(crops.imageShape, [1, 28, 28])
        XCTAssertEqual(crops.classNames, ["a", "b", "background"])
        ConvKitRandom.seed(1)
        let d = r.detect(LeNet5(classes: 3), image: img, proposals: proposals, classes: 2, prepare: { $0 * (1 / 255) })
        XCTAssertGreaterThan(d.count, 0)
        let iou = BoxOverlap.iou(d.boxes, proposals)
        for i in 0..<d.count { XCTAssertEqual((0..<proposals.count).map { iou.scalars[i * proposals.count + $0] }.max(), 1) }
        XCTAssertTrue(d.classes.allSatisfy { $0 < 2 }, "background is never a detection")
    }
}
