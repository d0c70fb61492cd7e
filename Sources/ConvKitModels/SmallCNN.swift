import ConvKit

/// A small CNN for small images of any size (8×8 digits, 28×28 MNIST, 32×32 thumbnails), the "first CNN" of
/// the Keras examples with batch norm: two stages of conv 3×3 (same) → batch norm → ReLU → max-pool 2 (32 and
/// 64 filters), dropout 0.25, global average pooling, dense 64 with ReLU, dropout 0.5, dense to the classes.
/// 23,722 parameters for 1 input channel and 10 classes. Because it has dropout and batch-norm statistics it is
/// also what the exact-resume checks train: every kind of state a run carries is in it.
public final class SmallCNN: Module, UnaryLayer {
    public var features: Sequential
    public var classifier: Sequential

    public init(classes: Int = 10, inputChannels: Int = 1) {
        features = Sequential(
            Conv2D(inputChannels, 32, kernel: 3, padding: .same, bias: false), BatchNorm(32), ActivationLayer(.relu), MaxPool(2),
            Conv2D(32, 64, kernel: 3, padding: .same, bias: false), BatchNorm(64), ActivationLayer(.relu), MaxPool(2),
            Dropout(0.25))
        classifier = Sequential(GlobalAvgPool(), Flatten(), Dense(64, 64, activation: .relu), Dropout(0.5), Dense(64, classes))
    }

    public func callAsFunction(_ x: Variable) -> Variable { classifier(features(x)) }
}
