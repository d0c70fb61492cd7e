import Foundation
import XCTest
import ConvKit
import ConvKitModels
@testable import ConvKitInterop

/// Export → import round trips: the imported graph must give the exporting module's outputs on an input it was
/// not traced on (so nothing input-dependent was frozen into a constant). onnx.checker and ONNX Runtime check the
/// same files in `Scripts/check_onnx_export.py` (run by .ci/run).
final class ONNXExportTests: XCTestCase {
    func roundTrip(_ net: any UnaryLayer, _ shape: [Int], tolerance: Float = 1e-4, file: StaticString = #filePath, line: UInt = #line) throws -> ONNXModel {
        net.eval()
        let data = try ONNXExporter.export(net, inputShape: shape, seed: 1)
        let imported = try ONNXModel(serialized: data, path: "exported.onnx")
        var rng = SeededGenerator(seed: 99)
        let x = Tensor.normal([2] + shape, rng: &rng)   // batch 2: the batch axis is symbolic
        let expected = net.predict(x), got = try imported.predict(x)
        XCTAssertEqual(got.shape, expected.shape, file: file, line: line)
        let scale = expected.scalars.map(abs).max() ?? 1
        let error = zip(got.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(error, tolerance * scale + 1e-7, "max |Δ| \(error) of \(scale)", file: file, line: line)
        return imported
    }

    func testZooModelsRoundTrip() throws {
        for (name, shape) in [("lenet5", [1, 28, 28]), ("small_cnn", [1, 28, 28]), ("resnet18", [3, 64, 64]), ("mobilenet_v1", [3, 64, 64]),
                              ("mobilenet_v2", [3, 64, 64]), ("googlenet", [3, 96, 96]), ("yolo_tiny", [1, 64, 64])] {
            ConvKitRandom.seed(5)
            let (net, _) = try ModelZoo.make(name, classes: 10, inputChannels: shape[0])
            let imported = try roundTrip(net, shape)
            XCTAssertEqual(imported.parameterCount, net.parameters().reduce(0) { $0 + $1.value.count }, name)
            XCTAssertEqual(imported.opset, 17)
        }
    }

    /// Parameters keep their module paths, and batch-norm statistics sit beside them: a checkpoint of the
    /// imported model reads as the original's.
    func testParameterNamesAreTheModulePaths() throws {
        ConvKitRandom.seed(5)
        let (net, _) = try ModelZoo.make("small_cnn", classes: 10, inputChannels: 1)
        let imported = try roundTrip(net, [1, 28, 28])
        XCTAssertEqual(Set(imported.namedParameters().map(\.0)), Set(net.namedParameters().map(\.0)))
        XCTAssertTrue(imported.namedBuffers().map(\.0).contains { $0.hasSuffix(".running_mean") })
    }

    /// A user's own graph: every traced op the exporter knows, in one module.
    final class EveryOp: Module, UnaryLayer {
        let conv = Conv(inputChannels: 3, outputChannels: 4, kernelSize: [3, 3], padding: .same)
        let reflect = Conv(inputChannels: 4, outputChannels: 4, kernelSize: [3, 3], padding: .symmetric(1), paddingFill: .reflect)
        let depthwise = Conv(inputChannels: 4, outputChannels: 8, kernelSize: [3, 3], stride: [2, 2], padding: .symmetric(1), groups: 4)
        let up = ConvTranspose(inputChannels: 8, outputChannels: 4, kernelSize: [3, 3], stride: [2, 2], padding: .symmetric(1), outputPadding: [1, 1])
        let bn = BatchNorm(4), instance = InstanceNorm(4), prelu = PReLU(channels: 4), lrn = LocalResponseNorm(size: 3)
        let dense = Dense(4 * 5 * 5 + 4, 5)
        public override func namedChildren() -> [(String, Module)] {
            [("conv", conv), ("reflect", reflect), ("depthwise", depthwise), ("up", up), ("bn", bn), ("instance", instance), ("prelu", prelu),
             ("lrn", lrn), ("dense", dense)]
        }
        func callAsFunction(_ x: Variable) -> Variable {
            var h = conv(x).activated(.gelu)
            h = reflect(h).activated(.hardSwish) + h * 0.5
            let d = depthwise(h).activated(.relu6)
            h = bn(up(d)).activated(.leakyRelu(0.1)) - h.activated(.sigmoid)
            h = prelu(instance(h)).clamped(min: -2, max: 2)
            h = lrn(h.padded([(1, 1), (0, 2)], mode: .replicate).slice(axis: 3, 1..<9).slice(axis: 2, 0..<8))
            let pooled = Functional.avgPool(h, PoolOptions(kernel: [3, 3], stride: [2, 2], padding: .symmetric(1), ceilMode: true, countIncludePad: false))
            let big = Functional.upsampleNearest(Functional.maxPool(pooled, PoolOptions(kernel: [2, 2], stride: [2, 2])), scale: (2, 2))
            let smooth = Functional.resizeBilinear(big, to: (5, 5))
            let mixed = Variable.concatenate([smooth, pooled.permuted([0, 1, 3, 2]).activated(.tanh)], axis: 1)
            let stats = Functional.globalAvgPool(mixed.exp().clampedMin(0.1).log() + 1).pow(2).sqrt()
            let flat = Variable.concatenate([mixed.slice(axis: 1, 0..<4).flattened(), stats.slice(axis: 1, 0..<4)], axis: 1)
            return Functional.logSoftmax(dense(flat).abs().squared() / (flat.sum(axes: [1], keepingDims: true).abs() + 1), axis: 1)
        }
    }

    func testAUsersGraphWithEveryExportedOpRoundTrips() throws {
        ConvKitRandom.seed(11)
        let net = EveryOp()
        let imported = try roundTrip(net, [3, 8, 8])
        let ops = Set(imported.operatorCounts.map(\.0))
        for op in ["Conv", "Pad", "ConvTranspose", "BatchNormalization", "InstanceNormalization", "PRelu", "LRN", "Erf", "HardSwish",
                   "Clip", "LeakyRelu", "Sigmoid", "Slice", "AveragePool", "MaxPool", "Resize", "Concat", "Transpose", "Tanh",
                   "GlobalAveragePool", "Exp", "Log", "Pow", "Sqrt", "Gemm", "Abs", "ReduceSum", "Div", "LogSoftmax", "Reshape"] {
            XCTAssertTrue(ops.contains(op), "\(op) missing from \(ops.sorted())")
        }
    }

    func testOpsWithoutAnONNXFormAreNamed() throws {
        final class Custom: Module, UnaryLayer {
            func callAsFunction(_ x: Variable) -> Variable { Variable(x.value, parents: [x], label: "mystery") { g in [g] } }
        }
        XCTAssertThrowsError(try ONNXExporter.export(Custom(), inputShape: [2, 3])) { e in
            XCTAssertTrue("\(e)".contains("'mystery'"), "\(e)")
        }
    }
}
