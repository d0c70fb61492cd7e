import ConvKit
import Foundation

/// dlib's face chips (`get_face_chip_details` + `extract_image_chip`): the `size`×`size` crop that the face
/// recognition network was trained on, cut from the five points of `shape_predictor_5_face_landmarks`.
///
/// The template holds the five points (outer and inner corner of each eye, the base of the nose) in a unit face;
/// with padding π each template point becomes ((π + p)/(2π + 1))·size. T is the least-squares similarity from the
/// template points to the landmarks (scale s, angle θ); the chip covers dlib's `centered_drect` of side
/// L = size·s − 1 around c = T(size/2, size/2), rotated by θ, so chip pixel (u, v) samples the image bilinearly at
///     c + R(θ)·(−L/2 + u·L/(size − 1),  −L/2 + v·L/(size − 1)),
/// zero where the 2×2 neighbourhood leaves the image, truncated to 8 bits as dlib's chips are (equal to
/// dlib's `get_face_chip` pixel for pixel on the reference photos). When the face region is at least twice the
/// chip's side (s ≥ 2) dlib samples a 2× image pyramid instead; ConvKit then averages ⌊s⌋×⌊s⌋ blocks before
/// sampling, an anti-aliasing of its own rather than dlib's pyramid filter (chips differ slightly there).
public enum DlibFaceChip {
    /// The five template points in a unit face, in the predictor's order.
    public static let template: [[Double]] = [[0.8595674595992, 0.2134981538014], [0.6460604764104, 0.2289674387677],
                                              [0.1205750620789, 0.2137274526848], [0.3340850613712, 0.2290642403242],
                                              [0.4901123135679, 0.6277975316475]]

    /// The chip of a `[C, H, W]` image (values 0…255) for five dlib landmarks `[[x, y], …]`: `[C, size, size]`, 0…255.
    public static func chip(_ image: Tensor, landmarks: [[Float]], size: Int = 150, padding: Double = 0.25) throws -> Tensor {
        guard (8...4096).contains(size), padding.isFinite, (0...10).contains(padding) else {
            throw ConvKitError.invalidArgument(name: "face chip", expected: "size 8…4096 and padding 0…10", found: "size \(size), padding \(padding)")
        }
        guard landmarks.count == 5 else {
            throw ConvKitError.invalidArgument(name: "landmarks", expected: "the 5 points of dlib's 5-point shape predictor", found: "\(landmarks.count) points")
        }
        let from = template.map { p in p.map { Float((padding + $0) / (2 * padding + 1) * Double(size)) } }
        let t = try SimilarityTransform.estimate(from: from, to: landmarks)
        let angle = atan2(Double(t.b), Double(t.a)), scale = Double(t.scale)
        let half = Double(size) / 2
        let cx = Double(t.a) * half - Double(t.b) * half + Double(t.tx), cy = Double(t.b) * half + Double(t.a) * half + Double(t.ty)
        let side = Double(size) * scale - 1
        guard scale.isFinite, scale > 1e-6, scale < 1e5 else {
            throw ConvKitError.invalidArgument(name: "landmarks", expected: "a face whose chip scale is 10⁻⁶…10⁵ pixels per chip pixel", found: "\(scale)")
        }
        let k = Int(scale.rounded(.down))
        guard k >= 2 else { return sample(image, center: (cx, cy), side: side, angle: angle, size: size) }
        // Block means: pixel (x, y) of the k× smaller image covers source x·k…x·k + k − 1.
        let reduced = blockMeans(image, k)
        return sample(reduced, center: ((cx + 0.5) / Double(k) - 0.5, (cy + 0.5) / Double(k) - 0.5),
                      side: side / Double(k), angle: angle, size: size)
    }

    static func sample(_ image: Tensor, center: (Double, Double), side: Double, angle: Double, size: Int) -> Tensor {
        let step = side / Double(size - 1)
        let (cosA, sinA) = (cos(angle), sin(angle))
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        return Tensor(shape: [c, size, size]) { o in
            image.withUnsafeBufferPointer { src in
                for v in 0..<size {
                    for u in 0..<size {
                        let dx = -side / 2 + Double(u) * step, dy = -side / 2 + Double(v) * step
                        let x = center.0 + cosA * dx - sinA * dy, y = center.1 + sinA * dx + cosA * dy
                        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
                        let inside = x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h
                        let fx = x - Double(x0), fy = y - Double(y0)
                        for ch in 0..<c {
                            var value = 0.0
                            if inside {
                                let base = (ch * h + y0) * w + x0
                                let top = (1 - fx) * Double(src[base]) + fx * Double(src[base + 1])
                                let bottom = (1 - fx) * Double(src[base + w]) + fx * Double(src[base + w + 1])
                                value = (1 - fy) * top + fy * bottom
                            }
                            o[(ch * size + v) * size + u] = Float(Swift.min(Swift.max(value.rounded(.down), 0), 255))
                        }
                    }
                }
            }
        }
    }

    /// `[C, H, W]` → `[C, ⌊H/k⌋, ⌊W/k⌋]`, each pixel the mean of a k×k block.
    static func blockMeans(_ image: Tensor, _ k: Int) -> Tensor {
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        let (oh, ow) = (Swift.max(h / k, 1), Swift.max(w / k, 1))
        return Tensor(shape: [c, oh, ow]) { o in
            image.withUnsafeBufferPointer { src in
                for ch in 0..<c {
                    for y in 0..<oh {
                        for x in 0..<ow {
                            var sum: Float = 0, n: Float = 0
                            for yy in (y * k)..<Swift.min(y * k + k, h) {
                                for xx in (x * k)..<Swift.min(x * k + k, w) { sum += src[(ch * h + yy) * w + xx]; n += 1 }
                            }
                            o[(ch * oh + y) * ow + x] = sum / Swift.max(n, 1)
                        }
                    }
                }
            }
        }
    }
}
