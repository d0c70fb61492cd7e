import ConvKit
/// Errors from reading or running an ONNX model. Each names the node (or file offset) and says what was
/// expected and what was found.
public enum ONNXError: Error, CustomStringConvertible, Equatable {
    /// One operator node the importer cannot run.
    public struct UnsupportedNode: Equatable, Sendable {
        public var op: String, domain: String, opset: Int, name: String
    }

    /// The file is not a valid ONNX protobuf.
    case corruptFile(path: String, reason: String)
    /// The graph is malformed: a cycle, a value nobody produces, a missing initializer, a bad attribute.
    case invalidModel(String)
    /// Every node whose operator (at its opset) is not implemented, all at once.
    case unsupported([UnsupportedNode])
    /// A node failed while running: its inputs do not fit what the operator needs.
    case node(op: String, name: String, message: String)
    /// The caller's inputs do not fit the model's declared inputs.
    case input(String)

    public var description: String {
        switch self {
        case let .corruptFile(p, r): return "\(p): not a valid ONNX model: \(r)"
        case let .invalidModel(m): return "invalid ONNX model: \(m)"
        case let .unsupported(nodes):
            let list = nodes.map { "\($0.domain.isEmpty ? "" : $0.domain + ".")\($0.op) (opset \($0.opset), node '\($0.name)')" }
            return "unsupported ONNX operators in \(nodes.count) node\(nodes.count == 1 ? "" : "s"): " + list.joined(separator: ", ")
        case let .node(op, name, m): return "ONNX node '\(name)' (\(op)): \(m)"
        case let .input(m): return "ONNX model input: \(m)"
        }
    }
}

/// Limits on what a model file may make ConvKit allocate.
public struct ONNXLimits: Sendable {
    /// The most elements any one tensor (initializer, constant or intermediate) may hold.
    public var maxElements: Int
    public init(maxElements: Int = 1 << 30) { self.maxElements = maxElements }
    public static let `default` = ONNXLimits()

    /// The product of `dims` when every extent is non-negative and the product fits; nil otherwise.
    func elementCount(_ dims: [Int]) -> Int? {
        guard let n = Extents.product(dims), n <= maxElements else { return nil }
        return n
    }
}
