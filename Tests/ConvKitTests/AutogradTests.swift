import Foundation
import XCTest
import ConvKit

extension XCTestCase {
    /// Checks ∂L/∂(every leaf) for L = Σ f(leaves) ⊙ r against central differences.
    func gradCheck(_ leaves: [Variable], tol: Float = 3e-3, eps: Float = 1e-2, context: String = "", file: StaticString = #filePath, line: UInt = #line,
                   _ f: () -> Variable) {
        var rng = SeededGenerator(seed: 99)
        let y0 = f()
        let r = Tensor.uniform(y0.shape, low: -1, high: 1, rng: &rng)
        for l in leaves { l.grad = nil }
        (f() * r).sum().backward()
        for (i, l) in leaves.enumerated() {
            let analytic = l.grad ?? .zeros(l.shape)
            let saved = l.value
            let numeric = numericGradient(saved, eps: eps) { v in
                l.value = v
                return Autograd.withoutGradients { dot(f().value, r) }
            }
            l.value = saved
            XCTAssertLessThan(relativeError(analytic, numeric), tol, "leaf \(i) (\(l.label)) \(context)", file: file, line: line)
        }
    }
}

/// Finite-difference checks of whole layers and graphs through the autograd tape.
final class AutogradTests: XCTestCase {
    /// `withoutGradients` on one thread (an inference running beside training) leaves recording on elsewhere.
    func testNoGradIsPerThread() {
        let inside = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        final class Flag: @unchecked Sendable { var value = true }   // written before `inside` is signalled
        let otherRecorded = Flag()
        Thread.detachNewThread {
            Autograd.withoutGradients {
                otherRecorded.value = Autograd.isRecording
                inside.signal()
                release.wait()
            }
            done.signal()
        }
        inside.wait()
        XCTAssertTrue(Autograd.isRecording, "another thread's withoutGradients must not reach this one")
        let p = Variable(Tensor([1, 2]), requiresGrad: true)
        let y = (p * p).sum()
        XCTAssertTrue(y.requiresGrad)
        release.signal()
        done.wait()
        XCTAssertFalse(otherRecorded.value)
        y.backward()
        XCTAssertEqual(p.grad?.scalars, [2, 4])
    }

    func testArithmeticAndReductions() {
        var rng = SeededGenerator(seed: 1)
        let a = Variable(.uniform([3, 4], low: 0.5, high: 2, rng: &rng), requiresGrad: true)
        let b = Variable(.uniform([4], low: 0.5, high: 2, rng: &rng), requiresGrad: true)
        gradCheck([a, b]) { ((a * b + a / b - b).exp().sqrt().log() + a.squared().mean(axes: [1], keepingDims: true)).abs().pow(1.5) }
        gradCheck([a, b]) { Variable.matmul(a, Variable.concatenate([b.reshaped([4, 1]), b.reshaped([4, 1]) * 2], axis: 1)) }
        gradCheck([a]) { a.transposed().slice(axis: 0, 1..<3).padded([(1, 0), (0, 2)]).flattened(from: 0) }
    }

    func testSharedParameterReceivesSumOfGradients() {
        let w = Variable(Tensor([2]), requiresGrad: true)
        let x1 = Variable(Tensor([3])), x2 = Variable(Tensor([5]))
        ((w * x1) + (w * x2)).sum().backward()
        XCTAssertEqual(w.grad?.scalars, [8])
        // Accumulates across backward calls until zeroed.
        (w * x1).sum().backward()
        XCTAssertEqual(w.grad?.scalars, [11])
    }

    func testNoGradModeRecordsNothing() {
        let w = Variable(Tensor([2]), requiresGrad: true)
        let y = Autograd.withoutGradients { w * 3 }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(y.isLeaf)
    }

    func testDeepGraphDoesNotOverflowTheStack() {
        let x = Variable(Tensor([1]), requiresGrad: true)
        var y = x
        for _ in 0..<20000 { y = y * 1.0001 }
        y.sum().backward()
        XCTAssertEqual(x.grad!.scalars[0], Float(pow(1.0001, 20000.0)), accuracy: 1e-2)
    }

    func testInputGradientForStyleTransfer() {
        ConvKitRandom.seed(3)
        let conv = Conv2D(3, 4, kernel: 3, padding: .same)
        var rng = SeededGenerator(seed: 4)
        let image = Variable(.uniform([1, 3, 6, 6], rng: &rng), requiresGrad: true)
        gradCheck([image]) { conv(image).tanh() }
    }

    func testLayersGradients() {
        ConvKitRandom.seed(5)
        var rng = SeededGenerator(seed: 6)
        let x = Variable(.normal([2, 3, 7, 7], rng: &rng), requiresGrad: true)
        let layers: [any UnaryLayer] = [
            Conv2D(3, 4, kernel: 3, stride: 2, padding: .same, activation: .tanh),
            Conv(inputChannels: 3, outputChannels: 6, kernelSize: [3, 1], padding: .symmetric(1), groups: 3),
            DepthwiseConv2D(3), SeparableConv2D(3, 5),
            ConvTranspose(inputChannels: 3, outputChannels: 2, kernelSize: [3, 3], stride: [2], padding: .symmetric(1), outputPadding: [1]),
            MaxPool(3, stride: 2, padding: 1), AvgPool(2), AdaptiveAvgPool2D(3, 2),
            InstanceNorm(3), LocalResponseNorm(size: 3, alpha: 0.1), PReLU(channels: 3),
            Upsample(scale: 2), Upsample(scale: 2, mode: .bilinear(alignCorners: false)),
            Padding2D(2, mode: .reflect), Sequential(GlobalAvgPool(), Dense(3, 4, activation: .elu(1)), Softmax()),
        ]
        for layer in layers {
            let leaves = [x] + layer.trainableParameters()
            // Max and PReLU have kinks: smaller steps so no perturbation crosses one.
            let kinked = layer is MaxPool || layer is PReLU
            gradCheck(leaves, tol: kinked ? 1e-2 : 3e-3, eps: kinked ? 1e-3 : 1e-2, context: "\(type(of: layer))") { layer(x) }
        }
        let bn = BatchNorm(3)
        gradCheck([x] + bn.parameters(), tol: 5e-3) { bn(x) }
        bn.eval()
        gradCheck([x] + bn.parameters()) { bn(x) }
    }

    /// The ops the layer list above leaves out: ReLU and ReLU6 (inputs kept away from their kinks at 0 and 6),
    /// global max pooling, dropout (its mask fixed by reseeding), 1-D average pooling, 3-D max pooling and 3-D
    /// transposed convolution.
    func testGradientsOfTheRemainingOps() {
        ConvKitRandom.seed(11)
        var rng = SeededGenerator(seed: 12)
        // Values in ±(0.1…7.9) but never within 0.05 of 0 or 6: central differences with eps 1e-2 see no kink.
        let raw = Tensor.uniform([2, 3, 5, 5], low: 0.1, high: 7.9, rng: &rng).scalars.enumerated().map { i, v -> Float in
            let u = abs(v - 6) < 0.05 ? v + 0.1 : v
            return i % 2 == 0 ? u : -u
        }
        let x = Variable(Tensor(shape: [2, 3, 5, 5], scalars: raw), requiresGrad: true)
        gradCheck([x], context: "relu") { x.relu() }
        gradCheck([x], context: "relu6") { ActivationLayer(.relu6)(x) }
        gradCheck([x], eps: 1e-3, context: "global max pool") { GlobalMaxPool()(x) }
        let drop = Dropout(0.3)
        gradCheck([x], context: "dropout") { drop.reseed(5); return drop(x) }
        let seq = Variable(.normal([2, 3, 11], rng: &rng), requiresGrad: true)
        gradCheck([seq], context: "1-D average pool") { AvgPool(kernel: [3], stride: [2], padding: .symmetric(1))(seq) }
        gradCheck([seq], context: "1-D average pool, ceil, no pad count") {
            AvgPool(kernel: [2], stride: [2], padding: .symmetric(1), ceilMode: true, countIncludePad: false)(seq)
        }
        let vol = Variable(.normal([1, 2, 5, 4, 6], rng: &rng), requiresGrad: true)
        gradCheck([vol], tol: 1e-2, eps: 1e-3, context: "3-D max pool") { MaxPool(kernel: [2, 3, 2], stride: [2, 1, 2], padding: .symmetric(1))(vol) }
        let up = ConvTranspose(inputChannels: 2, outputChannels: 3, kernelSize: [2, 3, 2], stride: [2, 1, 2], padding: .symmetric(1), outputPadding: [1, 0, 1])
        gradCheck([vol] + up.trainableParameters(), context: "3-D transposed convolution") { up(vol) }
    }

    /// A ResNet basic block (residual addition), an Inception-style concatenation block, and a
    /// Siamese pair sharing one encoder.
    func testCompositeBlocks() {
        ConvKitRandom.seed(7)
        var rng = SeededGenerator(seed: 8)
        let x = Variable(.normal([2, 4, 5, 5], rng: &rng), requiresGrad: true)
        let c1 = Conv2D(4, 4, kernel: 3, padding: .same, bias: false), c2 = Conv2D(4, 4, kernel: 3, padding: .same, bias: false)
        gradCheck([x] + c1.parameters() + c2.parameters()) { (c2(c1(x).tanh()) + x).activated(.elu(1)) }
        let b1 = Conv2D(4, 2, kernel: 1), b3 = Conv2D(4, 3, kernel: 3, padding: .same), pool = MaxPool(3, stride: 1, padding: 1)
        // Distinct values 0.01 apart, so no max-pool perturbation changes a window's winner.
        let spread = Variable(Tensor(shape: x.shape, scalars: Tensor.permutation(x.value.count, rng: &rng).map { Float($0) * 0.01 }), requiresGrad: true)
        gradCheck([spread] + b1.parameters() + b3.parameters(), tol: 1e-2, eps: 1e-3) { Variable.concatenate([b1(spread), b3(spread), pool(spread)], axis: 1) }
        let encoder = Sequential(Conv2D(4, 3, kernel: 3, activation: .tanh), GlobalAvgPool(), Dense(3, 2, activation: .tanh))
        let y = Variable(.normal([2, 4, 5, 5], rng: &rng))
        gradCheck(encoder.parameters()) { (encoder(x) * encoder(y)).sum(axes: [1]) }
    }

    func testLossGradients() {
        var rng = SeededGenerator(seed: 10)
        let p = Variable(.uniform([4, 3], low: 0.1, high: 0.9, rng: &rng), requiresGrad: true)
        let z = Variable(.normal([4, 3], rng: &rng) * 3, requiresGrad: true)
        let y = Tensor.bernoulli([4, 3], p: 0.5, rng: &rng)
        let t = Tensor.uniform([4, 3], rng: &rng)
        gradCheck([p], eps: 1e-3) { Loss.mse(p, t) + Loss.mae(p, t, reduction: .sum) + Loss.huber(p, t * 3, delta: 0.5) }
        gradCheck([p], eps: 1e-3) { Loss.binaryCrossEntropy(p, y) }
        gradCheck([z]) { Loss.binaryCrossEntropyWithLogits(z, y, posWeight: 2, reduction: .none) }
        gradCheck([z]) { Loss.crossEntropy(z, labels: [0, 2, 1, 2], labelSmoothing: 0.1, classWeights: Tensor([1, 2, 0.5])) }
        gradCheck([z]) { Loss.nll(Functional.logSoftmax(z, axis: 1), labels: [1, 1, 0, 2]) }
        let a = Variable(.normal([4, 3], rng: &rng), requiresGrad: true)
        let n = Variable(.normal([4, 3], rng: &rng), requiresGrad: true)
        gradCheck([a, z, n]) { Loss.triplet(anchor: a, positive: z, negative: n, margin: 5) }
        gradCheck([a, n]) { Loss.contrastive(a, n, same: Tensor([1, 0, 1, 0]), margin: 4) }
        var target = Tensor.uniform([2, 7], rng: &rng)
        target[0, 0] = 1; target[1, 0] = 0
        let pred = Variable(.normal([2, 7], rng: &rng), requiresGrad: true)
        gradCheck([pred]) { Loss.maskedLocalization(pred, target) }
        // When p_c = 0 only the first component counts.
        let loc = Loss.maskedLocalization(Variable(Tensor(shape: [1, 7], scalars: [0.5, 9, 9, 9, 9, 9, 9])),
                                          Tensor(shape: [1, 7], scalars: [0, 0, 0, 0, 0, 0, 0]))
        XCTAssertEqual(loc.value.scalar, 0.25, accuracy: 1e-6)
    }

    func testLossValues() {
        // Cross-entropy of uniform logits is log K; triplet with zero margin is the hinge of distances.
        let ce = Loss.crossEntropy(Variable(.zeros([2, 4])), labels: [1, 3])
        XCTAssertEqual(ce.value.scalar, log(4), accuracy: 1e-6)
        let a = Variable(Tensor(shape: [1, 2], scalars: [0, 0]))
        let tri = Loss.triplet(anchor: a, positive: Variable(Tensor(shape: [1, 2], scalars: [1, 0])),
                               negative: Variable(Tensor(shape: [1, 2], scalars: [0, 3])), margin: 0.2)
        XCTAssertEqual(tri.value.scalar, 0)   // 1 − 9 + 0.2 < 0
        XCTAssertEqual(Loss.binaryCrossEntropyWithLogits(Variable(Tensor([0])), Tensor([1])).value.scalar, log(2), accuracy: 1e-6)
    }
}
