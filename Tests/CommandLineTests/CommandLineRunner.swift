import Foundation
import XCTest

enum CommandLineRunner {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct BinaryMissing: Error, CustomStringConvertible { var description: String { "the convkit binary was not built next to the tests" } }
}

/// Runs the built `convkit` binary as a user would, from the repository folder; fails (never skips) when it is missing.
func runConvkit(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
    let exe = Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("convkit")
    let candidates = [exe] + [".build/release/convkit", ".build/debug/convkit"].map { CommandLineRunner.repo.appendingPathComponent($0) }
    guard let bin = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else { throw CommandLineRunner.BinaryMissing() }
    return try runProcess(bin, args)
}

/// Runs a program from the repository folder and collects its status and output.
func runProcess(_ executable: URL, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = executable
    p.arguments = args
    p.currentDirectoryURL = CommandLineRunner.repo
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

func lastJSONLine(_ out: String) throws -> [String: Any] {
    let last = out.split(separator: "\n").last.map(String.init) ?? ""
    return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "not a JSON object: \(last)")
}
