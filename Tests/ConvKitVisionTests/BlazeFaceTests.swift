import ConvKit
import XCTest
@testable import ConvKitVision

/// BlazeFace's anchors, decoding and weighted NMS against MediaPipe's definitions, on hand-made outputs.
final class BlazeFaceTests: XCTestCase {
    func testAnchorsFollowMediaPipesGenerator() {
        let a = BlazeFace.ssdAnchors()
        XCTAssertEqual(a.count, 896, "16·16·2 + 8·8·6")
        XCTAssertEqual(a[0], BlazeFace.Anchor(x: 0.5 / 16, y: 0.5 / 16, w: 1, h: 1))
        XCTAssertEqual(a[1], a[0], "two anchors per stride-8 cell")
        XCTAssertEqual(a[2].x, 1.5 / 16)
        XCTAssertEqual(a[511], BlazeFace.Anchor(x: 15.5 / 16, y: 15.5 / 16, w: 1, h: 1))
        XCTAssertEqual(a[512], BlazeFace.Anchor(x: 0.5 / 8, y: 0.5 / 8, w: 1, h: 1), "the three stride-16 layers share one 8×8 map")
        XCTAssertEqual(Set(a[512..<518].map(\.x)).count, 1, "six anchors per stride-16 cell")
        XCTAssertEqual(a[895], BlazeFace.Anchor(x: 7.5 / 8, y: 7.5 / 8, w: 1, h: 1))
        XCTAssertEqual(BlazeFace.ssdAnchors(inputSize: 256).count, 4 * 896, "the map sides follow the input")
    }

    func testDecodingAppliesTheAnchorAndScoreThreshold() throws {
        let detector = BlazeFace { _ in fatalError("not run") }
        var r = [Float](repeating: 0, count: 896 * 16), s = [Float](repeating: -10, count: 896)
        // anchor 600: centre shifted by (+16, −8) input pixels, 32×48 box, keypoint 0 at +4 px right of the centre
        let k = 600, anchor = detector.anchors[k]
        r[k * 16 + 0] = 16; r[k * 16 + 1] = -8; r[k * 16 + 2] = 32; r[k * 16 + 3] = 48; r[k * 16 + 4] = 4
        s[k] = 2
        s[7] = -0.1   // σ(−0.1) < 0.5: dropped
        let faces = try detector.decode(regressors: Tensor(shape: [1, 896, 16], scalars: r), scores: Tensor(shape: [1, 896, 1], scalars: s))
        XCTAssertEqual(faces.count, 1)
        let f = faces[0]
        let cx = anchor.x + 16 / 128, cy = anchor.y - 8 / 128
        XCTAssertEqual(f.box[0], cx - 16 / 128, accuracy: 1e-6)
        XCTAssertEqual(f.box[3], cy + 24 / 128, accuracy: 1e-6)
        XCTAssertEqual(f.score, 1 / (1 + exp(-2)), accuracy: 1e-6)
        XCTAssertEqual(f.landmarks.count, 6)
        XCTAssertEqual(f.landmarks[0][0], anchor.x + 4 / 128, accuracy: 1e-6)
        XCTAssertEqual(f.landmarks[1][1], anchor.y, accuracy: 1e-6)
        XCTAssertThrowsError(try detector.decode(regressors: Tensor.zeros([1, 10, 16]), scores: Tensor.zeros([1, 10, 1])))
    }

    func testWeightedNMSAveragesOverlappingDetectionsByScore() {
        let a = Face(box: [0, 0, 10, 10], score: 0.9, landmarks: [[2, 2]])
        let b = Face(box: [1, 1, 11, 11], score: 0.6, landmarks: [[3, 4]])   // IoU 81/119 with a
        let far = Face(box: [50, 50, 60, 60], score: 0.7, landmarks: [[55, 55]])
        let out = BlazeFace.weightedNMS([b, far, a], threshold: 0.3)
        XCTAssertEqual(out.count, 2)
        XCTAssertEqual(out[0].score, 0.9, "the best score is kept")
        for (got, want) in zip(out[0].box, [0.4, 0.4, 10.4, 10.4] as [Float]) { XCTAssertEqual(got, want, accuracy: 1e-5) }
        XCTAssertEqual(out[0].landmarks[0][1], (0.9 * 2 + 0.6 * 4) / 1.5, accuracy: 1e-5)
        XCTAssertEqual(out[1], far)
        XCTAssertEqual(BlazeFace.weightedNMS([a, b], threshold: 0.7).count, 2, "IoU 0.68 is under a 0.7 threshold")
    }

    func testLetterboxKeepsTheAspectRatioAndMapsBack() {
        let image = Tensor(shape: [3, 60, 120]) { o in for i in 0..<(3 * 60 * 120) { o[i] = 255 } }
        let (x, scale, padX, padY) = BlazeFace.letterbox(image, size: 128)
        XCTAssertEqual(x.shape, [1, 128, 128, 3])
        XCTAssertEqual(scale, 128 / 120, accuracy: 1e-6)
        XCTAssertEqual(padX, 0); XCTAssertEqual(padY, 32)
        XCTAssertEqual(x.scalars[0], -1, "the border is black")
        XCTAssertEqual(x.scalars[(64 * 128 + 64) * 3], 1, accuracy: 1e-5, "white maps to 1")
    }

    func testTheMeshRegionIsTheSquaredEnlargedBoxAlongTheEyeLine() {
        // eyes on a 45° line: the crop's x axis follows it
        let face = Face(box: [100, 100, 140, 160], score: 1, landmarks: [[110, 120], [130, 140]])
        let t = FaceMesh.regionOfInterest(face)
        XCTAssertEqual(t.scale * 192, 60 * 1.5, accuracy: 1e-3, "longer side 60, enlarged 1.5×")
        let centre = t.apply([96, 96])
        XCTAssertEqual(centre[0], 120, accuracy: 1e-3); XCTAssertEqual(centre[1], 130, accuracy: 1e-3)
        let right = t.apply([192, 96])
        XCTAssertEqual(right[0] - centre[0], right[1] - centre[1], accuracy: 1e-3, "crop x runs along the eye line")
    }
}
