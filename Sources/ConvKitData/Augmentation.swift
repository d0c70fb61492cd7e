import ConvKit
import Foundation

/// Random, seeded data augmentations applied to one image [C, H, W] at a time (values in any range).
/// Geometric ones sample the source by inverse mapping with bilinear interpolation, filling with `fill`.
public enum Augmentation: Equatable, CustomStringConvertible {
    /// Mirror left–right with probability ½.
    case mirror
    /// Pad by `padding` (with `fill`), then crop back to the original size at a random offset.
    case randomCrop(padding: Int)
    /// Rotate by a uniform angle in ±degrees about the centre.
    case rotation(degrees: Float)
    /// Shear horizontally by a uniform factor in ±amount.
    case shear(Float)
    /// Translate by up to ±fraction of the size in each direction.
    case shift(Float)
    /// Scale by a factor in [1 − amount, 1 + amount].
    case zoom(Float)
    /// Local (elastic) warping (Simard et al. 2003): a random displacement field smoothed with a Gaussian
    /// of width `sigma`, scaled by `alpha` pixels.
    case elastic(alpha: Float, sigma: Float)
    /// Add a uniform random offset in ±amount (in the image's units) to each channel.
    case colorShift(Float)
    /// AlexNet's PCA colour augmentation: add Σ_i α_i λ_i p_i with α_i ~ N(0, σ²), where (λ_i, p_i) are the
    /// eigenpairs of the RGB covariance of the training set.
    case pcaColor(sigma: Float, eigenvalues: [Float], eigenvectors: [[Float]])

    public var description: String {
        switch self {
        case .mirror: return "mirror"
        case .randomCrop(let p): return "crop\(p)"
        case .rotation(let d): return "rotate\(d)"
        case .shear(let s): return "shear\(s)"
        case .shift(let s): return "shift\(s)"
        case .zoom(let z): return "zoom\(z)"
        case .elastic(let a, let s): return "elastic\(a),\(s)"
        case .colorShift(let a): return "color\(a)"
        case .pcaColor: return "pca"
        }
    }

    /// Parses a CLI name: mirror, crop[=P], rotate[=DEG], shear[=S], shift[=F], zoom[=Z], elastic[=A:S], color[=A].
    public static func parse(_ text: String) throws -> Augmentation {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let name = parts[0].lowercased()
        /// Each augmentation's parameters: name, allowed range (a degenerate value is an error, not a no-op), default.
        let known: [String: [(String, ClosedRange<Float>, Float)]] = [
            "mirror": [], "flip": [],
            "crop": [("padding in pixels", 1...64, 2)],
            "rotate": [("degrees", 0.01...180, 10)], "rotation": [("degrees", 0.01...180, 10)],
            "shear": [("shear factor", 0.001...2, 0.15)],
            "shift": [("fraction of the size", 0.001...1, 0.1)], "translate": [("fraction of the size", 0.001...1, 0.1)],
            "zoom": [("fraction", 0.001...0.9, 0.1)], "scale": [("fraction", 0.001...0.9, 0.1)],
            "elastic": [("alpha in pixels", 0.01...100, 8), ("sigma in pixels", 0.1...50, 3)],
            "color": [("shift in 0…255 units", 0.01...255, 20)], "colour": [("shift in 0…255 units", 0.01...255, 20)],
        ]
        guard let spec = known[name] else {
            throw ConvKitError.invalidArgument(name: "--augment", expected: "mirror, crop, rotate, shear, shift, zoom, elastic, color or none", found: "\"\(text)\"")
        }
        let given = parts.count > 1 ? parts[1].split(separator: ":", omittingEmptySubsequences: false).map(String.init) : []
        guard given.count <= spec.count else {
            throw ConvKitError.invalidArgument(name: "--augment \(text)", expected: spec.isEmpty ? "\(name) without a value" : "at most \(spec.count) value(s): \(spec.map(\.0).joined(separator: ":"))", found: "\(given.count)")
        }
        var args = [Float]()
        for (i, (what, range, fallback)) in spec.enumerated() {
            guard i < given.count else { args.append(fallback); continue }
            guard let v = Float(given[i]), v.isFinite, range.contains(v) else {
                throw ConvKitError.invalidArgument(name: "--augment \(name) \(what)", expected: "a number in \(range.lowerBound)…\(range.upperBound)", found: "\"\(given[i])\"")
            }
            if name == "crop", v.rounded() != v {
                throw ConvKitError.invalidArgument(name: "--augment crop padding", expected: "a whole number of pixels", found: given[i])
            }
            args.append(v)
        }
        switch name {
        case "mirror", "flip": return .mirror
        case "crop": return .randomCrop(padding: Int(args[0]))
        case "rotate", "rotation": return .rotation(degrees: args[0])
        case "shear": return .shear(args[0])
        case "shift", "translate": return .shift(args[0])
        case "zoom", "scale": return .zoom(args[0])
        case "elastic": return .elastic(alpha: args[0], sigma: args[1])
        default: return .colorShift(args[0])
        }
    }

    /// Applies the augmentation to x [C, H, W].
    public func apply(_ x: Tensor, fill: Float = 0, rng: inout SeededGenerator) -> Tensor {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let cy = Float(h - 1) / 2, cx = Float(w - 1) / 2
        func u(_ a: Float) -> Float { (rng.nextUniform() * 2 - 1) * a }
        switch self {
        case .mirror:
            guard rng.nextUniform() < 0.5 else { return x }
            return Tensor(shape: x.shape) { o in for i in 0..<(c * h) { for j in 0..<w { o[i * w + j] = x.scalars[i * w + (w - 1 - j)] } } }
        case .randomCrop(let p):
            let dy = Int(rng.next() % UInt64(2 * p + 1)) - p, dx = Int(rng.next() % UInt64(2 * p + 1)) - p
            return Tensor(shape: x.shape) { o in
                for ch in 0..<c { for i in 0..<h { for j in 0..<w {
                    let sy = i + dy, sx = j + dx
                    o[(ch * h + i) * w + j] = sy >= 0 && sy < h && sx >= 0 && sx < w ? x.scalars[(ch * h + sy) * w + sx] : fill
                } } }
            }
        case .rotation(let deg):
            let a = u(deg) * Float.pi / 180, (cs, sn) = (cos(a), sin(a))
            return Augmentation.warp(x, fill: fill) { y, xx in
                let (ry, rx) = (y - cy, xx - cx)
                return (cy + cs * ry - sn * rx, cx + sn * ry + cs * rx)
            }
        case .shear(let s):
            let k = u(s)
            return Augmentation.warp(x, fill: fill) { y, xx in (y, xx + k * (y - cy)) }
        case .shift(let f):
            let dy = u(f) * Float(h), dx = u(f) * Float(w)
            return Augmentation.warp(x, fill: fill) { y, xx in (y - dy, xx - dx) }
        case .zoom(let z):
            let s = 1 + u(z)
            return Augmentation.warp(x, fill: fill) { y, xx in (cy + (y - cy) / s, cx + (xx - cx) / s) }
        case let .elastic(alpha, sigma):
            let fy = Augmentation.smoothField(h, w, sigma: sigma, alpha: alpha, rng: &rng)
            let fx = Augmentation.smoothField(h, w, sigma: sigma, alpha: alpha, rng: &rng)
            return Augmentation.warp(x, fill: fill) { y, xx in
                let i = Int(y), j = Int(xx)
                return (y + fy[i * w + j], xx + fx[i * w + j])
            }
        case .colorShift(let a):
            let offsets = (0..<c).map { _ in u(a) }
            return Tensor(shape: x.shape) { o in for i in 0..<o.count { o[i] = x.scalars[i] + offsets[i / (h * w)] } }
        case let .pcaColor(sigma, values, vectors):
            precondition(c == 3 && values.count == 3 && vectors.count == 3, "PCA colour augmentation needs RGB and 3 eigenpairs")
            let alphas = (0..<3).map { _ in rng.nextNormal() * sigma }
            let delta = (0..<3).map { ch in (0..<3).reduce(Float(0)) { $0 + alphas[$1] * values[$1] * vectors[$1][ch] } }
            return Tensor(shape: x.shape) { o in for i in 0..<o.count { o[i] = x.scalars[i] + delta[i / (h * w)] } }
        }
    }

    /// Output pixel (y, x) takes the input at source(y, x), bilinearly interpolated.
    static func warp(_ x: Tensor, fill: Float, source: (Float, Float) -> (Float, Float)) -> Tensor {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        return Tensor(shape: x.shape) { o in
            x.withUnsafeBufferPointer { p in
                for i in 0..<h { for j in 0..<w {
                    let (sy, sx) = source(Float(i), Float(j))
                    let y0 = Int(floor(sy)), x0 = Int(floor(sx))
                    let fy = sy - Float(y0), fx = sx - Float(x0)
                    for ch in 0..<c {
                        func at(_ yy: Int, _ xx: Int) -> Float { yy >= 0 && yy < h && xx >= 0 && xx < w ? p[(ch * h + yy) * w + xx] : fill }
                        let v = (at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx) * (1 - fy) + (at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx) * fy
                        o[(ch * h + i) * w + j] = v
                    }
                } }
            }
        }
    }

    /// A random field in [−1, 1] smoothed by a separable Gaussian and scaled by alpha.
    static func smoothField(_ h: Int, _ w: Int, sigma: Float, alpha: Float, rng: inout SeededGenerator) -> [Float] {
        var f = (0..<(h * w)).map { _ in rng.nextUniform() * 2 - 1 }
        let r = Swift.max(1, Int(3 * sigma))
        let k = (-r...r).map { exp(-Float($0 * $0) / (2 * sigma * sigma)) }
        let ks = k.reduce(0, +)
        var tmp = f
        for i in 0..<h { for j in 0..<w {
            var s: Float = 0
            for t in -r...r { let jj = Swift.min(Swift.max(j + t, 0), w - 1); s += f[i * w + jj] * k[t + r] }
            tmp[i * w + j] = s / ks
        } }
        for i in 0..<h { for j in 0..<w {
            var s: Float = 0
            for t in -r...r { let ii = Swift.min(Swift.max(i + t, 0), h - 1); s += tmp[ii * w + j] * k[t + r] }
            f[i * w + j] = s / ks * alpha
        } }
        return f
    }
}
