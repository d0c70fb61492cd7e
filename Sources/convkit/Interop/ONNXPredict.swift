import ArgumentParser
import ConvKit
import ConvKitData
import ConvKitInterop
import Foundation

/// `convkit predict --onnx MODEL IMAGE…`: an imported classifier on image files, with torchvision's evaluation
/// preprocessing as flags — resize the shorter side to --resize (bilinear), centre-crop to the model's input size,
/// divide by --scale, subtract --mean and divide by --std per channel.
struct ONNXPredictOptions: ParsableArguments {
    @Option(help: "An ONNX classifier to run instead of a ConvKit checkpoint.") var onnx: String?
    @Option(help: "With --onnx: resize the shorter image side to this before the centre crop (0: resize straight to the input size).") var resize = 256
    @Option(help: "With --onnx: per-channel mean subtracted after scaling (comma-separated).") var mean = "0.485,0.456,0.406"
    @Option(help: "With --onnx: per-channel standard deviation divided by (comma-separated).") var std = "0.229,0.224,0.225"
    @Option(help: "With --onnx: pixel values are divided by this first (255 maps 0…255 to 0…1).") var scale: Float = 255
    @Option(help: "With --onnx: a text file with one class name per line (default: class indices).") var labels: String?
    @Flag(help: "With --onnx: the model already outputs probabilities (no softmax).") var noSoftmax = false

    func floats(_ s: String, _ name: String, channels: Int) throws -> [Float] {
        let v = s.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard v.allSatisfy({ $0 != nil && $0!.isFinite }), v.count == channels || v.count == 1 else {
            throw ValidationError("--\(name) '\(s)': expected 1 or \(channels) finite numbers")
        }
        let f = v.map { $0! }
        return f.count == 1 ? Array(repeating: f[0], count: channels) : f
    }

    func run(images: [String], top: Int, json: Bool) throws {
        guard let path = onnx else { return }
        guard scale > 0, scale.isFinite else { throw ValidationError("--scale must be positive, found \(scale)") }
        guard (0...8192).contains(resize) else { throw ValidationError("--resize must be in 0…8192, found \(resize)") }
        let m = try ONNXModel(contentsOf: URL(fileURLWithPath: path))
        guard m.inputs.count == 1, let shape = m.inputs[0].concreteShape(), shape.count == 4 else {
            throw ConvKitError.invalidArgument(name: "--onnx", expected: "a classifier with one image input [N, C, H, W] of fixed C, H, W",
                                               found: m.inputs.map(\.description).joined(separator: "; "))
        }
        let (c, h, w) = (shape[1], shape[2], shape[3])
        let mean = try floats(self.mean, "mean", channels: c), std = try floats(self.std, "std", channels: c)
        guard std.allSatisfy({ $0 != 0 }) else { throw ValidationError("--std must not contain 0") }
        var names: [String]? = nil
        if let labels {
            let text = String(decoding: try AtomicFile.read(labels), as: UTF8.self)
            names = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            while names?.last == "" { names?.removeLast() }
        }
        for image in images {
            var t = Preprocessing.matchChannels(try ImageFile.load(image), c)
            if resize > 0 {
                let (ih, iw) = (t.shape[1], t.shape[2])
                let s = Double(resize) / Double(Swift.min(ih, iw))
                let size = (Swift.max(h, Int((Double(ih) * s).rounded())), Swift.max(w, Int((Double(iw) * s).rounded())))
                t = Preprocessing.centerCrop(Preprocessing.resize(t, to: size), to: (h, w))
            } else {
                t = Preprocessing.resize(t, to: (h, w))
            }
            t = t / scale
            let x = Preprocessing.standardize(t, mean: mean, std: std).unsqueezed(axis: 0)
            let y = try m.predict(x)
            guard y.rank == 2, y.shape[0] == 1 else {
                throw ConvKitError.shapeMismatch(expected: "\(path): an output [1, classes]", found: "\(y.shape)")
            }
            let probs = noSoftmax ? y.scalars : y.softmax(axis: 1).scalars
            if let names, names.count != probs.count {
                throw ConvKitError.shapeMismatch(expected: "\(labels!): one name per class (\(probs.count))", found: "\(names.count) lines")
            }
            let ranked = probs.indices.sorted { probs[$0] > probs[$1] }.prefix(top)
            let label = { (i: Int) in names?[i] ?? "\(i)" }
            if json {
                let obj: [String: Any] = ["image": image, "top": ranked.map { ["class": label($0), "index": $0, "probability": Double(probs[$0])] }]
                print(String(data: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), encoding: .utf8)!)
            } else {
                print("\(image): " + ranked.map { String(format: "%@ %.1f%%", label($0), probs[$0] * 100) }.joined(separator: ", "))
            }
        }
    }
}
