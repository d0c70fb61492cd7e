import ConvKit
import ConvKitData
import Foundation
import XCTest

/// `convkit train --task timeseries` as a user runs it: a short run on a shipped set, and one-line errors for bad
/// models, folders and files.
final class TimeSeriesCommandLineTests: XCTestCase {
    let dir = NSTemporaryDirectory() + "convkit-ts-\(getpid())"
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testAShortRunReportsTheTestAccuracy() throws {
        for model in ["fcn1d", "tcn"] {
            let r = try runConvkit(["train", "--task", "timeseries", "--data", "Data/timeseries/ItalyPowerDemand", "--model", model,
                                    "--epochs", "20", "--out", dir, "--json"])
            XCTAssertEqual(r.status, 0, r.err)
            let o = try lastJSONLine(r.out)
            XCTAssertEqual(o["task"] as? String, "timeseries")
            XCTAssertEqual(o["dataset"] as? String, "ItalyPowerDemand")
            XCTAssertEqual(o["test"] as? Int, 1029)
            XCTAssertGreaterThan(o["test_accuracy"] as? Double ?? 0, 0.6, "\(model): better than the majority class after 20 epochs")
            XCTAssertNotNil(o["wall_seconds"] as? Double)
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/\(model)_ItalyPowerDemand.safetensors"))
        }
    }

    /// Sequential MNIST on a tiny IDX folder (40 training and 20 test images of 8×8: 64-step sequences).
    func testPixelSequencesTrainATCN() throws {
        try FileManager.default.createDirectory(atPath: dir + "/tiny", withIntermediateDirectories: true)
        var rng = SeededGenerator(seed: 3)
        for (prefix, n) in [("train", 40), ("t10k", 20)] {
            let labels = (0..<n).map { Float($0 % 2) }
            // Class 0 bright on the top half, class 1 on the bottom half, plus noise.
            var pixels = [Float]()
            for i in 0..<n {
                for p in 0..<64 {
                    let bright: Bool = (p < 32) == (i % 2 == 0)
                    pixels.append((bright ? 200 : 20) + rng.nextUniform() * 30)
                }
            }
            try Data(IDX.encodeUInt8(pixels, shape: [n, 8, 8])).write(to: URL(fileURLWithPath: "\(dir)/tiny/\(prefix)-images-idx3-ubyte"))
            try Data(IDX.encodeUInt8(labels, shape: [n])).write(to: URL(fileURLWithPath: "\(dir)/tiny/\(prefix)-labels-idx1-ubyte"))
        }
        for kind in ["sequential", "permuted"] {
            let r = try runConvkit(["train", "--task", "timeseries", "--pixel-sequences", kind, "--data", dir + "/tiny", "--epochs", "15",
                                    "--batch-size", "8", "--out", dir, "--json"])
            XCTAssertEqual(r.status, 0, r.err)
            let o = try lastJSONLine(r.out)
            XCTAssertEqual(o["model"] as? String, "tcn")
            XCTAssertEqual(o["length"] as? Int, 64)
            XCTAssertEqual(o["dataset"] as? String, kind == "sequential" ? "SequentialMNIST" : "PermutedMNIST")
            XCTAssertGreaterThan(o["test_accuracy"] as? Double ?? 0, 0.8, "\(kind): two easy classes")
        }
        let bad = try runConvkit(["train", "--task", "timeseries", "--pixel-sequences", "spiral", "--out", dir])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("sequential or permuted"), bad.err)
    }

    /// The adding problem, tiny: the JSON line, and the refused lengths.
    func testTheAddingProblemReportsItsTestMSE() throws {
        let r = try runConvkit(["train", "--task", "adding", "--length", "20", "--train-size", "200", "--epochs", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let o = try lastJSONLine(r.out)
        XCTAssertEqual(o["task"] as? String, "adding")
        XCTAssertEqual(o["length"] as? Int, 20)
        XCTAssertLessThan(o["test_mse"] as? Double ?? 9, 1, "finite, and no worse than predicting a constant by far")
        XCTAssertNotNil(o["solved"] as? Bool)
        for args in [["--length", "3"], ["--train-size", "5"]] {
            let bad = try runConvkit(["train", "--task", "adding", "--epochs", "1"] + args)
            XCTAssertNotEqual(bad.status, 0, args.joined(separator: " "))
            XCTAssertTrue(bad.err.contains(args[0]), bad.err)
        }
    }

    func testBadModelsFoldersAndFilesGiveOneLineErrors() throws {
        try FileManager.default.createDirectory(atPath: dir + "/Bad", withIntermediateDirectories: true)
        try "@classLabel true a b\n@data\n1,2,3:a\n".write(toFile: dir + "/Bad/Bad_TRAIN.ts", atomically: true, encoding: .utf8)
        try "@classLabel true a b\n@data\n1,2,oops:b\n".write(toFile: dir + "/Bad/Bad_TEST.ts", atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["--model", "vgg16"], "fcn1d, resnet1d, tcn"),
            (["--data", "Data"], "NAME_TRAIN.ts"),
            (["--data", dir + "/Bad"], "Bad_TEST.ts:3"),
        ]
        for (args, message) in cases {
            let r = try runConvkit(["train", "--task", "timeseries", "--epochs", "1", "--out", dir] + args)
            XCTAssertNotEqual(r.status, 0, args.joined(separator: " "))
            XCTAssertTrue(r.err.split(separator: "\n").first?.contains(message) ?? false, "\(args): \(r.err)")
        }
    }
}
