import XCTest
import ConvKit

/// Forward values and gradients against PyTorch (Golden/make_golden.py, run offline; results in ops.npz).
/// Each case's loss is L = Σ y ⊙ r, so the gradients are r pushed back through the op.
final class GoldenTests: XCTestCase {
    static let golden: [String: Tensor] = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/ops.npz").path
        return try! NumPy.loadArchive(path)
    }()

    func g(_ key: String) -> Tensor {
        guard let t = Self.golden[key] else { XCTFail("missing golden array \(key)"); return Tensor(0) }
        return t
    }

    func assertClose(_ a: Tensor, _ b: Tensor, _ what: String, tol: Float = 2e-4, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        guard a.shape == b.shape else { return }
        let scale = Swift.max(1, b.scalars.map(abs).max() ?? 1)
        XCTAssertLessThan(a.maxAbsDifference(b) / scale, tol, what, file: file, line: line)
    }

    func testConvolutions() {
        do {
            let (x, w, b, r) = (g("conv2d_groups_dil_asym.in0"), g("conv2d_groups_dil_asym.in1"), g("conv2d_groups_dil_asym.in2"), g("conv2d_groups_dil_asym.r"))
            // F.pad(x, (1, 0, 2, 1)) = left 1, right 0, top 2, bottom 1
            let o = ConvOptions(stride: [2, 1], padding: .explicit(before: [2, 1], after: [1, 0]), dilation: [1, 2], groups: 2)
            let y = conv(x, weight: w, bias: b, options: o)
            assertClose(y, g("conv2d_groups_dil_asym.out"), "conv2d forward")
            let grads = convBackward(x, weight: w, gradOutput: r, options: o)
            assertClose(grads.input!, g("conv2d_groups_dil_asym.grad0"), "conv2d dx")
            assertClose(grads.weight, g("conv2d_groups_dil_asym.grad1"), "conv2d dw")
            assertClose(grads.bias!, g("conv2d_groups_dil_asym.grad2"), "conv2d db")
        }
        for (name, o) in [("conv1d", ConvOptions(stride: [2], padding: .symmetric(3), dilation: [2])),
                          ("conv3d", ConvOptions(stride: [1, 2, 1], padding: .explicit(before: [1, 0, 1], after: [1, 0, 1])))] {
            let (x, w, b, r) = (g("\(name).in0"), g("\(name).in1"), g("\(name).in2"), g("\(name).r"))
            assertClose(conv(x, weight: w, bias: b, options: o), g("\(name).out"), "\(name) forward")
            let grads = convBackward(x, weight: w, gradOutput: r, options: o)
            assertClose(grads.input!, g("\(name).grad0"), "\(name) dx")
            assertClose(grads.weight, g("\(name).grad1"), "\(name) dw")
            assertClose(grads.bias!, g("\(name).grad2"), "\(name) db")
        }
        do {
            let (x, w, r) = (g("conv2d_reflect.in0"), g("conv2d_reflect.in1"), g("conv2d_reflect.r"))
            let o = ConvOptions(padding: .symmetric(2), paddingFill: .reflect)
            assertClose(conv(x, weight: w, options: o), g("conv2d_reflect.out"), "reflect conv forward")
            let grads = convBackward(x, weight: w, gradOutput: r, options: o)
            assertClose(grads.input!, g("conv2d_reflect.grad0"), "reflect conv dx")
            assertClose(grads.weight, g("conv2d_reflect.grad1"), "reflect conv dw")
        }
    }

    func testTransposedConvolutions() {
        do {
            let (x, w, b, r) = (g("conv_transpose2d.in0"), g("conv_transpose2d.in1"), g("conv_transpose2d.in2"), g("conv_transpose2d.r"))
            let o = ConvTransposeOptions(stride: [2], padding: .symmetric(1), outputPadding: [1], groups: 2)
            assertClose(convTranspose(x, weight: w, bias: b, options: o), g("conv_transpose2d.out"), "convT2d forward")
            let grads = convTransposeBackward(x, weight: w, gradOutput: r, options: o)
            assertClose(grads.input, g("conv_transpose2d.grad0"), "convT2d dx")
            assertClose(grads.weight, g("conv_transpose2d.grad1"), "convT2d dw")
            assertClose(grads.bias, g("conv_transpose2d.grad2"), "convT2d db")
        }
        do {
            let (x, w, r) = (g("conv_transpose1d_dil.in0"), g("conv_transpose1d_dil.in1"), g("conv_transpose1d_dil.r"))
            let o = ConvTransposeOptions(stride: [3], padding: .symmetric(2), dilation: [2])
            assertClose(convTranspose(x, weight: w, options: o), g("conv_transpose1d_dil.out"), "convT1d forward")
            let grads = convTransposeBackward(x, weight: w, gradOutput: r, options: o)
            assertClose(grads.input, g("conv_transpose1d_dil.grad0"), "convT1d dx")
            assertClose(grads.weight, g("conv_transpose1d_dil.grad1"), "convT1d dw")
        }
    }

    func testPooling() {
        let maxCases: [(String, PoolOptions)] = [
            ("maxpool2d_ceil_pad", PoolOptions(kernel: [3], stride: [2], padding: .symmetric(1), ceilMode: true)),
            ("maxpool2d_dil", PoolOptions(kernel: [2], stride: [1], dilation: [2])),
            ("maxpool1d", PoolOptions(kernel: [3], stride: [2])),
        ]
        for (name, o) in maxCases {
            let x = g("\(name).in0")
            let (y, idx) = maxPool(x, o)
            assertClose(y, g("\(name).out"), "\(name) forward")
            assertClose(maxPoolBackward(inputShape: x.shape, gradOutput: g("\(name).r"), indices: idx!, o), g("\(name).grad0"), "\(name) dx")
        }
        let avgCases: [(String, PoolOptions)] = [
            ("avgpool2d_ceil_nopad", PoolOptions(kernel: [3], stride: [2], padding: .symmetric(1), ceilMode: true, countIncludePad: false)),
            ("avgpool2d_incl", PoolOptions(kernel: [3], stride: [2], padding: .symmetric(1), countIncludePad: true)),
            ("avgpool3d", PoolOptions(kernel: [2])),
        ]
        for (name, o) in avgCases {
            let x = g("\(name).in0")
            assertClose(avgPool(x, o), g("\(name).out"), "\(name) forward")
            assertClose(avgPoolBackward(inputShape: x.shape, gradOutput: g("\(name).r"), o), g("\(name).grad0"), "\(name) dx")
        }
        let x = g("adaptive_avg.in0")
        assertClose(adaptiveAvgPool2D(x, outputSize: (3, 5)), g("adaptive_avg.out"), "adaptive forward")
        assertClose(adaptiveAvgPool2DBackward(inputShape: x.shape, gradOutput: g("adaptive_avg.r")), g("adaptive_avg.grad0"), "adaptive dx")
    }

    func testNormalization() {
        do {
            let (x, ga, be, r) = (g("batchnorm_train.in0"), g("batchnorm_train.in1"), g("batchnorm_train.in2"), g("batchnorm_train.r"))
            let (y, mean, variance) = batchNormTraining(x, gamma: ga, beta: be)
            assertClose(y, g("batchnorm_train.out"), "batchnorm forward")
            let grads = batchNormBackward(x, gamma: ga, mean: mean, variance: variance, gradOutput: r)
            assertClose(grads.input, g("batchnorm_train.grad0"), "batchnorm dx")
            assertClose(grads.gamma, g("batchnorm_train.grad1"), "batchnorm dgamma")
            assertClose(grads.beta, g("batchnorm_train.grad2"), "batchnorm dbeta")
        }
        do {
            let (x, ga, be, r) = (g("instancenorm.in0"), g("instancenorm.in1"), g("instancenorm.in2"), g("instancenorm.r"))
            let (y, mean, variance) = instanceNorm(x, gamma: ga, beta: be)
            assertClose(y, g("instancenorm.out"), "instancenorm forward")
            let grads = instanceNormBackward(x, gamma: ga, mean: mean, variance: variance, gradOutput: r)
            assertClose(grads.input, g("instancenorm.grad0"), "instancenorm dx")
            assertClose(grads.gamma!, g("instancenorm.grad1"), "instancenorm dgamma")
            assertClose(grads.beta!, g("instancenorm.grad2"), "instancenorm dbeta")
        }
        do {
            let (x, r) = (g("lrn.in0"), g("lrn.r"))
            let o = LRNOptions(size: 5, alpha: 1e-2, beta: 0.75, k: 2)
            assertClose(localResponseNorm(x, o), g("lrn.out"), "lrn forward")
            assertClose(localResponseNormBackward(x, gradOutput: r, o), g("lrn.grad0"), "lrn dx")
        }
    }

    func testActivationsAndSoftmax() {
        let acts: [(String, Activation)] = [("gelu", .gelu), ("selu", .selu), ("elu", .elu(0.7)), ("softplus", .softplus),
                                            ("hardswish", .hardSwish), ("hardsigmoid", .hardSigmoid), ("sigmoid", .sigmoid),
                                            ("tanh", .tanh), ("leaky_relu", .leakyRelu(0.1))]
        for (name, a) in acts {
            let x = g("\(name).in0")
            assertClose(x.activated(a), g("\(name).out"), "\(name) forward")
            assertClose(x.activationGradient(a, gradOutput: g("\(name).r")), g("\(name).grad0"), "\(name) dx")
        }
        do {
            let x = g("softmax.in0"), y = x.softmax(axis: 1)
            assertClose(y, g("softmax.out"), "softmax forward")
            assertClose(softmaxBackward(output: y, gradOutput: g("softmax.r"), axis: 1), g("softmax.grad0"), "softmax dx")
        }
        do {
            let x = g("log_softmax.in0"), y = x.logSoftmax(axis: -1)
            assertClose(y, g("log_softmax.out"), "log_softmax forward")
            assertClose(logSoftmaxBackward(output: y, gradOutput: g("log_softmax.r"), axis: -1), g("log_softmax.grad0"), "log_softmax dx")
        }
        do {
            let (x, a, r) = (g("prelu.in0"), g("prelu.in1"), g("prelu.r"))
            assertClose(prelu(x, slope: a), g("prelu.out"), "prelu forward")
            let grads = preluBackward(x, slope: a, gradOutput: r)
            assertClose(grads.input, g("prelu.grad0"), "prelu dx")
            assertClose(grads.slope, g("prelu.grad1"), "prelu dslope")
        }
    }

    func testResamplingAndPadding() {
        for (name, ac) in [("bilinear", false), ("bilinear_ac", true)] {
            let x = g("\(name).in0")
            assertClose(resizeBilinear(x, to: (7, 9), alignCorners: ac), g("\(name).out"), "\(name) forward")
            assertClose(resizeBilinearBackward(gradOutput: g("\(name).r"), inputSize: (4, 5), alignCorners: ac), g("\(name).grad0"), "\(name) dx")
        }
        let x = g("nearest.in0")
        assertClose(upsampleNearest(x, scale: (2, 3)), g("nearest.out"), "nearest forward")
        assertClose(upsampleNearestBackward(gradOutput: g("nearest.r"), scale: (2, 3)), g("nearest.grad0"), "nearest dx")
        let a = g("pad.in")
        XCTAssertEqual(a.padded([(0, 0), (2, 1), (3, 2)], mode: .reflect), g("pad.reflect"))
        XCTAssertEqual(a.padded([(1, 0), (0, 2), (1, 1)], mode: .replicate), g("pad.edge"))
        XCTAssertEqual(a.padded([(0, 1), (1, 0), (2, 0)], mode: .constant(7)), g("pad.constant"))
    }
}
