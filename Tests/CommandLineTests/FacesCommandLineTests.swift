import ConvKit
import ConvKitData
import Foundation
import XCTest

/// `convkit faces detect` and `bench --pipeline mtcnn` as a user runs them.
final class FacesCommandLineTests: XCTestCase {
    let dir = NSTemporaryDirectory() + "convkit-faces-\(getpid())"
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testDetectPrintsFacesAsJSONAndDrawsThem() throws {
        let r = try runConvkit(["faces", "detect", "Data/images/grace_hopper.jpg", "Data/images/coins.png", "--json", "--out", dir,
                                "--chips", dir + "/chips", "--chip-size", "96"])
        XCTAssertEqual(r.status, 0, r.err)
        let obj = try lastJSONLine(r.out)
        let faces = try XCTUnwrap(obj["faces"] as? [[String: Any]])
        XCTAssertEqual(faces.count, 1, "one face in the portrait, none among the coins")
        XCTAssertEqual(faces[0]["image"] as? String, "Data/images/grace_hopper.jpg")
        XCTAssertEqual((faces[0]["box"] as? [Double])?.count, 4)
        XCTAssertEqual((faces[0]["landmarks"] as? [[Double]])?.count, 5)
        XCTAssertGreaterThan(faces[0]["score"] as? Double ?? 0, 0.99)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/grace_hopper_faces.png"))
        XCTAssertEqual(try PNG.load(dir + "/chips/grace_hopper_face0.png").width, 96)
        let bench = try runConvkit(["bench", "--pipeline", "mtcnn", "--image", "Data/images/astronaut.png", "--seconds", "0.05", "--json"])
        XCTAssertEqual(bench.status, 0, bench.err)
        let b = try lastJSONLine(bench.out)
        XCTAssertEqual(b["pipeline"] as? String, "mtcnn")
        XCTAssertGreaterThan(b["ms"] as? Double ?? 0, 0)
    }

    func testBadArgumentsAndFilesGiveErrors() throws {
        let cases: [([String], String)] = [
            (["faces", "detect", "Data/images/astronaut.png", "--thresholds", "0.6,0.7"], "three numbers"),
            (["faces", "detect", "Data/images/astronaut.png", "--detector", "haar"], "mtcnn"),
            (["faces", "detect", "nosuch.jpg"], "nosuch.jpg"),
            (["faces", "detect", "README.md"], "README.md"),
            (["faces", "detect", "Data/images/astronaut.png", "--weights", "Data"], "pnet.npz"),
            (["faces", "detect", "Data/images/astronaut.png", "--min-size", "3"], "--min-size"),
        ]
        for (args, message) in cases {
            let r = try runConvkit(args)
            XCTAssertNotEqual(r.status, 0, args.joined(separator: " "))
            XCTAssertTrue(r.err.split(separator: "\n").first?.contains(message) ?? false, "\(args): \(r.err)")
        }
    }

    func testSiameseTrainingReportsVerificationOnHeldOutClasses() throws {
        let r = try runConvkit(["train", "--task", "siamese", "--epochs", "1", "--out", dir, "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let obj = try lastJSONLine(r.out)
        XCTAssertEqual(obj["task"] as? String, "siamese")
        for key in ["auc", "eer", "verification_accuracy", "oneshot_accuracy", "seen_classes_auc", "wall_seconds"] {
            XCTAssertNotNil(obj[key] as? Double, key)
        }
        XCTAssertGreaterThan(obj["auc"] as! Double, 0.5, "better than chance after one epoch")
        XCTAssertTrue(r.err.contains("mean pairwise distance"), "the collapse monitor is logged")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/siamese.safetensors"))
        for (args, message) in [(["--loss", "arcface"], "triplet, contrastive or pairs"), (["--mining", "easy"], "batch-hard or semi-hard"),
                                (["--margin", "0"], "(0, 10]")] {
            let bad = try runConvkit(["train", "--task", "siamese", "--epochs", "1", "--out", dir] + args)
            XCTAssertNotEqual(bad.status, 0)
            XCTAssertTrue(bad.err.contains(message), "\(args): \(bad.err)")
        }
    }
}

/// `faces detect --detector mmod` and `faces embed --detector mmod`: dlib's whole pipeline from the command line,
/// against dlib's own outputs (Tests/ConvKitVisionTests/Golden/dlib/reference.{json,npz}).
final class DlibFacesCommandLineTests: XCTestCase {
    func testMMODDetectionLandmarksAndEmbeddingEqualDlibs() throws {
        let r = try runConvkit(["faces", "detect", "--detector", "mmod", "Data/images/astronaut.png", "Data/images/coins.png", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let faces = try XCTUnwrap(try lastJSONLine(r.out)["faces"] as? [[String: Any]])
        XCTAssertEqual(faces.count, 1, "the astronaut, no coin")
        XCTAssertEqual(faces[0]["box"] as? [Double], [168, 69, 263, 164], "dlib's box")
        XCTAssertEqual(faces[0]["landmarks"] as? [[Double]], [[255, 104], [237, 105], [195, 101], [212, 103], [224, 135]], "dlib's landmarks")
        XCTAssertEqual(faces[0]["score"] as? Double ?? 0, 1.0625124, accuracy: 1e-4)
        let e = try runConvkit(["faces", "embed", "--detector", "mmod", "Data/images/astronaut.png", "--json"])
        XCTAssertEqual(e.status, 0, e.err)
        let mine = try XCTUnwrap((try lastJSONLine(e.out)["embeddings"] as? [[String: Any]])?.first?["embedding"] as? [Double])
        let reference = try NumPy.loadArchive("Tests/ConvKitVisionTests/Golden/dlib/reference.npz")
        let theirs = try XCTUnwrap(reference["astronaut_embedding_from_image"]).scalars
        XCTAssertEqual(mine.count, 128)
        XCTAssertLessThan(zip(mine, theirs).map { abs($0 - Double($1)) }.max() ?? 1, 1e-4, "dlib's compute_face_descriptor(img, shape)")
    }
}
