import Foundation
import XCTest
import ConvKit

/// Causal and dilated 1-D convolutions, weight normalization and the temporal block: dependence on the past only,
/// equality with PyTorch's pad-then-chomp, finite-difference gradients, the receptive field by perturbation and
/// the gridding effect of stacked dilations.
final class TemporalLayerTests: XCTestCase {
    /// Which output steps change when input step `s` changes (all channels, sample 0).
    func changedSteps(_ f: (Variable) -> Variable, channels: Int, length: Int, at s: Int) -> [Int] {
        var rng = SeededGenerator(seed: 3)
        let x = Tensor.normal([1, channels, length], rng: &rng)
        var y = x
        for c in 0..<channels { y.scalars[c * length + s] += 1 }
        let a = Autograd.withoutGradients { f(Variable(x)).value }, b = Autograd.withoutGradients { f(Variable(y)).value }
        let l = a.shape[2], k = a.shape[1]
        return (0..<l).filter { t in (0..<k).contains { c in abs(a.scalars[c * l + t] - b.scalars[c * l + t]) > 1e-6 } }
    }

    func testCausalConvolutionSeesOnlyThePastAndEqualsPadThenChomp() {
        ConvKitRandom.seed(1)
        let causal = CausalConv1D(3, 4, kernel: 3, dilation: 2)
        // Output t reads t − 4, t − 2, t: changing step 10 changes steps 10, 12 and 14 only.
        XCTAssertEqual(changedSteps({ causal($0) }, channels: 3, length: 20, at: 10), [10, 12, 14])
        // PyTorch's form: pad (k − 1)·d on both sides, convolve, drop the last (k − 1)·d outputs.
        var rng = SeededGenerator(seed: 2)
        let x = Tensor.normal([2, 3, 17], rng: &rng)
        let both = Conv(inputChannels: 3, outputChannels: 4, kernelSize: [3], padding: .symmetric(4), dilation: [2])
        both.weight.value = causal.conv.weight.value; both.bias!.value = causal.conv.bias!.value
        let chomped = both.predict(x).slice(axis: 2, 0..<17)
        XCTAssertEqual(causal.predict(x).shape, [2, 4, 17], "the length is kept")
        XCTAssertLessThan(causal.predict(x).maxAbsDifference(chomped), 1e-6)
    }

    func testWeightNormalizationKeepsTheWeightAndHasExactGradients() {
        ConvKitRandom.seed(4)
        let conv = Conv1D(3, 5, kernel: 3, dilation: 2)
        let wn = WeightNormConv(conv, causal: true)
        XCTAssertLessThan(wn.weight.value.maxAbsDifference(conv.weight.value), 1e-5, "g = ‖v‖ at the start: w unchanged")
        XCTAssertEqual(wn.namedParameters().map(\.0), ["weight_g", "weight_v", "bias"], "PyTorch's names")
        XCTAssertEqual(wn.weightG.shape, [5, 1, 1])
        // ‖w[o]‖ = |g[o]| whatever v is.
        var rng = SeededGenerator(seed: 5)
        wn.weightV.value = .normal([5, 3, 3], rng: &rng)
        wn.weightG.value = Tensor(shape: [5, 1, 1], scalars: [0.5, 1, 2, -1, 3])
        let w = wn.weight.value
        for o in 0..<5 {
            let n = (0..<9).map { w.scalars[o * 9 + $0] * w.scalars[o * 9 + $0] }.reduce(0, +).squareRoot()
            XCTAssertEqual(n, abs(wn.weightG.value.scalars[o]), accuracy: 1e-5)
        }
        let x = Variable(.normal([2, 3, 11], rng: &rng), requiresGrad: true)
        gradCheck([x, wn.weightG, wn.weightV, wn.bias!]) { wn(x) }
        // The block: unit-norm filters so pre-activations are O(1), small steps so none crosses a ReLU kink.
        let block = TemporalBlock(3, 4, kernel: 3, dilation: 2, dropout: 0)
        for c in [block.conv1, block.conv2] { c.weightV.value = .normal(c.weightV.value.shape, rng: &rng); c.weightG.value = .ones(c.weightG.value.shape) }
        gradCheck([x] + block.trainableParameters(), tol: 1e-2, eps: 1e-3) { block(x) }
    }

    func testTheTCNsReceptiveFieldByPerturbation() {
        ConvKitRandom.seed(6)
        // 3 levels, k = 3: dilations 1, 2, 4, receptive field 1 + 2·2·7 = 29.
        let blocks = (0..<3).map { TemporalBlock($0 == 0 ? 2 : 4, 4, kernel: 3, dilation: 1 << $0, dropout: 0) }
        // Unit-norm filters (the reference's N(0, 0.01) would let the residual path dominate below the 1e-6 test).
        var rng = SeededGenerator(seed: 8)
        for b in blocks { for c in [b.conv1, b.conv2] { c.weightV.value = .normal(c.weightV.value.shape, rng: &rng); c.weightG.value = .ones(c.weightG.value.shape) } }
        func f(_ x: Variable) -> Variable { blocks.reduce(x) { $1($0) } }
        let changed = changedSteps(f, channels: 2, length: 60, at: 20)
        XCTAssertEqual(changed.first, 20, "nothing before the change moves")
        XCTAssertEqual(changed.last, 20 + 29 - 1, "the last step that sees step 20 is 28 steps later")
        XCTAssertEqual(changed, Array(20...48), "and every step between (contiguous: dilations 1, 2, 4 leave no gaps)")
    }

    func testStackedDilationTwoLayersShowTheGriddingEffect() {
        ConvKitRandom.seed(7)
        // Two non-causal 3-tap layers of dilation 2 read only even offsets: the odd neighbours are never seen.
        let a = Conv1D(1, 1, kernel: 3, padding: .symmetric(2), dilation: 2), b = Conv1D(1, 1, kernel: 3, padding: .symmetric(2), dilation: 2)
        let changed = changedSteps({ b(a($0)) }, channels: 1, length: 30, at: 15)
        XCTAssertEqual(changed, [11, 13, 15, 17, 19], "a span of 9 steps with holes at every odd offset")
    }
}
