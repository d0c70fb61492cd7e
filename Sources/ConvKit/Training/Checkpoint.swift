import Foundation

/// Saving and loading a module's parameters and buffers (and, for resuming, an optimizer's state) as
/// safetensors, under the module's hierarchical names. Optimizer state is stored as
/// "optimizer.<parameter>.<state>" with the step count in the metadata.
public enum Checkpoint {
    public static func save(_ module: Module, optimizer: Optimizer? = nil, epoch: Int? = nil, metadata: [String: String] = [:], to path: String) throws {
        try KernelMemory.check()   // values computed after a failed scratch allocation are not saved
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

    /// A checkpoint a run can resume from: model, optimizer state and the position in the run (metadata
    /// "training_position", JSON), written atomically.
    public static func save(_ module: Module, optimizer: Optimizer, position: TrainingPosition, metadata: [String: String] = [:], to path: String) throws {
        try KernelMemory.check()
        var meta = metadata
        let json = try JSONEncoder().encode(position)
        meta["training_position"] = String(decoding: json, as: UTF8.self)
        try save(module, optimizer: optimizer, epoch: position.epoch, metadata: meta, to: path)
    }

    /// The position stored by `save(_:optimizer:position:metadata:to:)` in a checkpoint's metadata.
    public static func trainingPosition(in metadata: [String: String], path: String) throws -> TrainingPosition {
        guard let json = metadata["training_position"] else {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "metadata \"training_position\" (a resumable checkpoint)", found: "none")
        }
        do { return try JSONDecoder().decode(TrainingPosition.self, from: Data(json.utf8)) } catch {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "a training position (epoch, batch, sums, history)", found: "\(error)")
        }
    }

    /// Loads into `module`. Every parameter and buffer must be present with its shape (unless `strict` is
    /// false, which loads what matches and reports the rest); all mismatches are listed in one error.
    /// Returns the metadata (epoch, optimizer step).
    @discardableResult
    public static func load(_ path: String, into module: Module, optimizer: Optimizer? = nil, strict: Bool = true) throws -> [String: String] {
        let (tensors, meta) = try Safetensors.load(path)
        // Everything is checked before anything is set: a load that throws leaves the model and optimizer as they were.
        let check = assign(tensors, to: module, dryRun: true)
        var problems = check.problems
        if !check.unused.isEmpty { problems.append("unexpected \(check.unused.joined(separator: ", "))") }
        if strict && !problems.isEmpty {
            throw ConvKitError.shapeMismatch(expected: "the tensors of this model in \(path)", found: problems.joined(separator: "; "))
        }
        var state = [String: Tensor]()
        if let optimizer {
            for (k, v) in tensors where k.hasPrefix("optimizer.") { state[String(k.dropFirst("optimizer.".count))] = v }
            try optimizer.validate(tensors: state, path: path)
        }
        assign(tensors, to: module)
        if let optimizer { try optimizer.load(tensors: state, step: Int(meta["optimizer_step"] ?? "0") ?? 0) }
        return meta
    }

    /// What `assign` did.
    public struct AssignResult {
        /// Names set from the tensors.
        public var loaded: [String] = []
        /// Parameters and buffers left as they were (no tensor of that name and shape).
        public var missing: [String] = []
        /// Each missing or misshaped name, described for an error message.
        public var problems: [String] = []
        /// Tensor names the module does not have or has with another shape ("optimizer." state excluded).
        public var unused: [String] = []
    }

    /// Sets every parameter and buffer of `module` that has a tensor of the same name and shape
    /// (a one-element tensor fits any one-element shape: PyTorch saves counters as shape []); with `dryRun`,
    /// only reports what it would do.
    @discardableResult
    public static func assign(_ tensors: [String: Tensor], to module: Module, dryRun: Bool = false) -> AssignResult {
        var r = AssignResult()
        var slots = [(String, [Int], (Tensor) -> Void)]()
        for (n, p) in module.namedParameters() { slots.append((n, p.value.shape, { p.value = $0 })) }
        for (n, b) in module.namedBuffers() { slots.append((n, b.value.shape, { b.value = $0 })) }
        for (name, shape, set) in slots {
            guard let t = tensors[name] else { r.missing.append(name); r.problems.append("missing \(name) \(shape)"); continue }
            guard t.shape == shape || (t.count == 1 && shape.reduce(1, *) == 1) else {
                r.missing.append(name); r.problems.append("\(name): expected shape \(shape), found \(t.shape)"); continue
            }
            if !dryRun { set(t.reshaped(shape)) }
            r.loaded.append(name)
        }
        let loaded = Set(r.loaded)
        r.unused = tensors.keys.filter { !loaded.contains($0) && !$0.hasPrefix("optimizer.") }.sorted()
        return r
    }
}
