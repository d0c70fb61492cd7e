import ConvKit
import Foundation
import XCTest

/// The volume tasks as a user runs them: a tiny 3-D U-Net run, sliding-window segmentation of a larger phantom with
/// its checkpoint (and the same in one pass), a 3-D classifier run, and one-line errors for what does not fit.
final class VolumeCommandLineTests: XCTestCase {
    let dir = NSTemporaryDirectory() + "convkit-volume-\(getpid())"
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testTrainAThreeDimensionalUNetThenSegmentALargerVolumeInWindows() throws {
        let t = try runConvkit(["train", "--task", "volume-segment", "--side", "16", "--train-size", "8", "--epochs", "1", "--out", dir, "--json"])
        XCTAssertEqual(t.status, 0, t.err)
        let o = try lastJSONLine(t.out)
        XCTAssertEqual(o["task"] as? String, "volume-segment")
        XCTAssertEqual((o["class_dice"] as? [Double])?.count, 4)
        let weights = dir + "/unet3d.safetensors"
        XCTAssertTrue(FileManager.default.fileExists(atPath: weights))
        var labels = [[Double]]()
        for mode in [["--window", "16", "--overlap", "0.5"], ["--whole"]] {
            let s = try runConvkit(["volume", "segment", "--weights", weights, "--size", "32", "--out", dir + "/seg", "--json"] + mode)
            XCTAssertEqual(s.status, 0, s.err)
            let r = try lastJSONLine(s.out)
            XCTAssertEqual(r["volume"] as? [Int], [32, 32, 32])
            XCTAssertGreaterThan(r["peak_rss_mb"] as? Double ?? 0, 0)
            XCTAssertNotNil(r["mean_dice"] as? Double)
            if mode[0] == "--window" {
                XCTAssertEqual(r["windows"] as? Int, 27, "starts 0, 8, 16 along each axis")
                XCTAssertEqual(r["accumulator_mb"] as? Double ?? 0, Double(4 * 16 * 32 * 32 * 4) / 1e6, accuracy: 1e-9)
            }
            let npy = try NumPy.load(dir + "/seg/labels.npy")
            XCTAssertEqual(npy.shape, [32, 32, 32])
            labels.append(npy.scalars.map(Double.init))
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/seg/slices.png"))
        }
        // Windows see less context at their borders than one pass does, so the two may differ there — but only there.
        let agree = zip(labels[0], labels[1]).filter { $0 == $1 }.count
        XCTAssertGreaterThan(Double(agree) / Double(labels[0].count), 0.9)
    }

    func testTrainAVolumeClassifier() throws {
        let r = try runConvkit(["train", "--task", "volume", "--side", "16", "--train-size", "9", "--epochs", "1", "--out", dir, "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let o = try lastJSONLine(r.out)
        XCTAssertEqual(o["task"] as? String, "volume")
        XCTAssertEqual(o["test_size"] as? Int, 12)
        XCTAssertNotNil(o["test_accuracy"] as? Double)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/volume_classifier.safetensors"))
    }

    func testVolumeArgumentsThatDoNotFitGiveOneLineErrors() throws {
        let t = try runConvkit(["train", "--task", "volume-segment", "--side", "16", "--train-size", "8", "--epochs", "1", "--out", dir])
        XCTAssertEqual(t.status, 0, t.err)
        let cases: [([String], String)] = [
            (["train", "--task", "volume", "--side", "20"], "divisible by 8"),
            (["train", "--task", "volume", "--train-size", "3"], "8…100000 volumes"),
            (["volume", "segment", "--weights", dir + "/unet3d.safetensors", "--window", "6"], "divisible by 4"),
            (["volume", "segment", "--weights", dir + "/unet3d.safetensors", "--size", "16", "--window", "32"], "at least the window"),
            (["volume", "segment", "--weights", dir + "/unet3d.safetensors", "--size", "32", "--window", "16", "--overlap", "1"], "[0, 1)"),
            (["volume", "segment", "--weights", dir + "/unet3d.safetensors", "--size", "8"], "16…512 voxels"),
            (["volume", "segment", "--weights", "Data/images/coins.png"], "header length"),
        ]
        for (args, message) in cases {
            let r = try runConvkit(args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.err.contains(message), "\(args): \(r.err)")
            XCTAssertNil(crashMarker(in: r.err), "\(args) crashed: \(r.err)"); XCTAssertFalse(r.signaled, "\(args)")
        }
        // A classifier's checkpoint is not a U-Net's.
        let c = try runConvkit(["train", "--task", "volume", "--side", "16", "--train-size", "9", "--epochs", "1", "--out", dir + "/cls"])
        XCTAssertEqual(c.status, 0, c.err)
        let wrong = try runConvkit(["volume", "segment", "--weights", dir + "/cls/volume_classifier.safetensors", "--size", "32"])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.err.contains("volume-segment"), wrong.err)
    }
}
