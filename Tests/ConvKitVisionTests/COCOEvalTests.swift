import ConvKit
import ConvKitVision
import Foundation
import XCTest

final class COCOEvalTests: XCTestCase {
    func testMatchesPycocotoolsOnEveryFixture() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Golden.path("coco/expected.json")))
        let expected = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: [String: [String: Double]]])
        XCTAssertEqual(expected.count, 8)
        for (name, e) in expected.sorted(by: { $0.key < $1.key }) {
            let gt = try COCODataset.load(Golden.path("coco/\(name)_gt.json"))
            let dt = try COCODetection.load(Golden.path("coco/\(name)_dt.json"))
            let r = try COCOEvaluator().evaluate(groundTruth: gt, detections: dt)
            for key in COCOEvaluator.Summary.names {
                XCTAssertEqual(r.summary[key], try XCTUnwrap(e["stats"]?[key]), accuracy: 1e-9, "\(name) \(key)")
            }
            for (cat, ap) in try XCTUnwrap(e["per_category_ap"]) {
                XCTAssertEqual(r.perCategoryAP[Int(cat)!] ?? -2, ap, accuracy: 1e-9, "\(name) category \(cat)")
            }
        }
    }

    func testPerfectAndEmptyDetections() throws {
        let gt = COCODataset(images: [.init(id: 1, fileName: "a", width: 100, height: 100), .init(id: 2, fileName: "b", width: 100, height: 100)],
                             categories: [.init(id: 1, name: "x")],
                             annotations: [.init(id: 1, imageId: 1, categoryId: 1, bbox: [10, 10, 20, 20]),
                                           .init(id: 2, imageId: 2, categoryId: 1, bbox: [50, 50, 40, 40])])
        let perfect = gt.annotations.map { COCODetection(imageId: $0.imageId, categoryId: 1, bbox: $0.bbox, score: 0.9) }
        let r = try COCOEvaluator().evaluate(groundTruth: gt, detections: perfect)
        XCTAssertEqual(r.summary["AP"], 1, accuracy: 1e-12)
        XCTAssertEqual(r.summary["APs"], 1, accuracy: 1e-12)
        XCTAssertEqual(r.summary["APl"], -1, "no large ground truth: undefined, as pycocotools reports it")
        XCTAssertEqual(try COCOEvaluator().evaluate(groundTruth: gt, detections: []).summary["AP"], 0)
        XCTAssertThrowsError(try COCOEvaluator().evaluate(groundTruth: gt, detections: [COCODetection(imageId: 9, categoryId: 1, bbox: [0, 0, 1, 1], score: 1)]))
    }

    func testMalformedFilesNameTheRecord() throws {
        let dir = NSTemporaryDirectory() + "ck-coco-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let cases: [(String, String)] = [
            (#"{"images": [], "categories": []}"#, "key \"annotations\""),
            (#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, -3, 4]}]}"#, "annotations[0].bbox"),
            (#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": [{"id": 1, "image_id": 2, "category_id": 1, "bbox": [0, 0, 3, 4]}]}"#, "annotations[0].image_id"),
            (#"{"images": [{"id": 1.5}], "categories": [], "annotations": []}"#, "images[0].id: an integer"),
            (#"{"images": [{"id": 1}], "categories": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [0, 0, 3, 4]}]}"#, "category_id"),
            (#"{"images": [{"id": 1}, {"id": 1}], "categories": [], "annotations": []}"#, "unique image ids"),
            ("{not json", "valid JSON"),
        ]
        for (i, (text, needle)) in cases.enumerated() {
            let p = dir + "/gt\(i).json"
            try text.write(toFile: p, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try COCODataset.load(p)) { e in XCTAssertTrue("\(e)".contains(needle), "\(e)") }
        }
        let dets: [(String, String)] = [
            (#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]"#, "score"),
            (#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 1}]"#, "detection[0].bbox"),
            (#"{"a": 1}"#, "a JSON list"),
        ]
        for (i, (text, needle)) in dets.enumerated() {
            let p = dir + "/dt\(i).json"
            try text.write(toFile: p, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try COCODetection.load(p)) { e in XCTAssertTrue("\(e)".contains(needle), "\(e)") }
        }
    }

    func testVOCAveragePrecisionHandComputed() {
        let gt = COCODataset(images: [.init(id: 1, fileName: "a", width: 100, height: 100), .init(id: 2, fileName: "b", width: 100, height: 100)],
                             categories: [.init(id: 3, name: "x")],
                             annotations: [.init(id: 1, imageId: 1, categoryId: 3, bbox: [0, 0, 10, 10]), .init(id: 2, imageId: 2, categoryId: 3, bbox: [50, 50, 10, 10]),
                                           .init(id: 3, imageId: 2, categoryId: 3, bbox: [0, 0, 20, 20]), .init(id: 4, imageId: 1, categoryId: 3, bbox: [70, 70, 9, 9], isCrowd: true)])
        let d = [COCODetection(imageId: 1, categoryId: 3, bbox: [0, 0, 10, 10], score: 0.9),      // TP
                 COCODetection(imageId: 1, categoryId: 3, bbox: [30, 30, 10, 10], score: 0.8),    // FP
                 COCODetection(imageId: 2, categoryId: 3, bbox: [51, 50, 10, 10], score: 0.7),    // TP
                 COCODetection(imageId: 1, categoryId: 3, bbox: [0, 1, 10, 10], score: 0.6),      // duplicate: FP
                 COCODetection(imageId: 1, categoryId: 3, bbox: [70, 70, 9, 9], score: 0.5)]      // on a crowd object: ignored
        let c = VOCMetrics.evaluate(groundTruth: gt, detections: d)[0]
        XCTAssertEqual(c.groundTruth, 3)
        XCTAssertEqual(c.recall, [1.0 / 3, 1.0 / 3, 2.0 / 3, 2.0 / 3])
        XCTAssertEqual(c.precision, [1, 0.5, 2.0 / 3, 0.5])
        XCTAssertEqual(c.apArea, 5.0 / 9, accuracy: 1e-12)
        XCTAssertEqual(c.ap11, 6.0 / 11, accuracy: 1e-12)
    }
}
