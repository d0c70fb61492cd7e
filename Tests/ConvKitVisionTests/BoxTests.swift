import ConvKit
import ConvKitVision
import XCTest

final class BoxTests: XCTestCase {
    func testFormatsRoundTripAndAreas() {
        let xyxy = BoxSet(rows: [[10, 20, 50, 80], [0, 0, 1, 1]])
        let xywh = xyxy.converted(to: .xywh), cxcywh = xyxy.converted(to: .cxcywh)
        XCTAssertEqual(xywh.coordinates, [10, 20, 40, 60, 0, 0, 1, 1])
        XCTAssertEqual(cxcywh.coordinates, [30, 50, 40, 60, 0.5, 0.5, 1, 1])
        XCTAssertEqual(cxcywh.converted(to: .xywh), xywh)
        XCTAssertEqual(xywh.xyxy, xyxy)
        XCTAssertEqual(xyxy.areas, [2400, 1])
        XCTAssertEqual(BoxSet(rows: [[5, 5, 1, 1]]).areas, [0], "inverted boxes have no area")
    }

    func testClipScaleAndNormalize() {
        let b = BoxSet(rows: [[-5, 10, 120, 140]])
        XCTAssertEqual(b.clipped(width: 100, height: 128).coordinates, [0, 10, 100, 128])
        let n = b.normalized(width: 200, height: 100)
        XCTAssertEqual(n.units, .normalized)
        XCTAssertEqual(n.coordinates, [-0.025, 0.1, 0.6, 1.4])
        for (u, v) in zip(n.inPixels(width: 200, height: 100).coordinates, b.coordinates) { XCTAssertEqual(u, v, accuracy: 1e-4) }
        let c = BoxSet(rows: [[50, 50, 20, 10]], format: .cxcywh).clipped(width: 55, height: 100)
        XCTAssertEqual(c.format, .cxcywh)
        XCTAssertEqual(c.coordinates, [47.5, 50, 15, 10])
    }

    func testIoUMatchesTorchvisionBitForBit() throws {
        let a = try BoxSet(validating: Golden.array(Golden.boxes, "iou.a")), b = try BoxSet(validating: Golden.array(Golden.boxes, "iou.b"))
        let iou = BoxOverlap.iou(a, b)
        XCTAssertEqual(iou.shape, [20, 30])
        XCTAssertEqual(iou.scalars, Golden.array(Golden.boxes, "iou.out").scalars)
        let giou = BoxOverlap.generalizedIoU(a, b)
        XCTAssertLessThan(giou.maxAbsDifference(Golden.array(Golden.boxes, "giou.out")), 1e-6)
    }

    func testIoUHandComputed() {
        let a = BoxSet(rows: [[0, 0, 10, 10]]), b = BoxSet(rows: [[0, 0, 10, 20], [5, 5, 15, 15], [20, 20, 30, 30], [0, 0, 10, 10]])
        XCTAssertEqual(BoxOverlap.iou(a, b).scalars, [0.5, 25 / 175, 0, 1])
        // GIoU of disjoint boxes: 0 − (C − U)/C with C = 30·30, U = 200.
        XCTAssertEqual(BoxOverlap.generalizedIoU(a, b).scalars[2], -(900 - 200) / 900, accuracy: 1e-6)
        XCTAssertEqual(BoxOverlap.shapeIoU(10, 10, 10, 20), 0.5)
    }

    func testIoUOnEveryRowSplit() {
        // Rows split across threads and vector tails: compare with the scalar definition on odd sizes.
        var rng = SeededGenerator(seed: 3)
        func random(_ n: Int) -> BoxSet {
            BoxSet((0..<n).flatMap { _ -> [Float] in
                let x = rng.nextUniform() * 50, y = rng.nextUniform() * 50
                return [x, y, x + 1 + rng.nextUniform() * 30, y + 1 + rng.nextUniform() * 30]
            })
        }
        for (n, m) in [(1, 1), (7, 17), (33, 3), (65, 129)] {
            let a = random(n), b = random(m)
            let iou = BoxOverlap.iou(a, b)
            for i in 0..<n {
                for j in 0..<m {
                    let (ax1, ay1, ax2, ay2) = a[i], (bx1, by1, bx2, by2) = b[j]
                    let inter = max(0, min(ax2, bx2) - max(ax1, bx1)) * max(0, min(ay2, by2) - max(ay1, by1))
                    let expected = inter / (((ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1)) - inter)
                    XCTAssertEqual(iou.scalars[i * m + j], expected)
                }
            }
        }
    }
}
