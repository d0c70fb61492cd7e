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

    /// `--pipeline blazeface`: MediaPipe's BlazeFace (letterbox, the TFLite network, decoding, weighted NMS) on the image.
    static func runBlazeFace(path: String, seconds: Double) throws -> MTCNNBenchmark {
        let detector = try MediaPipeModels.blazeFace()
        let image = try ImageFile.load(path)
        let faces = try detector.detect(image).count
        let ms = medianMilliseconds(seconds: seconds) { _ = try? detector.detect(image) }
        return MTCNNBenchmark(pipeline: "blazeface", image: path, faces: faces, ms: ms)
    }

    /// `--pipeline mmod`: dlib's CNN face detector (tiled pyramid, network, windows, NMS) on the image.
    static func runMMOD(path: String, seconds: Double) throws -> MTCNNBenchmark {
        let detector = try DlibMMODDetector.bundled()
        let image = try ImageFile.load(path)
        let faces = try detector.detect(image).count
        let ms = medianMilliseconds(seconds: seconds) { _ = try? detector.detect(image) }
        return MTCNNBenchmark(pipeline: "mmod", image: path, faces: faces, ms: ms)
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
