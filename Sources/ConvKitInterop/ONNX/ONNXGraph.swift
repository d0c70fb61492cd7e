import ConvKit
import Foundation
import SwiftProtobuf

/// A graph input or output as the model declares it.
public struct ONNXTensorInfo: Equatable, CustomStringConvertible {
    public enum Dimension: Equatable, CustomStringConvertible {
        case fixed(Int), symbolic(String), unknown
        public var description: String {
            switch self {
            case .fixed(let n): return "\(n)"
            case .symbolic(let s): return s
            case .unknown: return "?"
            }
        }
    }
    public var name: String
    /// nil when the model does not say (or declares a non-tensor type).
    public var elementType: ONNXElementType?
    /// nil when the rank is not declared.
    public var shape: [Dimension]?

    init(_ v: Onnx_ValueInfoProto) {
        name = v.name
        let isTensor: Bool
        if case .tensorType? = v.type.value { isTensor = true } else { isTensor = false }
        let t = v.type.tensorType
        elementType = isTensor ? ONNXElementType(rawValue: t.elemType) : nil
        if isTensor && t.hasShape {
            shape = t.shape.dim.map { d in
                switch d.value {
                case .dimValue(let n)?: return n >= 0 ? .fixed(Int(clamping: n)) : .unknown
                case .dimParam(let s)?: return s.isEmpty ? .unknown : .symbolic(s)
                case nil: return .unknown
                }
            }
        } else {
            shape = nil
        }
    }

    public var description: String {
        "\(name): \(elementType.map(String.init(describing:)) ?? "?")[\(shape.map { $0.map(\.description).joined(separator: ", ") } ?? "…")]"
    }

    /// The declared shape with symbolic dimensions replaced (batch dimensions become `batch`), nil if not fixed or larger
    /// than `ONNXLimits.default` allows.
    public func concreteShape(batch: Int = 1) -> [Int]? {
        guard let shape else { return nil }
        var out = [Int]()
        for (i, d) in shape.enumerated() {
            switch d {
            case .fixed(let n): out.append(n)
            case .symbolic, .unknown:
                guard i == 0 else { return nil }
                out.append(batch)
            }
        }
        // A declared shape is a claim of the file: callers allocate it (summary, bench, predict), so it must fit.
        return ONNXLimits.default.elementCount(out) == nil ? nil : out
    }
}

/// One operator node, resolved against the operator table.
struct ONNXCompiledNode {
    let op: String
    let name: String
    let opset: Int
    /// Input value names; "" for an omitted optional input.
    let inputs: [String]
    let outputs: [String]
    let attributes: ONNXAttributes
    let kernel: ONNXKernel
    /// Set when fusion folded this node and its successors (batch norm, residual add, ReLU) into one convolution.
    var fusion: ONNXConvFusion?
}

/// Parses and checks an ONNX `ModelProto`: opsets, initializers, the node order (sorted topologically, cycles and
/// values nobody produces reported by name), and the operator table (every unsupported node listed at once).
struct ONNXGraphLoader {
    let limits: ONNXLimits
    let baseDirectory: URL?

    struct Loaded {
        var inputs: [ONNXTensorInfo]
        var outputs: [ONNXTensorInfo]
        var nodes: [ONNXCompiledNode]
        var initializers: [(String, ONNXValue)]
        var opset: Int
        var producer: String
        var irVersion: Int
    }

    func load(_ model: Onnx_ModelProto) throws -> Loaded {
        var opset = 0
        for o in model.opsetImport where o.domain.isEmpty || o.domain == "ai.onnx" { opset = Int(clamping: o.version) }
        if opset == 0 {
            // IR version 3 and later must import the default domain; very old files imply opset 1.
            guard model.opsetImport.isEmpty else { throw ONNXError.invalidModel("no opset_import for the default ONNX domain (found \(model.opsetImport.map { "\($0.domain):\($0.version)" }))") }
            opset = 1
        }
        let g = model.graph
        guard !g.node.isEmpty || !g.output.isEmpty else { throw ONNXError.invalidModel("the graph has no nodes and no outputs") }

        var initializers = [(String, ONNXValue)]()
        var known = Set<String>()
        for t in g.initializer {
            guard !t.name.isEmpty else { throw ONNXError.invalidModel("an initializer has no name") }
            guard known.insert(t.name).inserted else { throw ONNXError.invalidModel("initializer '\(t.name)' is defined twice") }
            initializers.append((t.name, try ONNXTensorCoding.decode(t, baseDirectory: baseDirectory, limits: limits)))
        }
        for s in g.sparseInitializer {
            throw ONNXError.invalidModel("sparse initializer '\(s.values.name)' is not supported; densify it when exporting")
        }
        // Graph inputs that are also initializers (IR < 4 lists them) are defaults, not inputs.
        let inputs = g.input.filter { !known.contains($0.name) }.map(ONNXTensorInfo.init)
        for i in inputs { known.insert(i.name) }
        let outputs = g.output.map(ONNXTensorInfo.init)

        // Operator table, every unsupported node at once.
        var unsupported = [ONNXError.UnsupportedNode]()
        var compiled = [ONNXCompiledNode]()
        for (i, n) in g.node.enumerated() {
            let name = n.name.isEmpty ? "\(n.opType)_\(i)" : n.name
            let domain = n.domain == "ai.onnx" ? "" : n.domain
            guard domain.isEmpty, let kernel = ONNXOperators.table[n.opType] else {
                unsupported.append(.init(op: n.opType, domain: domain, opset: opset, name: name))
                continue
            }
            compiled.append(ONNXCompiledNode(op: n.opType, name: name, opset: opset, inputs: n.input, outputs: n.output,
                                             attributes: ONNXAttributes(n, name: name), kernel: kernel, fusion: nil))
        }
        guard unsupported.isEmpty else { throw ONNXError.unsupported(unsupported) }

        let sorted = try topologicalOrder(compiled, available: known)
        for o in outputs where !known.contains(o.name) && !sorted.contains(where: { $0.outputs.contains(o.name) }) {
            throw ONNXError.invalidModel("graph output '\(o.name)' is produced by no node, input or initializer")
        }
        return Loaded(inputs: inputs, outputs: outputs, nodes: sorted, initializers: initializers, opset: opset,
                      producer: [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " "),
                      irVersion: Int(clamping: model.irVersion))
    }

    /// Kahn's algorithm, keeping the file's order among ready nodes. A node whose input nobody produces, or
    /// nodes on a cycle, are errors naming them.
    func topologicalOrder(_ nodes: [ONNXCompiledNode], available start: Set<String>) throws -> [ONNXCompiledNode] {
        var producer = [String: Int]()
        for (i, n) in nodes.enumerated() {
            for o in n.outputs where !o.isEmpty {
                if start.contains(o) || producer[o] != nil {
                    throw ONNXError.invalidModel("value '\(o)' is produced twice (node '\(n.name)')")
                }
                producer[o] = i
            }
        }
        var waiting = [Int](repeating: 0, count: nodes.count)
        var consumers = [[Int]](repeating: [], count: nodes.count)
        for (i, n) in nodes.enumerated() {
            for v in Set(n.inputs) where !v.isEmpty && !start.contains(v) {
                guard let p = producer[v] else {
                    throw ONNXError.invalidModel("node '\(n.name)' (\(n.op)) reads '\(v)', which no node, graph input or initializer provides")
                }
                waiting[i] += 1
                consumers[p].append(i)
            }
        }
        var ready = (0..<nodes.count).filter { waiting[$0] == 0 }.reversed() as [Int]
        var order = [ONNXCompiledNode]()
        order.reserveCapacity(nodes.count)
        while let i = ready.popLast() {
            order.append(nodes[i])
            var next = [Int]()
            for c in consumers[i] {
                waiting[c] -= 1
                if waiting[c] == 0 { next.append(c) }
            }
            ready.append(contentsOf: next.sorted(by: >))
            ready.sort(by: >)
        }
        guard order.count == nodes.count else {
            let stuck = (0..<nodes.count).filter { waiting[$0] > 0 }.prefix(5).map { "'\(nodes[$0].name)'" }
            throw ONNXError.invalidModel("the graph has a cycle through node\(stuck.count == 1 ? "" : "s") \(stuck.joined(separator: ", "))")
        }
        return order
    }
}

extension Onnx_ModelProto {
    /// Parses a model from bytes, turning protobuf decoding errors into a one-line error.
    static func parse(_ data: Data, path: String) throws -> Onnx_ModelProto {
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            return try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw ONNXError.corruptFile(path: path, reason: "protobuf decoding failed (\(error)) in \(data.count) bytes")
        }
    }
}
