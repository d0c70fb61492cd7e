/// Errors for bad input from outside the library: files, command-line arguments, shapes read from a model
/// file. Each says what was expected and what was found. Programmer mistakes use `precondition` instead.
public enum ConvKitError: Error, CustomStringConvertible, Equatable {
    /// A shape (or element count) did not fit.
    case shapeMismatch(expected: String, found: String)
    /// A value was out of its allowed range.
    case invalidArgument(name: String, expected: String, found: String)
    /// A file could not be parsed; `offset` is the byte offset where it went wrong, when known.
    case corruptFile(path: String, offset: Int?, expected: String, found: String)
    /// A file could not be read or written.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(e, f): return "shape mismatch: expected \(e), found \(f)"
        case let .invalidArgument(n, e, f): return "invalid \(n): expected \(e), found \(f)"
        case let .corruptFile(p, o, e, f):
            return "\(p)\(o.map { " at byte \($0)" } ?? ""): expected \(e), found \(f)"
        case let .io(p, r): return "\(p): \(r)"
        }
    }
}
