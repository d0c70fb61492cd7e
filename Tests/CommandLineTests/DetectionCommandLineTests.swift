import Foundation
import XCTest

/// The detection commands end to end: make-dataset → train --task detect → detect; detect-eval; anchors; bench nms.
final class DetectionCommandLineTests: XCTestCase {
    let dir = NSTemporaryDirectory() + "convkit-det-\(getpid())"

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testMakeTrainDetect() throws {
        let data = dir + "/data", run = dir + "/run"
        let m = try runConvkit(["make-dataset", "digits-detection", "--out", data, "--images", "24", "--test-images", "6", "--seed", "3"])
        XCTAssertEqual(m.status, 0, m.err)
        for f in ["classes.txt", "train/annotations.json", "test/labels/test_000000.txt", "test/masks/test_000005.png", "train/images/train_000023.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: data + "/" + f), f)
        }
        let t = try runConvkit(["train", "--task", "detect", "--data", data, "--epochs", "1", "--out", run, "--json"])
        XCTAssertEqual(t.status, 0, t.err)
        let obj = try lastJSONLine(t.out)
        XCTAssertEqual(obj["task"] as? String, "detect")
        for key in ["AP", "AP50", "wall_seconds", "checkpoint"] { XCTAssertNotNil(obj[key], key) }
        for f in ["report.html", "pr_curves.png", "detections.png", "history.json", "yolo_tiny.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/" + f), f)
        }
        let image = data + "/test/images/test_000001.png"
        let d = try runConvkit(["detect", "--weights", run + "/yolo_tiny.safetensors", image, "--score", "0", "--max-detections", "5", "--json", "--out", dir + "/pics"])
        XCTAssertEqual(d.status, 0, d.err)
        let det = try lastJSONLine(d.out)
        let records = try XCTUnwrap(det["detections"] as? [[String: Any]])
        XCTAssertEqual(records.first?["image"] as? String, image)
        let boxes = try XCTUnwrap(records.first?["boxes"] as? [[String: Any]])
        XCTAssertEqual(boxes.count, 5)
        XCTAssertEqual((boxes.first?["box"] as? [Double])?.count, 4)
        XCTAssertNotNil(boxes.first?["score"]); XCTAssertNotNil(boxes.first?["class"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/pics/test_000001_detections.png"))
        let a = try runConvkit(["anchors", "--data", data, "--k", "3", "--size", "128", "--json"])
        XCTAssertEqual(a.status, 0, a.err)
        XCTAssertEqual((try lastJSONLine(a.out)["anchors_pixels"] as? [[Double]])?.count, 3)
        // A classifier checkpoint is not a detector.
        let bad = try runConvkit(["detect", "--weights", run + "/report.html", image])
        XCTAssertNotEqual(bad.status, 0)
    }

    func testDetectEvalPrintsPycocotoolsNumbers() throws {
        let golden = CommandLineRunner.repo.appendingPathComponent("Tests/ConvKitVisionTests/Golden/coco").path
        let r = try runConvkit(["detect-eval", "--ground-truth", golden + "/crowd_gt.json", "--detections", golden + "/crowd_dt.json", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let obj = try lastJSONLine(r.out)
        XCTAssertEqual(Set(obj.keys), ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"])
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: golden + "/expected.json"))) as! [String: [String: [String: Double]]]
        for (k, v) in expected["crowd"]!["stats"]! { XCTAssertEqual(obj[k] as! Double, v, accuracy: 1e-9, k) }
    }

    func testBenchNMSSection() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let shapes = dir + "/nms.json"
        try Data(#"{"nms":[{"boxes":2000,"iou":0.5,"classes":80}]}"#.utf8).write(to: URL(fileURLWithPath: shapes))
        let r = try runConvkit(["bench", "--json", "--shapes", shapes, "--seconds", "0.05"])
        XCTAssertEqual(r.status, 0, r.err)
        let nms = try XCTUnwrap((try lastJSONLine(r.out)["nms"] as? [[String: Any]])?.first)
        for key in ["boxes", "iou", "classes", "nms_ms", "batched_ms", "box_iou_ms"] { XCTAssertNotNil(nms[key], key) }
    }

    func testBadDetectionInputGivesOneLineErrors() throws {
        try FileManager.default.createDirectory(atPath: dir + "/yolo/train/images", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/yolo/train/labels", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: CommandLineRunner.repo.path + "/Data/images/coins.png", toPath: dir + "/yolo/train/images/a.png")
        try Data("0 0.5 0.5 0.2 nan\n".utf8).write(to: URL(fileURLWithPath: dir + "/yolo/train/labels/a.txt"))
        try Data("[{\"image_id\": 1}]".utf8).write(to: URL(fileURLWithPath: dir + "/dets.json"))
        let golden = CommandLineRunner.repo.appendingPathComponent("Tests/ConvKitVisionTests/Golden/coco/basic_gt.json").path
        let cases: [([String], String)] = [
            (["anchors", "--data", dir + "/yolo"], "a.txt"),
            (["anchors", "--data", dir + "/yolo", "--k", "0"], "--k must be in 1…64"),
            (["train", "--task", "detect", "--data", "/nonexistent"], "/nonexistent/train/images"),
            (["train", "--task", "detect", "--model", "resnet18", "--data", dir + "/yolo"], "yolo_tiny"),
            (["detect-eval", "--ground-truth", golden, "--detections", dir + "/dets.json"], "detection[0]"),
            (["detect-eval", "--ground-truth", "/nonexistent.json", "--detections", dir + "/dets.json"], "/nonexistent.json"),
            (["make-dataset", "digits-detection", "--out", dir + "/x", "--images", "0"], "--images must be in 1…200000"),
            (["detect", "--weights", "/nonexistent.safetensors", "Data/images/coins.png"], "no such file"),
            (["detect", "--weights", "x.safetensors", "Data/images/coins.png", "--score", "2"], "--score must be in 0…1"),
        ]
        for (args, message) in cases {
            let r = try runConvkit(args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.err.contains(message), "\(args): \(r.err)")
            XCTAssertNil(crashMarker(in: r.err), "\(args) crashed: \(r.err)"); XCTAssertFalse(r.signaled, "\(args)")
        }
    }
}
