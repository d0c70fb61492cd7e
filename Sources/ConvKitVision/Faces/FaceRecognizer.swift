import ConvKit
import ConvKitData
import Foundation

/// One face found and encoded: MTCNN's detection, dlib's five landmarks, the 150×150 chip and its embedding.
public struct EncodedFace {
    public var detection: Face
    /// dlib's five points (eye corners, nose base), integer pixels.
    public var landmarks: [[Float]]
    /// `[3, 150, 150]`, values 0…255.
    public var chip: Tensor
    public var embedding: [Float]
}

/// Which detector finds the faces the recognizer encodes.
public enum FaceDetector {
    /// MTCNN: faces down to 20 px; the shape predictor reads a square box derived from MTCNN's.
    case mtcnn(MTCNN)
    /// dlib's MMOD CNN: faces from about 80 px; exactly dlib's pipeline (box, landmarks, chip, embedding).
    case mmod(DlibMMODDetector)

    /// The bundled model of the named detector ("mtcnn" or "mmod").
    public static func bundled(_ name: String) throws -> FaceDetector {
        switch name {
        case "mtcnn": return .mtcnn(try MTCNN.bundled())
        case "mmod": return .mmod(try DlibMMODDetector.bundled())
        default: throw ConvKitError.invalidArgument(name: "--detector", expected: "mtcnn or mmod", found: name)
        }
    }
}

/// The face-recognition pipeline on pretrained models: a detector finds faces (any number), dlib's 5-point shape
/// predictor places its landmarks in the face's box, dlib's chip is cut from them and dlib's ResNet encodes it.
/// Two embeddings at Euclidean distance below `threshold` are the same person (0.6, the model's own;
/// `FaceDatabase` stores a calibrated one).
///
/// With MMOD this is dlib's own pipeline (embeddings equal dlib's `compute_face_descriptor(img, shape)` to 1e-4 on
/// the reference photos). With MTCNN (the default: it finds smaller faces) the shape predictor, trained on dlib's
/// square detector boxes, reads the square of side 0.9·(w + h)/2 centred 5 % of h below MTCNN's box centre: on both
/// reference photos that gives landmarks within 1 px of those dlib finds from its own box (within 3 px for any
/// side 0.8…1.0 and shift 0…10 %).
public final class FaceRecognizer {
    public let detector: FaceDetector
    public let predictor: DlibShapePredictor
    public let network: DlibFaceRecognitionNetwork

    public init(detector: FaceDetector, predictor: DlibShapePredictor, network: DlibFaceRecognitionNetwork) {
        self.detector = detector; self.predictor = predictor; self.network = network
    }

    /// The bundled models (Data/models/mtcnn, Data/models/dlib) with the named detector.
    public static func bundled(detector: String = "mtcnn") throws -> FaceRecognizer {
        FaceRecognizer(detector: try .bundled(detector), predictor: try .bundled(), network: try .bundled())
    }

    /// The model's identity, stored with every embedding so that databases never mix models.
    public var modelIdentity: String { network.identity }

    public var threshold: Float { network.distanceThreshold }

    /// The square box the shape predictor reads for an MTCNN box [x1, y1, x2, y2].
    public static func predictorBox(_ box: [Float]) -> [Float] {
        let w = box[2] - box[0], h = box[3] - box[1]
        let cx = (box[0] + box[2]) / 2, cy = (box[1] + box[3]) / 2 + 0.05 * h
        let half = 0.45 * (w + h) / 2
        return [cx - half, cy - half, cx + half, cy + half]
    }

    /// Every face in a `[C, H, W]` image (values 0…255), best detection first; none is an empty list.
    public func encode(_ image: Tensor) throws -> [EncodedFace] {
        let rgb = Preprocessing.matchChannels(image, 3)
        let faces: [Face], boxes: [[Float]]
        switch detector {
        case .mtcnn(let m):
            faces = try m.detect(rgb)
            boxes = faces.map { FaceRecognizer.predictorBox($0.box).map { $0.rounded() } }
        case .mmod(let d):
            let found = try d.detect(rgb)
            faces = found.map { Face(box: $0.box, score: $0.score, landmarks: []) }
            boxes = found.map(\.box)
        }
        guard !faces.isEmpty else { return [] }
        let intensity = DlibShapePredictor.intensity(rgb)
        var chips = [Tensor](), found = [(Face, [[Float]])]()
        for (f, box) in zip(faces, boxes) {
            let landmarks = predictor.landmarks(intensity: intensity, width: rgb.shape[2], height: rgb.shape[1], box: box)
            chips.append(try DlibFaceChip.chip(rgb, landmarks: landmarks, size: network.inputSize))
            found.append((f, landmarks))
        }
        let embeddings = try network.embed(Tensor.stack(chips))
        let d = embeddings.shape[1]
        return found.enumerated().map { i, f in
            EncodedFace(detection: f.0, landmarks: f.1, chip: chips[i], embedding: Array(embeddings.scalars[i * d..<(i + 1) * d]))
        }
    }

    /// The embedding of an image that already is a face chip of the network's size (`[3, S, S]`, 0…255).
    public func encode(chip: Tensor) throws -> [Float] {
        guard chip.rank == 3 else { throw ConvKitError.shapeMismatch(expected: "a chip [C, H, W]", found: "\(chip.shape)") }
        return try network.embed(Preprocessing.matchChannels(chip, 3)).scalars
    }

    /// Euclidean distance between two embeddings.
    public static func distance(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "embeddings of \(a.count) and \(b.count) values")
        var s: Float = 0
        for i in a.indices { s += (a[i] - b[i]) * (a[i] - b[i]) }
        return s.squareRoot()
    }
}
