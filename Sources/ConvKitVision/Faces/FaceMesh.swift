import ConvKit
import ConvKitData
import Foundation

/// MediaPipe's 468-point face mesh (Kartynnik et al. 2019) on a face found by BlazeFace: the region of interest is
/// the detection box squared to its longer side, enlarged 1.5×, rotated so that the eyes (keypoints 0 and 1) are
/// level — MediaPipe's `face_detection_front_detection_to_roi` — cut to 192×192 in [0, 1] and run through the
/// network (`[1, 192, 192, 3]` → landmarks `[1404]` = 468 × (x, y, z) in crop pixels, face score logit).
public struct FaceMesh {
    public typealias Network = (Tensor) throws -> (landmarks: Tensor, score: Tensor)

    public static let inputSize = 192
    public static let landmarkCount = 468
    let network: Network

    public init(network: @escaping Network) { self.network = network }

    /// The crop → image similarity for a BlazeFace detection (crop pixel (u, v) ↦ image point).
    public static func regionOfInterest(_ face: Face, scale: Float = 1.5) -> SimilarityTransform {
        let cx = (face.box[0] + face.box[2]) / 2, cy = (face.box[1] + face.box[3]) / 2
        let side = max(face.box[2] - face.box[0], face.box[3] - face.box[1]) * scale
        var angle: Float = 0
        if face.landmarks.count >= 2 {
            let (p, q) = (face.landmarks[0], face.landmarks[1])
            angle = atan2(q[1] - p[1], q[0] - p[0])   // the crop's x axis runs along the eye line
        }
        let k = side / Float(inputSize), half = Float(inputSize) / 2
        let a = k * cos(angle), b = k * sin(angle)
        return SimilarityTransform(a: a, b: b, tx: cx - (a * half - b * half), ty: cy - (b * half + a * half))
    }

    /// 468 points `[x, y, z]` in image pixels (z in the same scale, relative to the face's centre plane) and the
    /// probability that the crop holds a face.
    public func landmarks(in image: Tensor, face: Face) throws -> (points: [[Float]], score: Float) {
        let rgb = Preprocessing.matchChannels(image, 3)
        let toImage = Self.regionOfInterest(face)
        let n = Self.inputSize
        let crop = FaceAlignment.warp(rgb, by: toImage.inverse, width: n, height: n)   // [3, n, n], 0…255
        let input = Tensor(shape: [1, n, n, 3]) { o in
            crop.withUnsafeBufferPointer { src in
                for i in 0..<(n * n) { for c in 0..<3 { o[i * 3 + c] = src[c * n * n + i] / 255 } }
            }
        }
        let (raw, logit) = try network(input)
        guard raw.count == Self.landmarkCount * 3, logit.count == 1 else {
            throw ConvKitError.invalidArgument(name: "face mesh outputs", expected: "1404 landmark values and 1 score",
                                               found: "\(raw.shape) and \(logit.shape)")
        }
        let v = raw.scalars
        let points = (0..<Self.landmarkCount).map { i -> [Float] in
            let p = toImage.apply([v[3 * i], v[3 * i + 1]])
            return [p[0], p[1], v[3 * i + 2] * toImage.scale]
        }
        return (points, 1 / (1 + exp(-logit.scalars[0])))
    }
}
