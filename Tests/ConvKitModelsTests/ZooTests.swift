import XCTest
import ConvKit
import ConvKitModels

/// Parameter counts equal torchvision's for the same configurations.
final class ZooTests: XCTestCase {
    func testParameterCountsMatchTorchvision() throws {
        let expected: [(String, Int)] = [("alexnet", 61_100_840), ("vgg16", 138_357_544), ("resnet18", 11_689_512), ("resnet34", 21_797_672),
                                         ("resnet50", 25_557_032), ("googlenet", 6_624_904), ("mobilenet_v2", 3_504_872),
                                         ("vgg11", 132_863_336), ("vgg16_bn", 138_365_992), ("resnet101", 44_549_160), ("resnet152", 60_192_808),
                                         ("mobilenet_v1", 4_231_976)]
        for (name, count) in expected {
            let (m, _) = try ModelZoo.make(name, classes: 1000)
            XCTAssertEqual(m.parameterCount, count, name)
        }
        XCTAssertEqual(LeNet5().parameterCount, 61_706)
    }

    func testTorchvisionParameterNames() throws {
        let r = ResNet.resnet18()
        let names = r.namedParameters().map(\.0)
        XCTAssertEqual(Array(names.prefix(4)), ["conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv1.weight"])
        XCTAssertTrue(names.contains("layer2.0.downsample.0.weight") && names.contains("layer2.0.downsample.1.bias") && names.contains("fc.weight"))
        XCTAssertTrue(r.namedBuffers().map(\.0).contains("layer4.1.bn2.running_var"))
        let g = GoogLeNet().namedParameters().map(\.0)
        XCTAssertTrue(g.contains("inception3a.branch2.1.conv.weight") && g.contains("inception5b.branch4.1.bn.bias"))
        let m = MobileNetV2().namedParameters().map(\.0)
        XCTAssertTrue(m.contains("features.0.0.weight") && m.contains("features.1.conv.0.0.weight") && m.contains("features.2.conv.3.weight") && m.contains("classifier.1.weight"))
        XCTAssertTrue(VGG(depth: 16).namedParameters().map(\.0).contains("classifier.6.bias"))
        XCTAssertTrue(AlexNet().namedParameters().map(\.0).contains("features.10.weight"))
    }

    /// Forward and backward of every model on a small batch at a reduced input size.
    func testEveryModelRunsForwardAndBackward() throws {
        var rng = SeededGenerator(seed: 1)
        let sizes: [String: Int] = ["alexnet": 64, "googlenet": 32, "lenet5": 28, "lenet5_classic": 28]
        for e in ModelZoo.entries where !["vgg19", "vgg19_bn", "resnet152", "resnet101"].contains(e.name) {
            let s = sizes[e.name] ?? 32
            let m = e.make(7, e.inputShape[0])
            let x = Variable(.normal([2, e.inputShape[0], s, s], rng: &rng))
            let y = m(x)
            // Classifiers give [N, classes]; the detector a grid [N, B·(5+C), H/16, W/16].
            let expected = e.name.hasPrefix("yolo") ? [2, 5 * (5 + 7), s / 16, s / 16] : [2, 7]
            XCTAssertEqual(y.shape, expected, e.name)
            (y.shape.count == 2 ? Loss.crossEntropy(y, labels: [0, 6]) : y.squared().mean()).backward()
            XCTAssertTrue(m.trainableParameters().allSatisfy { $0.grad != nil }, "\(e.name): a parameter got no gradient")
            m.eval()
            // Inference folds batch norm and fuses residuals and activations into the convolutions; it must
            // agree with running the layers one by one (what recording gradients does in evaluation mode).
            let fast = m.predict(x.value), layerByLayer = m(x).value
            XCTAssertEqual(fast.shape, expected)
            let scale = Swift.max(1, layerByLayer.scalars.map { abs($0) }.max() ?? 0)
            XCTAssertLessThan(fast.maxAbsDifference(layerByLayer), 1e-4 * scale, e.name)
        }
    }

    func testGoogLeNetAuxiliaryClassifiers() {
        let g = GoogLeNet(classes: 5, auxiliaryClassifiers: true)
        var rng = SeededGenerator(seed: 2)
        _ = g(Variable(.normal([1, 3, 64, 64], rng: &rng)))
        XCTAssertEqual(g.auxiliaryOutputs.map(\.shape), [[1, 5], [1, 5]])
        g.eval()
        _ = g(Variable(.normal([1, 3, 64, 64], rng: &rng)))
        XCTAssertTrue(g.auxiliaryOutputs.isEmpty)
    }
}
