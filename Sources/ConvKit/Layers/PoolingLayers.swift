/// Max pooling over 1–3 spatial axes: `MaxPool(kernel: [2])` halves H and W. No parameters.
public final class MaxPool: Module, UnaryLayer {
    public let options: PoolOptions
    public init(kernel: [Int], stride: [Int]? = nil, padding: Padding = .valid, dilation: [Int] = [1], ceilMode: Bool = false) {
        options = PoolOptions(kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }
    /// Square 2-D window.
    public convenience init(_ k: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false) {
        self.init(kernel: [k], stride: stride.map { [$0] }, padding: .symmetric(padding), ceilMode: ceilMode)
    }
    public func callAsFunction(_ x: Variable) -> Variable { Functional.maxPool(x, options) }
}

/// Average pooling over 1–3 spatial axes. No parameters.
public final class AvgPool: Module, UnaryLayer {
    public let options: PoolOptions
    public init(kernel: [Int], stride: [Int]? = nil, padding: Padding = .valid, ceilMode: Bool = false, countIncludePad: Bool = true) {
        options = PoolOptions(kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad)
    }
    public convenience init(_ k: Int, stride: Int? = nil, padding: Int = 0) {
        self.init(kernel: [k], stride: stride.map { [$0] }, padding: .symmetric(padding))
    }
    public func callAsFunction(_ x: Variable) -> Variable { Functional.avgPool(x, options) }
}

/// Global average pooling: [N, C, *S] → [N, C] (ResNet's and GoogLeNet's head).
public final class GlobalAvgPool: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ x: Variable) -> Variable { Functional.globalAvgPool(x) }
}

/// Global max pooling: [N, C, *S] → [N, C].
public final class GlobalMaxPool: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ x: Variable) -> Variable { Functional.globalMaxPool(x) }
}

/// Adaptive average pooling of [N, C, H, W] to a fixed (h, w) whatever the input size (AlexNet/VGG heads).
public final class AdaptiveAvgPool2D: Module, UnaryLayer {
    public let outputSize: (Int, Int)
    public init(_ h: Int, _ w: Int) { outputSize = (h, w) }
    public func callAsFunction(_ x: Variable) -> Variable {
        if x.shape[2] == outputSize.0 && x.shape[3] == outputSize.1 { return x }
        return Functional.adaptiveAvgPool2D(x, outputSize: outputSize)
    }
}
