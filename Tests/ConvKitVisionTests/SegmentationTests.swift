import ConvKit
import ConvKitModels
import ConvKitVision
import XCTest

final class SegmentationTests: XCTestCase {
    func testMetricsOnAHandComputedMask() {
        var m = SegmentationMetrics(classes: 4, ignoreIndex: 255)
        m.add(predicted: [0, 1, 1, 1, 2, 0, 2], truth: [0, 0, 1, 1, 2, 2, 255])
        XCTAssertEqual(m.pixelAccuracy, 4.0 / 6, accuracy: 1e-12)
        let iou = m.classIoU
        XCTAssertEqual(iou[0]!, 1.0 / 3, accuracy: 1e-12); XCTAssertEqual(iou[1]!, 2.0 / 3, accuracy: 1e-12); XCTAssertEqual(iou[2]!, 0.5, accuracy: 1e-12)
        XCTAssertNil(iou[3], "class 3 appears nowhere")
        XCTAssertEqual(m.meanIoU, 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.meanDice, (0.5 + 0.8 + 2.0 / 3) / 3, accuracy: 1e-12)
        var one = m; one.emptyClass = .countsAsOne
        XCTAssertEqual(one.meanIoU, 2.5 / 4, accuracy: 1e-12)
        var noBackground = m; noBackground.includeBackground = false
        XCTAssertEqual(noBackground.meanIoU, (2.0 / 3 + 0.5) / 2, accuracy: 1e-12)
        // Per image: a perfect second image pulls the per-image mean up more than the pooled one.
        var per = m
        per.add(predicted: [3, 3], truth: [3, 3])
        per.reduction = .perImage
        XCTAssertEqual(per.meanIoU, (0.5 + 1) / 2, accuracy: 1e-12)
        per.reduction = .dataset
        XCTAssertEqual(per.meanIoU, (1.0 / 3 + 2.0 / 3 + 0.5 + 1) / 4, accuracy: 1e-12)
    }

    func testCrossEntropyWithWeightsAndIgnoreMatchesItsDefinitionAndGradient() {
        var rng = SeededGenerator(seed: 4)
        let x = Tensor.normal([2, 3, 2, 3], rng: &rng)
        let labels: [Int32] = [0, 1, 2, 255, 1, 0, 2, 2, 1, 255, 0, 1]
        let w: [Float] = [1, 2, 0.5]
        let v = Variable(x, requiresGrad: true)
        let l = SegmentationLoss.crossEntropy(v, labels: labels, classWeights: w, ignoreIndex: 255)
        // Definition: Σ w_y (−log softmax) / Σ w_y over the ten counted pixels.
        var num: Float = 0, den: Float = 0
        for b in 0..<2 { for p in 0..<6 {
            let y = labels[b * 6 + p]; if y == 255 { continue }
            let z = (0..<3).map { x[b, $0, p / 3, p % 3] }
            let lse = Foundation.log(z.map { Foundation.exp($0) }.reduce(0, +))
            num += w[Int(y)] * (lse - z[Int(y)]); den += w[Int(y)]
        } }
        XCTAssertEqual(l.value.scalar, num / den, accuracy: 1e-5)
        l.backward()
        checkGradient(v.grad!, x) { SegmentationLoss.crossEntropy(Variable($0), labels: labels, classWeights: w, ignoreIndex: 255).value.scalar }
        XCTAssertEqual(v.grad![0, 0, 1, 0], 0, "an ignored pixel gets no gradient")
    }

    func testDiceGradientByFiniteDifferences() {
        var rng = SeededGenerator(seed: 5)
        let x = Tensor.normal([2, 3, 2, 2], rng: &rng)
        let labels: [Int32] = [0, 1, 2, 2, 1, 255, 0, 0]
        let v = Variable(x, requiresGrad: true)
        let l = SegmentationLoss.dice(v, labels: labels, ignoreIndex: 255, excluding: [0])
        XCTAssertTrue((0...1).contains(l.value.scalar))
        l.backward()
        checkGradient(v.grad!, x) { SegmentationLoss.dice(Variable($0), labels: labels, ignoreIndex: 255, excluding: [0]).value.scalar }
    }

    func checkGradient(_ g: Tensor, _ x: Tensor, file: StaticString = #filePath, line: UInt = #line, _ f: (Tensor) -> Float) {
        for i in 0..<x.count {
            var p = x, m = x
            p.scalars[i] += 1e-2; m.scalars[i] -= 1e-2
            XCTAssertEqual(g.scalars[i], (f(p) - f(m)) / 2e-2, accuracy: 2e-3, "element \(i)", file: file, line: line)
        }
    }

    func testUNetKeepsTheInputSize() {
        ConvKitRandom.seed(1)
        let net = UNet(classes: 11, inputChannels: 1, depth: 3, width: 4)
        let x = Variable(Tensor.zeros([2, 1, 32, 48]))
        let y = net(x)
        XCTAssertEqual(y.shape, [2, 11, 32, 48])
        SegmentationLoss.crossEntropy(y, labels: [Int32](repeating: 3, count: 2 * 32 * 48)).backward()
        XCTAssertTrue(net.trainableParameters().allSatisfy { $0.grad != nil })
        net.eval()
        XCTAssertLessThan(net.predict(x.value).maxAbsDifference(net(x).value), 1e-4, "fused inference agrees with layer by layer")
    }
}
