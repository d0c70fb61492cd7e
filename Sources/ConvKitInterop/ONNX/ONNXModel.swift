import ConvKit
import Foundation

/// An ONNX model imported as a ConvKit module: it runs in inference and trains.
///
/// Floating-point initializers become named parameters (the initializer names, so checkpoints, freezing and
/// optimizers work as on any module); batch-norm statistics become buffers; integer initializers and floats used
/// only as shapes, scales or bounds stay constants. Nodes run in topological order on ConvKit ops that record
/// gradients. In evaluation (the state after loading) Conv → BatchNormalization → Add → Relu/Clip chains run as one
/// fused convolution with the norm folded into its weights; in training mode (`train()`) every node runs as
/// written, batch normalization uses batch statistics and updates its running averages, dropout is active.
public final class ONNXModel: Module {
    public let inputs: [ONNXTensorInfo]
    public let outputs: [ONNXTensorInfo]
    /// The default-domain opset the model imports.
    public let opset: Int
    public let producer: String
    public let irVersion: Int
    public let limits: ONNXLimits
    private(set) var nodes: [ONNXCompiledNode]
    private let parameterList: [(String, Parameter)]
    private let bufferList: [(String, Buffer)]
    let bufferByName: [String: Buffer]
    /// Initial values of every initializer (parameters and buffers included), by name.
    private var initialEnvironment: [String: ONNXValue]
    /// Index of the last node that reads each value; values are dropped after it.
    private var lastUse: [String: Int] = [:]
    /// Operator counts of the file (before fusion).
    public let operatorCounts: [(String, Int)]
    var dropoutGenerator = SeededGenerator(seed: 0x0_4E_4E_58)
    /// When set, `run` adds each node's wall time to `profile` under its operator (fused chains as "Conv+fused").
    public var profiling = false
    /// Seconds per operator type accumulated while `profiling`.
    public private(set) var profile = [String: Double]()
    public func resetProfile() { profile = [:] }

    /// Reads a model file (`.onnx`); external data is looked up beside it.
    public convenience init(contentsOf url: URL, limits: ONNXLimits = .default) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ONNXError.corruptFile(path: url.path, reason: "cannot be read (\(error.localizedDescription))")
        }
        do {
            try self.init(serialized: data, path: url.path, baseDirectory: url.deletingLastPathComponent(), limits: limits)
        } catch ONNXError.invalidModel(let m) {
            throw ONNXError.invalidModel("\(url.path): \(m)")   // name the file the graph came from
        }
    }

    /// Parses a serialized `ModelProto`.
    public convenience init(serialized data: Data, path: String = "model", baseDirectory: URL? = nil, limits: ONNXLimits = .default) throws {
        try self.init(proto: try Onnx_ModelProto.parse(data, path: path), baseDirectory: baseDirectory, limits: limits)
    }

    /// Imports a decoded `ModelProto` (also what the TFLite importer builds).
    init(proto: Onnx_ModelProto, baseDirectory: URL?, limits: ONNXLimits) throws {
        let loaded = try ONNXGraphLoader(limits: limits, baseDirectory: baseDirectory).load(proto)
        inputs = loaded.inputs; outputs = loaded.outputs; opset = loaded.opset
        producer = loaded.producer; irVersion = loaded.irVersion; self.limits = limits
        var counts = [String: Int]()
        for n in loaded.nodes { counts[n.op, default: 0] += 1 }
        operatorCounts = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }

        let roles = ONNXInitializerRoles(nodes: loaded.nodes)
        var params = [(String, Parameter)](), buffers = [(String, Buffer)](), env = [String: ONNXValue]()
        var bufferByName = [String: Buffer]()
        for (name, value) in loaded.initializers {
            guard case .float(let v, let type) = value else { env[name] = value; continue }
            switch roles.role(of: name) {
            case .parameter:
                let p = Parameter(v.value, requiresGrad: true, label: name)
                params.append((name, p)); env[name] = .float(p, type)
            case .buffer:
                let b = Buffer(v.value)
                buffers.append((name, b)); bufferByName[name] = b; env[name] = value
            case .constant:
                env[name] = value
            }
        }
        parameterList = params; bufferList = buffers; self.bufferByName = bufferByName
        initialEnvironment = env
        nodes = loaded.nodes
        super.init()
        eval()
        var constants = Set(env.keys)
        for (n, _) in params { constants.remove(n) }
        for (n, _) in buffers { constants.remove(n) }
        try foldConstants(constants)
        let parameterByName = Dictionary(params, uniquingKeysWith: { a, _ in a })
        nodes = ONNXFusionPlanner(parameters: parameterByName, buffers: bufferByName, constants: initialEnvironment,
                                  graphOutputs: Set(loaded.outputs.map(\.name))).fuse(nodes)
        var last = [String: Int]()
        for (i, n) in nodes.enumerated() {
            for v in n.inputs where !v.isEmpty { last[v] = i }
            if let r = n.fusion?.residual { last[r] = i }
        }
        lastUse = last
    }

    /// Constant folding: every node whose inputs are all constants (Constant nodes, integer initializers, shape
    /// arithmetic on them, weights generated by ConstantOfShape) runs once here and its outputs become constants.
    private func foldConstants(_ start: Set<String>) throws {
        var constants = start, kept = [ONNXCompiledNode]()
        for node in nodes {
            let foldable = node.op != "Dropout" && node.inputs.allSatisfy { $0.isEmpty || constants.contains($0) }
            guard foldable else { kept.append(node); continue }
            let args = node.inputs.map { $0.isEmpty ? nil : initialEnvironment[$0] }
            let results = try Autograd.withoutGradients { try node.kernel(ONNXNodeContext(node: node, inputs: args, model: self)) }
            for (o, r) in zip(node.outputs, results) where !o.isEmpty {
                initialEnvironment[o] = r; constants.insert(o)
            }
        }
        nodes = kept
    }

    public override func ownParameters() -> [(String, Parameter)] { parameterList }
    public override func ownBuffers() -> [(String, Buffer)] { bufferList }
    public override func namedChildren() -> [(String, Module)] { [] }

    /// Nodes after fusion (what runs).
    public var runtimeNodeCount: Int { nodes.count }

    /// Runs the graph. `feeds` holds every declared input (by name); returns every graph output.
    public func run(_ feeds: [String: ONNXValue]) throws -> [String: ONNXValue] {
        var env = initialEnvironment
        for (n, b) in bufferByName { if case .float(_, let t)? = env[n] { env[n] = .float(Variable(b.value), t) } }
        for i in inputs {
            guard let v = feeds[i.name] else {
                throw ONNXError.input("missing input '\(i.name)' (the model declares \(inputs.map(\.description).joined(separator: "; ")))")
            }
            if let declared = i.shape {
                // The batch axis may differ from the declared one (fine-tuning in batches of a batch-1 export).
                let s = v.shape
                let fits = declared.count == s.count && zip(declared, s).enumerated().allSatisfy { k, pair in
                    if k == 0 && declared.count > 1 { return true }
                    if case .fixed(let n) = pair.0 { return n == pair.1 }
                    return true
                }
                guard fits else { throw ONNXError.input("'\(i.name)' has shape \(s), the model declares [\(declared.map(\.description).joined(separator: ", "))]") }
            }
            if let t = i.elementType, t.isFloatingPoint != v.elementType.isFloatingPoint {
                throw ONNXError.input("'\(i.name)' is \(v.elementType), the model declares \(t)")
            }
            env[i.name] = v
        }
        for name in feeds.keys where !inputs.contains(where: { $0.name == name }) && initialEnvironment[name] == nil {
            throw ONNXError.input("unknown input '\(name)' (the model's inputs: \(inputs.map(\.name).joined(separator: ", ")))")
        }
        let keep = Set(outputs.map(\.name))
        for (index, node) in nodes.enumerated() {
            let args = node.inputs.map { $0.isEmpty ? nil : env[$0] }
            let ctx = ONNXNodeContext(node: node, inputs: args, model: self)
            let results: [ONNXValue]
            let started = profiling ? DispatchTime.now().uptimeNanoseconds : 0
            if let fusion = node.fusion {
                results = [try fusion.run(ctx, residual: fusion.residual.flatMap { env[$0] })]
            } else {
                results = try node.kernel(ctx)
            }
            if profiling {
                profile[node.fusion == nil ? node.op : "Conv+fused", default: 0] += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            }
            for (o, r) in zip(node.outputs, results) where !o.isEmpty { env[o] = r }
            for v in node.inputs + [node.fusion?.residual].compactMap({ $0 }) where lastUse[v] == index && !keep.contains(v) {
                env[v] = nil
            }
        }
        var out = [String: ONNXValue]()
        for o in outputs {
            guard let v = env[o.name] else { throw ONNXError.invalidModel("output '\(o.name)' was not produced") }
            out[o.name] = v
        }
        return out
    }

    /// Runs on variables given in the order of `inputs`; returns the outputs in the order of `outputs`.
    /// Gradients flow when recording (fine-tuning).
    public func forward(_ xs: [Variable]) throws -> [Variable] {
        guard xs.count == inputs.count else { throw ONNXError.input("expected \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))), found \(xs.count)") }
        var feeds = [String: ONNXValue]()
        for (i, x) in zip(inputs, xs) { feeds[i.name] = .float(x, i.elementType.flatMap { $0.isFloatingPoint ? $0 : nil } ?? .float) }
        let out = try run(feeds)
        return try outputs.map { o in
            guard case .float(let v, _)? = out[o.name] else { throw ONNXError.input("output '\(o.name)' is not a floating-point tensor") }
            return v
        }
    }

    /// The first output for one input tensor, without recording gradients.
    public func predict(_ x: Tensor) throws -> Tensor {
        try Autograd.withoutGradients { try forward([Variable(x)])[0].value }
    }
}

/// Whether a float initializer is trained, is running state, or is a constant (shapes, scales, bounds).
struct ONNXInitializerRoles {
    enum Role { case parameter, buffer, constant }
    private var differentiable = Set<String>(), statistics = Set<String>()

    /// Input slots that never carry gradients, by operator.
    static let constantSlots: [String: Set<Int>] = [
        "Reshape": [1], "Expand": [1], "Tile": [1], "Slice": [1, 2, 3, 4], "ConstantOfShape": [0], "Range": [0, 1, 2],
        "TopK": [1], "Squeeze": [1], "Unsqueeze": [1], "Split": [1], "Gather": [1], "Resize": [1, 2, 3], "Upsample": [1],
        "Clip": [1, 2], "Pad": [1, 2, 3], "Dropout": [1, 2], "ReduceSum": [1], "ReduceMean": [1], "ReduceMax": [1],
        "ReduceMin": [1], "ReduceProd": [1], "ReduceL1": [1], "ReduceL2": [1], "ReduceLogSumExp": [1],
        "ReduceSumSquare": [1], "ReduceLogSum": [1], "NonMaxSuppression": [0, 1, 2, 3, 4], "Shape": [0], "Size": [0],
        "OneHot": [0, 1, 2], "CumSum": [1], "Trilu": [1], "GatherElements": [1], "ScatterElements": [1], "ScatterND": [1],
        "GatherND": [1], "Where": [0],
    ]

    init(nodes: [ONNXCompiledNode]) {
        for n in nodes {
            let fixed = ONNXInitializerRoles.constantSlots[n.op] ?? []
            for (i, v) in n.inputs.enumerated() where !v.isEmpty {
                if n.op == "BatchNormalization" && (i == 3 || i == 4) { statistics.insert(v) }
                else if !fixed.contains(i) { differentiable.insert(v) }
            }
        }
    }

    func role(of name: String) -> Role {
        if statistics.contains(name) { return .buffer }
        return differentiable.contains(name) ? .parameter : .constant
    }
}

extension ONNXModel {
    /// The operators the importer runs (default domain).
    public static var supportedOperators: [String] { ONNXOperators.supported }
}

/// `ModelSummary` of an imported model: one pass on zeros of the first input's declared shape (batch 1), other
/// inputs zeros of theirs.
public enum ONNXModelSummary {
    public static func of(_ m: ONNXModel, inputShape: [Int]? = nil, name: String = "onnx") throws -> ModelSummary {
        guard let first = m.inputs.first else { throw ONNXError.input("the model has no inputs") }
        guard let shape = inputShape.map({ [1] + $0 }) ?? first.concreteShape(), shape.count >= 1 else {
            throw ONNXError.input("input '\(first.name)' has no fixed shape (\(first)); give one")
        }
        var rest = [Variable]()
        for i in m.inputs.dropFirst() {
            guard let s = i.concreteShape() else { throw ONNXError.input("input '\(i.name)' has no fixed shape") }
            rest.append(Variable(.zeros(s)))
        }
        return try ModelSummary.tracing(m, name: name, inputShape: Array(shape.dropFirst())) { x in
            _ = try m.forward([x] + rest)
        }
    }
}
