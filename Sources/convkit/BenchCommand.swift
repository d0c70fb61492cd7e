import ArgumentParser
import ConvKit
import ConvKitModels
import ConvKitVision
import Foundation

/// `convkit bench`: medians of SGEMM, conv2d forward / forward+backward and max-pool timings.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the kernels (medians after warm-up) on the standard cases or those of --shapes.")

    @OptionGroup var threadOptions: ThreadOptions
    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: "A shapes file (the form of Benchmarks/shapes.json).") var shapes: String?
    @Flag(help: .hidden) var forwardOnly = false
    @Option(help: "Time a model of the zoo instead of the kernels (inference, and with --train a training step).") var model: String?
    @Option(help: "Batch size for --model (1…4096).") var batch = 1
    @Flag(help: "With --model: also time a training step (forward, backward, SGD update).") var train = false
    @Option(help: "Seconds to spend timing each case (0.05…60).") var seconds: Double = 0.6

    func validate() throws {
        guard (1...4096).contains(batch) else { throw ValidationError("--batch must be in 1…4096, found \(batch)") }
        guard (0.05...60).contains(seconds) else {
            throw ValidationError("--seconds must be between 0.05 and 60, found \(seconds)")
        }
    }

    func run() throws {
        threadOptions.apply()
        if let model {
            let r = try ModelBenchmark.run(model, batch: batch, train: train, seconds: seconds)
            print(json ? r.jsonString() : r.line)
            return
        }
        let cases = try shapes.map(BenchShapes.load(path:)) ?? .standard
        let progress: (String) -> Void = { line in if !json { FileHandle.standardError.write((line + "\n").data(using: .utf8)!) } }
        var report = KernelBenchmark.run(cases, seconds: seconds, forwardOnly: forwardOnly, progress: progress)
        report.nms = NMSBenchmark.run(cases.nms ?? [], seconds: seconds, progress: progress)
        if json {
            print(report.jsonString())
        } else {
            print(report.table())
        }
    }
}
