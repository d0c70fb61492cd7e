import Foundation
import XCTest
import ConvKit
@testable import ConvKitInterop

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
