import Foundation

/// Saving and loading a module's parameters and buffers (and, for resuming, an optimizer's state) as
/// safetensors, under the module's hierarchical names. Optimizer state is stored as
/// "optimizer.<parameter>.<state>" with the step count in the metadata.
public enum Checkpoint {
    public static func save(_ module: Module, optimizer: Optimizer? = nil, epoch: Int? = nil, metadata: [String: String] = [:], to path: String) throws {
        var tensors = [String: Tensor]()
        for (n, p) in module.namedParameters() { tensors[n] = p.value }
        for (n, b) in module.namedBuffers() { tensors[n] = b.value }
        var meta = metadata
        meta["format"] = "convkit"
        if let optimizer {
            let (state, step) = optimizer.stateDict()
            for (k, v) in state { tensors["optimizer." + k] = v }
            meta["optimizer_step"] = String(step)
        }
        if let epoch { meta["epoch"] = String(epoch) }
        try Safetensors.save(tensors, metadata: meta, to: path)
    }

    /// Loads into `module`. Every parameter and buffer must be present with its shape (unless `strict` is
    /// false, which loads what matches and reports the rest); all mismatches are listed in one error.
    /// Returns the metadata (epoch, optimizer step).
    @discardableResult
    public static func load(_ path: String, into module: Module, optimizer: Optimizer? = nil, strict: Bool = true) throws -> [String: String] {
        let (tensors, meta) = try Safetensors.load(path)
        var problems = [String]()
        var targets = [(String, [Int], (Tensor) -> Void)]()
        for (n, p) in module.namedParameters() { targets.append((n, p.value.shape, { p.value = $0 })) }
        for (n, b) in module.namedBuffers() { targets.append((n, b.value.shape, { b.value = $0 })) }
        for (name, shape, assign) in targets {
            guard let t = tensors[name] else { problems.append("missing \(name) \(shape)"); continue }
            // Scalars saved by PyTorch as shape [] vs [1] are the same.
            guard t.shape == shape || (t.count == 1 && shape.reduce(1, *) == 1) else {
                problems.append("\(name): expected shape \(shape), found \(t.shape)"); continue
            }
            assign(t.reshaped(shape))
        }
        let known = Set(targets.map(\.0))
        let unexpected = tensors.keys.filter { !known.contains($0) && !$0.hasPrefix("optimizer.") }.sorted()
        if strict && !unexpected.isEmpty { problems.append("unexpected \(unexpected.joined(separator: ", "))") }
        if strict && !problems.isEmpty {
            throw ConvKitError.shapeMismatch(expected: "the tensors of this model in \(path)", found: problems.joined(separator: "; "))
        }
        if let optimizer {
            var state = [String: Tensor]()
            for (k, v) in tensors where k.hasPrefix("optimizer.") { state[String(k.dropFirst("optimizer.".count))] = v }
            try optimizer.load(tensors: state, step: Int(meta["optimizer_step"] ?? "0") ?? 0)
        }
        return meta
    }
}
