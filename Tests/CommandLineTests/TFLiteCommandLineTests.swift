import ConvKit
import ConvKitData
import Foundation
import XCTest

/// `convkit tflite info|run`, `bench --tflite` and `faces detect --detector blazeface --mesh` as a user runs them.
final class TFLiteCommandLineTests: XCTestCase {
    let dir = NSTemporaryDirectory() + "convkit-tflite-\(getpid())"
    let blazeFace = "Data/models/mediapipe/face_detection_short_range.tflite"
    let opCase = "Tests/ConvKitInteropTests/Golden/tflite/ops/conv_then_fully_connected"
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testInfoRunAndBench() throws {
        let info = try runConvkit(["tflite", "info", blazeFace, "--json"])
        XCTAssertEqual(info.status, 0, info.err)
        let obj = try lastJSONLine(info.out)
        XCTAssertEqual((obj["operators"] as? [String: Int])?["CONV_2D"], 21)
        XCTAssertEqual(obj["nodes"] as? Int, 164)
        XCTAssertGreaterThan(obj["macs"] as? Int ?? 0, 10_000_000)
        XCTAssertEqual((obj["inputs"] as? [[String: Any]])?.first?["shape"] as? [Int], [1, 128, 128, 3])

        let run = try runConvkit(["tflite", "run", opCase + "/model.tflite", "--input", opCase + "/input_0.npy", "--output-dir", dir, "--json"])
        XCTAssertEqual(run.status, 0, run.err)
        let got = try NumPy.load(dir + "/y.npy"), expected = try NumPy.load(CommandLineRunner.repo.appendingPathComponent(opCase + "/output_0.npy").path)
        XCTAssertEqual(got.shape, expected.shape)
        XCTAssertLessThan(zip(got.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 1, 1e-5, "the interpreter's output, through the CLI")

        let bench = try runConvkit(["bench", "--tflite", blazeFace, "--seconds", "0.05", "--json"])
        XCTAssertEqual(bench.status, 0, bench.err)
        XCTAssertGreaterThan(try lastJSONLine(bench.out)["infer_ms"] as? Double ?? 0, 0)

        let pipeline = try runConvkit(["bench", "--pipeline", "blazeface", "--image", "Data/images/astronaut.png", "--seconds", "0.05", "--json"])
        XCTAssertEqual(pipeline.status, 0, pipeline.err)
        let p = try lastJSONLine(pipeline.out)
        XCTAssertEqual(p["faces"] as? Int, 1)
        XCTAssertGreaterThan(p["ms"] as? Double ?? 0, 0)

        let summary = try runConvkit(["summary", blazeFace, "--json"])
        XCTAssertEqual(summary.status, 0, summary.err)
        let s = try lastJSONLine(summary.out)
        XCTAssertEqual(s["params"] as? Int, obj["params"] as? Int, "summary and info count the same parameters")
        XCTAssertGreaterThan((s["layers"] as? [Any])?.count ?? 0, 30)
    }

    func testBlazeFaceDetectionWithTheMesh() throws {
        let r = try runConvkit(["faces", "detect", "--detector", "blazeface", "--mesh", "Data/images/astronaut.png", "Data/images/chelsea.png",
                                "--json", "--out", dir, "--chips", dir + "/chips"])
        XCTAssertEqual(r.status, 0, r.err)
        let faces = try XCTUnwrap(try lastJSONLine(r.out)["faces"] as? [[String: Any]])
        XCTAssertEqual(faces.count, 1, "the astronaut's face, none on the cat")
        XCTAssertEqual((faces[0]["landmarks"] as? [[Double]])?.count, 6)
        XCTAssertEqual((faces[0]["mesh"] as? [[Double]])?.count, 468)
        XCTAssertGreaterThan(faces[0]["mesh_score"] as? Double ?? 0, 0.9)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/astronaut_faces.png"))
        XCTAssertEqual(try PNG.load(dir + "/chips/astronaut_face0.png").width, 112)
    }

    func testBadFilesAndInputsGiveOneLineErrors() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("not a flatbuffer at all".utf8).write(to: URL(fileURLWithPath: dir + "/bad.tflite"))
        let cases: [([String], String)] = [
            (["tflite", "info", dir + "/bad.tflite"], "not a valid TFLite model"),
            (["tflite", "info", "nosuch.tflite"], "nosuch.tflite"),
            (["tflite", "info", "Tests/ConvKitInteropTests/Golden/tflite/malformed/two_unsupported.tflite"], "LSTM"),
            (["tflite", "run", blazeFace, "--input", opCase + "/input_0.npy"], "[1, 128, 128, 3]"),
            (["tflite", "run", blazeFace], "missing --input"),
            (["faces", "detect", "--detector", "blazeface", "--weights", dir + "/bad.tflite", "Data/images/astronaut.png"], "not a valid TFLite model"),
            (["faces", "detect", "--detector", "blazeface", "--weights", opCase + "/model.tflite", "Data/images/astronaut.png"], "BlazeFace model"),
        ]
        for (args, message) in cases {
            let r = try runConvkit(args)
            XCTAssertEqual(r.status, args.contains("run") && message == "missing --input" ? 64 : 1, "\(args): \(r.err)")
            XCTAssertFalse(r.signaled)
            XCTAssertNil(crashMarker(in: r.err))
            let lines = r.err.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, r.err)
            XCTAssertTrue(lines.first?.contains(message) ?? false, "\(args): \(r.err)")
        }
    }
}

/// `convkit onnx export` as a user runs it.
final class ONNXExportCommandLineTests: XCTestCase {
    let dir = NSTemporaryDirectory() + "convkit-export-\(getpid())"
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testExportWritesAModelTheImporterRunsLikeConvKit() throws {
        let r = try runConvkit(["onnx", "export", "--model", "lenet5", "--out", dir + "/lenet5.onnx", "--reference", dir + "/ref", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let obj = try lastJSONLine(r.out)
        XCTAssertEqual(obj["opset"] as? Int, 17)
        XCTAssertEqual(obj["params"] as? Int, 61_706)
        let run = try runConvkit(["onnx", "run", dir + "/lenet5.onnx", "--input", dir + "/ref/input.npy", "--output-dir", dir + "/out"])
        XCTAssertEqual(run.status, 0, run.err)
        let got = try NumPy.load(dir + "/out/output.npy"), expected = try NumPy.load(dir + "/ref/output.npy")
        XCTAssertEqual(got.shape, [2, 10], "the batch axis is symbolic: the reference batch is 2")
        XCTAssertLessThan(zip(got.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 1, 1e-5)
        // The same seed gives the same file; another seed other weights.
        let again = try runConvkit(["onnx", "export", "--model", "lenet5", "--out", dir + "/again.onnx"])
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/lenet5.onnx")), try Data(contentsOf: URL(fileURLWithPath: dir + "/again.onnx")))
    }

    func testExportFromACheckpointAndBadArguments() throws {
        let train = try runConvkit(["train", "--epochs", "1", "--augment", "none", "--out", dir, "--json"])
        XCTAssertEqual(train.status, 0, train.err)
        let weights = dir + "/lenet5.safetensors"
        let r = try runConvkit(["onnx", "export", "--weights", weights, "--out", dir + "/trained.onnx", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(try lastJSONLine(r.out)["model"] as? String, "lenet5")
        for (args, message) in [(["onnx", "export", "--out", dir + "/x.onnx"], "--model"), (["onnx", "export", "--model", "nosuchnet", "--out", dir + "/x.onnx"], "nosuchnet"),
                                (["onnx", "export", "--model", "lenet5", "--input", "1x28", "--out", dir + "/x.onnx"], "--input"),
                                (["onnx", "export", "--model", "resnet18", "--weights", weights, "--out", dir + "/x.onnx"], "lenet5"),
                                (["onnx", "export", "--weights", weights, "--input", "3x28x28", "--out", dir + "/x.onnx"], "1 channels")] {
            let bad = try runConvkit(args)
            XCTAssertNotEqual(bad.status, 0, "\(args)")
            XCTAssertNil(crashMarker(in: bad.err))
            XCTAssertTrue(bad.err.contains(message), "\(args): \(bad.err)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.onnx"), "nothing written on error")
        }
    }
}
