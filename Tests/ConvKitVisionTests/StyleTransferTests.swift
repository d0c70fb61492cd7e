import XCTest
import ConvKit
import ConvKitVision

/// The two-layer network of Golden/make_style_golden.py, as a style feature network.
final class TinyStyleNetwork: Module, StyleFeatureNetwork {
    var conv1 = Conv2D(3, 4, kernel: 3, padding: .symmetric(1))
    var conv2 = Conv2D(4, 6, kernel: 3, padding: .symmetric(1))
    var layerNames: [String] { ["a1", "a2"] }
    var defaultContentLayer: String { "a2" }
    var defaultStyleLayers: [String] { ["a1", "a2"] }

    init(_ g: [String: Tensor]) {
        super.init()
        conv1.weight.value = Golden.array(g, "w1"); conv1.bias!.value = Golden.array(g, "b1")
        conv2.weight.value = Golden.array(g, "w2"); conv2.bias!.value = Golden.array(g, "b2")
        freeze()
    }

    func activations(_ image: Variable, at layers: Set<String>) -> [String: Variable] {
        let a1 = conv1(image).relu()
        let a2 = conv2(Functional.avgPool(a1, PoolOptions(kernel: [2], stride: [2]))).relu()
        return ["a1": a1, "a2": a2]
    }
}

final class StyleTransferTests: XCTestCase {
    static let golden: [String: Tensor] = { (try? NumPy.loadArchive(Golden.path("style.npz"))) ?? [:] }()

    func transfer(_ g: [String: Tensor], content: Float, style: Float, tv: Float) -> StyleTransfer {
        var t = StyleTransfer(network: TinyStyleNetwork(g), contentWeight: content, styleWeight: style)
        t.styleLayers = [("a1", 0.25), ("a2", 0.75)]
        t.totalVariationWeight = tv
        return t
    }

    func testGramContentStyleAndTVMatchPyTorch() throws {
        let g = Self.golden
        let (c, s, image) = (Golden.array(g, "C"), Golden.array(g, "S"), Golden.array(g, "G"))
        let net = TinyStyleNetwork(g)
        let a1 = net.activations(Variable(image), at: ["a1"])["a1"]!
        let gram = StyleCosts.gram(a1).value
        XCTAssertEqual(gram.shape, [4, 4])
        XCTAssertLessThan(gram.maxAbsDifference(Golden.array(g, "gram1")), 2e-5 * Golden.array(g, "gram1").abs().max().scalar)
        let costs = try transfer(g, content: 0.7, style: 50, tv: 0.01).costs(of: image, content: c, style: s)
        XCTAssertEqual(costs.content, Golden.array(g, "content").scalar, accuracy: 1e-5 * Golden.array(g, "content").scalar)
        let style = 0.25 * Golden.array(g, "style1").scalar + 0.75 * Golden.array(g, "style2").scalar
        XCTAssertEqual(costs.style, style, accuracy: 1e-4 * style)
        XCTAssertEqual(costs.totalVariation, Golden.array(g, "tv").scalar, accuracy: 1e-5 * Golden.array(g, "tv").scalar)
    }

    /// ∂J/∂G for J and for each term alone against PyTorch's autograd.
    func testGradientsWithRespectToTheImageMatchPyTorch() throws {
        let g = Self.golden
        let (c, s, image) = (Golden.array(g, "C"), Golden.array(g, "S"), Golden.array(g, "G"))
        let cases: [(String, Float, Float, Float)] = [("grad", 0.7, 50, 0.01), ("grad_content", 1, 0, 0),
                                                      ("grad_style", 0, 1, 0), ("grad_tv", 0, 0, 1)]
        for (key, alpha, beta, gamma) in cases {
            let r = try transfer(g, content: alpha, style: beta, tv: gamma).evaluate(image, content: c, style: s)
            let want = Golden.array(g, key)
            let scale = want.abs().max().scalar
            XCTAssertGreaterThan(scale, 0, key)
            XCTAssertLessThan(r.gradient.maxAbsDifference(want), 1e-4 * scale, key)
            if key == "grad" { XCTAssertEqual(r.total, Golden.array(g, "total").scalar, accuracy: 1e-5 * r.total) }
        }
    }

    /// Finite differences on the Gram matrix's own backward, for an activation that is not square in H, W.
    func testGramBackwardByFiniteDifferences() {
        var rng = SeededGenerator(seed: 9)
        let a = Tensor.normal([1, 3, 4, 5], rng: &rng), r = Tensor.normal([3, 3], rng: &rng)
        let v = Variable(a, requiresGrad: true)
        (StyleCosts.gram(v) * r).sum().backward()
        let eps: Float = 1e-2
        for i in stride(from: 0, to: a.count, by: 7) {
            var plus = a, minus = a
            plus.scalars[i] += eps; minus.scalars[i] -= eps
            let fp = (StyleCosts.gram(Variable(plus)).value * r).sum().scalar
            let fm = (StyleCosts.gram(Variable(minus)).value * r).sum().scalar
            XCTAssertEqual(v.grad!.scalars[i], (fp - fm) / (2 * eps), accuracy: 2e-2)
        }
    }

    /// The whole loop on a small image: L-BFGS-B lowers the style cost 100× or more, keeps every pixel in
    /// [0, 1] and keeps more content than the style image has; Adam lowers J too.
    func testOptimizationLowersTheStyleCostAndStaysInTheBox() throws {
        var rng = SeededGenerator(seed: 2)
        let y = Tensor.arange(32).reshaped([1, 1, 32, 1]) / 31, x = Tensor.arange(32).reshaped([1, 1, 1, 32]) / 31
        let content = Tensor.concatenate([y + x * 0, x + y * 0, (y + x) / 2], axis: 1)      // smooth ramps
        let style = Tensor.uniform([1, 3, 32, 32], rng: &rng)                               // noise texture
        var t = StyleTransfer(network: RandomMultiScaleFeatures(scales: 2, filters: 16, kernel: 5, seed: 1),
                              contentWeight: 1, styleWeight: 1e8)
        t.iterations = 40
        let r = try t.run(content: content, style: style)
        XCTAssertLessThan(r.end.style, r.start.style / 100, "style cost \(r.start.style) → \(r.end.style)")
        XCTAssertLessThan(r.end.content, r.contentCostOfStyleImage)
        XCTAssertEqual(r.image.shape, content.shape)
        XCTAssertGreaterThanOrEqual(r.image.min().scalar, 0)
        XCTAssertLessThanOrEqual(r.image.max().scalar, 1)
        XCTAssertTrue(zip(r.history, r.history.dropFirst()).allSatisfy { $0.1 <= $0.0 * (1 + 1e-6) })
        t.optimizer = .adam(learningRate: 0.02)
        t.iterations = 30
        let adam = try t.run(content: content, style: style)
        XCTAssertLessThan(adam.history.last!, adam.history.first!)
        XCTAssertGreaterThanOrEqual(adam.image.min().scalar, 0)
    }

    func testVGGLayerNamesFollowTorchvisionAndGatys() throws {
        let vgg19 = VGGStyleFeatures(depth: 19), vgg16 = VGGStyleFeatures(depth: 16)
        XCTAssertEqual(vgg19.features.layers.count, 37)
        XCTAssertEqual(vgg16.features.layers.count, 31)
        let image = Variable(Tensor(repeating: 0.5, shape: [1, 3, 32, 32]))
        let a = Autograd.withoutGradients { vgg19.activations(image, at: ["relu4_2", "features.22", "conv1_1", "pool2"]) }
        XCTAssertEqual(a["relu4_2"]!.value.scalars, a["features.22"]!.value.scalars)
        XCTAssertEqual(a["conv1_1"]!.shape, [1, 64, 32, 32])
        XCTAssertEqual(a["pool2"]!.shape, [1, 128, 8, 8])
        let b = Autograd.withoutGradients { vgg16.activations(image, at: ["relu5_1", "features.25"]) }
        XCTAssertEqual(b["relu5_1"]!.value.scalars, b["features.25"]!.value.scalars)
        XCTAssertThrowsError(try vgg16.validate(["relu5_4"])) { e in
            XCTAssertTrue("\(e)".contains("relu5_3"), "the error lists the valid names: \(e)")
        }
    }

    /// A torchvision-style state dict (features + classifier) loads into the features; a file without them fails.
    func testVGGFeaturesLoadTorchvisionStateDicts() throws {
        let source = VGGStyleFeatures(depth: 16)
        var tensors = [String: Tensor]()
        for (n, p) in source.namedParameters() { tensors[n] = p.value }
        tensors["classifier.0.weight"] = .zeros([2, 2])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("style-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("vgg16.safetensors").path
        try Safetensors.save(tensors, to: path)
        let target = VGGStyleFeatures(depth: 16)
        XCTAssertNotEqual(target.features.layers.count, 0)
        try target.load(weights: path)
        for ((_, p), (_, q)) in zip(source.namedParameters(), target.namedParameters()) { XCTAssertEqual(p.value.scalars, q.value.scalars) }
        tensors["features.28.weight"] = nil
        try Safetensors.save(tensors, to: path)
        XCTAssertThrowsError(try target.load(weights: path)) { XCTAssertTrue("\($0)".contains("features.28.weight")) }
    }

    func testBadInputGivesErrors() {
        let t = StyleTransfer(network: RandomMultiScaleFeatures(scales: 2, filters: 4, kernel: 3))
        XCTAssertThrowsError(try t.run(content: .zeros([1, 1, 16, 16]), style: .zeros([1, 3, 16, 16])))
        var bad = t
        bad.contentLayer = "scale7"
        XCTAssertThrowsError(try bad.run(content: .zeros([1, 3, 16, 16]), style: .zeros([1, 3, 16, 16]))) { e in
            XCTAssertTrue("\(e)".contains("scale0, scale1"), "\(e)")
        }
    }
}
