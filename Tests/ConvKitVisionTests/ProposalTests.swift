import ConvKit
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
