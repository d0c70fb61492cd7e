import ConvKit
import Foundation
import XCTest

/// `convkit onnx check|info|run` as users and conformance scripts call them.
final class ONNXCommandLineTests: XCTestCase {
    let golden = "Tests/ConvKitInteropTests/Golden"
    let dir = NSTemporaryDirectory() + "convkit-onnx-\(getpid())"
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testCheckPrintsTheConformanceJSONAndItsExitStatusSaysWhetherItPassed() throws {
        let r = try runConvkit(["onnx", "check", golden + "/node/test_convtranspose_output_shape", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let o = try lastJSONLine(r.out)
        XCTAssertEqual(o["case"] as? String, "test_convtranspose_output_shape")
        XCTAssertEqual(o["passed"] as? Bool, true)
        XCTAssertTrue(o["error"] is NSNull)
        let outputs = try XCTUnwrap(o["outputs"] as? [[String: Any]])
        XCTAssertEqual(outputs.first?["name"] as? String, "Y")
        XCTAssertLessThan(outputs.first?["max_abs_error"] as? Double ?? 1, 1e-5)
        // Zero tolerance on a Gelu case (ConvKit's float32 differs from the reference's by one rounding) fails, with the
        // same JSON shape and status 1.
        let strict = try runConvkit(["onnx", "check", golden + "/node/test_gelu_tanh_2", "--rtol", "0", "--atol", "0", "--json"])
        let s = try lastJSONLine(strict.out)
        XCTAssertEqual(strict.status, 1)
        XCTAssertEqual(s["passed"] as? Bool, false)
        XCTAssertTrue((s["error"] as? String ?? "").contains("values outside atol 0.0"))
        let missing = try runConvkit(["onnx", "check", dir + "/nowhere", "--json"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(try lastJSONLine(missing.out)["passed"] as? Bool, false)
    }

    func testInfoAndRunOnATorchExport() throws {
        let model = golden + "/torch/blocks_opset13.onnx"
        let i = try runConvkit(["onnx", "info", model, "--json"])
        XCTAssertEqual(i.status, 0, i.err)
        let o = try lastJSONLine(i.out)
        XCTAssertEqual(o["opset"] as? Int, 13)
        XCTAssertEqual(o["params"] as? Int, 2438)
        XCTAssertEqual((o["operators"] as? [String: Int])?["Conv"], 6)
        XCTAssertGreaterThan(o["macs"] as? Int ?? 0, 400_000)
        let s = try runConvkit(["summary", model, "--json"])
        XCTAssertEqual(s.status, 0, s.err)
        let summary = try lastJSONLine(s.out)
        XCTAssertEqual(summary["macs"] as? Int, o["macs"] as? Int)
        XCTAssertEqual(summary["params"] as? Int, 2438)
        let layers = try XCTUnwrap(summary["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.filter { ($0["type"] as? String ?? "").hasPrefix("Conv") || $0["type"] as? String == "DepthwiseConv" }.count, 6)
        XCTAssertEqual(layers.first?["receptive_field"] as? [Int], [3, 3])
        // The export fixed 32×32: another size is refused, naming the declared shape (as ONNX Runtime refuses it).
        let bigger = try runConvkit(["summary", model, "--input", "3x64x64", "--json"])
        XCTAssertNotEqual(bigger.status, 0)
        XCTAssertTrue(bigger.err.contains("the model declares [batch, 3, 32, 32]"), bigger.err)
        let r = try runConvkit(["onnx", "run", model, "--input", "x=" + golden + "/torch/input.npy", "--output-dir", dir, "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let y = try NumPy.load(dir + "/y.npy"), expected = try NumPy.load(CommandLineRunner.repo.path + "/" + golden + "/torch/output_opset13.npy")
        XCTAssertLessThan(y.maxAbsDifference(expected), 1e-4)
    }

    func testPredictWithAnONNXClassifierAndTorchvisionPreprocessing() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try ((0..<10).map { "digit \($0)" }.joined(separator: "\n") + "\n").write(toFile: dir + "/labels.txt", atomically: true, encoding: .utf8)
        let r = try runConvkit(["predict", "--onnx", golden + "/torch/blocks_opset18.onnx", "--resize", "36", "--labels", dir + "/labels.txt",
                                "-k", "3", "--json", "Data/images/coins.png", "Data/images/grace_hopper.jpg"])
        XCTAssertEqual(r.status, 0, r.err)
        let lines = r.out.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        for l in lines {
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any])
            let top = try XCTUnwrap(o["top"] as? [[String: Any]])
            XCTAssertEqual(top.count, 3)
            let p = top.compactMap { $0["probability"] as? Double }
            XCTAssertEqual(p, p.sorted(by: >))
            XCTAssertLessThanOrEqual(p.reduce(0, +), 1 + 1e-6)
            XCTAssertTrue((top[0]["class"] as? String ?? "").hasPrefix("digit "))
        }
        let badMean = try runConvkit(["predict", "--onnx", golden + "/torch/blocks_opset18.onnx", "--mean", "0.5,0.5", "Data/images/coins.png"])
        XCTAssertNotEqual(badMean.status, 0)
        XCTAssertTrue(badMean.err.contains("--mean"), badMean.err)
        let both = try runConvkit(["predict", "--onnx", golden + "/torch/blocks_opset18.onnx", "--weights", "x.safetensors", "Data/images/coins.png"])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.err.contains("exactly one of --weights and --onnx"), both.err)
    }

    func testBadModelsAndInputsGiveOneLineErrors() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("not a model at all".utf8).write(to: URL(fileURLWithPath: dir + "/bad.onnx"))
        let bad = try runConvkit(["onnx", "info", dir + "/bad.onnx"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("not a valid ONNX model"), bad.err)
        XCTAssertEqual(bad.err.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, bad.err)
        try NumPy.save(Tensor.zeros([1, 3, 8, 8]), to: dir + "/small.npy")
        let wrong = try runConvkit(["onnx", "run", golden + "/torch/blocks_opset13.onnx", "--input", dir + "/small.npy", "--output-dir", dir])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.err.contains("has shape [1, 3, 8, 8]"), wrong.err)
        let tol = try runConvkit(["onnx", "check", golden + "/node/test_size", "--rtol", "-1"])
        XCTAssertNotEqual(tol.status, 0)
        XCTAssertTrue(tol.err.contains("--rtol"), tol.err)
    }
}
