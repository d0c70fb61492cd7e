import ArgumentParser
import ConvKit
import ConvKitData
import ConvKitInterop
import ConvKitVision
import Foundation

/// `convkit faces`: face detection, embeddings, verification and a database of people.
struct FacesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "faces",
        abstract: "Faces: detection (MTCNN), embeddings (dlib's ResNet), verification and a database of people.",
        subcommands: [FacesDetectCommand.self, FacesEmbedCommand.self, FacesEnrollCommand.self, FacesIdentifyCommand.self,
                      FacesVerifyCommand.self, FacesListCommand.self, FacesRemoveCommand.self, FacesCalibrateCommand.self])
}

/// `convkit faces detect IMAGE…`: boxes, scores and five landmarks per face.
struct FacesDetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "detect",
        abstract: "Detect faces and five landmarks: MTCNN (Zhang et al. 2016; eyes, nose, mouth corners) or dlib's MMOD CNN with its 5-point shape predictor (eye corners, nose base).")

    @Argument(help: "Images (PNG, JPEG, PGM, PPM).") var images: [String]
    @Option(help: "Detector: mtcnn, mmod (dlib's CNN face detector, faces from about 80 px, with dlib's 5-point landmarks) or blazeface (MediaPipe's short-range TFLite model: faces filling much of the frame, six keypoints).") var detector = "mtcnn"
    @Option(help: "MTCNN: a folder with pnet.npz, rnet.npz, onet.npz; mmod: a .dat file; blazeface: a .tflite file (default: the bundled models).") var weights: String?
    @Flag(help: "Also run MediaPipe's 468-point face mesh on every face (JSON: \"mesh\":[[x,y,z],…], \"mesh_score\").") var mesh = false
    @Option(help: "Smallest face side in pixels (12…10000).") var minSize: Float = 20
    @Option(help: "Pyramid scale factor (0.1…0.95).") var factor: Float = 0.709
    @Option(help: "Face-probability thresholds of P-Net, R-Net and O-Net, comma-separated (each 0…1).") var thresholds = "0.6,0.7,0.7"
    @Option(help: "Folder for IMAGE_faces.png with boxes and landmarks drawn.") var out: String?
    @Option(help: "Folder for aligned face chips IMAGE_faceN.png (MTCNN: the five landmarks on ArcFace's template; mmod: dlib's chips, padding 0.25).") var chips: String?
    @Option(help: "Side of the chips in pixels (8…4096).") var chipSize = 112
    @Flag(help: "Print one JSON object: {\"faces\":[{\"image\",\"box\",\"score\",\"landmarks\"}]}.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        guard (12...10_000).contains(minSize) else { throw ValidationError("--min-size must be 12…10000, found \(minSize)") }
        guard (0.1...0.95).contains(factor) else { throw ValidationError("--factor must be 0.1…0.95, found \(factor)") }
        guard (8...4096).contains(chipSize) else { throw ValidationError("--chip-size must be 8…4096, found \(chipSize)") }
    }

    func run() throws {
        threadOptions.apply()
        guard ["mtcnn", "mmod", "blazeface"].contains(detector) else {
            throw ConvKitError.invalidArgument(name: "--detector", expected: "mtcnn, mmod or blazeface", found: detector)
        }
        let t = thresholds.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard t.count == 3, t.allSatisfy({ $0 != nil && (0...1).contains($0!) }) else {
            throw ConvKitError.invalidArgument(name: "--thresholds", expected: "three numbers in 0…1, comma-separated", found: thresholds)
        }
        let finder = try FaceFinder(detector: detector, weights: weights)
        finder.mtcnn?.minFaceSize = minSize
        finder.mtcnn?.scaleFactor = factor
        finder.mtcnn?.thresholds = t.map { $0! }
        if let out { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
        if let chips { try FileManager.default.createDirectory(atPath: chips, withIntermediateDirectories: true) }
        let faceMesh = mesh ? try MediaPipeModels.faceMesh() : nil
        var records = [[String: Any]]()
        for path in images {
            let image = try ImageFile.load(path)
            let faces = try finder.detect(image)
            var meshes = [[[Float]]]()
            for f in faces {
                var record: [String: Any] = ["image": path, "box": f.box.map(Double.init), "score": Double(f.score), "landmarks": f.landmarks.map { $0.map(Double.init) }]
                if let faceMesh {
                    let (points, score) = try faceMesh.landmarks(in: image, face: f)
                    record["mesh"] = points.map { $0.map(Double.init) }; record["mesh_score"] = Double(score)
                    meshes.append(points)
                }
                records.append(record)
            }
            if !json {
                let list = faces.map { String(format: "%.3f [%.0f,%.0f,%.0f,%.0f]", $0.score, $0.box[0], $0.box[1], $0.box[2], $0.box[3]) }
                print("\(path): \(faces.count) face\(faces.count == 1 ? "" : "s")" + (list.isEmpty ? "" : ": " + list.joined(separator: "; ")))
            }
            let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            if let chips {
                for (i, f) in faces.enumerated() {
                    let chip = finder.mmod == nil ? try FaceAlignment.chip(Drawing.rgb(image), landmarks: finder.alignmentLandmarks(f), size: chipSize)
                                                  : try DlibFaceChip.chip(Drawing.rgb(image), landmarks: f.landmarks, size: chipSize)
                    try PNG.save(PNG.Image(tensor: chip), to: "\(chips)/\(stem)_face\(i).png")
                }
            }
            if let out {
                var drawn = Drawing.rgb(image)
                let thickness = Swift.max(1, Swift.max(image.shape[1], image.shape[2]) / 300)
                for (i, f) in faces.enumerated() {
                    Drawing.rectangle(&drawn, x1: f.box[0], y1: f.box[1], x2: f.box[2], y2: f.box[3], color: Drawing.color(i), thickness: thickness)
                    if i < meshes.count {
                        for p in meshes[i] { Drawing.fill(&drawn, x0: Int(p[0]), y0: Int(p[1]), x1: Int(p[0]) + 1, y1: Int(p[1]) + 1, color: Drawing.color(i + 5)) }
                    }
                    for p in f.landmarks {
                        let r = 1 + thickness
                        Drawing.fill(&drawn, x0: Int(p[0]) - r, y0: Int(p[1]) - r, x1: Int(p[0]) + r + 1, y1: Int(p[1]) + r + 1, color: Drawing.color(i + 3))
                    }
                }
                try PNG.save(PNG.Image(tensor: drawn), to: "\(out)/\(stem)_faces.png")
            }
        }
        if json {
            print(String(data: try JSONSerialization.data(withJSONObject: ["faces": records], options: [.sortedKeys]), encoding: .utf8)!)
        }
    }
}

/// The detector `faces detect` runs: MTCNN, dlib's MMOD CNN with dlib's 5-point shape predictor for landmarks, or
/// MediaPipe's BlazeFace (TFLite).
final class FaceFinder {
    let mtcnn: MTCNN?
    let mmod: (DlibMMODDetector, DlibShapePredictor)?
    let blazeFace: BlazeFace?

    init(detector: String, weights: String?) throws {
        switch detector {
        case "mmod":
            let d = try weights.map { try DlibMMODDetector(contentsOf: $0) } ?? .bundled()
            mmod = (d, try .bundled()); mtcnn = nil; blazeFace = nil
        case "blazeface":
            blazeFace = try MediaPipeModels.blazeFace(path: weights); mtcnn = nil; mmod = nil
        default:
            mtcnn = try weights.map { try MTCNN(directory: $0) } ?? MTCNN.bundled(); mmod = nil; blazeFace = nil
        }
    }

    /// Five points for `FaceAlignment`'s template (eyes, nose, mouth corners). BlazeFace has a mouth centre, not
    /// corners: both corners are placed at the mouth centre ± half the template's mouth width, along the eye line.
    func alignmentLandmarks(_ f: Face) -> [[Float]] {
        guard blazeFace != nil, f.landmarks.count >= 4 else { return f.landmarks }
        let (re, le, nose, mouth) = (f.landmarks[0], f.landmarks[1], f.landmarks[2], f.landmarks[3])
        let t = FaceAlignment.template112
        let ratio = (t[4][0] - t[3][0]) / (t[1][0] - t[0][0]) / 2
        let dx = (le[0] - re[0]) * ratio, dy = (le[1] - re[1]) * ratio
        return [re, le, nose, [mouth[0] - dx, mouth[1] - dy], [mouth[0] + dx, mouth[1] + dy]]
    }

    func detect(_ image: Tensor) throws -> [Face] {
        if let mtcnn { return try mtcnn.detect(image) }
        if let blazeFace { return try blazeFace.detect(image) }
        let (d, predictor) = mmod!
        let rgb = Preprocessing.matchChannels(image, 3)
        return try d.detect(rgb).map { Face(box: $0.box, score: $0.score, landmarks: try predictor.landmarks(in: rgb, box: $0.box)) }
    }
}
