import ConvKit
import ConvKitData
import ConvKitVision
import Foundation
import XCTest

final class DatasetTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func mnist() throws -> DatasetSplits { try Datasets.idxFolder(Self.repo + "/Data/mnist5k") }

    func testGeneratorIsDeterministicAndBoxesAreTightInk() throws {
        let digits = try mnist()
        let g = DigitsCanvas()
        let a = g.generate(from: digits.test, count: 12, seed: 4, split: "test"), b = g.generate(from: digits.test, count: 12, seed: 4, split: "test")
        XCTAssertEqual(a.map(\.sample.image), b.map(\.sample.image))
        XCTAssertEqual(a.map(\.sample.boxes), b.map(\.sample.boxes))
        XCTAssertNotEqual(a.map(\.sample.image), g.generate(from: digits.test, count: 12, seed: 5, split: "test").map(\.sample.image))
        for c in a {
            let s = c.sample
            XCTAssertTrue((1...6).contains(s.boxes.count))
            XCTAssertEqual(s.image.shape, [1, 128, 128])
            for i in 0..<s.boxes.count {
                let (x1, y1, x2, y2) = s.boxes[i]
                XCTAssertTrue((12...64).contains(Int(max(x2 - x1, y2 - y1))) || max(x2 - x1, y2 - y1) < 12, "longer side within the scale range")
                // Every mask pixel of this class inside the box; the box's border rows/columns hold some.
                var rows = Set<Int>(), cols = Set<Int>()
                for y in Int(y1)..<Int(y2) { for x in Int(x1)..<Int(x2) where c.mask[y * 128 + x] == UInt8(s.classes[i] + 1) { rows.insert(y); cols.insert(x) } }
                XCTAssertEqual(rows.min(), Int(y1)); XCTAssertEqual(rows.max(), Int(y2) - 1)
                XCTAssertEqual(cols.min(), Int(x1)); XCTAssertEqual(cols.max(), Int(x2) - 1)
            }
            // Boxes keep apart: no two overlap.
            let iou = BoxOverlap.iou(s.boxes, s.boxes)
            for i in 0..<s.boxes.count { for j in 0..<s.boxes.count where i != j { XCTAssertEqual(iou.scalars[i * s.boxes.count + j], 0) } }
        }
    }

    func testWrittenSetReadsBackAsYOLOAndCOCO() throws {
        let dir = NSTemporaryDirectory() + "ck-digits-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try DigitsCanvas().write(to: dir, digits: try mnist(), trainCount: 6, testCount: 3, seed: 2)
        let train = try YOLOFolder.load(dir, split: "train")
        XCTAssertEqual(train.count, 6)
        XCTAssertEqual(train.classNames, (0..<10).map(String.init))
        let original = DigitsCanvas().generate(from: try mnist().train, count: 6, seed: 2, split: "train")
        for (r, o) in zip(train.samples, original) {
            XCTAssertEqual(r.image, o.sample.image)
            XCTAssertEqual(r.classes, o.sample.classes)
            for (u, v) in zip(r.boxes.coordinates, o.sample.boxes.coordinates) { XCTAssertEqual(u, v, accuracy: 1e-3, "YOLO labels keep 6 decimals") }
        }
        let coco = try COCODataset.load(dir + "/test/annotations.json")
        XCTAssertEqual(coco.images.count, 3)
        XCTAssertEqual(coco.categories.count, 10)
        let mask = try PNG.load(dir + "/test/masks/test_000000.png")
        XCTAssertEqual(mask.width, 128)
        XCTAssertLessThanOrEqual(mask.samples.max() ?? 0, 10)
        // Perfect detections score AP 1 with the evaluator.
        let perfect = coco.annotations.map { COCODetection(imageId: $0.imageId, categoryId: $0.categoryId, bbox: $0.bbox, score: 1) }
        XCTAssertEqual(try COCOEvaluator().evaluate(groundTruth: coco, detections: perfect).summary["AP"], 1, accuracy: 1e-12)
    }

    func testCOCOFolderLoadsLikeTheYOLOFolderAndNamesMissingImages() throws {
        let dir = NSTemporaryDirectory() + "ck-coco-folder-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try DigitsCanvas().write(to: dir, digits: try mnist(), trainCount: 2, testCount: 4, seed: 5)
        let yolo = try YOLOFolder.load(dir, split: "test")
        try FileManager.default.removeItem(atPath: dir + "/test/labels")
        let coco = try DetectionFolder.load(dir, split: "test")
        XCTAssertEqual(coco.count, 4)
        XCTAssertEqual(coco.classNames, yolo.classNames)
        for (a, b) in zip(coco.samples, yolo.samples) {
            XCTAssertEqual(a.image, b.image)
            XCTAssertEqual(a.classes, b.classes)
            for (u, v) in zip(a.boxes.coordinates, b.boxes.coordinates) { XCTAssertEqual(u, v, accuracy: 1e-3) }
        }
        try FileManager.default.removeItem(atPath: dir + "/test/images/test_000002.png")
        XCTAssertThrowsError(try DetectionFolder.load(dir, split: "test")) { e in
            XCTAssertTrue("\(e)".contains("images[2]") && "\(e)".contains("test_000002.png"), "\(e)")
        }
    }

    func testMalformedYOLOLabelsNameTheLine() throws {
        let cases: [(String, String)] = [
            ("0 0.5 0.5 0.2", "line 1: 5 fields"),
            ("0 0.5 0.5 0.2 0.2\n-1 0.5 0.5 0.2 0.2", "line 2: a class index ≥ 0"),
            ("12 0.5 0.5 0.2 0.2", "below 10"),
            ("3 0.5 nan 0.2 0.2", "four finite numbers"),
            ("3 0.5 0.5 -0.2 0.2", "w, h in (0, 1]"),
            ("3 0.5 0.5 0.2 1e9", "w, h in (0, 1]"),
            ("x 0.5 0.5 0.2 0.2", "a class index"),
        ]
        for (text, needle) in cases {
            XCTAssertThrowsError(try YOLOFolder.parseLabels(text, path: "l.txt", classCount: 10, width: 100, height: 100)) { e in
                XCTAssertTrue("\(e)".contains(needle) && "\(e)".contains("l.txt"), "\(e)")
            }
        }
        let (b, c) = try YOLOFolder.parseLabels("1 0.5 0.5 0.2 0.4\n\n", path: "ok.txt", classCount: 10, width: 100, height: 50)
        XCTAssertEqual(c, [1])
        for (u, v) in zip(b.coordinates, [40, 15, 60, 35] as [Float]) { XCTAssertEqual(u, v, accuracy: 1e-4) }
        XCTAssertThrowsError(try YOLOFolder.load("/nonexistent", split: "train"))
    }

    func testDrawingPutsBoxesAndTextOnTheImage() {
        let img = Drawing.detections(on: Tensor.zeros([1, 40, 40]), boxes: BoxSet(rows: [[10, 20, 30, 35]]), labels: ["7 0.93"], classes: [0])
        XCTAssertEqual(img.shape, [3, 40, 40])
        let c = Drawing.color(0)
        XCTAssertEqual(img[0, 34, 10], c.r)   // bottom-left corner of the outline
        XCTAssertEqual(img[0, 27, 20], 0)     // inside the box: untouched
        XCTAssertGreaterThan(img.scalars.filter { $0 > 0 }.count, 100, "a tag with text above the box")
        XCTAssertEqual(Drawing.textWidth("7 0.93"), 23)
    }
}
