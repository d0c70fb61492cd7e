import ConvKitData
import Foundation
import XCTest

final class SegmentationCommandLineTests: XCTestCase {
    let dir = NSTemporaryDirectory() + "convkit-seg-\(getpid())"
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testTrainSegmentOnGeneratedMasksAndRejectBadMasks() throws {
        let data = dir + "/data"
        XCTAssertEqual(try runConvkit(["make-dataset", "digits-detection", "--out", data, "--images", "16", "--test-images", "4"]).status, 0)
        let r = try runConvkit(["train", "--task", "segment", "--data", data, "--epochs", "1", "--out", dir + "/run", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let obj = try lastJSONLine(r.out)
        XCTAssertEqual(obj["task"] as? String, "segment")
        for key in ["mIoU", "pixel_accuracy", "wall_seconds"] { XCTAssertNotNil(obj[key] as? Double, key) }
        XCTAssertEqual((obj["class_iou"] as? [Double])?.count, 11)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/run/segmentation.png"))
        let seg = try runConvkit(["segment", "--weights", dir + "/run/unet.safetensors", data + "/test/images/test_000000.png", "--out", dir + "/pics"])
        XCTAssertEqual(seg.status, 0, seg.err)
        XCTAssertTrue(seg.out.hasPrefix(data + "/test/images/test_000000.png: "), seg.out)
        for f in ["test_000000_mask.png", "test_000000_overlay.png"] { XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/pics/" + f), f) }
        XCTAssertNotEqual(try runConvkit(["segment", "--weights", dir + "/run/segmentation.png", data + "/test/images/test_000000.png"]).status, 0)
        // A mask value beyond the 11 classes, then a mask of the wrong size: one-line errors naming the file.
        let mask = data + "/test/masks/test_000001.png"
        try PNG.save(PNG.Image(width: 128, height: 128, channels: 1, samples: [UInt16](repeating: 40, count: 128 * 128)), to: mask)
        let bad = try runConvkit(["train", "--task", "segment", "--data", data, "--epochs", "1", "--out", dir + "/run2"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("test_000001.png") && bad.err.contains("0…10"), bad.err)
        try PNG.save(PNG.Image(width: 64, height: 128, channels: 1, samples: [UInt16](repeating: 0, count: 64 * 128)), to: mask)
        let small = try runConvkit(["train", "--task", "segment", "--data", data, "--epochs", "1", "--out", dir + "/run3"])
        XCTAssertTrue(small.err.contains("128×128") && small.status != 0, small.err)
    }
}

final class EdgesCommandLineTests: XCTestCase {
    func testEdgesWritesAPictureAndRejectsUnknownFilters() throws {
        let out = NSTemporaryDirectory() + "convkit-edges-\(getpid()).png"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try runConvkit(["edges", "Data/images/coins.png", "--filter", "scharr", "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        let png = try PNG.load(out)
        XCTAssertEqual(png.width, 384)
        XCTAssertEqual(png.samples.max(), 255)
        let bad = try runConvkit(["edges", "Data/images/coins.png", "--filter", "canny"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("one of vertical, horizontal, sobel"), bad.err)
    }
}

final class VisualizeCommandLineTests: XCTestCase {
    func testFiltersTop9AndLayerErrors() throws {
        let dir = NSTemporaryDirectory() + "convkit-vis-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(try runConvkit(["train", "--epochs", "1", "--augment", "none", "--out", dir]).status, 0)
        let w = dir + "/lenet5.safetensors"
        let f = try runConvkit(["visualize", "filters", "--weights", w, "--layer", "features.0", "--out", dir])
        XCTAssertEqual(f.status, 0, f.err)
        XCTAssertEqual(try PNG.load(dir + "/filters_features.0.png").width, 6 * (5 * 8 + 2))
        let t = try runConvkit(["visualize", "top9", "--weights", w, "--layer", "features.1", "--data", "Data/mnist5k", "--count", "50", "--out", dir])
        XCTAssertEqual(t.status, 0, t.err)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/top9_features.1.png"))
        let bad = try runConvkit(["visualize", "maps", "--weights", w, "--layer", "conv9", "Data/images/coins.png"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("features.0, features.1, features.2, features.3"), bad.err)
        let badConv = try runConvkit(["visualize", "filters", "--weights", w, "--layer", "nope"])
        XCTAssertTrue(badConv.err.contains("features.0") && badConv.status != 0, badConv.err)
    }
}
