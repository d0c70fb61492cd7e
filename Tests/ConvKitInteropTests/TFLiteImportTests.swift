import Foundation
import XCTest
import ConvKit
@testable import ConvKitInterop
import ConvKitData
import ConvKitVision

/// The TFLite importer against TensorFlow Lite's reference interpreter: one small model per operator variant and
/// the two MediaPipe face models (goldens from `Golden/tflite/make_tflite_golden.py`).
final class TFLiteImportTests: XCTestCase {
    static let golden = ONNXBuilder.golden.appendingPathComponent("tflite")
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func maxError(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
    }

    func testEveryOperatorCaseMatchesTheInterpreter() throws {
        let root = Self.golden.appendingPathComponent("ops")
        let cases = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
        XCTAssertGreaterThanOrEqual(cases.count, 40, "the golden cases are missing")
        var failures = [String]()
        for name in cases {
            let dir = root.appendingPathComponent(name)
            do {
                let model = try TFLiteModel(contentsOf: dir.appendingPathComponent("model.tflite"))
                var feeds = [String: Tensor]()
                for (k, i) in model.inputs.enumerated() {
                    feeds[i.name] = try NumPy.load(dir.appendingPathComponent("input_\(k).npy").path)
                }
                let out = try model.run(feeds)
                for (k, o) in model.outputs.enumerated() {
                    let expected = try NumPy.load(dir.appendingPathComponent("output_\(k).npy").path)
                    guard let got = out[o.name], got.shape == expected.shape else {
                        failures.append("\(name): output \(o.name) has shape \(out[o.name]?.shape ?? []), expected \(expected.shape)"); continue
                    }
                    let scale = max(1, expected.scalars.map(abs).max() ?? 0)
                    let e = Self.maxError(got, expected)
                    if e > 1e-5 * scale { failures.append("\(name): max |Δ| \(e)") }
                }
            } catch {
                failures.append("\(name): \(error)")
            }
        }
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n"))
    }

    /// The fused-activation path and the layout bookkeeping are visible: a convolution followed by a reshape into
    /// anchors must flatten in NHWC order; a channels-first value must not be flattened as NCHW.
    func testOutputsKeepTheFileLayout() throws {
        let dir = Self.golden.appendingPathComponent("ops/conv_reshape_anchors")
        let model = try TFLiteModel(contentsOf: dir.appendingPathComponent("model.tflite"))
        XCTAssertEqual(model.inputs.map(\.shape), [[1, 4, 4, 2]])
        XCTAssertEqual(model.outputs.map(\.shape), [[1, 32, 3]])
        XCTAssertEqual(model.operatorCounts.map(\.0).sorted(), ["CONV_2D", "RESHAPE"])
    }

    func testBlazeFaceMatchesTheInterpreter() throws {
        let model = try TFLiteModel(contentsOf: Self.repository.appendingPathComponent("Data/models/mediapipe/face_detection_short_range.tflite"))
        XCTAssertEqual(model.inputs.map(\.shape), [[1, 128, 128, 3]])
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: model.operatorCounts)["DEQUANTIZE"], 74)
        let dir = Self.golden.appendingPathComponent("mediapipe")
        let u8 = try NumPy.load(dir.appendingPathComponent("blazeface_input_u8.npy").path)
        let x = Tensor(shape: u8.shape, scalars: u8.scalars.map { $0 / 127.5 - 1 })
        let out = try model.run(["input": x])
        for name in ["regressors", "classificators"] {
            let expected = try NumPy.load(dir.appendingPathComponent("blazeface_\(name).npy").path)
            let got = try XCTUnwrap(out[name])
            XCTAssertEqual(got.shape, expected.shape)
            let scale = expected.scalars.map(abs).max() ?? 1
            XCTAssertLessThan(Self.maxError(got, expected), 1e-4 * scale, name)
        }
    }

    func testFaceMeshMatchesTheInterpreter() throws {
        let model = try TFLiteModel(contentsOf: Self.repository.appendingPathComponent("Data/models/mediapipe/face_landmark.tflite"))
        let dir = Self.golden.appendingPathComponent("mediapipe")
        let u8 = try NumPy.load(dir.appendingPathComponent("face_mesh_input_u8.npy").path)
        let x = Tensor(shape: u8.shape, scalars: u8.scalars.map { $0 / 255 })
        let out = try model.run([model.inputs[0].name: x])
        for name in ["conv2d_21", "conv2d_31"] {
            let expected = try NumPy.load(dir.appendingPathComponent("face_mesh_\(name).npy").path)
            let got = try XCTUnwrap(out[name])
            XCTAssertEqual(got.shape, expected.shape)
            let scale = max(1, expected.scalars.map(abs).max() ?? 1)
            XCTAssertLessThan(Self.maxError(got, expected), 1e-4 * scale, name)
        }
    }
}

/// The whole BlazeFace → face mesh pipeline on the bundled photos, checked against MTCNN's independent landmarks.
final class MediaPipeFacePipelineTests: XCTestCase {
    func models() throws -> (BlazeFace, FaceMesh) {
        let dir = TFLiteImportTests.repository.appendingPathComponent("Data/models/mediapipe")
        let detector = try TFLiteModel(contentsOf: dir.appendingPathComponent("face_detection_short_range.tflite"))
        let mesh = try TFLiteModel(contentsOf: dir.appendingPathComponent("face_landmark.tflite"))
        let blaze = BlazeFace { x in let o = try detector.predict(x); return (o[0], o[1]) }
        let faceMesh = FaceMesh { x in let o = try mesh.predict(x); return (o[0], o[1]) }
        return (blaze, faceMesh)
    }

    func testOneFaceWithItsKeypointsAndMeshInEachPortrait() throws {
        let (blaze, faceMesh) = try models()
        let mtcnn = try MTCNN.bundled()
        for name in ["astronaut.png", "grace_hopper.jpg"] {
            let image = try ImageFile.load(TFLiteImportTests.repository.appendingPathComponent("Data/images/" + name).path)
            let faces = try blaze.detect(image)
            XCTAssertEqual(faces.count, 1, name)
            guard let f = faces.first, let reference = try mtcnn.detect(image).first else { continue }
            XCTAssertGreaterThan(f.score, 0.75, name)
            XCTAssertGreaterThan(BoxOverlap.iou(f.box, reference.box), 0.5, "\(name): \(f.box) vs MTCNN \(reference.box)")
            let width = f.box[2] - f.box[0]
            func distance(_ p: [Float], _ q: [Float]) -> Float { ((p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1])).squareRoot() }
            // BlazeFace keypoints 0, 1, 2: right eye, left eye, nose tip; MTCNN: left-of-image eye, right-of-image eye, nose
            for (k, m) in [(0, 0), (1, 1), (2, 2)] {
                XCTAssertLessThan(distance(f.landmarks[k], reference.landmarks[m]), 0.12 * width, "\(name) keypoint \(k)")
            }
            let (points, score) = try faceMesh.landmarks(in: image, face: f)
            XCTAssertEqual(points.count, 468)
            XCTAssertGreaterThan(score, 0.9, name)
            XCTAssertLessThan(distance(points[1], f.landmarks[2]), 0.1 * width, "\(name): the mesh's nose tip")
            let rightEye = [(points[33][0] + points[133][0]) / 2, (points[33][1] + points[133][1]) / 2]
            let leftEye = [(points[362][0] + points[263][0]) / 2, (points[362][1] + points[263][1]) / 2]
            XCTAssertLessThan(distance(rightEye, reference.landmarks[0]), 0.1 * width, "\(name): the mesh's right eye")
            XCTAssertLessThan(distance(leftEye, reference.landmarks[1]), 0.1 * width, "\(name): the mesh's left eye")
        }
        let cat = try ImageFile.load(TFLiteImportTests.repository.appendingPathComponent("Data/images/chelsea.png").path)
        XCTAssertEqual(try blaze.detect(cat).count, 0, "a cat is not a face")
    }
}
