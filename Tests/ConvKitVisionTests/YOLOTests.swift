import ConvKit
import ConvKitModels
import ConvKitVision
import XCTest

final class YOLOTests: XCTestCase {
    let anchors: [(w: Float, h: Float)] = [(0.1, 0.1), (0.2, 0.4), (0.4, 0.2)]

    /// Raw outputs that decode to the encoded targets: t_x = logit(t*_x), t_w = t*_w, high objectness and class.
    func rawOutput(_ codec: YOLOCodec, _ t: YOLOCodec.Targets) -> Tensor {
        var o = Tensor(repeating: -10, shape: [codec.channels, codec.rows, codec.cols])
        let plane = codec.rows * codec.cols
        for s in t.assignments {
            let base = s.anchor * codec.channelsPerAnchor * plane + s.row * codec.cols + s.col
            o.scalars[base] = Foundation.log(s.tx / (1 - s.tx)); o.scalars[base + plane] = Foundation.log(s.ty / (1 - s.ty))
            o.scalars[base + 2 * plane] = s.tw; o.scalars[base + 3 * plane] = s.th
            o.scalars[base + 4 * plane] = 8
            o.scalars[base + (5 + s.classIndex) * plane] = 10
        }
        return o
    }

    func testEncodeThenDecodeReturnsTheBoxes() {
        let codec = YOLOCodec(rows: 8, cols: 8, anchors: anchors, classes: 4)
        let boxes = BoxSet(rows: [[0.10, 0.12, 0.22, 0.21], [0.5, 0.3, 0.7, 0.72], [0.55, 0.8, 0.95, 0.99], [0.01, 0.6, 0.3, 0.7]], units: .normalized)
        let t = codec.encode(boxes: boxes, classes: [0, 3, 2, 1])
        XCTAssertEqual(t.assignments.count, 4)
        XCTAssertEqual(t.reassigned + t.dropped, 0)
        // The midpoint's cell, the best-shaped anchor.
        let tall = t.assignments.first { $0.object == 1 }!
        XCTAssertEqual(tall.anchor, 1)
        XCTAssertEqual(tall.col, 4); XCTAssertEqual(tall.row, 4)
        XCTAssertEqual(tall.tx, 0.6 * 8 - 4, accuracy: 1e-5)
        XCTAssertEqual(tall.tw, Foundation.log(0.2 / 0.2), accuracy: 1e-5)
        XCTAssertEqual(tall.th, Foundation.log(0.42 / 0.4), accuracy: 1e-5)
        let d = codec.decode(rawOutput(codec, t), scoreThreshold: 0.5)
        XCTAssertEqual(d.count, 4)
        for (i, c) in [0, 3, 2, 1].enumerated() {
            guard let j = d.classes.firstIndex(of: c) else { XCTFail("class \(c) not decoded"); continue }
            let iou = BoxOverlap.iou(d.boxes.gathered([j]), boxes.gathered([i])).scalar
            XCTAssertGreaterThan(iou, 0.9999, "object \(i)")
            XCTAssertGreaterThan(d.scores[j], 0.99)
        }
    }

    func testCollisionsAreSettledLargestFirstAndCounted() {
        let codec = YOLOCodec(rows: 2, cols: 2, anchors: [(0.1, 0.1), (0.3, 0.3)], classes: 1)
        // Three boxes centred in cell (0, 0): the largest (object 1) is placed first and takes anchor 1; of the two
        // small ones object 0 (the larger) takes anchor 0, and object 2 finds both anchors taken: dropped.
        let b = BoxSet(rows: [[0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.35, 0.35], [0.11, 0.11, 0.21, 0.21]], units: .normalized)
        let t = codec.encode(boxes: b, classes: [0, 0, 0])
        XCTAssertEqual(t.assignments.map(\.object), [1, 0])
        XCTAssertEqual(t.assignments.map(\.anchor), [1, 0])
        XCTAssertEqual(t.dropped, 1)
        XCTAssertEqual(t.reassigned, 0)
        // Two small boxes, one large anchor free: the second small one is reassigned to it.
        let t2 = codec.encode(boxes: BoxSet(rows: [[0.1, 0.1, 0.2, 0.2], [0.11, 0.11, 0.21, 0.21]], units: .normalized), classes: [0, 0])
        XCTAssertEqual(t2.assignments.map(\.anchor), [0, 1])
        XCTAssertEqual(t2.reassigned, 1)
        XCTAssertEqual(t2, codec.encode(boxes: BoxSet(rows: [[0.1, 0.1, 0.2, 0.2], [0.11, 0.11, 0.21, 0.21]], units: .normalized), classes: [0, 0]))
    }

    func testLossGradientMatchesFiniteDifferences() {
        let codec = YOLOCodec(rows: 3, cols: 3, anchors: [(0.2, 0.3), (0.5, 0.4)], classes: 3)
        var rng = SeededGenerator(seed: 5)
        let x = Tensor.normal([2, codec.channels, 3, 3], std: 0.7, rng: &rng)
        let targets = [codec.encode(boxes: BoxSet(rows: [[0.1, 0.1, 0.4, 0.5], [0.5, 0.5, 0.9, 0.8]], units: .normalized), classes: [2, 0]),
                       codec.encode(boxes: BoxSet(rows: [[0.3, 0.2, 0.6, 0.9]], units: .normalized), classes: [1])]
        var loss = YOLOLoss()
        loss.ignoreThreshold = 1.01   // keep the ignore set from switching under the perturbations
        let v = Variable(x, requiresGrad: true)
        let (l, parts) = loss(v, targets: targets, codec: codec)
        XCTAssertEqual(Double(l.value.scalar), parts.coordinate + parts.objectness + parts.noObject + parts.classification, accuracy: 1e-3)
        l.backward()
        let g = v.grad!
        let h: Float = 1e-2
        for i in stride(from: 0, to: x.count, by: 7) {
            var p = x, m = x
            p.scalars[i] += h; m.scalars[i] -= h
            let fp = loss(Variable(p), targets: targets, codec: codec).loss.value.scalar
            let fm = loss(Variable(m), targets: targets, codec: codec).loss.value.scalar
            XCTAssertEqual(g.scalars[i], (fp - fm) / (2 * h), accuracy: 2e-3 * Swift.max(1, Swift.abs(g.scalars[i])), "element \(i)")
        }
    }

    func testIgnoredCellsGetNoNoObjectGradient() {
        let codec = YOLOCodec(rows: 2, cols: 2, anchors: [(0.5, 0.5), (0.45, 0.5)], classes: 1)
        let t = codec.encode(boxes: BoxSet(rows: [[0, 0, 0.5, 0.5]], units: .normalized), classes: [0])
        // All zeros: every anchor of cell (0,0) predicts a box centred at (0.25, 0.25) of its own size.
        let v = Variable(Tensor.zeros([1, codec.channels, 2, 2]), requiresGrad: true)
        var loss = YOLOLoss(); loss.ignoreThreshold = 0.5
        loss(v, targets: [t], codec: codec).loss.backward()
        let plane = 4, objOfAnchor1Cell0 = (1 * codec.channelsPerAnchor + 4) * plane
        XCTAssertEqual(t.assignments.first?.anchor, 0)
        XCTAssertEqual(v.grad!.scalars[objOfAnchor1Cell0], 0, "anchor 1's box overlaps the object with IoU 0.9 > 0.5: ignored")
        XCTAssertGreaterThan(v.grad!.scalars[objOfAnchor1Cell0 + 3], 0, "a far cell is pushed towards no object")
    }

    func testYoloTinyShapeAndAnchors() {
        ConvKitRandom.seed(1)
        let net = YOLOTiny(classes: 10)
        let y = net.predict(Tensor.zeros([2, 1, 128, 128]))
        XCTAssertEqual(y.shape, [2, 5 * 15, 8, 8])
        let k = try? AnchorClustering.kMeans([(1, 2), (1.1, 2.1), (4, 4), (4.2, 3.9), (0.9, 2)], k: 2, seed: 3)
        XCTAssertEqual(k?.anchors.count, 2)
        XCTAssertEqual(k?.anchors[0].w ?? 0, 1, accuracy: 1e-5)
        XCTAssertEqual(k?.anchors[1].w ?? 0, 4.1, accuracy: 1e-5)
        XCTAssertEqual(k?.bestPossibleRecall, 1)
        XCTAssertThrowsError(try AnchorClustering.kMeans([(1, 1)], k: 2))
    }
}
