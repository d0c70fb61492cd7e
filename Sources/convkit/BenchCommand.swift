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
    @Option(help: "Time an ONNX model file instead (inference on random inputs of its declared shapes).") var onnx: String?
    @Option(help: "Time a TFLite model file instead (imported onto ConvKit's operators; random inputs of its declared shapes).") var tflite: String?
    @Option(help: "Batch size for --model, --onnx and --tflite (1…4096).") var batch = 1
    @Flag(help: "With --onnx or --tflite: also report the time per operator type; with --model, the time of each step of the plan.") var profile = false
    @Flag(help: "With --model: also time a training step (forward, backward, SGD update).") var train = false
    @Option(help: "Seconds to spend timing each case (0.05…60).") var seconds: Double = 0.6
    @Flag(help: "Also print, on standard error, the algorithm each convolution took and, when measured, every candidate's time.") var explain = false
    @Flag(help: "Choose convolution algorithms by the fixed rules instead of timing the candidates once per shape (deterministic).") var noTune = false
    @Flag(help: "With --model, --onnx or --tflite: time the module's own forward pass instead of its compiled inference plan.") var eager = false
    @Option(help: "Time a pipeline instead: sliding-windows (crop-by-crop against the convolutional implementation), unet-step (a U-Net training step), style-step (a style-transfer evaluation through VGG-16 features), decode (one image file, --image), mtcnn (a full face detection on --image), mmod (dlib's CNN face detector on --image), blazeface (MediaPipe's TFLite face detector on --image), face-embedding (dlib's ResNet per 150×150 chip, --batch chips at once, and the whole recognition of --image).") var pipeline: String?
    @Option(help: "Image side for --pipeline (14…2048; default 128 for sliding-windows, 256 for the others).") var size: Int?
    @Option(help: "U-Net base width for --pipeline unet-step (1…128).") var width = 16
    @Option(help: "Image file for --pipeline decode, mtcnn, mmod and face-embedding.") var image: String?

    func validate() throws {
        guard (1...4096).contains(batch) else { throw ValidationError("--batch must be in 1…4096, found \(batch)") }
        guard (0.05...60).contains(seconds) else {
            throw ValidationError("--seconds must be between 0.05 and 60, found \(seconds)")
        }
    }

    func run() throws {
        threadOptions.apply()
        ConvAlgorithm.tuning = !noTune
        defer {
            if explain {
                let lines = ConvTuner.decisions.map(\.line)
                FileHandle.standardError.write((lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).data(using: .utf8)!)
            }
        }
        if let pipeline, ["mtcnn", "mmod", "blazeface"].contains(pipeline) {
            guard let image else { throw ValidationError("--pipeline \(pipeline) needs --image FILE") }
            let r = pipeline == "mmod" ? try MTCNNBenchmark.runMMOD(path: image, seconds: seconds)
                : pipeline == "blazeface" ? try MTCNNBenchmark.runBlazeFace(path: image, seconds: seconds) : try MTCNNBenchmark.run(path: image, seconds: seconds)
            let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
            print(json ? String(data: try enc.encode(r), encoding: .utf8)! : String(format: "%@ on %@: %d faces, %.2f ms", pipeline, image, r.faces, r.ms))
            return
        }
        if let pipeline, pipeline == "face-embedding" {
            let r = try FaceEmbeddingBenchmark.run(path: image, batch: batch, seconds: seconds)
            let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
            print(json ? String(data: try enc.encode(r), encoding: .utf8)! :
                  String(format: "face embedding: %.2f ms per chip (batch %d); whole recognition of %@: %.2f ms", r.ms, r.batch, r.image, r.recognize_ms))
            return
        }
        if let pipeline, pipeline == "decode" {
            guard let image else { throw ValidationError("--pipeline decode needs --image FILE") }
            let r = try ImageDecodeBenchmark.run(path: image, seconds: seconds)
            let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
            print(json ? String(data: try enc.encode(r), encoding: .utf8)! : String(format: "decode %@ (%d×%d): %.2f ms", image, r.width, r.height, r.ms))
            return
        }
        if let pipeline {
            let size = self.size ?? (pipeline == "sliding-windows" ? 128 : 256)
            guard (14...2048).contains(size) else { throw ValidationError("--size must be in 14…2048, found \(size)") }
            guard (1...128).contains(width) else { throw ValidationError("--width must be in 1…128, found \(width)") }
            if pipeline == "unet-step" || pipeline == "style-step" {
                let r = try DensePipelineBenchmark.run(pipeline, size: size, width: width, batch: batch, seconds: seconds)
                let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
                print(json ? String(data: try enc.encode(r), encoding: .utf8)! : String(format: "%@ at %d×%d: %.1f ms", pipeline, size, size, r.ms))
                return
            }
            guard pipeline == "sliding-windows" else {
                throw ValidationError("--pipeline must be sliding-windows, unet-step, style-step, decode, mtcnn, mmod, blazeface or face-embedding, found \(pipeline)")
            }
            let r = try SlidingWindowBenchmark.run(size: size, seconds: seconds)
            let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
            print(json ? String(data: try enc.encode(r), encoding: .utf8)! :
                  String(format: "sliding windows, %d windows of 14×14 on %d×%d: crop by crop %.2f ms, convolutional %.2f ms (%.0f× faster)",
                         r.windows, r.image, r.image, r.crops_ms, r.convolutional_ms, r.speedup))
            return
        }
        if let path = onnx ?? tflite {
            let r = try ONNXBenchmark.run(path: path, batch: batch, seconds: seconds, profile: profile, tflite: tflite != nil, eager: eager)
            print(json ? r.jsonString() : r.line)
            return
        }
        if let model {
            let toStandardError: (String) -> Void = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }
            let r = try ModelBenchmark.run(model, batch: batch, train: train, seconds: seconds, eager: eager,
                                           explain: explain ? toStandardError : nil, profile: profile ? toStandardError : nil)
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
