import Foundation
import XCTest

enum CommandLineRunner {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct BinaryMissing: Error, CustomStringConvertible { var description: String { "the convkit binary was not built next to the tests" } }
}

/// What a run ended with: the exit status (or the signal number when `signaled`) and its output.
typealias ProcessResult = (status: Int32, out: String, err: String, signaled: Bool)

/// Runs the built `convkit` binary as a user would, from the repository folder; fails (never skips) when it is missing.
func runConvkit(_ args: [String]) throws -> ProcessResult { try runBuiltExecutable("convkit", args) }

/// Runs one of the package's executables (convkit, convkit-fuzz) built next to the tests.
func runBuiltExecutable(_ name: String, _ args: [String]) throws -> ProcessResult {
    let exe = Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name)
    let candidates = [exe] + [".build/release/\(name)", ".build/debug/\(name)"].map { CommandLineRunner.repo.appendingPathComponent($0) }
    guard let bin = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else { throw CommandLineRunner.BinaryMissing() }
    return try runProcess(bin, args)
}

/// Runs a program from the repository folder and collects its status and output.
func runProcess(_ executable: URL, _ args: [String]) throws -> ProcessResult {
    let p = Process()
    p.executableURL = executable
    p.arguments = args
    p.currentDirectoryURL = CommandLineRunner.repo
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self), p.terminationReason == .uncaughtSignal)
}

/// The sign of a crash in a program's stderr — a Swift trap's message or the runtime's backtracer — or nil.
func crashMarker(in stderr: String) -> String? {
    ["Fatal error", "Swift runtime failure", "Program crashed", "Backtracing", "Precondition failed", "Assertion failed",
     "Illegal instruction", "Segmentation fault"].first { stderr.contains($0) }
}

func lastJSONLine(_ out: String) throws -> [String: Any] {
    let last = out.split(separator: "\n").last.map(String.init) ?? ""
    return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "not a JSON object: \(last)")
}
