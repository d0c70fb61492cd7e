import ConvKit
import ConvKitData
import ConvKitVision
import Foundation

/// `convkit bench --pipeline mtcnn --image FILE`: median ms of a full MTCNN detection (pyramid, three stages,
/// NMS) on a decoded image, after warm-up — what ../shared/anchors/facenet_mtcnn.py measures for facenet-pytorch.
struct MTCNNBenchmark: Encodable {
    let pipeline: String
    let image: String
    let faces: Int
    let ms: Double

    static func run(path: String, seconds: Double) throws -> MTCNNBenchmark {
        let mtcnn = try MTCNN.bundled()
        let image = try ImageFile.load(path)
        let faces = try mtcnn.detect(image).count
        let ms = medianMilliseconds(seconds: seconds) { _ = try? mtcnn.detect(image) }
        return MTCNNBenchmark(pipeline: "mtcnn", image: path, faces: faces, ms: ms)
    }
}
