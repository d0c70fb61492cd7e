import XCTest
import ConvKit
import ConvKitVision

/// The SQLite database of people: enrollment, recognition with "not recognized", verification, removal, the
/// threshold, refusing another model's embeddings and files that are not databases.
final class FaceDatabaseTests: XCTestCase {
    let dir = NSTemporaryDirectory() + "convkit-facedb-\(getpid())"
    override func setUp() { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func unit(_ i: Int, _ noise: Float = 0) -> [Float] {
        (0..<4).map { $0 == i ? 1 : noise * Float($0 + 1) }
    }

    func testEnrollIdentifyVerifyAndRemove() throws {
        let db = try FaceDatabase(path: dir + "/a.db", model: "m1", dimension: 4, defaultThreshold: 0.6, create: true)
        XCTAssertEqual(try db.threshold().value, 0.6)
        XCTAssertEqual(try db.identify(unit(0)).name, nil, "nobody enrolled")
        XCTAssertEqual(try db.enroll(name: "Ada", embeddings: [unit(0), unit(0, 0.05)], sources: ["a1", "a2"]), 2)
        XCTAssertEqual(try db.enroll(name: " Ada ", embeddings: [unit(0, 0.02)], sources: ["a3"]), 3, "names are trimmed")
        try db.enroll(name: "Bob", embeddings: [unit(1)], sources: ["b1"])
        XCTAssertEqual(try db.people().map(\.name), ["Ada", "Bob"])
        XCTAssertEqual(try db.people().map(\.embeddings), [3, 1])
        let found = try db.identify(unit(1, 0.1))
        XCTAssertEqual(found.name, "Bob")
        XCTAssertLessThan(found.distance!, 0.6)
        let stranger = try db.identify(unit(2))
        XCTAssertNil(stranger.name, "distance > τ: not recognized")
        // Nearest is Ada's (1, 0.1, 0.15, 0.2): √(1 + 0.01 + 0.85² + 0.04).
        XCTAssertEqual(stranger.distance!, Float(1.7725).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(try db.distance(to: "Ada", unit(0)), 0, accuracy: 1e-6)
        XCTAssertThrowsError(try db.distance(to: "Eve", unit(0))) { XCTAssertTrue("\($0)".contains("Eve")) }
        try db.setThreshold(1.5, method: "test")
        XCTAssertEqual(try db.identify(unit(2)).name != nil, true, "within the larger τ")
        XCTAssertTrue(try db.remove(name: "Bob"))
        XCTAssertFalse(try db.remove(name: "Bob"))
        XCTAssertEqual(try db.embeddings().count, 3, "Bob's embedding went with him")
        // Reopened by another handle (another process would see the same): the data and τ persist.
        let again = try FaceDatabase(path: dir + "/a.db", model: "m1", dimension: 4, defaultThreshold: 0.6, create: false)
        XCTAssertEqual(try again.threshold().value, 1.5)
        XCTAssertEqual(try again.threshold().method, "test")
    }

    func testBadInputIsRefusedWithoutWriting() throws {
        let path = dir + "/b.db"
        XCTAssertThrowsError(try FaceDatabase(path: path, model: "m1", dimension: 4, defaultThreshold: 0.6, create: false)) {
            XCTAssertTrue("\($0)".contains("no such face database"), "\($0)")
        }
        let db = try FaceDatabase(path: path, model: "m1", dimension: 4, defaultThreshold: 0.6, create: true)
        XCTAssertThrowsError(try db.enroll(name: "", embeddings: [unit(0)], sources: ["x"]))
        XCTAssertThrowsError(try db.enroll(name: "Ada", embeddings: [[1, 2]], sources: ["x"]), "wrong dimension")
        XCTAssertThrowsError(try db.enroll(name: "Ada", embeddings: [[.nan, 0, 0, 0]], sources: ["x"]), "not finite")
        XCTAssertThrowsError(try db.setThreshold(-1, method: "x"))
        XCTAssertEqual(try db.people().count, 0, "nothing was written")
        XCTAssertThrowsError(try FaceDatabase(path: path, model: "m2", dimension: 4, defaultThreshold: 0.6, create: true)) {
            XCTAssertTrue("\($0)".contains("mixing models is refused"), "\($0)")
        }
        let text = dir + "/not-a-db.txt"
        try "hello, this is not SQLite\n".write(toFile: text, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try FaceDatabase(path: text, model: "m1", dimension: 4, defaultThreshold: 0.6, create: true)) {
            XCTAssertTrue("\($0)".contains("not-a-db.txt"), "\($0)")
        }
    }
}
