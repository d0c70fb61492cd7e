import Foundation

/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64). Same seed, same stream,
/// on every platform: initialization, shuffling, dropout and augmentation draw from it.
public struct SeededGenerator: RandomNumberGenerator {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// A seed derived from `seed` and a path of counters (epoch, step, layer…): a pure function, so a stream can be
    /// recreated from its coordinates alone — what exact resume needs (no generator state has to be saved).
    public static func derive(_ seed: UInt64, _ path: UInt64...) -> UInt64 {
        var x = seed
        for p in path {
            x = (x ^ p) &+ 0x9E37_79B9_7F4A_7C15
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            x ^= x >> 31
        }
        return x
    }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Standard normal (Box–Muller).
    public mutating func nextNormal() -> Float {
        var u1 = nextUniform()
        while u1 <= 0 { u1 = nextUniform() }
        let u2 = nextUniform()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * Float.pi * u2)
    }
}

extension Tensor {
    /// Uniform samples in [low, high).
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, rng: inout SeededGenerator) -> Tensor {
        Tensor(shape: shape) { b in for i in b.indices { b[i] = low + (high - low) * rng.nextUniform() } }
    }

    /// Normal samples with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout SeededGenerator) -> Tensor {
        Tensor(shape: shape) { b in for i in b.indices { b[i] = mean + std * rng.nextNormal() } }
    }

    /// 1 with probability p, else 0.
    public static func bernoulli(_ shape: [Int], p: Float, rng: inout SeededGenerator) -> Tensor {
        Tensor(shape: shape) { b in for i in b.indices { b[i] = rng.nextUniform() < p ? 1 : 0 } }
    }

    /// A random permutation of 0..<n (Fisher–Yates).
    public static func permutation(_ n: Int, rng: inout SeededGenerator) -> [Int] {
        var a = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { a.swapAt(i, Int(rng.next() % UInt64(i + 1))) } }
        return a
    }

    /// 0, 1, …, n-1 as floats.
    public static func arange(_ n: Int) -> Tensor { Tensor(shape: [n], scalars: (0..<n).map(Float.init)) }
}
