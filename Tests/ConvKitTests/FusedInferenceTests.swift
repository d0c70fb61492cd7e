import ConvKit
import XCTest

/// Inference with batch norm folded into the convolution and the residual and activation fused into its
/// epilogue must equal running the layers one by one — on every convolution path — and must notice when
/// a parameter or running statistic changes.
final class FusedInferenceTests: XCTestCase {
    private func randomNorm(_ c: Int, rng: inout SeededGenerator) -> BatchNorm {
        let bn = BatchNorm(c, epsilon: 1e-3)
        bn.weight.value = .uniform([c], low: 0.5, high: 1.5, rng: &rng)
        bn.bias.value = .uniform([c], low: -0.5, high: 0.5, rng: &rng)
        bn.runningMean.value = .uniform([c], low: -0.3, high: 0.3, rng: &rng)
        bn.runningVar.value = .uniform([c], low: 0.5, high: 2, rng: &rng)
        bn.eval()
        return bn
    }

    /// (conv, input shape): Winograd, strided im2col GEMM, direct (few filters), depthwise, pointwise, small map,
    /// first layer.
    private func cases(_ rng: inout SeededGenerator) -> [(String, Conv, [Int])] {
        [("winograd", Conv2D(16, 24, kernel: 3, padding: .symmetric(1), bias: false), [2, 16, 18, 17]),
         ("gemm stride 2", Conv2D(8, 40, kernel: 3, stride: 2, padding: .symmetric(1)), [1, 8, 15, 16]),
         ("direct", Conv2D(3, 6, kernel: 5, padding: .symmetric(2)), [3, 3, 12, 12]),
         ("depthwise", DepthwiseConv2D(12, kernel: 3, stride: 1, padding: .symmetric(1), bias: false), [2, 12, 9, 11]),
         ("depthwise stride 2", DepthwiseConv2D(10, kernel: 3, stride: 2, padding: .symmetric(1), bias: false), [2, 10, 13, 37]),
         ("depthwise 5×5, two rows per vector", DepthwiseConv2D(9, kernel: 5, stride: 1, padding: .symmetric(2)), [1, 9, 7, 7]),
         ("pointwise", Conv2D(20, 36, kernel: 1, bias: false), [1, 20, 7, 9]),
         ("small map, channels in lanes", Conv2D(64, 70, kernel: 3, padding: .symmetric(1)), [2, 64, 7, 7]),
         ("first layer", Conv2D(3, 20, kernel: 7, stride: 2, padding: .symmetric(3), bias: false), [1, 3, 30, 44])]
    }

    func testFusedEqualsLayerByLayerOnEveryPath() {
        var rng = SeededGenerator(seed: 11)
        for (name, conv, shape) in cases(&rng) {
            let bn = randomNorm(conv.outputChannels, rng: &rng)
            let x = Variable(.normal(shape, rng: &rng))
            let outShape = conv(x).shape
            let residual = Variable(.normal(outShape, rng: &rng))
            for activation in [Activation.identity, .relu, .relu6] {
                for r in [nil, residual] {
                    // Recording gradients: the layers run one by one.
                    let reference = conv.fused(x, norm: bn, adding: r, activation: activation).value
                    let fast = Autograd.withoutGradients { conv.fused(x, norm: bn, adding: r, activation: activation).value }
                    XCTAssertEqual(fast.shape, outShape)
                    XCTAssertLessThan(fast.maxAbsDifference(reference), 1e-4, "\(name) \(activation) residual \(r != nil)")
                }
            }
            // Without a norm: the convolution's own bias.
            let plain = Autograd.withoutGradients { conv.fused(x, norm: nil, activation: .relu).value }
            XCTAssertLessThan(plain.maxAbsDifference(conv(x).relu().value), 1e-4, name)
        }
    }

    func testCachedWeightsFollowChanges() {
        var rng = SeededGenerator(seed: 5)
        let conv = Conv2D(16, 16, kernel: 3, padding: .symmetric(1), bias: false)
        let bn = randomNorm(16, rng: &rng)
        let x = Variable(.normal([1, 16, 20, 20], rng: &rng))
        func check(_ what: String) {
            let reference = bn(conv(x)).value
            let fast = Autograd.withoutGradients { conv.fused(x, norm: bn).value }
            XCTAssertLessThan(fast.maxAbsDifference(reference), 1e-4, what)
        }
        check("first")
        bn.runningMean.value = bn.runningMean.value + 1
        check("running mean replaced")
        bn.runningVar.value[3] = 7
        check("running variance mutated in place")
        conv.weight.value[2, 5, 1, 1] += 3
        check("weight mutated in place")
        bn.weight.value = bn.weight.value * 2
        check("gamma replaced")
    }

    func testSequentialFusesConvNormActivationRuns() {
        var rng = SeededGenerator(seed: 3)
        let net = Sequential(Conv2D(3, 16, kernel: 3, padding: .symmetric(1), bias: false), randomNorm(16, rng: &rng), ReLU(),
                             Conv2D(16, 16, kernel: 3, padding: .symmetric(1)), ActivationLayer(.relu6),
                             Conv2D(16, 8, kernel: 1, bias: false), randomNorm(8, rng: &rng), Tanh())
        net.eval()
        let x = Tensor.normal([2, 3, 14, 14], rng: &rng)
        let reference = net(Variable(x)).value      // recording: layer by layer
        let fast = net.predict(x)                   // fused
        XCTAssertLessThan(fast.maxAbsDifference(reference), 1e-4)
    }
}
