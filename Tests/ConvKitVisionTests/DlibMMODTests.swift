import XCTest
import ConvKit
import ConvKitData
import ConvKitVision

/// dlib's MMOD CNN face detector read from its own file, against dlib 20.0.1's detections on the same photos
/// (Golden/dlib/reference.json: `cnn_face_detection_model_v1(img, 0)`, boxes [left, top, right, bottom, confidence]).
final class DlibMMODTests: XCTestCase {
    static let detector: Result<DlibMMODDetector, Error> = Result {
        try DlibMMODDetector(contentsOf: DlibFaceRecognitionTests.data + "/models/dlib/mmod_human_face_detector.dat")
    }
    struct Reference: Decodable {
        struct Image: Decodable { var mmod_upsample0: [[Double]] }
        var images: [String: Image]
    }

    func testTheFileParsesIntoDlibsDetector() throws {
        let file = try DlibNetworkFile.load(DlibFaceRecognitionTests.data + "/models/dlib/mmod_human_face_detector.dat")
        guard case let .mmod(o) = file.loss else { return XCTFail("an MMOD loss") }
        XCTAssertEqual(o.windows.map { [$0.width, $0.height] }, [[80, 80]])
        XCTAssertEqual(o.nms.covered, 1)
        XCTAssertEqual(file.input, .rgbPyramid(average: [122.782, 117.001, 104.298], padding: 10, outerPadding: 11))
        XCTAssertEqual(file.layers.map(\.name), Array(repeating: ["con", "affine", "relu"], count: 6).flatMap { $0 } + ["con"])
        let d = try Self.detector.get()
        XCTAssertEqual(d.convs.map(\.outputChannels), [16, 32, 32, 45, 45, 45, 1])
    }

    func testTheTiledPyramidFollowsDlibsLayout() {
        // 512×512 with pyramid_down<6>: 512, 426, 355, 295, 245, 204, 170, 141, 117, 97, 80, 66, 55, 45, 37, …, 5 rows.
        let p = TiledPyramid(height: 512, width: 512, n: 6, padding: 10, outerPadding: 11)
        XCTAssertEqual(Array(p.levels.prefix(4).map(\.height)), [512, 426, 355, 295])
        XCTAssertEqual(p.levels[0], .init(left: 11, top: 11, width: 512, height: 512))
        XCTAssertEqual(p.levels[1], .init(left: 11, top: 533, width: 426, height: 426))
        XCTAssertEqual(p.columns, 534)
        for (i, a) in p.levels.enumerated() {
            XCTAssertTrue(a.left >= 0 && a.top >= 0 && a.left + a.width <= p.columns && a.top + a.height <= p.rows, "level \(i) inside")
            for b in p.levels[(i + 1)...] {
                let apart = a.left + a.width <= b.left || b.left + b.width <= a.left || a.top + a.height <= b.top || b.top + b.height <= a.top
                XCTAssertTrue(apart, "levels do not overlap: \(a) \(b)")
            }
        }
        XCTAssertTrue(TiledPyramid(height: 4, width: 100, n: 6, padding: 10, outerPadding: 11).levels.count == 1)
        XCTAssertTrue(TiledPyramid(height: 0, width: 0, n: 6, padding: 10, outerPadding: 11).levels.isEmpty)
    }

    func testDetectionsEqualDlibsOnBothPhotos() throws {
        let d = try Self.detector.get()
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: Golden.path("dlib/reference.json"))))
        for name in ["astronaut", "grace_hopper"] {
            let path = name == "grace_hopper" ? Golden.path("dlib/grace_hopper.png") : DlibFaceRecognitionTests.data + "/images/astronaut.png"
            let found = try d.detect(try ImageFile.load(path))
            let theirs = try XCTUnwrap(ref.images[name]).mmod_upsample0
            XCTAssertEqual(found.count, theirs.count, "\(name): \(found)")
            for (mine, t) in zip(found, theirs) {
                for j in 0..<4 { XCTAssertLessThanOrEqual(abs(Double(mine.box[j]) - t[j]), 0, "\(name) box \(mine.box) vs dlib \(t)") }
                XCTAssertEqual(Double(mine.score), t[4], accuracy: 1e-4, name)
            }
        }
        XCTAssertTrue(try d.detect(try ImageFile.load(DlibFaceRecognitionTests.data + "/images/coins.png")).isEmpty, "no face among coins")
        XCTAssertTrue(try d.detect(Tensor.zeros([3, 3, 3])).isEmpty, "too small for any window")
    }
}
