import ConvKit
import Foundation

/// Deterministic preprocessing of one image [C, H, W], as the notes list it.
public enum Preprocessing {
    /// [0, 255] → [0, 1].
    public static func scaleToUnit(_ x: Tensor) -> Tensor { x * (1 / 255) }
    /// [0, 255] → [−1, 1].
    public static func scaleToSymmetric(_ x: Tensor) -> Tensor { x * (2 / 255) - 1 }
    /// (x − mean_c) / std_c per channel.
    public static func standardize(_ x: Tensor, mean: [Float], std: [Float]) -> Tensor {
        let c = x.shape[0], plane = x.count / c
        precondition(mean.count == c && std.count == c, "statistics for \(mean.count) channels, image has \(c)")
        return Tensor(shape: x.shape) { o in for i in 0..<o.count { let ch = i / plane; o[i] = (x.scalars[i] - mean[ch]) / std[ch] } }
    }
    /// RGB → gray with ITU-R 601 weights (0.299, 0.587, 0.114); 1-channel output. An alpha channel
    /// (gray+alpha, RGBA) is dropped; gray stays gray.
    public static func grayscale(_ x: Tensor) -> Tensor {
        if x.shape[0] == 1 { return x }
        if x.shape[0] == 2 { return x.slice(axis: 0, 0..<1) }
        if x.shape[0] == 4 { return grayscale(x.slice(axis: 0, 0..<3)) }
        precondition(x.shape[0] == 3, "grayscale of \(x.shape[0]) channels")
        let plane = x.count / 3
        return Tensor(shape: [1] + x.shape[1...]) { o in
            for i in 0..<plane { o[i] = 0.299 * x.scalars[i] + 0.587 * x.scalars[plane + i] + 0.114 * x.scalars[2 * plane + i] }
        }
    }
    /// Converts [C, H, W] to `channels` (1 or 3): alpha dropped, RGB → gray, gray → RGB by repetition.
    public static func matchChannels(_ x: Tensor, _ channels: Int) -> Tensor {
        var t = x
        if t.shape[0] == 2 || t.shape[0] == 4 { t = t.slice(axis: 0, 0..<(t.shape[0] - 1)) }
        if t.shape[0] == channels { return t }
        if channels == 1 { return grayscale(t) }
        if t.shape[0] == 1 { return Tensor.concatenate(Array(repeating: t, count: channels), axis: 0) }
        return t.slice(axis: 0, 0..<Swift.min(channels, t.shape[0]))
    }

    /// Bilinear resize to (h, w).
    public static func resize(_ x: Tensor, to size: (Int, Int)) -> Tensor {
        resizeBilinear(x.unsqueezed(axis: 0), to: size).squeezed(axis: 0)
    }
    /// Area (box-filter) resize to (h, w): each output pixel averages the input area it covers.
    public static func resizeArea(_ x: Tensor, to size: (Int, Int)) -> Tensor {
        adaptiveAvgPool2D(x.unsqueezed(axis: 0), outputSize: size).squeezed(axis: 0)
    }
    /// The central h×w crop.
    public static func centerCrop(_ x: Tensor, to size: (Int, Int)) -> Tensor {
        let (h, w) = (x.shape[1], x.shape[2])
        precondition(size.0 <= h && size.1 <= w, "crop \(size) larger than image \(h)×\(w)")
        let top = (h - size.0) / 2, left = (w - size.1) / 2
        return x.slice(axis: 1, top..<top + size.0).slice(axis: 2, left..<left + size.1)
    }
    /// A random h×w crop.
    public static func randomCrop(_ x: Tensor, to size: (Int, Int), rng: inout SeededGenerator) -> Tensor {
        let (h, w) = (x.shape[1], x.shape[2])
        let top = Int(rng.next() % UInt64(h - size.0 + 1)), left = Int(rng.next() % UInt64(w - size.1 + 1))
        return x.slice(axis: 1, top..<top + size.0).slice(axis: 2, left..<left + size.1)
    }

    /// Eigenvalues and eigenvectors of the 3×3 RGB covariance of `images` [N, 3, H, W] (for PCA colour
    /// augmentation), by Jacobi rotations.
    public static func rgbPrincipalComponents(_ images: Tensor) -> (values: [Float], vectors: [[Float]]) {
        let planes = images.reshaped([images.shape[0], 3, -1]).permuted([1, 0, 2]).reshaped([3, -1])
        let n = Double(planes.shape[1])
        let mean = (0..<3).map { c in planes.scalars[(c * planes.shape[1])..<((c + 1) * planes.shape[1])].reduce(0.0) { $0 + Double($1) } / n }
        var cov = [[Double]](repeating: [0, 0, 0], count: 3)
        for i in 0..<planes.shape[1] {
            let v = (0..<3).map { Double(planes.scalars[$0 * planes.shape[1] + i]) - mean[$0] }
            for a in 0..<3 { for b in 0..<3 { cov[a][b] += v[a] * v[b] / n } }
        }
        var vec: [[Double]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
        for _ in 0..<50 {
            for (p, q) in [(0, 1), (0, 2), (1, 2)] where abs(cov[p][q]) > 1e-12 {
                let theta = (cov[q][q] - cov[p][p]) / (2 * cov[p][q])
                let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<3 { let a = cov[k][p], b = cov[k][q]; cov[k][p] = c * a - s * b; cov[k][q] = s * a + c * b }
                for k in 0..<3 { let a = cov[p][k], b = cov[q][k]; cov[p][k] = c * a - s * b; cov[q][k] = s * a + c * b }
                for k in 0..<3 { let a = vec[k][p], b = vec[k][q]; vec[k][p] = c * a - s * b; vec[k][q] = s * a + c * b }
            }
        }
        return ((0..<3).map { Float(cov[$0][$0]) }, (0..<3).map { i in (0..<3).map { Float(vec[$0][i]) } })
    }
}
