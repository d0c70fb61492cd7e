/// Errors from reading a TFLite model. Each names the file offset or the operator (its index in the graph and the
/// tensor it writes) and says what was expected and what was found.
public enum TFLiteError: Error, CustomStringConvertible, Equatable {
    public struct UnsupportedOperator: Equatable, Sendable {
        public var op: String, version: Int, index: Int, output: String
        /// Why, when the operator is known but this use of it is not (an option, a layout).
        public var reason: String?
    }

    /// The flatbuffer is malformed: the offset and what was being read.
    case corruptFile(path: String, reason: String)
    /// The graph is inconsistent (a tensor read before it is written, a buffer of the wrong size).
    case invalidModel(String)
    /// Every operator that cannot be imported, all at once.
    case unsupported([UnsupportedOperator])
    /// One operator's inputs or options do not fit what it needs.
    case node(op: String, index: Int, output: String, message: String)
    /// The caller's inputs do not fit the model's declared inputs.
    case input(String)

    public var description: String {
        switch self {
        case let .corruptFile(p, r): return "\(p): not a valid TFLite model: \(r)"
        case let .invalidModel(m): return "invalid TFLite model: \(m)"
        case let .unsupported(ops):
            let list = ops.map { "\($0.op) v\($0.version) (operator \($0.index), output '\($0.output)'\($0.reason.map { ": " + $0 } ?? ""))" }
            return "unsupported TFLite operators in \(ops.count) operator\(ops.count == 1 ? "" : "s"): " + list.joined(separator: ", ")
        case let .node(op, i, o, m): return "TFLite operator \(i) (\(op), output '\(o)'): \(m)"
        case let .input(m): return "TFLite model input: \(m)"
        }
    }
}
