import Foundation

/// One row of a model summary.
public struct LayerSummary: Codable, Equatable {
    public var name: String
    public var type: String
    public var output: [Int]
    public var params: Int
    public var macs: Int
    /// Receptive field size per spatial axis (nil after flattening).
    public var receptiveField: [Int]?
    public var jump: [Int]?
    /// Center of the first output position's receptive field, in input pixels (padding makes it move up/left).
    public var center: [Double]?
}

/// A model explained the way the notes do: per-layer output shapes, parameters, multiply-accumulates and
/// receptive fields, with totals.
public struct ModelSummary: Codable {
    public var model: String
    public var input: [Int]
    public var params: Int
    public var trainableParams: Int
    public var macs: Int
    /// Bytes of all recorded layer outputs for one image (float32).
    public var activationBytes: Int
    public var layers: [LayerSummary]

    /// Runs `module` once on a zero image of `inputShape` [C, H, W] (batch 1, evaluation mode, no gradients),
    /// recording every convolution, dense, pooling and normalization op.
    public static func of(_ module: any UnaryLayer, name: String, inputShape: [Int]) -> ModelSummary {
        tracing(module, name: name, inputShape: inputShape) { _ = module($0) }
    }

    /// Like `of` for any module and forward pass (models with several inputs, imported graphs): `forward` runs the
    /// module on the zero input it is given, which carries the receptive-field trace.
    public static func tracing(_ module: Module, name: String, inputShape: [Int], forward: (Variable) throws -> Void) rethrows -> ModelSummary {
        let tracer = Tracer()
        for (n, p) in module.namedParameters() {
            let owner = n.split(separator: ".").dropLast().joined(separator: ".")
            tracer.owners[ObjectIdentifier(p)] = owner
        }
        let wasTraining = module.isTraining
        module.eval()
        let x = Variable(.zeros([1] + inputShape))
        x.receptiveField = .input(rank: inputShape.count - 1)
        Tracer.current = tracer
        defer { Tracer.current = nil; module.train(wasTraining) }
        try Autograd.withoutGradients { try forward(x) }
        let params = module.parameters()
        return ModelSummary(model: name, input: inputShape, params: params.reduce(0) { $0 + $1.value.count },
                            trainableParams: params.filter(\.requiresGrad).reduce(0) { $0 + $1.value.count },
                            macs: tracer.rows.reduce(0) { $0 + $1.macs }, activationBytes: tracer.rows.reduce(0) { $0 + 4 * $1.output.dropFirst().reduce(1, *) },
                            layers: tracer.rows)
    }

    /// Like `of`, but first checks the input's rank and channel count against the model's first convolution,
    /// throwing instead of failing a precondition. (Spatial limits are the caller's: see `ModelZoo.Entry`.)
    public static func checked(_ module: any UnaryLayer, name: String, inputShape: [Int]) throws -> ModelSummary {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ConvKitError.shapeMismatch(expected: "an input shape [C, H, W]", found: "\(inputShape)")
        }
        let firstConv = module.namedModules().compactMap { $0.1 as? Conv }.first
        if let c = firstConv, c.inputChannels != inputShape[0] {
            throw ConvKitError.shapeMismatch(expected: "\(c.inputChannels) input channels for \(name)", found: "\(inputShape[0])")
        }
        return of(module, name: name, inputShape: inputShape)
    }

    public func jsonString() -> String {
        struct Out: Encodable {
            let model: String, input: [Int], params: Int, trainable_params: Int, macs: Int, activation_bytes: Int
            let layers: [Row]
            struct Row: Encodable {
                let name: String, type: String, output: [Int], params: Int, macs: Int, receptive_field: [Int]?, jump: [Int]?
                enum CodingKeys: String, CodingKey { case name, type, output, params, macs, receptive_field, jump }
                func encode(to e: Encoder) throws {   // null, not absent, for layers after flattening
                    var c = e.container(keyedBy: CodingKeys.self)
                    try c.encode(name, forKey: .name); try c.encode(type, forKey: .type); try c.encode(output, forKey: .output)
                    try c.encode(params, forKey: .params); try c.encode(macs, forKey: .macs)
                    try c.encode(receptive_field, forKey: .receptive_field); try c.encode(jump, forKey: .jump)
                }
            }
        }
        let o = Out(model: model, input: input, params: params, trainable_params: trainableParams, macs: macs, activation_bytes: activationBytes,
                    layers: layers.map { .init(name: $0.name, type: $0.type, output: $0.output, params: $0.params, macs: $0.macs,
                                               receptive_field: $0.receptiveField, jump: $0.jump) })
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        return String(data: try! enc.encode(o), encoding: .utf8)!
    }

    /// A text table.
    public func table() -> String {
        func fmt(_ n: Int) -> String {
            let s = String(n), chars = Array(s)
            var out = ""
            for (i, c) in chars.enumerated() { if i > 0 && (chars.count - i) % 3 == 0 { out += "," }; out.append(c) }
            return out
        }
        var lines = [String]()
        let header = "name".padding(toLength: 34, withPad: " ", startingAt: 0) + "type".padding(toLength: 16, withPad: " ", startingAt: 0)
            + "output".padding(toLength: 20, withPad: " ", startingAt: 0) + "params".leftPad(13) + "MACs".leftPad(16) + "  RF / jump"
        lines.append(header); lines.append(String(repeating: "─", count: header.count + 6))
        for l in layers {
            let rf = l.receptiveField.map { "\($0.map(String.init).joined(separator: "×")) / \(l.jump!.map(String.init).joined(separator: "×"))" } ?? ""
            lines.append(String(l.name.prefix(33)).padding(toLength: 34, withPad: " ", startingAt: 0) + l.type.padding(toLength: 16, withPad: " ", startingAt: 0)
                         + l.output.dropFirst().map(String.init).joined(separator: "×").padding(toLength: 20, withPad: " ", startingAt: 0)
                         + fmt(l.params).leftPad(13) + fmt(l.macs).leftPad(16) + "  " + rf)
        }
        lines.append(String(repeating: "─", count: header.count + 6))
        lines.append("parameters: \(fmt(params)) (trainable \(fmt(trainableParams)), frozen \(fmt(params - trainableParams)))")
        lines.append(String(format: "multiply-accumulates: %@ (%.2f G)", fmt(macs), Double(macs) / 1e9))
        lines.append(String(format: "activation memory (one image, float32): %.1f MB", Double(activationBytes) / 1e6))
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}

/// Records ops while a summary runs (single-threaded: summaries run on one thread).
final class Tracer {
    nonisolated(unsafe) static var current: Tracer?
    var owners = [ObjectIdentifier: String]()
    var rows = [LayerSummary]()
    var counters = [String: Int]()
    /// Set while `CapturedGraph.capture` runs: every op is recorded there too.
    var capture: CapturedGraph?

    /// Adds a row for an op's output; `params` are the op's parameters (their owner names the row).
    static func record(_ type: String, output: Variable, params: [Variable] = [], macs: Int = 0, window: WindowGeometry? = nil) {
        guard let t = current else { return }
        if let w = window, let rf = output.tracedInput?.receptiveField { output.receptiveField = rf.through(w) }
        var name = params.first.flatMap { t.owners[ObjectIdentifier($0)] } ?? ""
        if name.isEmpty { t.counters[type, default: 0] += 1; name = "\(type)_\(t.counters[type]!)" }
        let rf = output.shape.count > 2 ? output.receptiveField : nil
        t.rows.append(LayerSummary(name: name, type: type, output: output.shape, params: params.reduce(0) { $0 + $1.value.count }, macs: macs,
                                   receptiveField: rf?.size, jump: rf?.jump, center: rf?.start))
    }
}
