import Foundation

/// A node's attributes by name, with typed accessors that throw (naming the node) when an attribute has the
/// wrong type or an absurd value.
struct ONNXAttributes {
    private var byName: [String: Onnx_AttributeProto] = [:]
    let op: String, node: String

    init(_ node: Onnx_NodeProto, name: String) {
        op = node.opType; self.node = name
        for a in node.attribute { byName[a.name] = a }
    }

    func has(_ name: String) -> Bool { byName[name] != nil }

    func fail(_ message: String) -> ONNXError { .node(op: op, name: node, message: message) }

    func int(_ name: String) throws -> Int? {
        guard let a = byName[name] else { return nil }
        guard a.type == .int || (a.type == .undefined && a.hasI) else { throw fail("attribute \(name): expected an int, found \(a.type)") }
        guard let v = Int(exactly: a.i) else { throw fail("attribute \(name) = \(a.i) does not fit an Int") }
        return v
    }

    func int(_ name: String, default d: Int) throws -> Int { try int(name) ?? d }

    func ints(_ name: String) throws -> [Int]? {
        guard let a = byName[name] else { return nil }
        guard a.type == .ints || (a.type == .undefined) else { throw fail("attribute \(name): expected ints, found \(a.type)") }
        return a.ints.map { Int(clamping: $0) }
    }

    func float(_ name: String) throws -> Float? {
        guard let a = byName[name] else { return nil }
        guard a.type == .float || (a.type == .undefined && a.hasF) else { throw fail("attribute \(name): expected a float, found \(a.type)") }
        return a.f
    }

    func float(_ name: String, default d: Float) throws -> Float { try float(name) ?? d }

    func floats(_ name: String) throws -> [Float]? {
        guard let a = byName[name] else { return nil }
        guard a.type == .floats || a.type == .undefined else { throw fail("attribute \(name): expected floats, found \(a.type)") }
        return a.floats
    }

    func string(_ name: String) throws -> String? {
        guard let a = byName[name] else { return nil }
        guard a.type == .string || (a.type == .undefined && a.hasS) else { throw fail("attribute \(name): expected a string, found \(a.type)") }
        return String(decoding: a.s, as: UTF8.self)
    }

    func string(_ name: String, default d: String) throws -> String { try string(name) ?? d }

    func tensor(_ name: String) throws -> Onnx_TensorProto? {
        guard let a = byName[name] else { return nil }
        guard a.type == .tensor || (a.type == .undefined && a.hasT) else { throw fail("attribute \(name): expected a tensor, found \(a.type)") }
        return a.t
    }

    /// Every attribute that is set, for Constant's one-of.
    var names: [String] { Array(byName.keys) }
}
