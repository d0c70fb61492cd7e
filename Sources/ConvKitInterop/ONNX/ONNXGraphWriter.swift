import ConvKit
import Foundation

/// Builds an ONNX graph node by node: unique value names, float and int64 initializers, nodes with typed
/// attributes. Shared by the TFLite importer (which translates into ONNX) and the ONNX exporter.
struct ONNXGraphWriter {
    enum Attribute {
        case int(Int), ints([Int]), float(Float), string(String)
    }

    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private var usedNames = Set<String>()

    /// `hint`, or `hint#2`, `hint#3`, … when taken.
    mutating func fresh(_ hint: String) -> String {
        var name = hint.isEmpty ? "v" : hint
        var k = 1
        while usedNames.contains(name) { k += 1; name = "\(hint)#\(k)" }
        usedNames.insert(name)
        return name
    }

    /// Keeps `name` free of `fresh` (graph inputs and outputs that must keep their names).
    mutating func reserve(_ name: String) { usedNames.insert(name) }

    /// Adds a float initializer; returns its (unique) name.
    mutating func addInitializer(_ hint: String, shape: [Int], data: [Float]) -> String {
        addInitializer(hint, Tensor(shape: shape, scalars: data))
    }

    mutating func addInitializer(_ hint: String, _ t: Tensor) -> String {
        let name = fresh(hint)
        initializers.append(ONNXTensorCoding.encode(.float(t), name: name))
        return name
    }

    /// Adds an initializer under exactly `name` (a parameter's name), which must be unused.
    mutating func addNamedInitializer(_ name: String, _ t: Tensor) {
        usedNames.insert(name)
        initializers.append(ONNXTensorCoding.encode(.float(t), name: name))
    }

    mutating func addInt64(_ hint: String, _ values: [Int64]) -> String {
        let name = fresh(hint)
        initializers.append(ONNXTensorCoding.encode(.integer(IntegerTensor(values)), name: name))
        return name
    }

    mutating func addInt64Tensor(_ hint: String, shape: [Int], values: [Int64]) -> String {
        let name = fresh(hint)
        initializers.append(ONNXTensorCoding.encode(.integer(IntegerTensor(shape: shape, values: values, type: .int64)), name: name))
        return name
    }

    mutating func addScalar(_ hint: String, _ v: Float) -> String { addInitializer(hint, shape: [], data: [v]) }

    mutating func emit(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [String: Attribute] = [:]) {
        var n = Onnx_NodeProto()
        n.opType = op
        n.input = inputs
        n.output = outputs
        n.name = outputs.first ?? op
        for (key, a) in attributes.sorted(by: { $0.key < $1.key }) {
            var p = Onnx_AttributeProto()
            p.name = key
            switch a {
            case .int(let v): p.type = .int; p.i = Int64(v)
            case .ints(let v): p.type = .ints; p.ints = v.map(Int64.init)
            case .float(let v): p.type = .float; p.f = v
            case .string(let v): p.type = .string; p.s = Data(v.utf8)
            }
            n.attribute.append(p)
        }
        nodes.append(n)
    }

    /// A float tensor value declaration; `symbolicBatch` names axis 0 instead of fixing it.
    static func valueInfo(_ name: String, shape: [Int], symbolicFirst: String? = nil, dimParams: [Int: String] = [:]) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = ONNXElementType.float.rawValue
        var s = Onnx_TensorShapeProto()
        for (k, n) in shape.enumerated() {
            var d = Onnx_TensorShapeProto.Dimension()
            if k == 0, let sym = symbolicFirst { d.dimParam = sym } else if let p = dimParams[k] { d.dimParam = p } else { d.dimValue = Int64(n) }
            s.dim.append(d)
        }
        tensorType.shape = s
        v.type.tensorType = tensorType
        return v
    }

    /// A model around `graph` importing the default domain at `opset`.
    static func model(_ graph: Onnx_GraphProto, opset: Int, producer: String, producerVersion: String) -> Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = producer
        model.producerVersion = producerVersion
        var o = Onnx_OperatorSetIdProto()
        o.domain = ""; o.version = Int64(opset)
        model.opsetImport = [o]
        model.graph = graph
        return model
    }
}
