import XCTest
import ConvKit
import ConvKitData
import ConvKitVision

/// dlib's face-recognition ResNet read from its own `.dat` file, against embeddings computed by dlib 20.0.1
/// itself (Golden/dlib/reference.npz, made by Golden/dlib/make_dlib_reference.py).
final class DlibFaceRecognitionTests: XCTestCase {
    static let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Data").path
    static let network: Result<DlibFaceRecognitionNetwork, Error> = Result {
        try DlibFaceRecognitionNetwork(contentsOf: data + "/models/dlib/dlib_face_recognition_resnet_model_v1.dat")
    }
    static let reference: [String: Tensor] = (try? NumPy.loadArchive(Golden.path("dlib/reference.npz"))) ?? [:]

    /// An HWC uint8 reference chip as `[1, 3, 150, 150]`, values 0…255.
    static func chip(_ key: String) -> Tensor {
        Golden.array(reference, key).permuted([2, 0, 1]).unsqueezed(axis: 0)
    }

    func testTheFileParsesIntoDlibsArchitecture() throws {
        let file = try DlibNetworkFile.load(Self.data + "/models/dlib/dlib_face_recognition_resnet_model_v1.dat")
        XCTAssertEqual(file.loss, .metric(margin: 0.04, distanceThreshold: 0.6))
        guard case let .rgb(average, rows, columns) = file.input else { return XCTFail("an RGB input") }
        XCTAssertEqual(average[0], 122.782, accuracy: 1e-3)
        XCTAssertEqual(average[1], 117.001, accuracy: 1e-3)
        XCTAssertEqual(average[2], 104.298, accuracy: 1e-3)
        XCTAssertEqual(rows, 150); XCTAssertEqual(columns, 150)
        XCTAssertEqual(file.layers.filter { $0.name == "con" }.count, 29, "29 convolutions")
        XCTAssertEqual(file.layers.filter { $0.name == "add_prev" }.count, 14, "14 residual units")
        let net = try Self.network.get()
        XCTAssertEqual(net.units.count, 14)
        // 4,800 (stem) + 55,872 + 278,016 + 813,312 + 3,248,640 + 1,181,184 (levels 4…0) + 32,768 (fc), by hand from the layer list.
        XCTAssertEqual(net.parameterCount, 5_614_592)
    }

    func testEmbeddingsEqualDlibsOnFaceNoiseAndGradientChips() throws {
        let net = try Self.network.get()
        let names = ["astronaut", "grace_hopper", "noise0", "noise1", "noise2", "gradient"]
        let chips = Tensor.concatenate(names.map { Self.chip("\($0)_chip") }, axis: 0)
        let embeddings = try net.embed(chips)
        XCTAssertEqual(embeddings.shape, [6, 128])
        for (i, n) in names.enumerated() {
            let mine = embeddings.slice(axis: 0, i..<i + 1).reshaped([128])
            XCTAssertLessThan(mine.maxAbsDifference(Golden.array(Self.reference, "\(n)_embedding")), 1e-4, n)
        }
        // Batch of one equals the batch of six.
        let one = try net.embed(Self.chip("astronaut_chip_mirrored"))
        XCTAssertLessThan(one.reshaped([128]).maxAbsDifference(Golden.array(Self.reference, "astronaut_embedding_mirrored")), 1e-4)
    }

    func testDistancesSeparateTwoPeopleAndJoinAFaceWithItsMirror() throws {
        let net = try Self.network.get()
        func e(_ k: String) throws -> Tensor { try net.embed(Self.chip(k)).reshaped([128]) }
        func d(_ a: Tensor, _ b: Tensor) -> Float { ((a - b) * (a - b)).sum().scalars[0].squareRoot() }
        let a = try e("astronaut_chip"), g = try e("grace_hopper_chip"), am = try e("astronaut_chip_mirrored")
        XCTAssertEqual(d(a, g), 0.68698, accuracy: 1e-4)
        XCTAssertEqual(d(a, am), 0.19015, accuracy: 1e-4)
        XCTAssertGreaterThan(d(a, g), net.distanceThreshold)
        XCTAssertLessThan(d(a, am), net.distanceThreshold)
    }

    func testWrongChipShapesAreRefused() throws {
        let net = try Self.network.get()
        XCTAssertThrowsError(try net.embed(Tensor.zeros([1, 3, 112, 112])))
        XCTAssertThrowsError(try net.embed(Tensor.zeros([1, 1, 150, 150])))
    }
}
