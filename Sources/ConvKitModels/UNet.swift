import ConvKit

/// U-Net (Ronneberger et al. 2015) with "same" padding, so that the output has the input's size (as the notes
/// describe it): a contracting path of `depth` levels — two 3×3 conv-BN-ReLU layers, then 2×2 max-pooling, the
/// width doubling at each level — a bottleneck, and an expanding path where a 2×2 stride-2 transposed convolution
/// halves the channels and doubles the size, the skip from the same level is concatenated, and two 3×3 layers
/// follow; a 1×1 convolution gives one logit per class and pixel.
/// Input `[N, C, H, W]` with H and W divisible by 2^depth → output `[N, classes, H, W]`.
/// With `spatialDimensions: 3` it is the volumetric variant (Çiçek et al. 2016, "3D U-Net"; same padding and
/// batch norm as here): 3×3×3 convolutions, 2×2×2 pooling and up-convolutions, `[N, C, D, H, W]` in and out.
public final class UNet: Module, UnaryLayer {
    public let depth: Int
    public let spatialDimensions: Int
    var down: [Sequential]
    var bottleneck: Sequential
    var up: [ConvTranspose]
    var decode: [Sequential]
    var head: Conv

    /// - Parameters:
    ///   - depth: number of down-sampling levels (1…6).
    ///   - width: channels of the first level (64 in the paper).
    ///   - spatialDimensions: 2 (images) or 3 (volumes).
    public init(classes: Int, inputChannels: Int = 1, depth: Int = 3, width: Int = 16, spatialDimensions: Int = 2) {
        precondition((1...6).contains(depth) && width > 0 && classes > 0, "U-Net needs depth 1…6, a width and classes")
        precondition(spatialDimensions == 2 || spatialDimensions == 3, "U-Net is 2-D or 3-D, not \(spatialDimensions)-D")
        self.depth = depth
        self.spatialDimensions = spatialDimensions
        let r = spatialDimensions
        func convBN(_ cin: Int, _ cout: Int) -> Sequential {
            Sequential(Conv(inputChannels: cin, outputChannels: cout, kernelSize: Array(repeating: 3, count: r), padding: .symmetric(1), bias: false),
                       BatchNorm(cout), ActivationLayer(.relu))
        }
        func block(_ cin: Int, _ cout: Int) -> Sequential { Sequential(convBN(cin, cout), convBN(cout, cout)) }
        let widths = (0...depth).map { width << $0 }
        down = (0..<depth).map { block($0 == 0 ? inputChannels : widths[$0 - 1], widths[$0]) }
        bottleneck = block(widths[depth - 1], widths[depth])
        let two = Array(repeating: 2, count: r)
        up = (0..<depth).reversed().map { ConvTranspose(inputChannels: widths[$0 + 1], outputChannels: widths[$0], kernelSize: two, stride: two) }
        decode = (0..<depth).reversed().map { block(2 * widths[$0], widths[$0]) }
        head = Conv(inputChannels: widths[0], outputChannels: classes, kernelSize: Array(repeating: 1, count: r))
        super.init()
        initializeLikeTorchvision(self)
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        var skips = [Variable](), y = x
        for d in down {
            y = d(y)
            skips.append(y)
            y = Functional.maxPool(y, PoolOptions(kernel: [2], stride: [2]))
        }
        y = bottleneck(y)
        for (u, dec) in zip(up, decode) {
            y = dec(Variable.concatenate([u(y), skips.removeLast()], axis: 1))
        }
        return head(y)
    }
}
