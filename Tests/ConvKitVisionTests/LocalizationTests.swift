import ConvKit
import ConvKitData
import ConvKitModels
import ConvKitVision
import XCTest

final class LocalizationTests: XCTestCase {
    func testTargetsDecodeBackAndLandmarksAreInkExtremes() throws {
        let digits = try Datasets.idxFolder(DatasetTests.repo + "/Data/mnist5k")
        let task = DigitLocalization()
        let samples = task.generate(from: digits.test, count: 40, seed: 9, split: "test")
        XCTAssertEqual(samples.map(\.image), task.generate(from: digits.test, count: 40, seed: 9, split: "test").map(\.image))
        XCTAssertTrue(samples.contains { !$0.present } && samples.contains { $0.present })
        for s in samples {
            let y = task.target(s)
            XCTAssertEqual(y.count, 5 + 10 + 8)
            guard s.present else { XCTAssertEqual(y, [Float](repeating: 0, count: 23)); continue }
            XCTAssertEqual(y[0], 1)
            XCTAssertEqual(y[5 + s.digit], 1)
            let p = task.decode(y)
            XCTAssertTrue(p.present); XCTAssertEqual(p.digit, s.digit)
            XCTAssertGreaterThan(BoxOverlap.iou(p.box, s.box).scalar, 0.9999)
            for (a, b) in zip(p.landmarks, s.landmarks) { XCTAssertEqual(a.x, b.x, accuracy: 1e-4); XCTAssertEqual(a.y, b.y, accuracy: 1e-4) }
            // Topmost landmark on the box's top row, bottommost on its bottom row, left/right on its sides.
            let (x1, y1, x2, y2) = s.box[0]
            XCTAssertEqual(s.landmarks[0].y, y1 + 0.5); XCTAssertEqual(s.landmarks[1].y, y2 - 0.5)
            XCTAssertEqual(s.landmarks[2].x, x1 + 0.5); XCTAssertEqual(s.landmarks[3].x, x2 - 0.5)
        }
        let m = task.metrics(samples, samples.map { task.decode(task.target($0)) })
        XCTAssertEqual(m.classAccuracy, 1); XCTAssertEqual(m.landmarkErrorPixels, 0, accuracy: 1e-4); XCTAssertEqual(m.meanBoxIoU, 1, accuracy: 1e-4)
    }

    func testLocalizerLearnsOnAFewCanvases() throws {
        let digits = try Datasets.idxFolder(DatasetTests.repo + "/Data/mnist5k")
        let task = DigitLocalization()
        let s = task.generate(from: digits.train, count: 32, seed: 1, split: "train")
        ConvKitRandom.seed(3)
        let net = Localizer(classes: 10, landmarks: 4)
        let x = Tensor.stack(s.map { $0.image * (1 / 255) }, axis: 0), y = Tensor(shape: [32, 23], scalars: s.flatMap { task.target($0) })
        let opt = Optimizer(.adam(), module: net, learningRate: 3e-3)
        var first: Float = 0, last: Float = 0
        for step in 0..<40 {
            opt.zeroGrad()
            let l = Loss.maskedLocalization(net(Variable(x)), y)
            l.backward(); opt.step()
            if step == 0 { first = l.value.scalar }
            last = l.value.scalar
        }
        XCTAssertLessThan(last, first * 0.3, "the masked loss falls when fitting 32 canvases")
    }
}
