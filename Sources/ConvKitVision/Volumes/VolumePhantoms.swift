import ConvKit
import Foundation

/// Deterministic CT-like volumes for volumetric CNNs (no CT data is available offline): a body (a large ellipsoid of
/// soft-tissue intensity) holding organs (smaller ellipsoids, brighter) and one lesion whose *shape* — ellipsoid,
/// box or cylinder — is the volume's class; the volume is blurred by a Gaussian point-spread function and given
/// Gaussian noise, as a scanner would. Labels per voxel: 0 air, 1 body, 2 organ, 3 lesion.
///
/// Everything comes from `seed`, so a phantom set is the same on every machine: `phantom(index:)` of a generator
/// depends only on (seed, index, size).
public struct VolumePhantoms {
    /// Voxel classes.
    public static let voxelClasses = ["air", "body", "organ", "lesion"]
    /// Volume classes: the lesion's shape.
    public static let lesionShapes = ["ellipsoid", "box", "cylinder"]

    public struct Phantom {
        /// Intensities `[1, D, H, W]`, roughly in [0, 1] (noise can leave it slightly).
        public var volume: Tensor
        /// One voxel class per voxel, row-major (D, H, W).
        public var voxelLabels: [Int32]
        /// The lesion's shape (index into `lesionShapes`).
        public var lesionShape: Int
    }

    public let size: [Int]
    public let seed: UInt64
    /// Standard deviation of the scanner noise and of the point-spread function (voxels).
    public var noise: Float = 0.05
    public var blurSigma: Float = 0.8

    /// - Throws: when a side is below 16 voxels (a lesion needs room) or the volume exceeds 512³.
    public init(size: [Int], seed: UInt64) throws {
        guard size.count == 3, size.allSatisfy({ (16...512).contains($0) }) else {
            throw ConvKitError.invalidArgument(name: "phantom size", expected: "three sides of 16…512 voxels",
                                               found: size.map(String.init).joined(separator: "×"))
        }
        self.size = size; self.seed = seed
    }

    /// The `index`-th phantom; its class cycles through the lesion shapes (balanced sets).
    public func phantom(index: Int) -> Phantom {
        var rng = SeededGenerator(seed: seed &* 0x9E37_79B9 &+ UInt64(truncatingIfNeeded: index) &* 0x1000_0001 &+ 1)
        let (d, h, w) = (size[0], size[1], size[2])
        let shape = index % Self.lesionShapes.count
        func u(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * rng.nextUniform() }
        var labels = [Int32](repeating: 0, count: d * h * w)
        var intensity = [Float](repeating: 0, count: d * h * w)
        /// Paints `value`/`label` where `inside(z, y, x)` holds, with z, y, x normalized to [−1, 1].
        func paint(_ label: Int32, _ value: Float, _ inside: (Float, Float, Float) -> Bool) {
            for z in 0..<d {
                let zn = 2 * (Float(z) + 0.5) / Float(d) - 1
                for y in 0..<h {
                    let yn = 2 * (Float(y) + 0.5) / Float(h) - 1
                    for x in 0..<w {
                        let xn = 2 * (Float(x) + 0.5) / Float(w) - 1
                        if inside(zn, yn, xn) { let i = (z * h + y) * w + x; labels[i] = label; intensity[i] = value }
                    }
                }
            }
        }
        func ellipsoid(_ c: (Float, Float, Float), _ r: (Float, Float, Float)) -> (Float, Float, Float) -> Bool {
            { z, y, x in let a = (z - c.0) / r.0, b = (y - c.1) / r.1, e = (x - c.2) / r.2; return a * a + b * b + e * e <= 1 }
        }
        // The body, then 2–3 organs inside it, then the lesion (drawn last, so it is never hidden).
        paint(1, u(0.25, 0.35), ellipsoid((0, 0, 0), (u(0.75, 0.9), u(0.7, 0.85), u(0.75, 0.9))))
        for _ in 0..<(2 + Int(rng.next() % 2)) {
            let c = (u(-0.35, 0.35), u(-0.35, 0.35), u(-0.35, 0.35))
            paint(2, u(0.5, 0.65), ellipsoid(c, (u(0.12, 0.25), u(0.12, 0.25), u(0.12, 0.25))))
        }
        let c = (u(-0.3, 0.3), u(-0.3, 0.3), u(-0.3, 0.3))
        let lesion = u(0.85, 1.0)
        switch shape {
        case 0:
            paint(3, lesion, ellipsoid(c, (u(0.22, 0.32), u(0.22, 0.32), u(0.22, 0.32))))
        case 1:
            let r = (u(0.18, 0.26), u(0.18, 0.26), u(0.18, 0.26))
            paint(3, lesion) { z, y, x in abs(z - c.0) <= r.0 && abs(y - c.1) <= r.1 && abs(x - c.2) <= r.2 }
        default:
            // A cylinder along one axis: round in the other two, flat-ended.
            let axis = Int(rng.next() % 3), radius = u(0.14, 0.2), half = u(0.3, 0.4)
            paint(3, lesion) { z, y, x in
                let p = [z - c.0, y - c.1, x - c.2]
                let along = p[axis], a = p[(axis + 1) % 3], b = p[(axis + 2) % 3]
                return abs(along) <= half && a * a + b * b <= radius * radius
            }
        }
        var volume = Tensor(shape: [1, d, h, w], scalars: intensity)
        if blurSigma > 0 { volume = Self.gaussianBlur(volume, sigma: blurSigma) }
        if noise > 0 {
            volume.withUnsafeMutableBufferPointer { v in for i in v.indices { v[i] += noise * rng.nextNormal() } }
        }
        return Phantom(volume: volume, voxelLabels: labels, lesionShape: shape)
    }

    /// Separable Gaussian blur of `[C, D, H, W]` along the three spatial axes (borders clamped), radius ⌈3σ⌉.
    public static func gaussianBlur(_ v: Tensor, sigma: Float) -> Tensor {
        precondition(v.rank == 4 && sigma > 0, "gaussianBlur needs [C, D, H, W] and σ > 0")
        let radius = Int((3 * sigma).rounded(.up))
        var taps = (-radius...radius).map { Foundation.exp(-Float($0 * $0) / (2 * sigma * sigma)) }
        let total = taps.reduce(0, +); taps = taps.map { $0 / total }
        let dims = Array(v.shape[1...])
        var out = v
        for axis in 0..<3 {
            let n = dims[axis]
            let stride = dims[(axis + 1)...].reduce(1, *)
            let src = out
            out = Tensor(shape: v.shape) { o in
                src.withUnsafeBufferPointer { s in
                    let count = v.count
                    for i in 0..<count {
                        let coord = (i / stride) % n
                        var acc: Float = 0
                        for (t, wt) in taps.enumerated() {
                            let j = Swift.min(n - 1, Swift.max(0, coord + t - radius))
                            acc += wt * s[i + (j - coord) * stride]
                        }
                        o[i] = acc
                    }
                }
            }
        }
        return out
    }
}
