import XCTest
import ConvKit
import ConvKitData
import ConvKitVision

final class FaceAlignmentTests: XCTestCase {
    let points: [[Float]] = [[10, 12], [40, 11], [26, 30], [14, 44], [38, 45]]

    func testEstimateRecoversAKnownSimilarityExactly() throws {
        let t = SimilarityTransform(a: 1.7 * cos(0.4), b: 1.7 * sin(0.4), tx: -13, ty: 28.5)
        let fit = try SimilarityTransform.estimate(from: points, to: points.map(t.apply))
        XCTAssertEqual(fit.a, t.a, accuracy: 1e-4); XCTAssertEqual(fit.b, t.b, accuracy: 1e-4)
        XCTAssertEqual(fit.tx, t.tx, accuracy: 1e-3); XCTAssertEqual(fit.ty, t.ty, accuracy: 1e-3)
        XCTAssertEqual(fit.scale, 1.7, accuracy: 1e-4)
        for p in points {
            let back = fit.inverse.apply(fit.apply(p))
            XCTAssertEqual(back[0], p[0], accuracy: 1e-3); XCTAssertEqual(back[1], p[1], accuracy: 1e-3)
        }
    }

    /// With noisy targets the fit is the least-squares one: no small change of its parameters lowers the error.
    func testEstimateIsTheLeastSquaresFit() throws {
        var rng = SeededGenerator(seed: 4)
        let noise = Tensor.normal([10], std: 1.5, rng: &rng).scalars
        let target = points.enumerated().map { i, p in [p[0] * 0.9 + 5 + noise[2 * i], p[1] * 0.9 - 3 + noise[2 * i + 1]] }
        let fit = try SimilarityTransform.estimate(from: points, to: target)
        func error(_ t: SimilarityTransform) -> Float {
            zip(points, target).map { p, q in let r = t.apply(p); return (r[0] - q[0]) * (r[0] - q[0]) + (r[1] - q[1]) * (r[1] - q[1]) }.reduce(0, +)
        }
        let best = error(fit)
        for d: Float in [-0.01, 0.01] {
            for t in [SimilarityTransform(a: fit.a + d, b: fit.b, tx: fit.tx, ty: fit.ty), SimilarityTransform(a: fit.a, b: fit.b + d, tx: fit.tx, ty: fit.ty),
                      SimilarityTransform(a: fit.a, b: fit.b, tx: fit.tx + 10 * d, ty: fit.ty), SimilarityTransform(a: fit.a, b: fit.b, tx: fit.tx, ty: fit.ty + 10 * d)] {
                XCTAssertGreaterThan(error(t), best)
            }
        }
        XCTAssertThrowsError(try SimilarityTransform.estimate(from: [[1, 1], [1, 1]], to: [[0, 0], [2, 2]]))
        XCTAssertThrowsError(try SimilarityTransform.estimate(from: points, to: Array(points.prefix(3))))
    }

    /// Integer translations copy pixels; a quarter turn about a pixel moves a marked pixel where it should.
    func testWarpSamplesBilinearlyWithZeroOutside() {
        var img = Tensor.zeros([1, 6, 8])
        for i in 0..<48 { img.scalars[i] = Float(i) }
        let shifted = FaceAlignment.warp(img, by: SimilarityTransform(a: 1, b: 0, tx: -2, ty: -1), width: 8, height: 6)
        XCTAssertEqual(shifted.scalars[0], img.scalars[1 * 8 + 2])          // (0,0) ← (2,1)
        XCTAssertEqual(shifted.scalars[5 * 8 + 7], 0, "outside the image is zero")
        let half = FaceAlignment.warp(img, by: SimilarityTransform(a: 1, b: 0, tx: -0.5, ty: 0), width: 8, height: 6)
        XCTAssertEqual(half.scalars[0], (img.scalars[0] + img.scalars[1]) / 2, accuracy: 1e-5)
        var dot = Tensor.zeros([1, 9, 9])
        dot.scalars[2 * 9 + 6] = 1                                         // (x 6, y 2)
        let quarter = SimilarityTransform(a: 0, b: 1, tx: 8, ty: 0)        // (x, y) → (8 − y, x): 90° about (4, 4)
        let turned = FaceAlignment.warp(dot, by: quarter, width: 9, height: 9)
        XCTAssertEqual(turned.scalars[6 * 9 + 6], 1, accuracy: 1e-5)       // (6, 2) → (8 − 2, 6)
        XCTAssertEqual(turned.sum().scalar, 1, accuracy: 1e-5)
    }

    /// A chip of the bundled portrait: MTCNN run again on the chip finds the landmarks near the template.
    func testChipsPutTheLandmarksOnTheTemplate() throws {
        let data = MTCNNTests.data
        let mtcnn = try MTCNN(directory: data + "/models/mtcnn")
        let image = try ImageFile.load(data + "/images/grace_hopper.jpg")
        let face = try XCTUnwrap(try mtcnn.detect(image).first)
        let chip = try FaceAlignment.chip(image, landmarks: face.landmarks, size: 112)
        XCTAssertEqual(chip.shape, [3, 112, 112])
        let again = try XCTUnwrap(try mtcnn.detect(chip).first, "the face is found again in its chip")
        for (p, q) in zip(again.landmarks, FaceAlignment.template112) {
            XCTAssertLessThan(hypot(p[0] - q[0], p[1] - q[1]), 4, "landmark \(p) vs template \(q)")
        }
    }
}
