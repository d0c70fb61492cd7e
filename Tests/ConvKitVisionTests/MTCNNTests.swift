import XCTest
import ConvKit
import ConvKitData
import ConvKitVision

/// MTCNN with the bundled weights: each network against the plain-numpy reference forward pass
/// (Golden/mtcnn_reference.npz, from the dataset collection's tools/mtcnn_numpy.py), and the whole cascade
/// against facenet-pytorch's MTCNN on the same photos (Golden/make_mtcnn_golden.py → mtcnn_facenet.json).
final class MTCNNTests: XCTestCase {
    static let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Data").path
    static let detector: MTCNN? = try? MTCNN(directory: data + "/models/mtcnn")
    static let reference: [String: Tensor] = (try? NumPy.loadArchive(Golden.path("mtcnn_reference.npz"))) ?? [:]

    func mtcnn() throws -> MTCNN { try XCTUnwrap(Self.detector, "the bundled weights in Data/models/mtcnn load") }

    /// HWC reference input → NCHW batch of one.
    func nchw(_ key: String) -> Tensor { Golden.array(Self.reference, key).permuted([2, 0, 1]).unsqueezed(axis: 0) }

    func testEachNetworkMatchesTheReferenceForwardPass() throws {
        let m = try mtcnn()
        let (reg, prob) = Autograd.withoutGradients { m.pnet(Variable(nchw("pnet_in"))) }
        XCTAssertLessThan(reg.value.squeezed(axis: 0).permuted([1, 2, 0]).maxAbsDifference(Golden.array(Self.reference, "pnet_out_reg")), 1e-4)
        XCTAssertLessThan(prob.value.squeezed(axis: 0).permuted([1, 2, 0]).maxAbsDifference(Golden.array(Self.reference, "pnet_out_prob")), 1e-4)
        for kind in ["face", "nonface"] {
            let r = Autograd.withoutGradients { m.rnet(Variable(nchw("rnet_in_\(kind)"))) }
            XCTAssertLessThan(r.regression.value.reshaped([4]).maxAbsDifference(Golden.array(Self.reference, "rnet_out_reg_\(kind)")), 1e-4, kind)
            XCTAssertLessThan(r.probability.value.reshaped([2]).maxAbsDifference(Golden.array(Self.reference, "rnet_out_prob_\(kind)")), 1e-4, kind)
            let o = Autograd.withoutGradients { m.onet(Variable(nchw("onet_in_\(kind)"))) }
            XCTAssertLessThan(o.regression.value.reshaped([4]).maxAbsDifference(Golden.array(Self.reference, "onet_out_reg_\(kind)")), 1e-4, kind)
            XCTAssertLessThan(o.landmarks.value.reshaped([10]).maxAbsDifference(Golden.array(Self.reference, "onet_out_landmarks_\(kind)")), 1e-4, kind)
            XCTAssertLessThan(o.probability.value.reshaped([2]).maxAbsDifference(Golden.array(Self.reference, "onet_out_prob_\(kind)")), 1e-4, kind)
        }
        XCTAssertGreaterThan(Golden.array(Self.reference, "onet_out_prob_face").scalars[1], 0.99, "the reference face is a face")
    }

    func iou(_ a: [Float], _ b: [Float]) -> Float {
        let iw = max(0, min(a[2], b[2]) - max(a[0], b[0])), ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
        let inter = iw * ih
        return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
    }

    /// One face in each portrait, within IoU 0.9 of facenet-pytorch's box, landmarks within 3 px of its.
    func testTheCascadeFindsOneFaceInEachPortraitLikeFacenetPytorch() throws {
        let m = try mtcnn()
        let json = try JSON.load(Golden.path("mtcnn_facenet.json"))
        guard case .array(let results)? = json["results"] else { return XCTFail("mtcnn_facenet.json has no results") }
        XCTAssertEqual(results.count, 2)
        for r in results {
            guard case .string(let image)? = r["image"], case .array(let faces)? = r["faces"], faces.count == 1,
                  let box = faces[0]["box"]?.floats, case .array(let marks)? = faces[0]["landmarks"] else {
                return XCTFail("unexpected golden entry \(r)")
            }
            let found = try m.detect(try ImageFile.load(Self.data + "/images/" + image))
            XCTAssertEqual(found.count, 1, image)
            guard let face = found.first else { continue }
            XCTAssertGreaterThan(iou(face.box, box), 0.9, "\(image): ours \(face.box), facenet-pytorch \(box)")
            XCTAssertGreaterThan(face.score, 0.99)
            for (ours, theirs) in zip(face.landmarks, marks.compactMap(\.floats)) {
                XCTAssertLessThan(hypot(ours[0] - theirs[0], ours[1] - theirs[1]), 3, "\(image) landmark \(ours) vs \(theirs)")
            }
            // Eyes above the nose, the nose above the mouth corners; left features left of right ones.
            let p = face.landmarks
            XCTAssertLessThan(p[0][0], p[1][0]); XCTAssertLessThan(p[3][0], p[4][0])
            XCTAssertLessThan(max(p[0][1], p[1][1]), p[2][1]); XCTAssertLessThan(p[2][1], min(p[3][1], p[4][1]))
        }
    }

    func testImagesWithoutFacesGiveNoFaces() throws {
        let m = try mtcnn()
        XCTAssertEqual(try m.detect(Tensor(repeating: 128, shape: [3, 120, 160])).count, 0)
        XCTAssertEqual(try m.detect(Tensor(repeating: 30, shape: [1, 11, 11])).count, 0, "smaller than one 12×12 window")
        XCTAssertEqual(m.scales(shorterSide: 11), [])
        var nan = Tensor(repeating: 100, shape: [3, 64, 64])
        nan.scalars[1000] = .nan
        XCTAssertNoThrow(try m.detect(nan), "NaN pixels from the API give some answer, never a trap")
        let s = m.scales(shorterSide: 120)
        XCTAssertEqual(s.first!, 0.6, accuracy: 1e-6)
        XCTAssertTrue(s.allSatisfy { Float(120) * $0 >= 12 })
    }

    func testMissingOrMisshapenWeightsGiveErrors() throws {
        let dir = NSTemporaryDirectory() + "mtcnn-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertThrowsError(try MTCNN(directory: dir)) { XCTAssertTrue("\($0)".contains("pnet.npz"), "\($0)") }
        var p = try NumPy.loadArchive(Self.data + "/models/mtcnn/pnet.npz")
        for n in ["rnet", "onet"] { try FileManager.default.copyItem(atPath: Self.data + "/models/mtcnn/\(n).npz", toPath: dir + "/\(n).npz") }
        p["conv2.kernel"] = .zeros([3, 3, 10, 17])
        try NumPy.saveArchive(p, to: dir + "/pnet.npz")
        XCTAssertThrowsError(try MTCNN(directory: dir)) { XCTAssertTrue("\($0)".contains("conv2"), "\($0)") }
        p["conv2.kernel"] = nil
        try NumPy.saveArchive(p, to: dir + "/pnet.npz")
        XCTAssertThrowsError(try MTCNN(directory: dir)) { XCTAssertTrue("\($0)".contains("conv2.kernel"), "\($0)") }
    }
}

extension JSONValue {
    /// An array of numbers as Floats.
    var floats: [Float]? { array.map { $0.compactMap { $0.number.map(Float.init) } } }
}
