import ConvKit
import ConvKitData
import Foundation
import XCTest

/// Datasets as users hand them over: class folders evaluated against the checkpoint's classes, IDX files with a
/// stray label, and `summary` keeping a model's own class count.
final class DatasetCommandLineTests: XCTestCase {
    let dir = NSTemporaryDirectory() + "convkit-datasets-\(getpid())"
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func accuracy(_ args: [String]) throws -> Double {
        let r = try runConvkit(["evaluate", "--json"] + args)
        XCTAssertEqual(r.status, 0, r.err)
        return try lastJSONLine(r.out)["accuracy"] as? Double ?? -1
    }

    /// Class folders made from the MNIST-5k test PNGs score exactly what the IDX files score; a folder subset is
    /// mapped by name (not by sorted position), and a folder that is not a class is an error listing the classes.
    func testEvaluateOnClassFoldersMapsFolderNamesToTheCheckpointsClasses() throws {
        let run = dir + "/run"
        XCTAssertEqual(try runConvkit(["train", "--epochs", "1", "--augment", "none", "--out", run]).status, 0)
        let weights = run + "/lenet5.safetensors"
        let test = try Datasets.idxFolder("Data/mnist5k").test
        for i in 0..<test.count {
            let folder = dir + "/folders/\(test.labels[i])"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try PNG.save(PNG.Image(tensor: test.image(i)), to: folder + "/\(i).png")
        }
        try "not an image".write(toFile: dir + "/folders/3/README.txt", atomically: true, encoding: .utf8)
        let idx = try accuracy(["--model", "lenet5", "--weights", weights, "--data", "Data/mnist5k"])
        let folders = try accuracy(["--model", "lenet5", "--weights", weights, "--data", dir + "/folders"])
        XCTAssertEqual(folders, idx, accuracy: 1e-9)
        XCTAssertGreaterThan(idx, 0.8)
        // Only the folders 3 and 7: sorted positions would call them classes 0 and 1 and score about 0.
        for keep in ["3", "7"] {
            try FileManager.default.createDirectory(atPath: dir + "/two", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: dir + "/folders/" + keep, toPath: dir + "/two/" + keep)
        }
        XCTAssertGreaterThan(try accuracy(["--model", "lenet5", "--weights", weights, "--data", dir + "/two"]), 0.8)
        try FileManager.default.createDirectory(atPath: dir + "/two/cat", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: dir + "/folders/3/\(test.labels.firstIndex(of: 3)!).png", toPath: dir + "/two/cat/x.png")
        let bad = try runConvkit(["evaluate", "--model", "lenet5", "--weights", weights, "--data", dir + "/two"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("cat") && bad.err.contains("0, 1, 2"), bad.err)
    }

    /// A label of 77 in a 10-class IDX set is an error naming the record, not a 78-class model.
    func testAStrayLabelInIDXFilesIsAnError() throws {
        let data = dir + "/idx"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        for name in ["train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try FileManager.default.copyItem(atPath: "Data/mnist5k/" + name, toPath: data + "/" + name)
        }
        var labels = try Datasets.idxFolder("Data/mnist5k").train.labels.map(Float.init)
        labels[123] = 77
        try Data(Gzip.compress(IDX.encodeUInt8(labels, shape: [labels.count]))).write(to: URL(fileURLWithPath: data + "/train-labels-idx1-ubyte.gz"))
        let r = try runConvkit(["train", "--data", data, "--epochs", "1", "--out", dir + "/r"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("label 77 at record 123") && r.err.contains("contiguous labels"), r.err)
    }

    func testSummaryKeepsTheModelsOwnClassCount() throws {
        func params(_ extra: [String]) throws -> Int {
            let r = try runConvkit(["summary", "lenet5", "--json"] + extra)
            XCTAssertEqual(r.status, 0, r.err)
            return try lastJSONLine(r.out)["params"] as? Int ?? -1
        }
        let plain = try params([]), withInput = try params(["--input", "1x28x28"])
        XCTAssertEqual(plain, 61_706, "LeNet-5 with 10 outputs")
        XCTAssertEqual(withInput, plain, "--input must not change the class count")
        XCTAssertEqual(try params(["--input", "1x28x28", "--classes", "1000"]), plain + 84 * 990 + 990)
    }
}
