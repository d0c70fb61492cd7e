import ConvKit
import Foundation

/// Exports a ConvKit module to ONNX by tracing one forward pass (`CapturedGraph`): each recorded op becomes ONNX
/// nodes, parameters become initializers under their module paths (`features.0.weight`), batch-norm statistics
/// initializers beside them (`features.1.running_mean`), and the input's batch axis is symbolic ("N").
///
/// The graph is what ran on the example input: control flow in `forward` is unrolled for that input, and values a
/// module computed outside autograd would be frozen into constants — the round-trip tests compare outputs on a
/// different input to catch that.
public enum ONNXExporter {
    /// The ONNX opset the exporter writes (its operators' semantics as of that opset).
    public static let opset = 17

    /// The serialized ONNX model of `forward` as traced on `example` (`[N, …]`).
    public static func export(_ module: Module, example: Tensor, inputName: String = "input", outputNames: [String]? = nil,
                              producer: String = "convkit", forward: (Variable) throws -> [Variable]) throws -> Data {
        let proto = try exportProto(module, example: example, inputName: inputName, outputNames: outputNames, producer: producer, forward: forward)
        do { return try proto.serializedData() } catch {
            throw ONNXError.invalidModel("cannot serialize the exported model: \(error)")
        }
    }

    static func exportProto(_ module: Module, example: Tensor, inputName: String = "input", outputNames: [String]? = nil,
                            producer: String = "convkit", forward: (Variable) throws -> [Variable]) throws -> Onnx_ModelProto {
        let captured = try CapturedGraph.capture(module, input: example, forward: forward)
        var t = Translation(graph: captured, inputName: inputName)
        for node in captured.nodes { try t.translate(node) }
        guard t.unsupported.isEmpty else {
            throw ONNXError.invalidModel("cannot export: no ONNX form for " + t.unsupported.joined(separator: ", "))
        }
        var g = Onnx_GraphProto()
        g.name = producer
        g.input = [ONNXGraphWriter.valueInfo(inputName, shape: example.shape, symbolicFirst: "N")]
        let names = outputNames ?? (captured.outputs.count == 1 ? ["output"] : captured.outputs.indices.map { "output\($0)" })
        for (v, name) in zip(captured.outputs, names) {
            let source = try t.value(v)
            t.writer.reserve(name)
            t.writer.emit("Identity", [source], [name])
            g.output.append(ONNXGraphWriter.valueInfo(name, shape: v.shape, symbolicFirst: v.shape.first == example.shape.first ? "N" : nil))
        }
        g.node = t.writer.nodes
        g.initializer = t.writer.initializers
        return ONNXGraphWriter.model(g, opset: opset, producer: producer, producerVersion: "1")
    }

    /// A single-input, single-output layer traced on an input of shape `[1] + inputShape`, serialized.
    public static func export(_ layer: any UnaryLayer, inputShape: [Int], seed: UInt64 = 0) throws -> Data {
        var rng = SeededGenerator(seed: seed)
        return try export(layer, example: Tensor.normal([1] + inputShape, rng: &rng)) { [layer($0)] }
    }

    /// Exports `layer` to `path`, written atomically (a temporary file renamed into place).
    public static func write(_ layer: any UnaryLayer, inputShape: [Int], to path: String) throws {
        try AtomicFile.write(try export(layer, inputShape: inputShape), to: path)
    }
}

/// The op-by-op translation of a captured graph.
struct ONNXExportTranslation {
    var writer = ONNXGraphWriter()
    var unsupported = [String]()
    let graph: CapturedGraph
    private var names = [ObjectIdentifier: String]()
    private var counters = [String: Int]()

    init(graph: CapturedGraph, inputName: String) {
        self.graph = graph
        writer.reserve(inputName)
        names[ObjectIdentifier(graph.input)] = inputName
    }

    /// The ONNX value of `v`: the input, an op's output, a parameter initializer (its module path), or a constant.
    mutating func value(_ v: Variable) throws -> String {
        if let n = names[ObjectIdentifier(v)] { return n }
        if let p = graph.parameterNames[ObjectIdentifier(v)] {
            writer.addNamedInitializer(p, v.value)
            names[ObjectIdentifier(v)] = p
            return p
        }
        guard graph.producer(of: v) == nil else {
            throw ONNXError.invalidModel("cannot export: '\(v.label)' is used before the op that makes it was translated")
        }
        let n = writer.addInitializer("constant", v.value)
        names[ObjectIdentifier(v)] = n
        return n
    }

    mutating func outputName(_ node: CapturedGraph.Node) -> String {
        counters[node.op, default: 0] += 1
        let n = writer.fresh("\(node.op)_\(counters[node.op]!)")
        names[ObjectIdentifier(node.output)] = n
        return n
    }

    /// The module path a node's first parameter lives under (`features.1` for `features.1.weight`).
    func owner(_ node: CapturedGraph.Node) -> String {
        for v in node.inputs {
            if let p = graph.parameterNames[ObjectIdentifier(v)] { return p.split(separator: ".").dropLast().joined(separator: ".") }
        }
        return node.op
    }

    typealias A = ONNXGraphWriter.Attribute
}

typealias Translation = ONNXExportTranslation
