import Foundation

/// Weight initializers. fan_in = in_channels/groups · Π kernel, fan_out = out_channels/groups · Π kernel
/// for convolutions; in/out features for dense layers.
public enum Initializer: Equatable {
    /// PyTorch's default for Conv and Linear: U(−1/√fan_in, 1/√fan_in) (kaiming_uniform with a = √5).
    case fanInUniform
    /// He/Kaiming: N(0, 2/fan_in) — for ReLU networks.
    case heNormal
    /// He/Kaiming uniform: U(±√(6/fan_in)).
    case heUniform
    /// Xavier/Glorot: N(0, 2/(fan_in + fan_out)).
    case xavierNormal
    /// Xavier/Glorot uniform: U(±√(6/(fan_in + fan_out))).
    case xavierUniform
    /// LeCun: N(0, 1/fan_in).
    case lecunNormal
    /// LeCun uniform: U(±√(3/fan_in)).
    case lecunUniform
    case constant(Float)
    case zeros

    /// A tensor of `shape` drawn with this rule.
    public func make(_ shape: [Int], fanIn: Int, fanOut: Int, rng: inout SeededGenerator) -> Tensor {
        let fi = Float(Swift.max(fanIn, 1)), fo = Float(Swift.max(fanOut, 1))
        switch self {
        case .fanInUniform: let b = 1 / fi.squareRoot(); return .uniform(shape, low: -b, high: b, rng: &rng)
        case .heNormal: return .normal(shape, std: (2 / fi).squareRoot(), rng: &rng)
        case .heUniform: let b = (6 / fi).squareRoot(); return .uniform(shape, low: -b, high: b, rng: &rng)
        case .xavierNormal: return .normal(shape, std: (2 / (fi + fo)).squareRoot(), rng: &rng)
        case .xavierUniform: let b = (6 / (fi + fo)).squareRoot(); return .uniform(shape, low: -b, high: b, rng: &rng)
        case .lecunNormal: return .normal(shape, std: (1 / fi).squareRoot(), rng: &rng)
        case .lecunUniform: let b = (3 / fi).squareRoot(); return .uniform(shape, low: -b, high: b, rng: &rng)
        case .constant(let v): return Tensor(repeating: v, shape: shape)
        case .zeros: return .zeros(shape)
        }
    }
}

/// The generator layers draw their initial weights from when none is passed: seed it once
/// (`ConvKitRandom.seed(42)`) and model construction is reproducible.
public enum ConvKitRandom {
    nonisolated(unsafe) public static var generator = SeededGenerator(seed: 0x5EED)
    public static func seed(_ s: UInt64) { generator = SeededGenerator(seed: s) }
}
