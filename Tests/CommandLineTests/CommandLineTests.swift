import XCTest
import Foundation

/// End-to-end: runs the built `convkit` binary as a user would and checks its output and exit status.
final class CommandLineTests: XCTestCase {
    static let repo = CommandLineRunner.repo

    func convkit(_ args: [String]) throws -> ProcessResult { try runConvkit(args) }

    func testTrainEvaluatePredictRoundTrip() throws {
        let dir = NSTemporaryDirectory() + "convkit-cli-\(getpid())"
        let r = try convkit(["train", "--epochs", "2", "--augment", "none", "--out", dir, "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let last = r.out.split(separator: "\n").last.map(String.init) ?? ""
        let obj = try JSONSerialization.jsonObject(with: Data(last.utf8)) as! [String: Any]
        for key in ["model", "dataset", "epochs", "train_accuracy", "test_accuracy", "test_loss", "images_per_second", "wall_seconds", "checkpoint"] {
            XCTAssertNotNil(obj[key], key)
        }
        XCTAssertGreaterThan(obj["test_accuracy"] as! Double, 0.85)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/report.html"))
        let weights = dir + "/lenet5.safetensors"
        let ev = try convkit(["evaluate", "--model", "lenet5", "--weights", weights, "--data", "Data/mnist5k", "--json"])
        XCTAssertEqual(ev.status, 0, ev.err)
        let e = try JSONSerialization.jsonObject(with: Data(ev.out.utf8)) as! [String: Any]
        XCTAssertEqual(e["accuracy"] as! Double, obj["test_accuracy"] as! Double, accuracy: 1e-6)
        // RGBA, gray+alpha and 16-bit images are converted to the model's input.
        let fixtures = ["palette_trns", "gray_alpha", "gray16", "rgb_interlaced"].map { "Tests/ConvKitDataTests/Fixtures/\($0).png" }
        let many = try convkit(["predict", "--weights", weights] + fixtures)
        XCTAssertEqual(many.status, 0, many.err)
        XCTAssertEqual(many.out.split(separator: "\n").count, 4)
        let pr = try convkit(["predict", "--model", "lenet5", "--weights", weights, "-k", "2", "Data/images/coins.png"])
        XCTAssertEqual(pr.status, 0, pr.err)
        XCTAssertTrue(pr.out.hasPrefix("Data/images/coins.png: "), pr.out)
    }

    func testBadArgumentsGiveOneLineErrorsAndNonZeroExit() throws {
        let cases: [([String], String)] = [
            (["train", "--model", "nosuchnet", "--epochs", "1"], "expected one of lenet5"),
            (["train", "--epochs", "0"], "--epochs must be in 1…10000"),
            (["train", "--augment", "blur"], "mirror, crop"),
            (["train", "--data", "/nonexistent"], "/nonexistent: no such file or folder"),
            (["bench", "--threads", "0"], "--threads must be between 1 and 256"),
            (["summary", "alexnet", "--input", "3x40x40"], "H and W in 63…4096 for alexnet"),
            (["train", "--model", "alexnet", "--epochs", "1"], "found 1×28×28"),
            (["summary", "resnet18", "--input", "3x0x5"], "--input must look like 3x224x224"),
            (["bench", "--shapes", "/nonexistent.json"], "/nonexistent.json"),
            (["evaluate", "--weights", "/nonexistent.safetensors", "--data", "Data/mnist5k"], "no such file"),
            (["predict", "--weights", "Data/images/coins.png", "Data/images/coins.png"], "header length"),
        ]
        for (args, message) in cases {
            let r = try convkit(args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.err.contains(message), "\(args): \(r.err)")
            XCTAssertNil(crashMarker(in: r.err), "\(args) crashed: \(r.err)"); XCTAssertFalse(r.signaled, "\(args)")
        }
    }

    func testBenchJSONHasTheDocumentedShape() throws {
        let shapes = NSTemporaryDirectory() + "convkit-shapes-\(getpid()).json"
        try Data(#"{"gemm":[{"m":64,"n":64,"k":64}],"conv2d":[{"name":"t","n":1,"cin":3,"h":16,"w":16,"cout":8,"k":3,"stride":1,"pad":1,"dilation":1,"groups":1}],"maxpool2d":[{"n":1,"c":2,"h":8,"w":8,"k":2,"stride":2}]}"#.utf8)
            .write(to: URL(fileURLWithPath: shapes))
        let r = try convkit(["bench", "--json", "--shapes", shapes, "--seconds", "0.05", "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.err)
        let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        XCTAssertEqual(obj["threads"] as? Int, 1)
        let conv = (obj["conv2d"] as! [[String: Any]])[0]
        for key in ["name", "n", "cin", "h", "w", "cout", "k", "stride", "pad", "dilation", "groups", "fwd_ms", "fwdbwd_ms"] { XCTAssertNotNil(conv[key], key) }
        XCTAssertNotNil((obj["gemm"] as! [[String: Any]])[0]["gflops"])
        XCTAssertNotNil((obj["maxpool2d"] as! [[String: Any]])[0]["ms"])
    }

    func testBenchTimesOneAndThreeDimensionalConvolutionsAndChecksTheirGeometry() throws {
        let shapes = NSTemporaryDirectory() + "convkit-shapes-nd-\(getpid()).json"
        try Data(#"{"conv1d":[{"name":"tcn","n":2,"cin":4,"l":64,"cout":8,"k":3,"stride":1,"pad":4,"dilation":4,"groups":1}],"conv3d":[{"name":"ct","n":1,"cin":1,"d":14,"h":14,"w":14,"cout":16,"k":5,"stride":1,"pad":0}]}"#.utf8)
            .write(to: URL(fileURLWithPath: shapes))
        let r = try convkit(["bench", "--json", "--shapes", shapes, "--seconds", "0.05", "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.err)
        let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        let c1 = (obj["conv1d"] as! [[String: Any]])[0], c3 = (obj["conv3d"] as! [[String: Any]])[0]
        for key in ["name", "n", "cin", "l", "cout", "k", "stride", "pad", "dilation", "groups", "fwd_ms", "fwdbwd_ms"] { XCTAssertNotNil(c1[key], key) }
        for key in ["name", "n", "cin", "d", "h", "w", "cout", "k", "stride", "pad", "dilation", "groups", "fwd_ms", "fwdbwd_ms"] { XCTAssertNotNil(c3[key], key) }
        XCTAssertGreaterThan(c3["fwdbwd_ms"] as! Double, 0)
        // A window larger than the padded volume, and a dilation of zero, are refused before anything runs.
        for bad in [#"{"conv3d":[{"name":"big","n":1,"cin":1,"d":4,"h":14,"w":14,"cout":2,"k":5,"stride":1,"pad":0}]}"#,
                    #"{"conv1d":[{"name":"d0","n":1,"cin":1,"l":16,"cout":2,"k":3,"stride":1,"pad":1,"dilation":0}]}"#,
                    #"{"conv3d":[{"name":"huge","n":1048576,"cin":1048576,"d":1048576,"h":1048576,"w":1048576,"cout":2,"k":1,"stride":1,"pad":0}]}"#] {
            try Data(bad.utf8).write(to: URL(fileURLWithPath: shapes))
            let e = try convkit(["bench", "--json", "--shapes", shapes, "--seconds", "0.05"])
            XCTAssertNotEqual(e.status, 0)
            XCTAssertTrue(e.err.contains("big geometry") || e.err.contains("d0.dilation") || e.err.contains("huge input"), e.err)
            XCTAssertNil(crashMarker(in: e.err), e.err); XCTAssertFalse(e.signaled, e.err)
        }
    }
}
