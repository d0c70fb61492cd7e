import ArgumentParser
import ConvKit
import Foundation

@main
struct ConvKitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convkit",
        abstract: "ConvKit: build, train, analyse and run convolutional neural networks.",
        subcommands: [TrainCommand.self, EvaluateCommand.self, DetectCommand.self, SegmentCommand.self, EdgesCommand.self, StyleCommand.self, FacesCommand.self, ImageCommand.self, VisualizeCommand.self, DetectEvalCommand.self, AnchorsCommand.self, ProposalsCommand.self, MakeDatasetCommand.self, PredictCommand.self, ModelsCommand.self, SummaryCommand.self, BenchCommand.self, VolumeCommand.self, ONNXCommand.self, TFLiteCommand.self])

    /// Parses and runs the subcommand. Errors — from ArgumentParser's validation or thrown while running — end
    /// in one line on stderr ("Error: …", newlines folded, a pointer to --help for usage mistakes) and a non-zero
    /// exit status; help and version requests print as usual.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
            try KernelMemory.check()   // a kernel that ran out of scratch memory makes the run fail
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            if error is ExitCode { Foundation.exit(code.rawValue) }   // a verdict (verify, onnx check) already printed
            var text = message(for: error).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("Usage:") && !$0.hasPrefix("See '") && !$0.hasPrefix("Help:") }.joined(separator: "; ")
            if text.isEmpty { text = "\(error)" }
            if code == .validationFailure { text += " (see \(commandPath().joined(separator: " ")) --help)" }
            FileHandle.standardError.write(Data(("Error: " + text + "\n").utf8))
            Foundation.exit(code.rawValue)
        }
    }

    /// "convkit" and the subcommand names at the start of the arguments.
    static func commandPath() -> [String] {
        var type: ParsableCommand.Type = ConvKitCommand.self
        var path = ["convkit"]
        for a in CommandLine.arguments.dropFirst() {
            guard let sub = type.configuration.subcommands.first(where: { $0.configuration.commandName == a }) else { break }
            path.append(a); type = sub
        }
        return path
    }
}

/// Options every compute-heavy subcommand shares.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads for the kernels (1…256; default: all cores).")
    var threads: Int?

    func validate() throws {
        if let t = threads, !(1...256).contains(t) {
            throw ValidationError("--threads must be between 1 and 256, found \(t)")
        }
    }

    func apply() { if let t = threads { Parallel.threads = t } }
}
