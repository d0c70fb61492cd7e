import Foundation
import XCTest

/// The fuzz targets (Sources/convkit-fuzz) replayed over their committed seeds and over the malformed-input
/// corpus, in the normal build: every target has seeds, its seeds are inputs its parser accepts (so that the
/// fuzzer starts from deep inside the format), and no input crashes it.
final class FuzzSeedTests: XCTestCase {
    func testEveryTargetHasSeedsItAcceptsAndNoSeedCrashesIt() throws {
        let list = try runBuiltExecutable("convkit-fuzz", ["--list"])
        XCTAssertEqual(list.status, 0, list.err)
        let targets = list.out.split(separator: "\n").map(String.init)
        XCTAssertGreaterThanOrEqual(targets.count, 18)
        let seedDirs = try FileManager.default.contentsOfDirectory(atPath: CommandLineRunner.repo.appendingPathComponent("Fuzz/seeds").path).sorted()
        XCTAssertEqual(seedDirs, targets.sorted(), "Scripts/make_fuzz_seeds.py writes one folder per target")
        // Truncated prefixes of real dlib models: the parser rejects them, the fuzzer grows them.
        let prefixesOnly: Set = ["dlib", "dlib-shape"]
        for t in targets {
            let r = try runBuiltExecutable("convkit-fuzz", [t, "Fuzz/seeds/" + t])
            XCTAssertEqual(r.status, 0, "\(t): \(r.err)")
            XCTAssertFalse(r.signaled, t)
            XCTAssertNil(crashMarker(in: r.err), "\(t): \(r.err)")
            let accepted = Int(r.out.split(separator: ",").dropFirst().first?.split(separator: " ").first ?? "") ?? -1
            if prefixesOnly.contains(t) { XCTAssertEqual(accepted, 0, "\(t): \(r.out)") } else { XCTAssertGreaterThan(accepted, 0, "\(t): \(r.out)") }
        }
    }

    func testTheMalformedCorpusCrashesNoParser() throws {
        let corpus = CommandLineRunner.repo.appendingPathComponent("Tests/MalformedInputs")
        let files = FileManager.default.enumerator(atPath: corpus.path)!.compactMap { $0 as? String }
            .filter { !$0.hasSuffix("cases.json") && !$0.hasSuffix(".keep") }.map { "Tests/MalformedInputs/" + $0 }
            .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: CommandLineRunner.repo.appendingPathComponent($0).path, isDirectory: &d) && !d.boolValue }
        XCTAssertGreaterThan(files.count, 50)
        for t in ["png", "jpeg", "netpbm", "idx", "gzip", "safetensors", "json", "coco", "shapes", "ts", "onnx", "dlib"] {
            let r = try runBuiltExecutable("convkit-fuzz", [t] + files)
            XCTAssertEqual(r.status, 0, "\(t): \(r.err)")
            XCTAssertNil(crashMarker(in: r.err), "\(t): \(r.err)")
            XCTAssertTrue(r.out.contains("\(files.count) inputs"), "\(t): \(r.out)")
        }
    }
}
