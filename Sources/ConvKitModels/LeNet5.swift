import ConvKit

/// LeNet-5 (LeCun et al. 1998), for 1×28×28 inputs padded to 32×32 by the first convolution.
///
/// Modern form (default; torchvision-style names, 61,706 parameters for 10 classes):
/// conv 5×5 1→6 pad 2, ReLU, max-pool 2 → conv 5×5 6→16, ReLU, max-pool 2 → 400 → 120 → 84 → classes.
/// Classic form (`classic: true`): tanh and average pooling, as in the paper (without its sparse
/// C3 connection table and RBF output, which later work replaced with full connections and softmax).
public final class LeNet5: Module, UnaryLayer {
    public var features: Sequential
    public var classifier: Sequential

    public init(classes: Int = 10, inputChannels: Int = 1, classic: Bool = false) {
        let act: Activation = classic ? .tanh : .relu
        func pool() -> any UnaryLayer { classic ? AvgPool(2) : MaxPool(2) }
        features = Sequential(
            Conv2D(inputChannels, 6, kernel: 5, padding: .symmetric(2), activation: act), pool(),
            Conv2D(6, 16, kernel: 5, activation: act), pool())
        classifier = Sequential(
            Flatten(),
            Dense(16 * 5 * 5, 120, activation: act),
            Dense(120, 84, activation: act),
            Dense(84, classes))
    }

    public func callAsFunction(_ x: Variable) -> Variable { classifier(features(x)) }
}
