import ConvKit
import ConvKitData
import Foundation
import XCTest

/// Training on the data users have — class folders (PNG and JPEG, train/test or one folder), CSV with declared
/// ranges and classes — with a validation split carved from the training data, and exact resume after SIGKILL.
final class TrainingDataCommandLineTests: XCTestCase {
    let dir = NSTemporaryDirectory() + "convkit-training-data-\(getpid())"
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func mnist() throws -> DatasetSplits { try Datasets.idxFolder("Data/mnist5k") }

    /// Writes `count` images of `set` as class folders under `root` (every third one as JPEG).
    func writeFolders(_ set: LabeledImages, count: Int, to root: String) throws {
        for i in 0..<count {
            let folder = root + "/\(set.labels[i])"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let image = PNG.Image(tensor: set.image(i))
            if i % 3 == 0 { try JPEG.save(image, to: folder + "/\(i).jpg", quality: 95) } else { try PNG.save(image, to: folder + "/\(i).png") }
        }
    }

    func train(_ args: [String]) throws -> [String: Any] {
        let r = try runConvkit(["train", "--json", "--augment", "none"] + args)
        XCTAssertEqual(r.status, 0, r.err)
        return try lastJSONLine(r.out)
    }

    /// DIR/train and DIR/test class folders: trained with a validation split, then `evaluate` on DIR/test gives the
    /// test accuracy train reported (the test split was not used for choosing anything).
    func testClassFoldersWithTrainAndTestSplits() throws {
        let s = try mnist()
        try writeFolders(s.train, count: 1500, to: dir + "/digits/train")
        try writeFolders(s.test, count: 300, to: dir + "/digits/test")
        let run = dir + "/run"
        let obj = try train(["--data", dir + "/digits", "--epochs", "3", "--val-split", "0.2", "--out", run])
        XCTAssertEqual(obj["layout"] as? String, "class folders")
        XCTAssertEqual(obj["test_images"] as? Int, 300)
        XCTAssertEqual((obj["train_images"] as? Int ?? 0) + (obj["validation_images"] as? Int ?? 0), 1500)
        XCTAssertEqual(Double(obj["validation_images"] as? Int ?? 0), 300, accuracy: 10)
        XCTAssertGreaterThan(obj["test_accuracy"] as? Double ?? 0, 0.6)
        let ev = try runConvkit(["evaluate", "--weights", run + "/lenet5.safetensors", "--data", dir + "/digits/test", "--json"])
        XCTAssertEqual(ev.status, 0, ev.err)
        XCTAssertEqual(try lastJSONLine(ev.out)["accuracy"] as? Double ?? -1, obj["test_accuracy"] as? Double ?? -2, accuracy: 1e-6)
    }

    /// One folder of classes and a crop policy: the test split is carved (stratified) and said so; --classes must
    /// name every folder.
    func testOneClassFolderCarvesATestSplit() throws {
        let s = try mnist()
        try writeFolders(s.train, count: 600, to: dir + "/one")
        let r = try runConvkit(["train", "--json", "--data", dir + "/one", "--epochs", "1", "--test-split", "0.25", "--image-size", "24",
                                "--resize", "crop", "--model", "small_cnn", "--out", dir + "/r1"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("held out as the test split"), r.err)
        let obj = try lastJSONLine(r.out)
        XCTAssertEqual(Double(obj["test_images"] as? Int ?? 0), 150, accuracy: 6)
        let bad = try runConvkit(["train", "--data", dir + "/one", "--epochs", "1", "--classes", "0,1,2", "--out", dir + "/r2"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("declared classes") && bad.err.contains("3, 4"), bad.err)
    }

    func csv(_ set: LabeledImages, rows: Range<Int>, header: Bool, divide: Float = 1, label: (Int) -> String = { String($0) }) -> String {
        var text = header ? "label," + (0..<784).map { "px\($0)" }.joined(separator: ",") + "\n" : ""
        for i in rows {
            text += label(set.labels[i]) + "," + set.image(i).scalars.map { v in divide == 1 ? String(Int(v)) : String(v / divide) }.joined(separator: ",") + "\n"
        }
        return text
    }

    /// CSV with a header and a declared range (0…16 like the 8×8 digits), then the mistakes users make with CSV.
    func testCSVWithDeclaredScaleAndTheErrorsOfBadCSV() throws {
        let s = try mnist()
        try FileManager.default.createDirectory(atPath: dir + "/csv", withIntermediateDirectories: true)
        try csv(s.train, rows: 0..<800, header: true, divide: 255 / 16).write(toFile: dir + "/csv/train.csv", atomically: true, encoding: .utf8)
        try csv(s.test, rows: 0..<200, header: true, divide: 255 / 16).write(toFile: dir + "/csv/test.csv", atomically: true, encoding: .utf8)
        let obj = try train(["--data", dir + "/csv", "--scale", "16", "--epochs", "2", "--out", dir + "/r"])
        XCTAssertEqual(obj["layout"] as? String, "csv")
        XCTAssertEqual(obj["test_images"] as? Int, 200)
        XCTAssertGreaterThan(obj["test_accuracy"] as? Double ?? 0, 0.5)
        func fails(_ text: String, _ extra: [String] = [], _ expect: [String]) throws {
            try text.write(toFile: dir + "/bad.csv", atomically: true, encoding: .utf8)
            let r = try runConvkit(["train", "--data", dir + "/bad.csv", "--epochs", "1", "--out", dir + "/rb"] + extra)
            XCTAssertNotEqual(r.status, 0, text.prefix(80) + "")
            XCTAssertNil(crashMarker(in: r.err), r.err); XCTAssertFalse(r.signaled, r.err)
            for e in expect { XCTAssertTrue(r.err.contains(e), "\(e) not in \(r.err)") }
        }
        try fails(csv(s.train, rows: 0..<50, header: false), ["--scale", "16"], ["values in 0…16", "--scale"])
        try fails(csv(s.train, rows: 0..<50, header: false, label: { $0 == 9 ? "12" : String($0) }), [], ["contiguous labels", "label 12"])
        try fails(csv(s.train, rows: 0..<50, header: false), ["--classes", "5"], ["0..<5"])
        try fails("3,1,2,3\n4,1,2\n", ["--image-shape", "1,1,3"], ["bad.csv:2", "a label and 3 pixels"])
        try fails("3,1,2,nan\n", ["--image-shape", "1,1,3"], ["finite numeric pixels"])
        try fails("1,2,3\n", [], ["--image-shape"])
    }

    /// `--resume` after SIGKILL at random moments (the harness): the final tensors equal the uninterrupted run's bit
    /// for bit, and the last run really continued from its checkpoint.
    func testResumeAfterSIGKILLReproducesTheUninterruptedRun() throws {
        let exe = try XCTUnwrap([".build/release/convkit", ".build/debug/convkit"].map { CommandLineRunner.repo.appendingPathComponent($0).path }
            .first { FileManager.default.isExecutableFile(atPath: $0) })
        let r = try runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                               ["python3", "Scripts/kill_resume_harness.py", "--convkit", exe, "--kills", "4", "--max-delay", "2", "--work", dir + "/harness",
                                "--", "--model", "small_cnn", "--epochs", "2", "--checkpoint-every", "9"])
        XCTAssertEqual(r.status, 0, r.err)
        let obj = try lastJSONLine(r.out)
        XCTAssertEqual(obj["identical"] as? Bool, true)
        XCTAssertEqual(obj["kills"] as? Int, 4)
    }

    /// Resuming with more epochs continues the run (constant schedule: 1 epoch + 1 resumed = 2 straight).
    func testResumeExtendsARun() throws {
        let common = ["--model", "small_cnn", "--schedule", "constant", "--val-split", "0.1"]
        _ = try train(common + ["--epochs", "2", "--out", dir + "/straight"])
        _ = try train(common + ["--epochs", "1", "--out", dir + "/extended"])
        let r = try runConvkit(["train", "--resume", dir + "/extended", "--epochs", "2", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("at epoch 2, batch 0"), r.err)
        let a = try Safetensors.load(dir + "/straight/resume.safetensors").tensors, b = try Safetensors.load(dir + "/extended/resume.safetensors").tensors
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        for (k, v) in a { XCTAssertEqual(b[k]?.scalars.map(\.bitPattern), v.scalars.map(\.bitPattern), k) }
        let missing = try runConvkit(["train", "--resume", dir + "/nothing-here"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("resume.safetensors"), missing.err)
    }
}
