import ConvKit

/// A residual block: y = relu(F(x) + shortcut(x)), where the shortcut is the identity or, when the shape
/// changes, a 1×1 projection with batch norm ("downsample", as torchvision names it).
public protocol ResidualBlock: UnaryLayer {
    /// Output channels = planes · expansion.
    static var expansion: Int { get }
    init(inputs: Int, planes: Int, stride: Int, downsample: Sequential?)
}

/// Two 3×3 convolutions (ResNet-18/34).
public final class BasicBlock: Module, ResidualBlock {
    public static let expansion = 1
    public var conv1: Conv, bn1: BatchNorm, conv2: Conv, bn2: BatchNorm
    public var downsample: Sequential?

    public init(inputs: Int, planes: Int, stride: Int, downsample: Sequential?) {
        conv1 = Conv2D(inputs, planes, kernel: 3, stride: stride, padding: .symmetric(1), bias: false); bn1 = BatchNorm(planes)
        conv2 = Conv2D(planes, planes, kernel: 3, padding: .symmetric(1), bias: false); bn2 = BatchNorm(planes)
        self.downsample = downsample
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        let h = conv1.fused(x, norm: bn1, activation: .relu)
        return conv2.fused(h, norm: bn2, adding: downsample?(x) ?? x, activation: .relu)
    }
}

/// 1×1 reduce → 3×3 (with the stride, "ResNet v1.5") → 1×1 expand ×4 (ResNet-50/101/152).
public final class Bottleneck: Module, ResidualBlock {
    public static let expansion = 4
    public var conv1: Conv, bn1: BatchNorm, conv2: Conv, bn2: BatchNorm, conv3: Conv, bn3: BatchNorm
    public var downsample: Sequential?

    public init(inputs: Int, planes: Int, stride: Int, downsample: Sequential?) {
        conv1 = Conv2D(inputs, planes, kernel: 1, bias: false); bn1 = BatchNorm(planes)
        conv2 = Conv2D(planes, planes, kernel: 3, stride: stride, padding: .symmetric(1), bias: false); bn2 = BatchNorm(planes)
        conv3 = Conv2D(planes, planes * 4, kernel: 1, bias: false); bn3 = BatchNorm(planes * 4)
        self.downsample = downsample
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        let h = conv2.fused(conv1.fused(x, norm: bn1, activation: .relu), norm: bn2, activation: .relu)
        return conv3.fused(h, norm: bn3, adding: downsample?(x) ?? x, activation: .relu)
    }
}

/// ResNet (He et al. 2015) in torchvision's layout and names (`layer1.0.conv1.weight`, …).
/// resnet18 11,689,512 parameters and 1.81 G MACs; resnet50 25,557,032 and 4.09 G (3×224×224).
public final class ResNet: Module, UnaryLayer {
    public var conv1: Conv, bn1: BatchNorm
    public var maxpool = MaxPool(3, stride: 2, padding: 1)
    public var layer1: Sequential, layer2: Sequential, layer3: Sequential, layer4: Sequential
    public var avgpool = GlobalAvgPool()
    public var fc: Dense

    public init<B: ResidualBlock>(block: B.Type, layers: [Int], classes: Int = 1000, inputChannels: Int = 3) {
        precondition(layers.count == 4, "ResNet needs four stage depths")
        conv1 = Conv2D(inputChannels, 64, kernel: 7, stride: 2, padding: .symmetric(3), bias: false)
        bn1 = BatchNorm(64)
        var inputs = 64
        func stage(_ planes: Int, _ n: Int, _ stride: Int) -> Sequential {
            var blocks = [any UnaryLayer]()
            for i in 0..<n {
                let s = i == 0 ? stride : 1
                var down: Sequential? = nil
                if i == 0 && (s != 1 || inputs != planes * B.expansion) {
                    down = Sequential(Conv2D(inputs, planes * B.expansion, kernel: 1, stride: s, bias: false), BatchNorm(planes * B.expansion))
                }
                blocks.append(B(inputs: inputs, planes: planes, stride: s, downsample: down))
                inputs = planes * B.expansion
            }
            return Sequential(blocks)
        }
        layer1 = stage(64, layers[0], 1); layer2 = stage(128, layers[1], 2)
        layer3 = stage(256, layers[2], 2); layer4 = stage(512, layers[3], 2)
        fc = Dense(512 * B.expansion, classes)
        super.init()
        initializeLikeTorchvision(self)
        fc.weight.value = Initializer.fanInUniform.make(fc.weight.shape, fanIn: 512 * B.expansion, fanOut: classes, rng: &ConvKitRandom.generator)
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        let stem = maxpool(conv1.fused(x, norm: bn1, activation: .relu))
        return fc(avgpool(layer4(layer3(layer2(layer1(stem))))))
    }

    public static func resnet18(classes: Int = 1000, inputChannels: Int = 3) -> ResNet { ResNet(block: BasicBlock.self, layers: [2, 2, 2, 2], classes: classes, inputChannels: inputChannels) }
    public static func resnet34(classes: Int = 1000, inputChannels: Int = 3) -> ResNet { ResNet(block: BasicBlock.self, layers: [3, 4, 6, 3], classes: classes, inputChannels: inputChannels) }
    public static func resnet50(classes: Int = 1000, inputChannels: Int = 3) -> ResNet { ResNet(block: Bottleneck.self, layers: [3, 4, 6, 3], classes: classes, inputChannels: inputChannels) }
    public static func resnet101(classes: Int = 1000, inputChannels: Int = 3) -> ResNet { ResNet(block: Bottleneck.self, layers: [3, 4, 23, 3], classes: classes, inputChannels: inputChannels) }
    public static func resnet152(classes: Int = 1000, inputChannels: Int = 3) -> ResNet { ResNet(block: Bottleneck.self, layers: [3, 8, 36, 3], classes: classes, inputChannels: inputChannels) }
}
