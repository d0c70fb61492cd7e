import ConvKit

/// VGG (Simonyan & Zisserman 2014): stacks of 3×3 convolutions (two stacked 3×3 see what one 5×5 sees,
/// with fewer parameters) and 2×2 max-pools, then three dense layers. Configurations A/B/D/E are VGG-11/13/16/19.
/// vgg16: 138,357,544 parameters, 15.47 G multiply-accumulates at 3×224×224.
public final class VGG: Module, UnaryLayer {
    public var features: Sequential
    public var avgpool = AdaptiveAvgPool2D(7, 7)
    public var classifier: Sequential

    /// Channel counts per layer; 0 is a max-pool.
    public static let configurations: [Int: [Int]] = [
        11: [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        13: [64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        16: [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0],
        19: [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0],
    ]

    public init(depth: Int, batchNorm: Bool = false, classes: Int = 1000, inputChannels: Int = 3, dropout: Float = 0.5) {
        features = VGG.makeFeatures(depth: depth, batchNorm: batchNorm, inputChannels: inputChannels, initialize: false)
        classifier = Sequential(Dense(512 * 7 * 7, 4096), ReLU(), Dropout(dropout), Dense(4096, 4096), ReLU(), Dropout(dropout),
                                Dense(4096, classes))
        super.init()
        initializeLikeTorchvision(self)
    }

    /// The convolutional part alone (torchvision's `vgg.features`, same indices), initialized as torchvision
    /// does; style transfer and feature extraction use it without the 120 M-parameter classifier.
    public static func makeFeatures(depth: Int, batchNorm: Bool = false, inputChannels: Int = 3, initialize: Bool = true) -> Sequential {
        precondition(VGG.configurations[depth] != nil, "VGG depth must be 11, 13, 16 or 19")
        var layers = [any UnaryLayer](), c = inputChannels
        for v in VGG.configurations[depth]! {
            if v == 0 { layers.append(MaxPool(2, stride: 2)); continue }
            layers.append(Conv2D(c, v, kernel: 3, padding: .symmetric(1)))
            if batchNorm { layers.append(BatchNorm(v)) }
            layers.append(ReLU())
            c = v
        }
        let features = Sequential(layers)
        if initialize { initializeLikeTorchvision(features) }
        return features
    }

    public func callAsFunction(_ x: Variable) -> Variable { classifier(avgpool(features(x)).flattened()) }
}
