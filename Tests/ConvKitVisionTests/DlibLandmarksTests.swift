import XCTest
import ConvKit
import ConvKitData
import ConvKitVision

/// dlib's 5-point shape predictor and face chips against dlib 20.0.1's own outputs on the same photos
/// (Golden/dlib/reference.{npz,json}, made by Golden/dlib/make_dlib_reference.py): landmarks from dlib's MMOD box,
/// the 150×150 chips `get_face_chip` cuts from them (padding 0.25), and the embedding of that chip.
final class DlibLandmarksTests: XCTestCase {
    static let data = DlibFaceRecognitionTests.data
    static let predictor: Result<DlibShapePredictor, Error> = Result {
        try DlibShapePredictor(contentsOf: data + "/models/dlib/shape_predictor_5_face_landmarks.dat")
    }
    struct Reference: Decodable {
        struct Image: Decodable { var best_box: [Float]; var landmarks5_on_best: [[Float]] }
        var images: [String: Image]
    }
    static let json = try? JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: Golden.path("dlib/reference.json"))))

    /// The PNGs dlib read (grace_hopper's PNG twin is kept next to the reference: Data/ has the JPEG).
    func image(_ name: String) throws -> Tensor {
        try ImageFile.load(name == "grace_hopper" ? Golden.path("dlib/grace_hopper.png") : Self.data + "/images/\(name).png")
    }

    func testTheModelHasFivePointsAndFifteenLevelsOf500Trees() throws {
        let p = try Self.predictor.get()
        XCTAssertEqual(p.partCount, 5)
        XCTAssertEqual(p.levelCount, 15)
        XCTAssertEqual(p.treeCount, 7_500)
    }

    func testLandmarksEqualDlibsOnBothPhotos() throws {
        let p = try Self.predictor.get(), ref = try XCTUnwrap(Self.json)
        for name in ["astronaut", "grace_hopper"] {
            let r = try XCTUnwrap(ref.images[name])
            let points = try p.landmarks(in: try image(name), box: r.best_box)
            for (mine, theirs) in zip(points, r.landmarks5_on_best) {
                XCTAssertLessThanOrEqual(abs(mine[0] - theirs[0]), 0, "\(name) \(mine) vs dlib \(theirs)")
                XCTAssertLessThanOrEqual(abs(mine[1] - theirs[1]), 0, "\(name) \(mine) vs dlib \(theirs)")
            }
        }
    }

    func testChipsAndTheirEmbeddingsMatchDlibsCutFromThePhoto() throws {
        let ref = try XCTUnwrap(Self.json), net = try DlibFaceRecognitionTests.network.get()
        for name in ["astronaut", "grace_hopper"] {
            let landmarks = try XCTUnwrap(ref.images[name]).landmarks5_on_best
            let chip = try DlibFaceChip.chip(try image(name), landmarks: landmarks)
            let theirs = Golden.array(DlibFaceRecognitionTests.reference, "\(name)_chip").permuted([2, 0, 1])
            let diff = (chip - theirs).abs()
            XCTAssertLessThanOrEqual(diff.max().scalars[0], 1, "\(name): every pixel within one 8-bit step (float rounding at the truncation)")
            XCTAssertLessThan(diff.mean().scalars[0], 0.01, "\(name): nearly every pixel equal")
            let e = try net.embed(chip).reshaped([128])
            XCTAssertLessThan(e.maxAbsDifference(Golden.array(DlibFaceRecognitionTests.reference, "\(name)_embedding_from_image")), 1e-4, name)
        }
    }

    func testChipsOfAbsurdLandmarksAreRefused() throws {
        let far: [[Float]] = [[0, 0], [1e9, 0], [-1e9, 0], [0, 1e9], [5, 5]]
        XCTAssertThrowsError(try DlibFaceChip.chip(Tensor.zeros([3, 10, 10]), landmarks: far)) { XCTAssertTrue("\($0)".contains("chip scale"), "\($0)") }
        XCTAssertThrowsError(try DlibFaceChip.chip(Tensor.zeros([3, 10, 10]), landmarks: [[1, 1], [2, 2]]))
    }

    func testCorruptAndTruncatedFilesNameTheOffsetAndRecord() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.data + "/models/dlib/shape_predictor_5_face_landmarks.dat")))
        XCTAssertThrowsError(try DlibShapePredictor(bytes: Array(bytes[0..<5000]), path: "cut.dat")) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("cut.dat") && m.contains("at byte 5000") && m.contains("tree"), m)
        }
        var bad = bytes
        bad[0] = 0x7F
        XCTAssertThrowsError(try DlibShapePredictor(bytes: bad, path: "bad.dat")) { e in XCTAssertTrue("\(e)".contains("at byte 0"), "\(e)") }
        XCTAssertThrowsError(try DlibShapePredictor(bytes: [], path: "empty.dat"))
    }
}
