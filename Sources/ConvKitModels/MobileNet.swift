import ConvKit

/// Channels rounded to a multiple of 8, never below 90 % of the target (MobileNet's `_make_divisible`).
func makeDivisible(_ v: Float, _ divisor: Int = 8) -> Int {
    var n = Swift.max(divisor, Int(v + Float(divisor) / 2) / divisor * divisor)
    if Float(n) < 0.9 * v { n += divisor }
    return n
}

/// MobileNet v1 (Howard et al. 2017): a 3×3 stem then 13 depthwise-separable blocks (depthwise 3×3 + BN +
/// ReLU, pointwise 1×1 + BN + ReLU). A block costs k²·C + C·C′ multiplies per position instead of k²·C·C′.
/// 4,231,976 parameters at width 1.0 and 1000 classes; `widthMultiplier` α thins every layer.
public final class MobileNetV1: Module, UnaryLayer {
    public var features: Sequential
    public var avgpool = GlobalAvgPool()
    public var fc: Dense

    public init(classes: Int = 1000, inputChannels: Int = 3, widthMultiplier: Float = 1) {
        func w(_ c: Int) -> Int { makeDivisible(Float(c) * widthMultiplier) }
        var layers: [any UnaryLayer] = [ConvBNActivation(inputChannels, w(32), kernel: 3, stride: 2)]
        let plan: [(Int, Int)] = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]
        var c = w(32)
        for (out, stride) in plan {
            layers.append(Sequential(ConvBNActivation(c, c, kernel: 3, stride: stride, groups: c), ConvBNActivation(c, w(out), kernel: 1)))
            c = w(out)
        }
        features = Sequential(layers)
        fc = Dense(c, classes)
    }

    public func callAsFunction(_ x: Variable) -> Variable { fc(avgpool(features(x))) }
}

/// MobileNet v2's inverted residual: 1×1 expand (×t, ReLU6) → 3×3 depthwise (ReLU6) → 1×1 project with no
/// activation (a linear bottleneck); the identity is added when the shape is kept.
public final class InvertedResidual: Module, UnaryLayer {
    public var conv: Sequential
    let useResidual: Bool
    public init(_ cin: Int, _ cout: Int, stride: Int, expansion t: Int) {
        let hidden = cin * t
        var layers = [any UnaryLayer]()
        if t != 1 { layers.append(ConvBNActivation(cin, hidden, kernel: 1, activation: .relu6)) }
        layers += [ConvBNActivation(hidden, hidden, kernel: 3, stride: stride, groups: hidden, activation: .relu6),
                   Conv2D(hidden, cout, kernel: 1, bias: false), BatchNorm(cout)]
        conv = Sequential(layers)
        useResidual = stride == 1 && cin == cout
    }
    public func callAsFunction(_ x: Variable) -> Variable { useResidual ? x + conv(x) : conv(x) }
}

/// MobileNet v2 (Sandler et al. 2018) in torchvision's layout: 3,504,872 parameters, 0.30 G MACs at 3×224×224.
public final class MobileNetV2: Module, UnaryLayer {
    public var features: Sequential
    public var avgpool = GlobalAvgPool()
    public var classifier: Sequential

    public init(classes: Int = 1000, inputChannels: Int = 3, widthMultiplier: Float = 1, dropout: Float = 0.2) {
        let settings: [(t: Int, c: Int, n: Int, s: Int)] = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
        var c = makeDivisible(32 * widthMultiplier)
        let last = makeDivisible(1280 * Swift.max(1, widthMultiplier))
        var layers: [any UnaryLayer] = [ConvBNActivation(inputChannels, c, kernel: 3, stride: 2, activation: .relu6)]
        for s in settings {
            let out = makeDivisible(Float(s.c) * widthMultiplier)
            for i in 0..<s.n { layers.append(InvertedResidual(c, out, stride: i == 0 ? s.s : 1, expansion: s.t)); c = out }
        }
        layers.append(ConvBNActivation(c, last, kernel: 1, activation: .relu6))
        features = Sequential(layers)
        classifier = Sequential(Dropout(dropout), Dense(last, classes))
        super.init()
        initializeLikeTorchvision(self)
    }

    public func callAsFunction(_ x: Variable) -> Variable { classifier(avgpool(features(x))) }
}
