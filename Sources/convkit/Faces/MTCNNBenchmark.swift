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
        return try measure("mtcnn", path: path, seconds: seconds) { try mtcnn.detect($0).count }
    }

    /// `--pipeline blazeface`: MediaPipe's BlazeFace (letterbox, the TFLite network, decoding, weighted NMS) on the image.
    static func runBlazeFace(path: String, seconds: Double) throws -> MTCNNBenchmark {
        let detector = try MediaPipeModels.blazeFace()
        return try measure("blazeface", path: path, seconds: seconds) { try detector.detect($0).count }
    }

    /// `--pipeline mmod`: dlib's CNN face detector (tiled pyramid, network, windows, NMS) on the image.
    static func runMMOD(path: String, seconds: Double) throws -> MTCNNBenchmark {
        let detector = try DlibMMODDetector.bundled()
        return try measure("mmod", path: path, seconds: seconds) { try detector.detect($0).count }
    }

    /// One checked detection (errors surface here), then the median of timed ones.
    private static func measure(_ pipeline: String, path: String, seconds: Double, detect: (Tensor) throws -> Int) throws -> MTCNNBenchmark {
        let image = try ImageFile.load(path)
        let faces = try detect(image)
        let ms = medianMilliseconds(seconds: seconds) { _ = try? detect(image) }
        return MTCNNBenchmark(pipeline: pipeline, image: path, faces: faces, ms: ms)
    }
}

/// `convkit bench --pipeline face-embedding [--image FILE] [--batch B]`: median ms per 150×150 chip of dlib's ResNet
/// (a batch of B chips cut from the image's first face, or from the bundled astronaut), and of the whole
/// recognition of one image (MTCNN, landmarks, chip, embedding).
struct FaceEmbeddingBenchmark: Encodable {
    let pipeline: String
    let image: String
    let batch: Int
    /// Per chip.
    let ms: Double
    /// Detection, landmarks, chip and embedding of every face in the image.
    let recognize_ms: Double

    static func run(path: String?, batch: Int, seconds: Double) throws -> FaceEmbeddingBenchmark {
        let recognizer = try FaceRecognizer.bundled()
        let path = path ?? (Datasets.bundledDataDirectory() ?? "Data") + "/images/astronaut.png"
        let image = try ImageFile.load(path)
        guard let face = try recognizer.encode(image).first else {
            throw ConvKitError.invalidArgument(name: "--image \(path)", expected: "a photo with a face", found: "no face")
        }
        let chips = Tensor.stack([Tensor](repeating: face.chip, count: batch))
        let ms = medianMilliseconds(seconds: seconds) { _ = try? recognizer.network.embed(chips) } / Double(batch)
        let whole = medianMilliseconds(seconds: seconds) { _ = try? recognizer.encode(image) }
        return FaceEmbeddingBenchmark(pipeline: "face-embedding", image: path, batch: batch, ms: ms, recognize_ms: whole)
    }
}
