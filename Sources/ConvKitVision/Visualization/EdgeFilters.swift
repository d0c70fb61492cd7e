import ConvKit
import Foundation

/// The edge detectors of the notes (001, 004 §1.2) as ready 3×3 filters. Convolution here is cross-correlation,
/// as in every CNN framework; a vertical-edge filter responds where brightness changes from left to right.
public enum EdgeFilter: String, CaseIterable, Sendable {
    case vertical, horizontal, sobel, sobelX, sobelY, scharr, scharrX, scharrY, diagonal45, diagonal135

    /// The 3×3 kernel (row-major) of a single-direction filter; `sobel` and `scharr` are the x and y pair combined.
    public var kernel: [Float]? {
        switch self {
        case .vertical: return [1, 0, -1, 1, 0, -1, 1, 0, -1]
        case .horizontal: return [1, 1, 1, 0, 0, 0, -1, -1, -1]
        case .sobelX: return [1, 0, -1, 2, 0, -2, 1, 0, -1]
        case .sobelY: return [1, 2, 1, 0, 0, 0, -1, -2, -1]
        case .scharrX: return [3, 0, -3, 10, 0, -10, 3, 0, -3]
        case .scharrY: return [3, 10, 3, 0, 0, 0, -3, -10, -3]
        case .diagonal45: return [0, 1, 2, -1, 0, 1, -2, -1, 0]
        case .diagonal135: return [2, 1, 0, 1, 0, -1, 0, -1, -2]
        case .sobel, .scharr: return nil
        }
    }

    /// Filters a gray image [1, H, W] (other channel counts are converted to gray): `valid` gives (H−2)×(W−2) as the
    /// notes' 6×6 * 3×3 = 4×4 example, otherwise zero "same" padding. `sobel`/`scharr` give the gradient magnitude
    /// √(g_x² + g_y²).
    public func apply(_ image: Tensor, valid: Bool = false) -> Tensor {
        let gray = image.shape[0] == 1 ? image : grayscale(image)
        let x = gray.unsqueezed(axis: 0)
        let options = ConvOptions(padding: valid ? .valid : .symmetric(1))
        func run(_ k: [Float]) -> Tensor { conv(x, weight: Tensor(shape: [1, 1, 3, 3], scalars: k), options: options).squeezed(axis: 0) }
        switch self {
        case .sobel: return Tensor.hypot(run(EdgeFilter.sobelX.kernel!), run(EdgeFilter.sobelY.kernel!))
        case .scharr: return Tensor.hypot(run(EdgeFilter.scharrX.kernel!), run(EdgeFilter.scharrY.kernel!))
        default: return run(kernel!)
        }
    }

    func grayscale(_ x: Tensor) -> Tensor {
        guard x.shape[0] >= 3 else { return x.slice(axis: 0, 0..<1) }
        let plane = x.count / x.shape[0]
        return Tensor(shape: [1, x.shape[1], x.shape[2]]) { o in
            for i in 0..<plane { o[i] = 0.299 * x.scalars[i] + 0.587 * x.scalars[plane + i] + 0.114 * x.scalars[2 * plane + i] }
        }
    }

    /// |response| scaled so that the largest is 255, for viewing.
    public static func display(_ response: Tensor) -> Tensor {
        let m = response.scalars.map { Swift.abs($0) }.max() ?? 0
        return response.map { m > 0 ? Swift.abs($0) / m * 255 : 0 }
    }

    /// Learns one 3×3 convolution (no bias) that maps `image` to `target(image)` by gradient descent (Adam) on
    /// random 32×32 patches — the notes' point that edge detectors are learnable. Neighbouring pixels of photos are
    /// nearly equal, which leaves many kernels almost as good; noise added to the patches (σ = 0.1) makes the
    /// problem well posed. Returns the learned kernel and the final mean squared error.
    public static func learn(toReproduce target: EdgeFilter, from image: Tensor, steps: Int = 600, seed: UInt64 = 0) -> (kernel: [Float], mse: Float) {
        precondition(target.kernel != nil, "learn a single-direction filter")
        let gray = (image.shape[0] == 1 ? image : target.grayscale(image)) * (1 / 255)
        var rng = SeededGenerator(seed: seed)
        let w = Variable(Tensor.normal([1, 1, 3, 3], std: 0.1, rng: &rng), requiresGrad: true)
        let opt = Optimizer(.adam(), groups: [ParameterGroup([("weight", w)], learningRate: 0.05)])
        let (h, wd) = (gray.shape[1], gray.shape[2])
        var mse: Float = 0
        for step in 0..<steps {
            let ps = Swift.min(32, h, wd)
            let y0 = Int(rng.next() % UInt64(h - ps + 1)), x0 = Int(rng.next() % UInt64(wd - ps + 1))
            let patches = Tensor.stack((0..<8).map { _ in gray.slice(axis: 1, y0..<y0 + ps).slice(axis: 2, x0..<x0 + ps) }, axis: 0)
                + Tensor.normal([8, 1, ps, ps], std: 0.1, rng: &rng)
            let wanted = conv(patches, weight: Tensor(shape: [1, 1, 3, 3], scalars: target.kernel!), options: ConvOptions())
            if step == steps / 2 { opt.setLearningRate(0.01) }
            opt.zeroGrad()
            let l = Loss.mse(Functional.conv(Variable(patches), weight: w, options: ConvOptions()), wanted)
            l.backward(); opt.step()
            mse = l.value.scalar
        }
        return (w.value.scalars, mse)
    }
}

extension Tensor {
    /// √(a² + b²) elementwise.
    static func hypot(_ a: Tensor, _ b: Tensor) -> Tensor { Tensor.broadcastZip(a, b) { ($0 * $0 + $1 * $1).squareRoot() } }
}
