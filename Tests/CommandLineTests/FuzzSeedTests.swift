import Foundation
import XCTest

/// The fuzz targets (Sources/convkit-fuzz) replayed over their seeds — Fuzz/seeds and the repository files of
/// Fuzz/seed-sources — and over the malformed-input corpus, in the normal build: every target has seeds, its
/// seeds include inputs its parser accepts (so that the fuzzer starts from deep inside the format), and no input
/// crashes it.
final class FuzzSeedTests: XCTestCase {
    /// The seed files of every target, paths relative to the repository.
    func seeds() throws -> [String: [String]] {
        let repo = CommandLineRunner.repo.path
        var out = [String: [String]]()
        for t in try FileManager.default.contentsOfDirectory(atPath: repo + "/Fuzz/seeds") {
            out[t, default: []] += try FileManager.default.contentsOfDirectory(atPath: repo + "/Fuzz/seeds/" + t).map { "Fuzz/seeds/\(t)/\($0)" }
        }
        let listing = try String(contentsOfFile: repo + "/Fuzz/seed-sources", encoding: .utf8)
        for line in listing.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard parts.count == 2 else { continue }
            var g = glob_t()
            defer { globfree(&g) }
            guard glob(repo + "/" + parts[1], 0, nil, &g) == 0 else { XCTFail("Fuzz/seed-sources: \(parts[1]) matches nothing"); continue }
            let files = (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(String(cString: $0).dropFirst(repo.count + 1)) } }
            out[parts[0], default: []] += files
        }
        return out
    }

    func testEveryTargetHasSeedsItAcceptsAndNoSeedCrashesIt() throws {
        let list = try runBuiltExecutable("convkit-fuzz", ["--list"])
        XCTAssertEqual(list.status, 0, list.err)
        let targets = list.out.split(separator: "\n").map(String.init)
        XCTAssertGreaterThanOrEqual(targets.count, 19)
        let seeds = try seeds()
        XCTAssertEqual(Set(seeds.keys), Set(targets), "every target has seeds (Fuzz/seeds or Fuzz/seed-sources), and only targets do")
        for t in targets {
            let files = seeds[t] ?? []
            let r = try runBuiltExecutable("convkit-fuzz", [t] + files)
            XCTAssertEqual(r.status, 0, "\(t): \(r.err)")
            XCTAssertFalse(r.signaled, t)
            XCTAssertNil(crashMarker(in: r.err), "\(t): \(r.err)")
            XCTAssertTrue(r.out.contains("\(files.count) inputs"), "\(t): \(r.out)")
            let accepted = Int(r.out.split(separator: ",").dropFirst().first?.split(separator: " ").first ?? "") ?? -1
            XCTAssertGreaterThan(accepted, 0, "\(t): \(r.out)")
        }
    }

    func testTheMalformedCorpusCrashesNoParser() throws {
        let corpus = CommandLineRunner.repo.appendingPathComponent("Tests/MalformedInputs")
        let files = FileManager.default.enumerator(atPath: corpus.path)!.compactMap { $0 as? String }
            .filter { !$0.hasSuffix("cases.json") && !$0.hasSuffix(".keep") }.map { "Tests/MalformedInputs/" + $0 }
            .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: CommandLineRunner.repo.appendingPathComponent($0).path, isDirectory: &d) && !d.boolValue }
        XCTAssertGreaterThan(files.count, 50)
        for t in ["png", "jpeg", "netpbm", "idx", "gzip", "safetensors", "json", "coco", "shapes", "ts", "onnx", "tflite", "dlib"] {
            let r = try runBuiltExecutable("convkit-fuzz", [t] + files)
            XCTAssertEqual(r.status, 0, "\(t): \(r.err)")
            XCTAssertNil(crashMarker(in: r.err), "\(t): \(r.err)")
            XCTAssertTrue(r.out.contains("\(files.count) inputs"), "\(t): \(r.out)")
        }
    }
}
