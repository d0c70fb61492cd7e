import ConvKit

/// AlexNet (Krizhevsky et al. 2012) as torchvision defines it (without LRN, 64-192-384-256-256 filters):
/// 61,100,840 parameters for 1000 classes; 0.71 G multiply-accumulates at 3×224×224.
/// `localResponseNorm: true` adds the paper's LRN after the first two ReLUs (no parameters).
public final class AlexNet: Module, UnaryLayer {
    public var features: Sequential
    public var avgpool = AdaptiveAvgPool2D(6, 6)
    public var classifier: Sequential

    public init(classes: Int = 1000, inputChannels: Int = 3, dropout: Float = 0.5, localResponseNorm: Bool = false) {
        var f: [any UnaryLayer] = [Conv2D(inputChannels, 64, kernel: 11, stride: 4, padding: .symmetric(2)), ReLU()]
        if localResponseNorm { f.append(LocalResponseNorm(size: 5, alpha: 1e-4, beta: 0.75, k: 2)) }
        f += [MaxPool(3, stride: 2), Conv2D(64, 192, kernel: 5, padding: .symmetric(2)), ReLU()]
        if localResponseNorm { f.append(LocalResponseNorm(size: 5, alpha: 1e-4, beta: 0.75, k: 2)) }
        f += [MaxPool(3, stride: 2),
              Conv2D(192, 384, kernel: 3, padding: .symmetric(1)), ReLU(),
              Conv2D(384, 256, kernel: 3, padding: .symmetric(1)), ReLU(),
              Conv2D(256, 256, kernel: 3, padding: .symmetric(1)), ReLU(), MaxPool(3, stride: 2)]
        features = Sequential(f)
        classifier = Sequential(Dropout(dropout), Dense(256 * 6 * 6, 4096), ReLU(), Dropout(dropout), Dense(4096, 4096), ReLU(),
                                Dense(4096, classes))
    }

    public func callAsFunction(_ x: Variable) -> Variable { classifier(avgpool(features(x)).flattened()) }
}
