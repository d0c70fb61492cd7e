import ConvKit

/// Convolution without bias → batch norm (ε = 0.001) → ReLU, named "conv" and "bn" as in torchvision.
public final class BasicConv2d: Module, UnaryLayer {
    public var conv: Conv, bn: BatchNorm
    public init(_ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, padding: Int = 0) {
        conv = Conv2D(cin, cout, kernel: kernel, stride: stride, padding: .symmetric(padding), bias: false)
        bn = BatchNorm(cout, epsilon: 0.001)
    }
    public func callAsFunction(_ x: Variable) -> Variable { conv.fused(x, norm: bn, activation: .relu) }
}

/// An inception module: 1×1, 1×1→3×3, 1×1→"5×5" and pool→1×1 branches concatenated along channels.
/// The 1×1 bottlenecks make the wide filters affordable (the notes' 120 M → 12.4 M multiplies).
/// Like torchvision, the "5×5" branch uses a 3×3 kernel (so that pretrained weights load).
public final class Inception: Module, UnaryLayer {
    public var branch1: BasicConv2d, branch2: Sequential, branch3: Sequential, branch4: Sequential
    public init(_ cin: Int, _ c1: Int, _ c3r: Int, _ c3: Int, _ c5r: Int, _ c5: Int, _ pool: Int) {
        branch1 = BasicConv2d(cin, c1, kernel: 1)
        branch2 = Sequential(BasicConv2d(cin, c3r, kernel: 1), BasicConv2d(c3r, c3, kernel: 3, padding: 1))
        branch3 = Sequential(BasicConv2d(cin, c5r, kernel: 1), BasicConv2d(c5r, c5, kernel: 3, padding: 1))
        branch4 = Sequential(MaxPool(3, stride: 1, padding: 1, ceilMode: true), BasicConv2d(cin, pool, kernel: 1))
    }
    public var outputChannels: Int { branch1.conv.outputChannels + (branch2.layers[1] as! BasicConv2d).conv.outputChannels +
        (branch3.layers[1] as! BasicConv2d).conv.outputChannels + (branch4.layers[1] as! BasicConv2d).conv.outputChannels }
    public func callAsFunction(_ x: Variable) -> Variable {
        Variable.concatenate([branch1(x), branch2(x), branch3(x), branch4(x)], axis: 1)
    }
}

/// The auxiliary classifier GoogLeNet attaches to intermediate layers during training.
public final class InceptionAux: Module, UnaryLayer {
    public var conv: BasicConv2d, fc1: Dense, fc2: Dense
    var dropout = Dropout(0.7)
    let pool = AdaptiveAvgPool2D(4, 4)
    public init(_ cin: Int, classes: Int) {
        conv = BasicConv2d(cin, 128, kernel: 1); fc1 = Dense(2048, 1024); fc2 = Dense(1024, classes)
    }
    public func callAsFunction(_ x: Variable) -> Variable { fc2(dropout(fc1(conv(pool(x)).flattened()).relu())) }
}

/// GoogLeNet / Inception v1 (Szegedy et al. 2014), torchvision's layout: 6,624,904 parameters without the
/// auxiliary classifiers, 1.50 G MACs at 3×224×224. With `auxiliaryClassifiers`, training-mode calls also
/// leave the two auxiliary logits in `auxiliaryOutputs` (weight them 0.3 in the loss, as the paper does).
public final class GoogLeNet: Module, UnaryLayer {
    public var conv1 = BasicConv2d(3, 64, kernel: 7, stride: 2, padding: 3)
    public var maxpool1 = MaxPool(3, stride: 2, ceilMode: true)
    public var conv2 = BasicConv2d(64, 64, kernel: 1)
    public var conv3 = BasicConv2d(64, 192, kernel: 3, padding: 1)
    public var maxpool2 = MaxPool(3, stride: 2, ceilMode: true)
    public var inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
    public var inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
    public var maxpool3 = MaxPool(3, stride: 2, ceilMode: true)
    public var inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
    public var inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
    public var inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
    public var inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
    public var inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
    public var maxpool4 = MaxPool(2, stride: 2, ceilMode: true)
    public var inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
    public var inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
    public var aux1: InceptionAux?
    public var aux2: InceptionAux?
    public var avgpool = GlobalAvgPool()
    public var dropout = Dropout(0.2)
    public var fc: Dense
    public private(set) var auxiliaryOutputs: [Variable] = []

    public init(classes: Int = 1000, inputChannels: Int = 3, auxiliaryClassifiers: Bool = false) {
        if inputChannels != 3 { conv1 = BasicConv2d(inputChannels, 64, kernel: 7, stride: 2, padding: 3) }
        fc = Dense(1024, classes)
        if auxiliaryClassifiers { aux1 = InceptionAux(512, classes: classes); aux2 = InceptionAux(528, classes: classes) }
        super.init()
        initializeLikeTorchvision(self)
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        var h = maxpool2(conv3(conv2(maxpool1(conv1(x)))))
        h = maxpool3(inception3b(inception3a(h)))
        h = inception4a(h)
        auxiliaryOutputs = []
        if isTraining, let aux1 { auxiliaryOutputs.append(aux1(h)) }
        h = inception4d(inception4c(inception4b(h)))
        if isTraining, let aux2 { auxiliaryOutputs.append(aux2(h)) }
        h = maxpool4(inception4e(h))
        h = inception5b(inception5a(h))
        return fc(dropout(avgpool(h)))
    }
}
