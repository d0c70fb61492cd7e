import ConvKit

/// A 3×3×3 convolution (same padding), batch norm and ReLU: the volumetric block.
final class Conv3DBN: Module, UnaryLayer {
    var conv: Conv, norm: BatchNorm
    init(_ cin: Int, _ cout: Int) {
        conv = Conv3D(cin, cout, kernel: 3, padding: .symmetric(1), bias: false); norm = BatchNorm(cout)
    }
    func callAsFunction(_ x: Variable) -> Variable { conv.fused(x, norm: norm, activation: .relu) }
}

/// A volumetric CNN classifier in the VGG manner (the 3-D networks of the notes' "example: CT"; VoxNet, Maturana and
/// Scherer 2015, is the same idea): per stage two 3×3×3 conv-BN-ReLU layers and a 2×2×2 max-pool, the width
/// doubling; global max pooling over the volume (a small structure — a lesion — decides the class, and an average
/// over the whole volume would dilute it) and a linear classifier.
/// `[N, C, D, H, W]` (each side ≥ 2^stages) → logits `[N, classes]`.
public final class VolumeClassifier: Module, UnaryLayer {
    var stages: [Sequential]
    public var fc: Dense
    public let widths: [Int]

    /// - Parameter widths: channels of each stage (default 8, 16, 32).
    public init(inputChannels: Int = 1, classes: Int, widths: [Int] = [8, 16, 32]) {
        precondition(!widths.isEmpty && widths.allSatisfy { $0 > 0 } && classes > 0 && inputChannels > 0,
                     "a volume classifier needs stage widths, channels and classes")
        self.widths = widths
        stages = widths.enumerated().map { i, w in
            Sequential(Conv3DBN(i == 0 ? inputChannels : widths[i - 1], w), Conv3DBN(w, w), MaxPool(kernel: [2, 2, 2]))
        }
        fc = Dense(widths.last!, classes)
        super.init()
        initializeLikeTorchvision(self)
        fc.weight.value = Initializer.fanInUniform.make(fc.weight.shape, fanIn: widths.last!, fanOut: classes, rng: &ConvKitRandom.generator)
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        var h = x
        for s in stages { h = s(h) }
        return fc(Functional.globalMaxPool(h))
    }

    /// The smallest side the network accepts (each pooling halves it).
    public var minimumSide: Int { 1 << widths.count }
}
