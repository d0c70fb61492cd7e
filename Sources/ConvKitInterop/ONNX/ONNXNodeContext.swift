import ConvKit

/// Runs one node: its inputs (nil for omitted optional ones) → its outputs.
typealias ONNXKernel = (ONNXNodeContext) throws -> [ONNXValue]

/// What a kernel sees of its node: attributes, opset, inputs, the model's state (batch-norm statistics,
/// training mode), with accessors that throw errors naming the node instead of trapping.
struct ONNXNodeContext {
    let node: ONNXCompiledNode
    let inputs: [ONNXValue?]
    unowned let model: ONNXModel

    var attributes: ONNXAttributes { node.attributes }
    var opset: Int { node.opset }
    var isTraining: Bool { model.isTraining }
    var limits: ONNXLimits { model.limits }

    func fail(_ message: String) -> ONNXError { .node(op: node.op, name: node.name, message: message) }

    /// Throws unless `condition` holds.
    func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw fail(message()) }
    }

    func optional(_ i: Int) -> ONNXValue? { i < inputs.count ? inputs[i] : nil }

    func value(_ i: Int) throws -> ONNXValue {
        guard let v = optional(i) else { throw fail("input \(i) is required but missing (the node has \(inputs.count))") }
        return v
    }

    /// A required floating-point input.
    func float(_ i: Int) throws -> Variable {
        switch try value(i) {
        case .float(let v, _): return v
        case .integer(let t): throw fail("input \(i): expected a floating-point tensor, found \(t.type)\(t.shape)")
        }
    }

    func floatType(_ i: Int) throws -> ONNXElementType {
        let t = try value(i).elementType
        return t.isFloatingPoint ? t : .float
    }

    /// A required integer (or boolean) input.
    func integer(_ i: Int) throws -> IntegerTensor {
        switch try value(i) {
        case .integer(let t): return t
        case .float(let v, let type): throw fail("input \(i): expected an integer tensor, found \(type)\(v.shape)")
        }
    }

    /// An integer input read as Ints (shapes, axes, pads).
    func ints(_ i: Int) throws -> [Int] {
        try integer(i).values.map { v in
            guard let x = Int(exactly: v) else { throw fail("input \(i): value \(v) does not fit an Int") }
            return x
        }
    }

    /// An input of either kind read as Floats (scales, clip bounds).
    func floats(_ i: Int) throws -> [Float] { try value(i).floatTensor.scalars }

    /// A scalar (or one-element) input as a Float, or nil when omitted.
    func scalar(_ i: Int) throws -> Float? {
        guard let v = optional(i) else { return nil }
        try require(v.count == 1, "input \(i): expected one value, found shape \(v.shape)")
        return v.floatTensor.scalars[0]
    }

    /// The state buffer behind input `i` (batch-norm running statistics), when it is one.
    func buffer(_ i: Int) -> Buffer? {
        i < node.inputs.count ? model.bufferByName[node.inputs[i]] : nil
    }

    /// Normalizes an axis in [-rank, rank) (ONNX's convention), throwing otherwise.
    func axis(_ a: Int, rank: Int, name: String = "axis") throws -> Int {
        let r = a < 0 ? a + rank : a
        try require(r >= 0 && r < Swift.max(rank, 1), "\(name) \(a) is out of range for rank \(rank)")
        return r
    }

    /// Checks that a tensor of `shape` may be allocated.
    func checkSize(_ shape: [Int]) throws -> Int {
        guard let n = limits.elementCount(shape) else {
            throw fail("output shape \(shape) would need more than \(limits.maxElements) elements (or has a negative extent)")
        }
        return n
    }
}
