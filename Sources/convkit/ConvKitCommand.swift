import ArgumentParser
import ConvKit

@main
struct ConvKitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convkit",
        abstract: "ConvKit: build, train, analyse and run convolutional neural networks.",
        subcommands: [TrainCommand.self, EvaluateCommand.self, DetectCommand.self, SegmentCommand.self, EdgesCommand.self, StyleCommand.self, FacesCommand.self, ImageCommand.self, VisualizeCommand.self, DetectEvalCommand.self, AnchorsCommand.self, ProposalsCommand.self, MakeDatasetCommand.self, PredictCommand.self, ModelsCommand.self, SummaryCommand.self, BenchCommand.self, VolumeCommand.self, ONNXCommand.self])
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
