import ConvKit
import ConvKitData
import Foundation
import XCTest

/// The face database as a user works with it: enroll two people from one photo each, calibrate τ on labelled
/// pairs, identify other crops of them (found) and a third person (not recognized), verify, list, remove; two
/// processes enrolling at once; and the errors for bad input.
final class FaceDatabaseCommandLineTests: XCTestCase {
    let dir = NSTemporaryDirectory() + "convkit-facedb-cli-\(getpid())"
    override func setUp() { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// A crop [x0, x1) × [y0, y1) of an image, mirrored left–right when asked, saved as PNG under `dir`.
    func variant(_ source: String, _ name: String, x: Range<Int>, y: Range<Int>, mirror: Bool = false) throws -> String {
        let img = try ImageFile.load(source).slice(axis: 1, y).slice(axis: 2, x)
        let (c, h, w) = (img.shape[0], img.shape[1], img.shape[2])
        let out = mirror ? Tensor(shape: [c, h, w]) { o in
            for ch in 0..<c { for r in 0..<h { for col in 0..<w { o[(ch * h + r) * w + col] = img.scalars[(ch * h + r) * w + (w - 1 - col)] } } }
        } : img
        let path = dir + "/\(name).png"
        try PNG.save(PNG.Image(tensor: out), to: path)
        return path
    }

    func testRoundTripEnrollCalibrateIdentifyVerifyListRemove() throws {
        let db = dir + "/people.db"
        XCTAssertEqual(try runConvkit(["faces", "enroll", "--db", db, "--name", "Eileen Collins", "Data/images/astronaut.png"]).status, 0)
        XCTAssertEqual(try runConvkit(["faces", "enroll", "--db", db, "--name", "Grace Hopper", "Data/images/grace_hopper.jpg"]).status, 0)
        // Other crops of the two, and of a third person (the cameraman), none of them enrolled.
        let collins = [try variant("Data/images/astronaut.png", "collins1", x: 100..<400, y: 0..<300, mirror: true),
                       try variant("Data/images/astronaut.png", "collins2", x: 120..<330, y: 20..<260)]
        let hopper = [try variant("Data/images/grace_hopper.jpg", "hopper1", x: 100..<450, y: 50..<450, mirror: true),
                      try variant("Data/images/grace_hopper.jpg", "hopper2", x: 140..<400, y: 90..<380)]
        let camera = [try variant("Data/images/camera.png", "camera1", x: 100..<400, y: 40..<340),
                      try variant("Data/images/camera.png", "camera2", x: 130..<330, y: 60..<300, mirror: true)]
        var lines = ["image_a,image_b,same"]
        for group in [collins, hopper, camera] { lines.append("\(group[0]),\(group[1]),1") }
        for (a, b) in [(collins, hopper), (collins, camera), (hopper, camera)] {
            for x in a { for y in b { lines.append("\(x),\(y),different") } }
        }
        try lines.joined(separator: "\n").write(toFile: dir + "/pairs.csv", atomically: true, encoding: .utf8)
        let eer = try runConvkit(["faces", "calibrate", "--db", db, "--pairs", dir + "/pairs.csv", "--eer", "--json"])
        XCTAssertEqual(eer.status, 0, eer.err)
        XCTAssertEqual(try lastJSONLine(eer.out)["eer"] as? Double, 0, "separable pairs: no errors at the EER threshold")
        let cal = try runConvkit(["faces", "calibrate", "--db", db, "--pairs", dir + "/pairs.csv", "--json"])
        XCTAssertEqual(cal.status, 0, cal.err)
        let c = try lastJSONLine(cal.out)
        XCTAssertEqual(c["pairs"] as? Int, 15)
        XCTAssertEqual(c["auc"] as? Double, 1, "same pairs all nearer than different ones")
        let tau = try XCTUnwrap(c["threshold"] as? Double)
        XCTAssertTrue((0.2...0.8).contains(tau), "τ \(tau)")

        for (probe, expected) in [(collins[0], "Eileen Collins"), (hopper[1], "Grace Hopper")] {
            let r = try runConvkit(["faces", "identify", "--db", db, probe, "--json"])
            XCTAssertEqual(r.status, 0, r.err)
            let o = try lastJSONLine(r.out)
            XCTAssertEqual(o["name"] as? String, expected, probe)
            XCTAssertLessThanOrEqual(o["distance"] as? Double ?? 9, tau)
        }
        let stranger = try lastJSONLine(try runConvkit(["faces", "identify", "--db", db, camera[0], "--json"]).out)
        XCTAssertTrue(stranger["name"] is NSNull, "the cameraman is not recognized: \(stranger)")
        XCTAssertGreaterThan(stranger["distance"] as? Double ?? 0, tau)
        let noFace = try runConvkit(["faces", "identify", "--db", db, "Data/images/coins.png", "--json"])
        XCTAssertEqual(noFace.status, 0, "no face is a result, not an error")
        XCTAssertEqual(try lastJSONLine(noFace.out)["faces"] as? Int, 0)

        XCTAssertEqual(try runConvkit(["faces", "verify", "--db", db, "--name", "Grace Hopper", hopper[0]]).status, 0)
        let wrong = try runConvkit(["faces", "verify", "--db", db, "--name", "Eileen Collins", hopper[0], "--json"])
        XCTAssertEqual(wrong.status, 1, "not that person: exit status 1")
        XCTAssertEqual(try lastJSONLine(wrong.out)["match"] as? Bool, false)

        let list = try lastJSONLine(try runConvkit(["faces", "list", "--db", db, "--json"]).out)
        XCTAssertEqual((list["people"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["Eileen Collins", "Grace Hopper"])
        XCTAssertTrue((list["threshold_method"] as? String ?? "").contains("15 pairs"))
        XCTAssertEqual(try runConvkit(["faces", "remove", "--db", db, "--name", "Eileen Collins"]).status, 0)
        let gone = try lastJSONLine(try runConvkit(["faces", "identify", "--db", db, collins[1], "--json"]).out)
        XCTAssertTrue(gone["name"] is NSNull, "removed people are no longer recognized: \(gone)")

        let embed = try runConvkit(["faces", "embed", "Data/images/astronaut.png", "Data/images/coins.png", "--json"])
        XCTAssertEqual(embed.status, 0, embed.err)
        let e = try XCTUnwrap(try lastJSONLine(embed.out)["embeddings"] as? [[String: Any]])
        XCTAssertEqual(e.count, 1, "one face in the portrait, none among the coins")
        XCTAssertEqual((e[0]["embedding"] as? [Double])?.count, 128)
    }

    func testTwoProcessesEnrollingAtOnceBothLand() throws {
        let db = dir + "/shared.db"
        XCTAssertEqual(try runConvkit(["faces", "enroll", "--db", db, "--name", "Grace Hopper", "Data/images/grace_hopper.jpg"]).status, 0)
        let group = DispatchGroup()
        final class Statuses: @unchecked Sendable { let lock = NSLock(); var values = [Int32](repeating: -1, count: 2) }
        let statuses = Statuses()
        for (i, (name, image)) in [("Eileen Collins", "Data/images/astronaut.png"), ("Cameraman", "Data/images/camera.png")].enumerated() {
            group.enter()
            DispatchQueue.global().async {
                let status = (try? runConvkit(["faces", "enroll", "--db", db, "--name", name, image, image]).status) ?? -2
                statuses.lock.withLock { statuses.values[i] = status }
                group.leave()
            }
        }
        group.wait()
        XCTAssertEqual(statuses.values, [0, 0])
        let list = try lastJSONLine(try runConvkit(["faces", "list", "--db", db, "--json"]).out)
        let people = try XCTUnwrap(list["people"] as? [[String: Any]])
        XCTAssertEqual(people.compactMap { $0["name"] as? String }, ["Cameraman", "Eileen Collins", "Grace Hopper"])
        XCTAssertEqual(people.compactMap { $0["embeddings"] as? Int }, [2, 2, 1])
    }

    func testBadInputGivesOneLineErrors() throws {
        let db = dir + "/bad.db"
        XCTAssertEqual(try runConvkit(["faces", "enroll", "--db", db, "--name", "Grace Hopper", "Data/images/grace_hopper.jpg"]).status, 0)
        try "not a database".write(toFile: dir + "/text.db", atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["faces", "identify", "--db", dir + "/none.db", "Data/images/astronaut.png"], "no such face database"),
            (["faces", "identify", "--db", dir + "/text.db", "Data/images/astronaut.png"], "text.db"),
            (["faces", "verify", "--db", db, "--name", "Nobody", "Data/images/astronaut.png"], "Nobody"),
            (["faces", "remove", "--db", db, "--name", "Nobody"], "Nobody"),
            (["faces", "enroll", "--db", db, "--name", "Coins", "Data/images/coins.png"], "no face"),
            (["faces", "enroll", "--db", db, "--name", "X", "nosuch.jpg"], "nosuch.jpg"),
            (["faces", "embed", "Data/images/astronaut.png", "--chip"], "150×150"),
            (["faces", "embed", "Data/images/astronaut.png", "--model", "README.md"], "README.md"),
            (["faces", "calibrate", "--db", db, "--pairs", "README.md"], "README.md"),
        ]
        for (args, message) in cases {
            let r = try runConvkit(args)
            XCTAssertNotEqual(r.status, 0, args.joined(separator: " "))
            XCTAssertTrue(r.err.split(separator: "\n").first?.contains(message) ?? false, "\(args): \(r.err)")
        }
        let list = try lastJSONLine(try runConvkit(["faces", "list", "--db", db, "--json"]).out)
        XCTAssertEqual((list["people"] as? [[String: Any]])?.count, 1, "the failed enrollment wrote nothing")
        // Other weights (one float of the fc layer changed): the database made with the bundled model is refused.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "Data/models/dlib/dlib_face_recognition_resnet_model_v1.dat")))
        bytes[bytes.count - 200] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/other.dat"))
        let mixed = try runConvkit(["faces", "identify", "--db", db, "--model", dir + "/other.dat", "Data/images/astronaut.png"])
        XCTAssertNotEqual(mixed.status, 0)
        XCTAssertTrue(mixed.err.contains("mixing models is refused"), mixed.err)
    }
}
