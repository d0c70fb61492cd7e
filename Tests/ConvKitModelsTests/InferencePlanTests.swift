import Foundation
import ConvKit
import ConvKitModels
import XCTest

/// Compiled inference plans compute what the modules compute: every zoo model (batch-norm statistics randomized so
/// that folding them is exercised), at batch 1 and, for the small ones, batch 3; concatenations written in place,
/// residual sums, activations on their own, batch norms on their own and first layers reading the plain input.
final class InferencePlanTests: XCTestCase {
    /// Random γ, β, running means and variances, so that a wrong fold shows.
    private func randomizeNorms(_ m: Module, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for (_, module) in m.namedModules() {
            guard let bn = module as? BatchNorm else { continue }
            let c = bn.runningMean.value.shape
            bn.runningMean.value = Tensor.uniform(c, low: -0.5, high: 0.5, rng: &rng)
            bn.runningVar.value = Tensor.uniform(c, low: 0.5, high: 1.5, rng: &rng)
            bn.weight.value = Tensor.uniform(c, low: 0.5, high: 1.5, rng: &rng)
            bn.bias.value = Tensor.uniform(c, low: -0.5, high: 0.5, rng: &rng)
        }
    }

    private func checkPlanEqualsModule(_ name: String, batch: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let (net, entry) = try ModelZoo.make(name, classes: name.hasPrefix("lenet") || name.hasPrefix("yolo") ? 10 : 1000)
        randomizeNorms(net, seed: 7)
        net.eval()
        var rng = SeededGenerator(seed: 11)
        let x = Tensor.uniform([batch] + entry.inputShape, low: -1, high: 1, rng: &rng)
        let expected = net.predict(x)
        let plan = try InferencePlan(net, inputShape: x.shape)
        let y = plan(x)[0]
        XCTAssertEqual(y.shape, expected.shape, name, file: file, line: line)
        let scale = Swift.max(1, expected.scalars.map(abs).max() ?? 0)
        XCTAssertLessThanOrEqual(y.maxAbsDifference(expected), 2e-5 * scale, "\(name) batch \(batch)", file: file, line: line)
        // A second run on other data reuses the arena and gives that data's outputs.
        let x2 = Tensor.uniform(x.shape, low: -1, high: 1, rng: &rng)
        XCTAssertLessThanOrEqual(plan(x2)[0].maxAbsDifference(net.predict(x2)), 2e-5 * scale, "\(name) second run", file: file, line: line)
    }

    func testEveryZooModelAtBatchOne() throws {
        for name in ModelZoo.names { try checkPlanEqualsModule(name, batch: 1) }
    }

    func testSmallModelsAtBatchThree() throws {
        for name in ["lenet5", "lenet5_classic", "small_cnn", "yolo_tiny"] { try checkPlanEqualsModule(name, batch: 3) }
    }

    func testGoogLeNetAndMobileNetAtBatchTwo() throws {
        // In-place concatenation parts are views with the whole value's image stride; residual sums per image.
        try checkPlanEqualsModule("googlenet", batch: 2)
        try checkPlanEqualsModule("mobilenet_v2", batch: 2)
    }

    /// A user-written graph with what the zoo does not have: a batch norm on its own, an activation on its own
    /// (clamped in place, and another that is not a clamp), a sum the convolution before it cannot absorb, an
    /// average pool, and a concatenation whose parts are not whole 16-channel blocks.
    func testOperationsTheZooDoesNotUse() throws {
        final class Net: Module, UnaryLayer {
            var a = Conv2D(3, 20, kernel: 3, padding: .same)
            var b = Conv2D(3, 5, kernel: 1)
            var norm = BatchNorm(25)
            var c = Conv2D(25, 25, kernel: 3, stride: 2, padding: .symmetric(1))
            func callAsFunction(_ x: Variable) -> Variable {
                let cat = Variable.concatenate([a(x), b(x)], axis: 1)      // 20 + 5 channels: copied, not in place
                let n = Functional.activation(norm(cat), .relu)
                let s = Functional.activation(n + cat, .sigmoid)
                let p = Functional.avgPool(c(s), PoolOptions(kernel: [2], stride: [2], countIncludePad: false))
                return Functional.logSoftmax(p.flattened())
            }
        }
        let net = Net()
        randomizeNorms(net, seed: 3)
        net.eval()
        var rng = SeededGenerator(seed: 4)
        let x = Tensor.uniform([2, 3, 17, 13], low: -1, high: 1, rng: &rng)
        let plan = try InferencePlan(net, inputShape: x.shape)
        XCTAssertLessThanOrEqual(plan(x)[0].maxAbsDifference(net.predict(x)), 1e-5)
    }

    /// What imported mobile networks use: a squeeze-and-excitation gate (global average, 1×1 convolutions, a
    /// recorded scalar function, a per-channel product), a same-shape product, a channel shuffle (reshape, permute
    /// keeping the batch axis) and a softmax at the end.
    func testGatesShufflesAndRecordedFunctions() throws {
        final class Net: Module, UnaryLayer {
            var stem = Conv2D(3, 24, kernel: 3, padding: .same)
            var squeeze = Conv2D(24, 8, kernel: 1), excite = Conv2D(8, 24, kernel: 1)
            var head = Linear(24 * 5 * 6, 7)
            func callAsFunction(_ x: Variable) -> Variable {
                let h = Functional.activation(stem(x), .relu)
                let pooled = Functional.adaptiveAvgPool2D(h, outputSize: (1, 1))
                let gate = Functional.elementwise(excite(Functional.activation(squeeze(pooled), .relu)), label: "gate",
                                                  { Swift.max(0, Swift.min(1, 0.2 * $0 + 0.5)) }, derivative: { _, _ in 0 })
                let gated = h * gate
                let squared = gated * Functional.elementwise(gated, label: "tanh", { Foundation.tanh($0) }, derivative: { _, y in 1 - y * y })
                let shuffled = squared.reshaped([x.shape[0], 2, 12, 5, 6]).permuted([0, 2, 1, 3, 4]).reshaped([x.shape[0], 24 * 5 * 6])
                return Functional.softmax(head(shuffled))
            }
        }
        let net = Net()
        var rng = SeededGenerator(seed: 8)
        let x = Tensor.uniform([2, 3, 5, 6], low: -1, high: 1, rng: &rng)
        let plan = try InferencePlan(net, inputShape: x.shape)
        XCTAssertLessThanOrEqual(plan(x)[0].maxAbsDifference(net.predict(x)), 1e-6)
        XCTAssertTrue(plan.explanation.contains { $0.contains("by channel") }, "\(plan.explanation)")
    }

    func testAnOperationWithoutAKernelIsRefusedByName() {
        final class Net: Module, UnaryLayer {
            func callAsFunction(_ x: Variable) -> Variable { x / (x + 1) }
        }
        XCTAssertThrowsError(try InferencePlan(Net(), inputShape: [1, 2, 3, 4])) { error in
            XCTAssertTrue("\(error)".contains("div"), "\(error)")
        }
    }

    func testArenaReusesMemoryAcrossLayers() throws {
        let (net, entry) = try ModelZoo.make("resnet18", classes: 1000)
        net.eval()
        let plan = try InferencePlan(net, inputShape: [1] + entry.inputShape)
        // The largest activation of ResNet-18 at 224² is 64×112×112 floats (3.2 MB); all of them together are ~10×.
        XCTAssertLessThan(plan.arenaBytes, 4 * 64 * 112 * 112 * 4)
    }
}
