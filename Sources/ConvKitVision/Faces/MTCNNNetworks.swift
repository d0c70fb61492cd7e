import ConvKit

/// The three networks of MTCNN (Zhang, Zhang, Li and Qiao 2016, "Joint Face Detection and Alignment using
/// Multi-task Cascaded Convolutional Networks"), built to load the Keras weights of the `mtcnn` package
/// (converted to .npz: conv kernels HWIO, dense kernels [in, out], PReLU α per channel; names `conv1.kernel`,
/// `prelu1.alpha`, `fc4.kernel`, `conv4-1.bias`, …). Inputs are NCHW RGB normalized as (pixel − 127.5)/128;
/// convolutions are unpadded, max-pools use TensorFlow's "same" or "valid" rule as the original.
public enum MTCNNNetworks {
    /// Loads `name.kernel`/`name.bias` into a convolution (HWIO → OIHW); throws naming what is missing.
    static func load(_ conv: Conv, _ name: String, _ w: [String: Tensor], file: String) throws {
        let kernel = try tensor(w, name + ".kernel", file: file), bias = try tensor(w, name + ".bias", file: file)
        let k = kernel.permuted([3, 2, 0, 1])
        guard k.shape == conv.weight.shape, bias.shape == [conv.weight.shape[0]] else {
            throw ConvKitError.shapeMismatch(expected: "\(file): \(name) of kernel [kh, kw, cin, cout] for \(conv.weight.shape)",
                                             found: "\(kernel.shape), bias \(bias.shape)")
        }
        conv.weight.value = k
        conv.bias?.value = bias
    }

    static func load(_ dense: Dense, _ name: String, _ w: [String: Tensor], file: String) throws {
        let kernel = try tensor(w, name + ".kernel", file: file), bias = try tensor(w, name + ".bias", file: file)
        guard kernel.rank == 2, kernel.transposed().shape == dense.weight.shape, bias.shape == [dense.weight.shape[0]] else {
            throw ConvKitError.shapeMismatch(expected: "\(file): \(name) of kernel [in, out] for \(dense.weight.shape)", found: "\(kernel.shape)")
        }
        dense.weight.value = kernel.transposed()
        dense.bias?.value = bias
    }

    static func load(_ prelu: PReLU, _ name: String, _ w: [String: Tensor], file: String) throws {
        let alpha = try tensor(w, name + ".alpha", file: file)
        guard alpha.count == prelu.weight.value.count else {
            throw ConvKitError.shapeMismatch(expected: "\(file): \(name).alpha of \(prelu.weight.value.count) values", found: "\(alpha.shape)")
        }
        prelu.weight.value = alpha.reshaped([alpha.count])
    }

    static func tensor(_ w: [String: Tensor], _ key: String, file: String) throws -> Tensor {
        guard let t = w[key] else { throw ConvKitError.corruptFile(path: file, offset: nil, expected: "the tensor \(key)", found: "no such entry") }
        return t
    }

    /// Flattens `[N, C, H, W]` in (W, H, C) order, as Keras' Permute((2, 1, 3)) then Flatten do on HWC.
    static func flattenWHC(_ x: Variable) -> Variable { x.permuted([0, 3, 2, 1]).flattened() }
}

/// P-Net: fully convolutional proposal network; each output cell scores one 12×12 window (stride 2).
/// `[N, 3, H, W]` → (box regression `[N, 4, h, w]`, face probability `[N, 2, h, w]`, softmax over channels).
public final class PNet: Module {
    var conv1 = Conv2D(3, 10, kernel: 3), prelu1 = PReLU(channels: 10)
    var pool1 = MaxPool(kernel: [2], stride: [2], padding: .same)
    var conv2 = Conv2D(10, 16, kernel: 3), prelu2 = PReLU(channels: 16)
    var conv3 = Conv2D(16, 32, kernel: 3), prelu3 = PReLU(channels: 32)
    var regression = Conv2D(32, 4, kernel: 1), classifier = Conv2D(32, 2, kernel: 1)

    public init(weights w: [String: Tensor], file: String) throws {
        super.init()
        for (c, n) in [(conv1, "conv1"), (conv2, "conv2"), (conv3, "conv3"), (regression, "conv4-1"), (classifier, "conv4-2")] {
            try MTCNNNetworks.load(c, n, w, file: file)
        }
        for (p, n) in [(prelu1, "prelu1"), (prelu2, "prelu2"), (prelu3, "prelu3")] { try MTCNNNetworks.load(p, n, w, file: file) }
        freeze()
    }

    public func callAsFunction(_ x: Variable) -> (regression: Variable, probability: Variable) {
        let h = prelu3(conv3(prelu2(conv2(pool1(prelu1(conv1(x)))))))
        return (regression(h), Functional.softmax(classifier(h), axis: 1))
    }
}

/// R-Net: refines 24×24 candidates. `[N, 3, 24, 24]` → (regression `[N, 4]`, probability `[N, 2]`).
public final class RNet: Module {
    var conv1 = Conv2D(3, 28, kernel: 3), prelu1 = PReLU(channels: 28)
    var pool1 = MaxPool(kernel: [3], stride: [2], padding: .same)
    var conv2 = Conv2D(28, 48, kernel: 3), prelu2 = PReLU(channels: 48)
    var pool2 = MaxPool(kernel: [3], stride: [2])
    var conv3 = Conv2D(48, 64, kernel: 2), prelu3 = PReLU(channels: 64)
    var fc4 = Dense(576, 128), prelu4 = PReLU(channels: 128)
    var regression = Dense(128, 4), classifier = Dense(128, 2)

    public init(weights w: [String: Tensor], file: String) throws {
        super.init()
        for (c, n) in [(conv1, "conv1"), (conv2, "conv2"), (conv3, "conv3")] { try MTCNNNetworks.load(c, n, w, file: file) }
        for (d, n) in [(fc4, "fc4"), (regression, "fc5-1"), (classifier, "fc5-2")] { try MTCNNNetworks.load(d, n, w, file: file) }
        for (p, n) in [(prelu1, "prelu1"), (prelu2, "prelu2"), (prelu3, "prelu3"), (prelu4, "prelu4")] { try MTCNNNetworks.load(p, n, w, file: file) }
        freeze()
    }

    public func callAsFunction(_ x: Variable) -> (regression: Variable, probability: Variable) {
        var h = pool1(prelu1(conv1(x)))
        h = pool2(prelu2(conv2(h)))
        h = prelu3(conv3(h))
        let f = prelu4(fc4(MTCNNNetworks.flattenWHC(h)))
        return (regression(f), Functional.softmax(classifier(f), axis: 1))
    }
}

/// O-Net: the final 48×48 stage with five landmarks. `[N, 3, 48, 48]` → (regression `[N, 4]`, landmarks `[N, 10]`
/// = x₁…x₅, y₁…y₅ as fractions of the box (eyes, nose, mouth corners), probability `[N, 2]`).
public final class ONet: Module {
    var conv1 = Conv2D(3, 32, kernel: 3), prelu1 = PReLU(channels: 32)
    var pool1 = MaxPool(kernel: [3], stride: [2], padding: .same)
    var conv2 = Conv2D(32, 64, kernel: 3), prelu2 = PReLU(channels: 64)
    var pool2 = MaxPool(kernel: [3], stride: [2])
    var conv3 = Conv2D(64, 64, kernel: 3), prelu3 = PReLU(channels: 64)
    var pool3 = MaxPool(kernel: [2], stride: [2], padding: .same)
    var conv4 = Conv2D(64, 128, kernel: 2), prelu4 = PReLU(channels: 128)
    var fc5 = Dense(1152, 256), prelu5 = PReLU(channels: 256)
    var regression = Dense(256, 4), landmarks = Dense(256, 10), classifier = Dense(256, 2)

    public init(weights w: [String: Tensor], file: String) throws {
        super.init()
        for (c, n) in [(conv1, "conv1"), (conv2, "conv2"), (conv3, "conv3"), (conv4, "conv4")] { try MTCNNNetworks.load(c, n, w, file: file) }
        for (d, n) in [(fc5, "fc5"), (regression, "fc6-1"), (landmarks, "fc6-2"), (classifier, "fc6-3")] { try MTCNNNetworks.load(d, n, w, file: file) }
        for (p, n) in [(prelu1, "prelu1"), (prelu2, "prelu2"), (prelu3, "prelu3"), (prelu4, "prelu4"), (prelu5, "prelu5")] {
            try MTCNNNetworks.load(p, n, w, file: file)
        }
        freeze()
    }

    public func callAsFunction(_ x: Variable) -> (regression: Variable, landmarks: Variable, probability: Variable) {
        var h = pool1(prelu1(conv1(x)))
        h = pool2(prelu2(conv2(h)))
        h = pool3(prelu3(conv3(h)))
        h = prelu4(conv4(h))
        let f = prelu5(fc5(MTCNNNetworks.flattenWHC(h)))
        return (regression(f), landmarks(f), Functional.softmax(classifier(f), axis: 1))
    }
}
