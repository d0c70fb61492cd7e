import ConvKit

/// A 1-D convolution, batch norm and ReLU with TensorFlow's "same" padding (the time-series baselines' block).
final class Conv1DBN: Module, UnaryLayer {
    var conv: Conv, norm: BatchNorm
    init(_ cin: Int, _ cout: Int, kernel: Int) {
        conv = Conv1D(cin, cout, kernel: kernel, padding: .same, bias: false); norm = BatchNorm(cout)
    }
    func callAsFunction(_ x: Variable) -> Variable { conv.fused(x, norm: norm, activation: .relu) }
}

/// The fully convolutional network baseline for time-series classification (Wang, Yan and Oates 2017, "Time Series
/// Classification from Scratch with Deep Neural Networks: A Strong Baseline"): conv 128×8, 256×5, 128×3, each with
/// batch norm and ReLU, global average pooling over time, a linear classifier. `[N, D, L]` → logits `[N, classes]`.
public final class FCN1D: Module, UnaryLayer {
    var blocks: [Conv1DBN]
    public var fc: Dense
    public init(inputChannels: Int, classes: Int) {
        blocks = [Conv1DBN(inputChannels, 128, kernel: 8), Conv1DBN(128, 256, kernel: 5), Conv1DBN(256, 128, kernel: 3)]
        fc = Dense(128, classes)
    }
    public func callAsFunction(_ x: Variable) -> Variable {
        var h = x
        for b in blocks { h = b(h) }
        return fc(Functional.globalAvgPool(h))
    }
}

/// One residual block of the ResNet baseline (Wang et al. 2017): conv k = 8, 5, 3 with batch norm (ReLU after the
/// first two), plus the input through a 1×1 convolution and batch norm (batch norm alone when the channels match),
/// then ReLU.
final class ResidualBlock1D: Module, UnaryLayer {
    var c1: Conv1DBN, c2: Conv1DBN, conv3: Conv, norm3: BatchNorm
    var shortcut: Conv?, shortcutNorm: BatchNorm
    init(_ cin: Int, _ cout: Int) {
        c1 = Conv1DBN(cin, cout, kernel: 8); c2 = Conv1DBN(cout, cout, kernel: 5)
        conv3 = Conv1D(cout, cout, kernel: 3, padding: .same, bias: false); norm3 = BatchNorm(cout)
        shortcut = cin != cout ? Conv1D(cin, cout, kernel: 1, bias: false) : nil
        shortcutNorm = BatchNorm(cout)
    }
    func callAsFunction(_ x: Variable) -> Variable {
        let s = shortcutNorm(shortcut?(x) ?? x)
        return conv3.fused(c2(c1(x)), norm: norm3, adding: s, activation: .relu)
    }
}

/// The ResNet baseline (Wang et al. 2017): three residual blocks of 64, 128 and 128 filters, global average pooling,
/// a linear classifier. `[N, D, L]` → logits `[N, classes]`.
public final class ResNet1D: Module, UnaryLayer {
    var blocks: [ResidualBlock1D]
    public var fc: Dense
    public init(inputChannels: Int, classes: Int) {
        blocks = [ResidualBlock1D(inputChannels, 64), ResidualBlock1D(64, 128), ResidualBlock1D(128, 128)]
        fc = Dense(128, classes)
    }
    public func callAsFunction(_ x: Variable) -> Variable {
        var h = x
        for b in blocks { h = b(h) }
        return fc(Functional.globalAvgPool(h))
    }
}

/// A temporal convolutional network classifier (Bai, Kolter and Koltun 2018): `levels` temporal blocks of
/// `channels` filters with dilations 1, 2, 4, …, then a linear layer on the last time step (which, the network
/// being causal, has seen the whole sequence when the receptive field 1 + 2·(k − 1)·(2^levels − 1) covers it), or
/// on the mean over time. `[N, D, L]` → logits `[N, classes]`.
public final class TCN: Module, UnaryLayer {
    public enum Readout: String, Sendable { case last, mean }
    public var blocks: [TemporalBlock]
    public var fc: Dense
    public let kernel: Int
    public let readout: Readout

    public init(inputChannels: Int, classes: Int, levels: Int = 4, channels: Int = 32, kernel: Int = 7, dropout: Float = 0.05,
                readout: Readout = .last, initialStd: Float? = nil) {
        precondition(levels >= 1 && channels >= 1 && kernel >= 2, "a TCN needs levels ≥ 1, channels ≥ 1 and kernel ≥ 2")
        blocks = (0..<levels).map {
            TemporalBlock($0 == 0 ? inputChannels : channels, channels, kernel: kernel, dilation: 1 << $0, dropout: dropout, initialStd: initialStd)
        }
        fc = Dense(channels, classes)
        self.kernel = kernel; self.readout = readout
    }

    /// Steps of input that the last output sees: 1 + 2·(k − 1)·Σ dilations.
    public var receptiveField: Int { 1 + 2 * (kernel - 1) * ((1 << blocks.count) - 1) }

    /// The per-step features `[N, channels, L]` (causal: step t depends on inputs ≤ t only).
    public func features(_ x: Variable) -> Variable {
        var h = x
        for b in blocks { h = b(h) }
        return h
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        let h = features(x)
        if readout == .mean { return fc(Functional.globalAvgPool(h)) }
        return fc(h.slice(axis: 2, (h.shape[2] - 1)..<h.shape[2]).flattened())
    }
}
