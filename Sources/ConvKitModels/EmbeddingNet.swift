import ConvKit

/// An encoder f(x) for metric learning (Siamese networks, FaceNet-style triplets): three conv-BN-ReLU stages
/// with 2×2 max-pools between them, global average pooling, a linear projection to `dimensions`, and L2
/// normalization, so that ‖f(x)‖ = 1 and squared distances lie in [0, 4].
/// Input `[N, C, H, W]` (any H, W ≥ 4) → `[N, dimensions]`.
public final class EmbeddingNet: Module, UnaryLayer {
    public var features: Sequential
    public var projection: Dense
    public let dimensions: Int

    public init(inputChannels: Int = 1, dimensions: Int = 64, width: Int = 32) {
        precondition(inputChannels > 0 && dimensions > 0 && width > 0, "an embedding net needs channels, dimensions and a width")
        self.dimensions = dimensions
        features = Sequential(ConvBNActivation(inputChannels, width, kernel: 3), MaxPool(kernel: [2]),
                              ConvBNActivation(width, 2 * width, kernel: 3), MaxPool(kernel: [2]),
                              ConvBNActivation(2 * width, 4 * width, kernel: 3), GlobalAvgPool())
        projection = Dense(4 * width, dimensions)
        super.init()
    }

    public func callAsFunction(_ x: Variable) -> Variable { projection(features(x).flattened()).l2Normalized() }
}
