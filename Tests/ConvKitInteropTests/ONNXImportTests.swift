import XCTest
import ConvKit
@testable import ConvKitInterop

/// ONNX's own backend cases (a committed selection; `Scripts/onnx_conformance.py` runs the whole suite) and the light
/// models, whose expected outputs ONNX's reference implementation produced.
final class ONNXConformanceTests: XCTestCase {
    func caseFolders(_ suite: String) throws -> [URL] {
        let dir = ONNXBuilder.golden.appendingPathComponent(suite)
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("test_") }.sorted().map { dir.appendingPathComponent($0) }
    }

    func testCommittedNodeAndPyTorchCasesMatchTheONNXReference() throws {
        let cases = try caseFolders("node") + caseFolders("pytorch")
        XCTAssertGreaterThanOrEqual(cases.count, 100)
        var failures = [String]()
        for c in cases {
            let r = ONNXConformance.check(caseDirectory: c, rtol: 1e-3, atol: 1e-7)
            if !r.passed { failures.append("\(r.name): \(r.error ?? "")") }
            XCTAssertFalse(r.outputs.isEmpty, "\(r.name) compared no output")
        }
        XCTAssertEqual(failures, [])
    }

    func testAWrongExpectedOutputFailsTheCheck() throws {
        let src = ONNXBuilder.golden.appendingPathComponent("node/test_conv_with_strides_padding")
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-wrong-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: src, to: tmp)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let out = tmp.appendingPathComponent("test_data_set_0/output_0.pb")
        var (name, v) = try ONNXTensorFile.read(out)
        var t = v.floatTensor
        t.scalars[3] += 1
        v = .float(t)
        try ONNXTensorFile.write(v, name: name, to: out)
        let r = ONNXConformance.check(caseDirectory: tmp)
        XCTAssertFalse(r.passed)
        XCTAssertEqual(r.outputs.first.map { Double($0.maxAbsError) } ?? 0, 1, accuracy: 1e-3)
    }

    /// ONNX's runner feeds each light model arange(n)/n; the expected outputs ship with onnx.
    func testLightModelsMatchTheirReferenceOutputs() throws {
        let dir = ONNXBuilder.golden.appendingPathComponent("light")
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() {
            let m = try ONNXModel(contentsOf: dir.appendingPathComponent("\(name)/model.onnx"))
            let shape = try XCTUnwrap(m.inputs[0].concreteShape())
            let n = shape.reduce(1, *)
            let x = Tensor(shape: shape, scalars: (0..<n).map { Float(Double($0) / Double(n)) })
            let y = try m.predict(x)
            let (_, expected) = try ONNXTensorFile.read(dir.appendingPathComponent("\(name)/output_0.pb"))
            let (ok, err, why) = ONNXConformance.compare(.float(y), expected, rtol: 1e-3, atol: 1e-6)
            XCTAssertTrue(ok, "\(name): \(why)")
            XCTAssertLessThan(err, 1e-4, name)
            // Their weights come from ConstantOfShape nodes: folded at load, then fused like initializers.
            XCTAssertLessThan(m.runtimeNodeCount, m.operatorCounts.reduce(0) { $0 + $1.1 } / 2, "\(name): nothing was folded or fused")
        }
    }
}

/// A small CNN with torchvision's building blocks, exported by PyTorch's two exporters (Golden/make_torch_golden.py),
/// against ONNX Runtime's outputs.
final class ONNXTorchExportTests: XCTestCase {
    let dir = ONNXBuilder.golden.appendingPathComponent("torch")

    func testBothExportersMatchONNXRuntime() throws {
        let x = try NumPy.load(dir.appendingPathComponent("input.npy").path)
        for opset in [13, 18] {
            let m = try ONNXModel(contentsOf: dir.appendingPathComponent("blocks_opset\(opset).onnx"))
            XCTAssertEqual(m.opset, opset)
            let y = try m.predict(x)
            let expected = try NumPy.load(dir.appendingPathComponent("output_opset\(opset).npy").path)
            XCTAssertEqual(y.shape, [1, 10])
            XCTAssertLessThan(y.maxAbsDifference(expected), 1e-4, "opset \(opset)")
        }
    }

    /// Fusion (conv + folded BN + residual + ReLU in one kernel) runs only without gradients; with gradients recorded
    /// every node runs as written. Both must agree.
    func testFusedInferenceEqualsTheGraphAsWritten() throws {
        let m = try ONNXModel(contentsOf: dir.appendingPathComponent("blocks_opset13.onnx"))
        XCTAssertLessThan(m.runtimeNodeCount, m.operatorCounts.reduce(0) { $0 + $1.1 })
        let x = try NumPy.load(dir.appendingPathComponent("input.npy").path)
        let fused = try m.predict(x)
        let input = Variable(x, requiresGrad: true)
        let unfused = try m.forward([input])[0]
        XCTAssertLessThan(fused.maxAbsDifference(unfused.value), 1e-5)
        unfused.sum().backward()
        XCTAssertNotNil(input.grad)
    }

    /// A ResNet downsampling block: two conv–BN chains feed one Add, then ReLU. Only one chain may absorb the Add (the
    /// other's output becomes its residual); fused and as-written outputs agree.
    func testTwoConvolutionChainsFeedingOneAddFuseOnce() throws {
        typealias B = ONNXBuilder
        var rng = SeededGenerator(seed: 11)
        func bn(_ p: String, _ c: Int) -> [Onnx_TensorProto] {
            [B.tensor(p + ".g", Tensor.uniform([c], low: 0.5, high: 1.5, rng: &rng)), B.tensor(p + ".b", Tensor.uniform([c], low: -0.2, high: 0.2, rng: &rng)),
             B.tensor(p + ".m", Tensor.uniform([c], low: -0.5, high: 0.5, rng: &rng)), B.tensor(p + ".v", Tensor.uniform([c], low: 0.5, high: 2, rng: &rng))]
        }
        let inits = [B.tensor("w1", Tensor.normal([8, 4, 3, 3], std: 0.3, rng: &rng)), B.tensor("w2", Tensor.normal([8, 4, 1, 1], std: 0.3, rng: &rng))]
            + bn("bn1", 8) + bn("bn2", 8)
        let nodes = [
            B.node("Conv", ["x", "w1"], ["c1"], [B.attribute("pads", ints: [1, 1, 1, 1]), B.attribute("strides", ints: [2, 2])]),
            B.node("BatchNormalization", ["c1", "bn1.g", "bn1.b", "bn1.m", "bn1.v"], ["n1"]),
            B.node("Conv", ["x", "w2"], ["c2"], [B.attribute("strides", ints: [2, 2])]),
            B.node("BatchNormalization", ["c2", "bn2.g", "bn2.b", "bn2.m", "bn2.v"], ["n2"]),
            B.node("Add", ["n1", "n2"], ["s"]), B.node("Relu", ["s"], ["y"]),
        ]
        let m = try B.load(B.model(nodes: nodes, inputs: [B.valueInfo("x", [1, 4, 8, 8])], outputs: [B.valueInfo("y", [1, 8, 4, 4])], initializers: inits))
        XCTAssertEqual(m.runtimeNodeCount, 2, "one chain conv+BN+Add+ReLU, the other conv+BN")
        let x = Tensor.normal([1, 4, 8, 8], rng: &rng)
        let fused = try m.predict(x)
        let written = try m.forward([Variable(x, requiresGrad: true)])[0].value
        XCTAssertLessThan(fused.maxAbsDifference(written), 1e-5)
        XCTAssertGreaterThan(fused.scalars.filter { $0 > 0 }.count, 10)
    }

    func testAnImportedModelFineTunesAndItsCheckpointLoadsIntoAFreshImport() throws {
        let url = dir.appendingPathComponent("blocks_opset18.onnx")
        let m = try ONNXModel(contentsOf: url)
        XCTAssertFalse(m.isTraining, "imported models start in evaluation")
        XCTAssertEqual(m.parameterCount, 2438)
        var rng = SeededGenerator(seed: 3)
        let x = Tensor.normal([8, 3, 32, 32], rng: &rng)
        let labels = (0..<8).map { $0 % 10 }
        m.train()
        let opt = Optimizer.adam(m, lr: 0.01)
        var losses = [Float]()
        for _ in 0..<25 {
            opt.zeroGrad()
            let loss = Loss.crossEntropy(try m.forward([Variable(x)])[0], labels: labels)
            loss.backward()
            opt.step()
            losses.append(loss.value.scalar)
        }
        XCTAssertLessThan(losses.last!, losses.first! * 0.5, "\(losses)")
        m.eval()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-ft-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint.save(m, to: path)
        let fresh = try ONNXModel(contentsOf: url)
        XCTAssertGreaterThan(try fresh.predict(x).maxAbsDifference(try m.predict(x)), 1e-3, "training changed nothing")
        _ = try Checkpoint.load(path, into: fresh)
        XCTAssertLessThan(try fresh.predict(x).maxAbsDifference(try m.predict(x)), 1e-5)
    }

    func testSummaryOfAnImportedModelCountsItsMultiplyAdds() throws {
        // One 3×3 convolution 2 → 4 on 5×5 (pads 1): 4·5·5 outputs × 2·3·3 taps.
        var rng = SeededGenerator(seed: 1)
        let w = Tensor.normal([4, 2, 3, 3], rng: &rng)
        let model = ONNXBuilder.model(nodes: [ONNXBuilder.node("Conv", ["x", "w"], ["y"], [ONNXBuilder.attribute("pads", ints: [1, 1, 1, 1])])],
                                      inputs: [ONNXBuilder.valueInfo("x", [1, 2, 5, 5])], outputs: [ONNXBuilder.valueInfo("y", [1, 4, 5, 5])],
                                      initializers: [ONNXBuilder.tensor("w", w)])
        let m = try ONNXBuilder.load(model)
        let s = try ONNXModelSummary.of(m)
        XCTAssertEqual(s.macs, 4 * 25 * 18)
        XCTAssertEqual(s.params, 72)
        XCTAssertEqual(s.layers.first?.receptiveField, [3, 3])
    }
}

/// Imported models compiled into inference plans compute what the imported modules compute: ONNX's light ResNet-50
/// and Inception v1 (weights made by ConstantOfShape: constants, not parameters), and the torch-exported blocks where
/// their operators allow; a graph with an operation the plan has no kernel for is refused by name, not miscomputed.
final class ONNXInferencePlanTests: XCTestCase {
    func testLightModelsCompileAndMatchTheImport() throws {
        let dir = ONNXBuilder.golden.appendingPathComponent("light")
        for name in ["light_resnet50", "light_inception_v1"] {
            let m = try ONNXModel(contentsOf: dir.appendingPathComponent("\(name)/model.onnx"))
            let shape = try XCTUnwrap(m.inputs[0].concreteShape())
            var rng = SeededGenerator(seed: 5)
            let x = Tensor.uniform(shape, low: 0, high: 1, rng: &rng)
            let plan = try InferencePlan(m, inputShape: shape) { try m.forward([$0]) }
            let expected = try m.predict(x), y = plan(x)[0]
            let scale = Swift.max(1, expected.scalars.map(abs).max()!)
            XCTAssertLessThanOrEqual(y.maxAbsDifference(expected), 2e-5 * scale, name)
        }
    }

    /// PyTorch's exports of mobile blocks (squeeze-excitation gates, HardSigmoid/HardSwish, Clip, a channel shuffle,
    /// ReduceMean) compile into a plan that gives the import's values and PyTorch's.
    func testTorchExportedBlocksCompileAndMatch() throws {
        let dir = ONNXBuilder.golden.appendingPathComponent("torch")
        let x = try NumPy.load(dir.appendingPathComponent("input.npy").path)
        for opset in [13, 18] {
            let m = try ONNXModel(contentsOf: dir.appendingPathComponent("blocks_opset\(opset).onnx"))
            let plan = try InferencePlan(m, inputShape: x.shape) { try m.forward([$0]) }
            let y = plan(x)[0], torch = try NumPy.load(dir.appendingPathComponent("output_opset\(opset).npy").path)
            XCTAssertLessThanOrEqual(y.maxAbsDifference(try m.predict(x)), 1e-5, "opset \(opset)")
            XCTAssertLessThanOrEqual(y.maxAbsDifference(torch), 1e-4, "opset \(opset)")
        }
    }
}
