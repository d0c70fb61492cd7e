import ConvKit

/// A 2-D similarity transform (rotation, uniform scale, translation; no reflection):
///     x′ = a·x − b·y + tx,   y′ = b·x + a·y + ty       (scale √(a² + b²), angle atan2(b, a))
public struct SimilarityTransform: Equatable, Sendable {
    public var a: Float, b: Float, tx: Float, ty: Float

    public init(a: Float, b: Float, tx: Float, ty: Float) { self.a = a; self.b = b; self.tx = tx; self.ty = ty }

    public static let identity = SimilarityTransform(a: 1, b: 0, tx: 0, ty: 0)

    public func apply(_ p: [Float]) -> [Float] { [a * p[0] - b * p[1] + tx, b * p[0] + a * p[1] + ty] }

    public var scale: Float { (a * a + b * b).squareRoot() }

    /// The inverse map (defined whenever the scale is not zero).
    public var inverse: SimilarityTransform {
        let d = a * a + b * b
        let ia = a / d, ib = -b / d
        return SimilarityTransform(a: ia, b: ib, tx: -(ia * tx - ib * ty), ty: -(ib * tx + ia * ty))
    }

    /// The least-squares similarity taking `source` onto `target` (Umeyama 1991, "Least-squares estimation of
    /// transformation parameters between two point patterns", restricted to rotations): with centred points p, q,
    ///     a = Σ p·q / Σ|p|²,   b = Σ (p_x·q_y − p_y·q_x) / Σ|p|²,   t = q̄ − [a −b; b a]·p̄,
    /// which minimizes Σ‖T(pᵢ) − qᵢ‖². Needs at least two distinct source points.
    public static func estimate(from source: [[Float]], to target: [[Float]]) throws -> SimilarityTransform {
        guard source.count == target.count, source.count >= 2, (source + target).allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isFinite) }) else {
            throw ConvKitError.invalidArgument(name: "landmarks", expected: "two lists of the same number (≥ 2) of finite (x, y) points",
                                               found: "\(source.count) and \(target.count) points")
        }
        // Sums in double precision (as dlib's find_similarity_transform), the result in float.
        let n = Double(source.count)
        let px = source.map { Double($0[0]) }.reduce(0, +) / n, py = source.map { Double($0[1]) }.reduce(0, +) / n
        let qx = target.map { Double($0[0]) }.reduce(0, +) / n, qy = target.map { Double($0[1]) }.reduce(0, +) / n
        var dot = 0.0, cross = 0.0, norm = 0.0
        for (p, q) in zip(source, target) {
            let (x, y, u, v) = (Double(p[0]) - px, Double(p[1]) - py, Double(q[0]) - qx, Double(q[1]) - qy)
            dot += x * u + y * v
            cross += x * v - y * u
            norm += x * x + y * y
        }
        guard norm > 1e-12 else {
            throw ConvKitError.invalidArgument(name: "landmarks", expected: "source points that are not all the same", found: "one point repeated")
        }
        let a = dot / norm, b = cross / norm
        return SimilarityTransform(a: Float(a), b: Float(b), tx: Float(qx - (a * px - b * py)), ty: Float(qy - (b * px + a * py)))
    }
}

/// Face chips: the image warped so that five landmarks land on a template.
public enum FaceAlignment {
    /// The 112×112 template of ArcFace/InsightFace for MTCNN's five points (left eye, right eye, nose, left and
    /// right mouth corner), in pixel-index coordinates.
    public static let template112: [[Float]] = [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]]

    /// `template112` scaled to a `size`×`size` chip.
    public static func template(size: Int) -> [[Float]] {
        let s = Float(size) / 112
        return template112.map { [$0[0] * s, $0[1] * s] }
    }

    /// The `[C, size, size]` chip whose pixel (u, v) is the image sampled bilinearly at T⁻¹(u, v), with T the
    /// least-squares similarity from `landmarks` to `template(size)`; samples outside the image are zero.
    public static func chip(_ image: Tensor, landmarks: [[Float]], size: Int = 112) throws -> Tensor {
        guard (8...4096).contains(size) else { throw ConvKitError.invalidArgument(name: "chip size", expected: "8…4096", found: "\(size)") }
        let t = try SimilarityTransform.estimate(from: landmarks, to: template(size: size))
        return warp(image, by: t, width: size, height: size)
    }

    /// Output pixel (u, v) = image at T⁻¹(u, v), bilinear, zero outside; `[C, H, W]` → `[C, height, width]`.
    public static func warp(_ image: Tensor, by t: SimilarityTransform, width: Int, height: Int) -> Tensor {
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        let inv = t.inverse
        return Tensor(shape: [c, height, width]) { o in
            image.withUnsafeBufferPointer { src in
                for v in 0..<height {
                    for u in 0..<width {
                        let p = inv.apply([Float(u), Float(v)])
                        let x0 = Int(p[0].rounded(.down)), y0 = Int(p[1].rounded(.down))
                        let fx = p[0] - Float(x0), fy = p[1] - Float(y0)
                        for ch in 0..<c {
                            func at(_ x: Int, _ y: Int) -> Float { x >= 0 && x < w && y >= 0 && y < h ? src[(ch * h + y) * w + x] : 0 }
                            let top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx
                            let bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx
                            o[(ch * height + v) * width + u] = top * (1 - fy) + bottom * fy
                        }
                    }
                }
            }
        }
    }
}
