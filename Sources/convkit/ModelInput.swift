import ConvKit
import ConvKitData
import ConvKitModels
import Foundation

/// How a trained model expects its input, saved in the checkpoint's metadata so that `evaluate` and
/// `predict` prepare images exactly as `train` did.
struct ModelInput {
    var model: String
    var shape: [Int]          // C, H, W
    var mean: [Float], std: [Float]   // applied after scaling to [0, 1]
    var classes: [String]

    var metadata: [String: String] {
        ["model": model, "input_shape": shape.map(String.init).joined(separator: ","),
         "input_mean": mean.map { "\($0)" }.joined(separator: ","), "input_std": std.map { "\($0)" }.joined(separator: ","),
         "classes": classes.joined(separator: ",")]
    }

    init(model: String, shape: [Int], mean: [Float], std: [Float], classes: [String]) {
        self.model = model; self.shape = shape; self.mean = mean; self.std = std; self.classes = classes
    }

    /// Reads the metadata of a checkpoint written by `convkit train`.
    init(checkpoint path: String) throws {
        let meta = try Safetensors.load(path).metadata
        func floats(_ k: String) throws -> [Float] {
            guard let v = meta[k]?.split(separator: ",").compactMap({ Float($0) }), !v.isEmpty else {
                throw ConvKitError.corruptFile(path: path, offset: nil, expected: "metadata \"\(k)\" (a checkpoint written by convkit train)", found: meta[k] ?? "none")
            }
            return v
        }
        guard let m = meta["model"], let c = meta["classes"] else {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "metadata \"model\" and \"classes\" (a checkpoint written by convkit train)", found: "\(meta.keys.sorted())")
        }
        func bad(_ key: String, _ expected: String) -> ConvKitError {
            ConvKitError.corruptFile(path: path, offset: nil, expected: "metadata \"\(key)\": \(expected)", found: meta[key] ?? "none")
        }
        let shape = try floats("input_shape").map { Extents.exactInt(Double($0)) ?? -1 }
        guard shape.count == 3, (1...4096).contains(shape[0]), (1...8192).contains(shape[1]), (1...8192).contains(shape[2]) else {
            throw bad("input_shape", "C,H,W (C in 1…4096, H and W in 1…8192)")
        }
        let mean = try floats("input_mean"), std = try floats("input_std")
        guard [1, shape[0]].contains(mean.count), mean.allSatisfy(\.isFinite) else { throw bad("input_mean", shape[0] == 1 ? "one finite number" : "1 or \(shape[0]) finite numbers") }
        guard [1, shape[0]].contains(std.count), std.allSatisfy({ $0.isFinite && $0 > 0 }) else { throw bad("input_std", shape[0] == 1 ? "one positive number" : "1 or \(shape[0]) positive numbers") }
        let classes = c.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard !classes.contains(where: \.isEmpty), classes.count <= 1_000_000 else { throw bad("classes", "comma-separated class names, none empty") }
        guard ModelZoo.names.contains(m.lowercased()) else { throw bad("model", "one of the zoo's models (\(ModelZoo.names.joined(separator: ", ")))") }
        // One value stands for every channel (standardize needs one per channel).
        self.init(model: m, shape: shape, mean: mean.count == 1 ? Array(repeating: mean[0], count: shape[0]) : mean,
                  std: std.count == 1 ? Array(repeating: std[0], count: shape[0]) : std, classes: classes)
    }

    /// Raw image [C, H, W] in 0…255 → model input (channels matched, resized, scaled, standardized).
    func prepare(_ raw: Tensor) -> Tensor {
        var t = Preprocessing.matchChannels(raw, shape[0])
        if t.shape[1] != shape[1] || t.shape[2] != shape[2] { t = Preprocessing.resizeArea(t, to: (shape[1], shape[2])) }
        return Preprocessing.standardize(Preprocessing.scaleToUnit(t), mean: mean, std: std)
    }

    /// The model, built and loaded from the checkpoint.
    func loadModel(weights: String, expectedName: String?) throws -> any UnaryLayer {
        if let expectedName, expectedName.lowercased() != model {
            throw ConvKitError.invalidArgument(name: "--model", expected: "\(model) (the architecture stored in \(weights))", found: expectedName)
        }
        let (net, _) = try ModelZoo.make(model, classes: classes.count, inputChannels: shape[0])
        try Checkpoint.load(weights, into: net)
        net.eval()
        return net
    }
}

/// Loads a dataset folder: MNIST IDX layout (its test split) or one sub-folder per class.
func loadEvaluationSet(_ dir: String, input: ModelInput) throws -> LabeledImages {
    if FileManager.default.fileExists(atPath: dir + "/t10k-images-idx3-ubyte.gz") || FileManager.default.fileExists(atPath: dir + "/t10k-images-idx3-ubyte") {
        return try Datasets.idxFolder(dir).test
    }
    // Class folders are named after classes: map each to the checkpoint's index of that name (sorted folder order
    // need not be the training order, and a folder may be missing).
    let set = try Datasets.imageFolder(dir, size: (input.shape[1], input.shape[2]), channels: input.shape[0])
    let index = Dictionary(input.classes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    let unknown = set.classNames.filter { index[$0] == nil }
    guard unknown.isEmpty else {
        throw ConvKitError.invalidArgument(name: "class folder \(unknown.joined(separator: ", ")) in \(dir)",
                                           expected: "folders named after the model's classes: \(input.classes.joined(separator: ", "))",
                                           found: unknown.joined(separator: ", "))
    }
    return try LabeledImages(images: set.images, labels: set.labels.map { index[set.classNames[$0]]! }, classNames: input.classes)
}
