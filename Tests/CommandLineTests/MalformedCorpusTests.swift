import Foundation
import XCTest

/// Every file and argument of Tests/MalformedInputs (made by Scripts/make_malformed_corpus.py, one per class of
/// mistake users make) fed to the built binary: each must end in a one-line "Error: …" that names what was
/// expected, a non-zero exit status, never a signal or a Swift runtime failure, and leave no output behind.
final class MalformedCorpusTests: XCTestCase {
    struct Case: Decodable { var name: String; var `class`: String; var args: [String]; var expect: String }

    func testEveryMalformedInputEndsInAOneLineError() throws {
        let dir = "Tests/MalformedInputs"
        let data = try Data(contentsOf: CommandLineRunner.repo.appendingPathComponent(dir + "/cases.json"))
        let cases = try JSONDecoder().decode([Case].self, from: data)
        XCTAssertGreaterThan(cases.count, 60, "the corpus lost its cases")
        XCTAssertEqual(Set(cases.map(\.class)), ["image", "checkpoint", "dataset", "argument", "shapes", "model"])
        for c in cases {
            let out = NSTemporaryDirectory() + "convkit-malformed-\(getpid())-\(c.name)"
            try? FileManager.default.removeItem(atPath: out)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: out) }
            let args = c.args.map { $0.replacingOccurrences(of: "{dir}", with: dir).replacingOccurrences(of: "{out}", with: out) }
            let r = try runConvkit(args)
            XCTAssertFalse(r.signaled, "\(c.name): killed by signal \(r.status): \(r.err)")
            XCTAssertTrue([1, 64].contains(r.status), "\(c.name): exit status \(r.status): \(r.err)")
            XCTAssertNil(crashMarker(in: r.err), "\(c.name) crashed: \(r.err)")
            let lines = r.err.split(separator: "\n", omittingEmptySubsequences: true)
            XCTAssertEqual(lines.count, 1, "\(c.name): expected one line on stderr, found: \(r.err)")
            XCTAssertTrue(r.err.hasPrefix("Error: "), "\(c.name): \(r.err)")
            XCTAssertTrue(r.err.contains(c.expect), "\(c.name): the error should mention \(c.expect): \(r.err)")
            XCTAssertTrue(["expected", "must", "no such", "invalid", "not a valid"].contains { r.err.contains($0) },
                          "\(c.name): the error should say what was expected: \(r.err)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [], "\(c.name) left files behind")
        }
    }

    /// The detector itself: a trap and a signal are recognized, a plain error is not.
    func testTheCrashDetectorRecognizesTrapsAndSignals() throws {
        XCTAssertNotNil(crashMarker(in: "x.swift:3: Fatal error: Index out of range"))
        XCTAssertNotNil(crashMarker(in: "Swift runtime failure: arithmetic overflow"))
        XCTAssertNotNil(crashMarker(in: "💣 Program crashed: Illegal instruction at 0x0000"))
        XCTAssertNil(crashMarker(in: "Error: a.png: expected an IHDR chunk, found 4 bytes"))
        let r = try runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", "kill -SEGV $$"])
        XCTAssertTrue(r.signaled)
        XCTAssertEqual(r.status, SIGSEGV)
    }
}
