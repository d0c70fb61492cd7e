/// An activation function as a layer.
public final class ActivationLayer: Module, UnaryLayer {
    public let activation: Activation
    public init(_ a: Activation) { activation = a }
    public func callAsFunction(_ x: Variable) -> Variable { Functional.activation(x, activation) }
}

public func ReLU() -> ActivationLayer { ActivationLayer(.relu) }
public func Tanh() -> ActivationLayer { ActivationLayer(.tanh) }
public func Sigmoid() -> ActivationLayer { ActivationLayer(.sigmoid) }

/// PReLU with one learned slope per channel (or one shared when channels == 1), initialized to 0.25.
public final class PReLU: Module, UnaryLayer {
    public var weight: Parameter
    public init(channels: Int = 1, initial: Float = 0.25) { weight = Parameter(Tensor(repeating: initial, shape: [channels]), requiresGrad: true, label: "weight") }
    public func callAsFunction(_ x: Variable) -> Variable { Functional.prelu(x, slope: weight) }
}

/// Softmax over an axis as a layer.
public final class Softmax: Module, UnaryLayer {
    public let axis: Int
    public init(axis: Int = -1) { self.axis = axis }
    public func callAsFunction(_ x: Variable) -> Variable { Functional.softmax(x, axis: axis) }
}

/// A layer that draws random numbers while training (dropout). A trainer reseeds every such layer before each
/// step from (run seed, epoch, step), so the masks of a resumed run are those of an uninterrupted one.
public protocol StochasticLayer: AnyObject {
    func reseed(_ seed: UInt64)
}

extension Module {
    /// Reseeds every `StochasticLayer` below this module: layer i (in `namedModules` order) gets
    /// `SeededGenerator.derive(seed, i)`.
    public func reseedStochasticLayers(_ seed: UInt64) {
        var i: UInt64 = 0
        for (_, m) in namedModules() {
            if let s = m as? StochasticLayer { s.reseed(SeededGenerator.derive(seed, i)); i += 1 }
        }
    }
}

/// Inverted dropout, active only in training mode; seeded for reproducibility.
public final class Dropout: Module, UnaryLayer, StochasticLayer {
    public let probability: Float
    var rng: SeededGenerator
    public init(_ p: Float = 0.5, seed: UInt64? = nil) {
        precondition(p >= 0 && p < 1, "dropout probability \(p) must be in [0, 1)")
        probability = p
        rng = SeededGenerator(seed: seed ?? ConvKitRandom.generator.next())
    }
    public func callAsFunction(_ x: Variable) -> Variable {
        isTraining ? Functional.dropout(x, p: probability, rng: &rng) : x
    }
    public func reseed(_ seed: UInt64) { rng = SeededGenerator(seed: seed) }
}

/// [N, C, H, W] → [N, C·H·W].
public final class Flatten: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ x: Variable) -> Variable { x.flattened() }
}

/// Pads the spatial axes (zeros, reflection or replication): amounts per spatial axis (before, after).
public final class Padding2D: Module, UnaryLayer {
    public let amounts: [(Int, Int)]
    public let mode: PaddingMode
    public init(_ amounts: [(Int, Int)], mode: PaddingMode = .constant(0)) { self.amounts = amounts; self.mode = mode }
    public convenience init(_ p: Int, mode: PaddingMode = .constant(0)) { self.init([(p, p), (p, p)], mode: mode) }
    public func callAsFunction(_ x: Variable) -> Variable { x.padded(amounts, mode: mode) }
}

/// Upsampling of [N, C, H, W] by integer factors (nearest) or to a size (bilinear).
public final class Upsample: Module, UnaryLayer {
    public enum Mode: Equatable { case nearest, bilinear(alignCorners: Bool) }
    public let scale: (Int, Int)
    public let mode: Mode
    public init(scale: Int = 2, mode: Mode = .nearest) { self.scale = (scale, scale); self.mode = mode }
    public func callAsFunction(_ x: Variable) -> Variable {
        switch mode {
        case .nearest: return Functional.upsampleNearest(x, scale: scale)
        case .bilinear(let ac): return Functional.resizeBilinear(x, to: (x.shape[2] * scale.0, x.shape[3] * scale.1), alignCorners: ac)
        }
    }
}

/// Layers applied in order; children are named "0", "1", … as in PyTorch.
public final class Sequential: Module, UnaryLayer {
    public var layers: [any UnaryLayer]
    public init(_ layers: [any UnaryLayer]) { self.layers = layers }
    public convenience init(_ layers: any UnaryLayer...) { self.init(layers) }

    public override func namedChildren() -> [(String, Module)] { layers.enumerated().map { ("\($0.offset)", $0.element) } }

    public func callAsFunction(_ x: Variable) -> Variable {
        if !Autograd.isRecording && Tracer.current == nil { return forwardFusingConvolutions(x) }
        return layers.reduce(x) { $1($0) }
    }

    /// Replaces layer i (a new classifier head in transfer learning).
    public func replace(at i: Int, with layer: any UnaryLayer) { layers[i] = layer }
}
