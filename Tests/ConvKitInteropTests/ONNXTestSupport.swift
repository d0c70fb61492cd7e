import Foundation
import ConvKit
@testable import ConvKitInterop

/// Builds small ONNX models in memory (the generated protobuf types), for tests of single operators, fusion and
/// malformed graphs.
enum ONNXBuilder {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func attribute(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = ints.map(Int64.init); return a
    }
    static func attribute(_ name: String, int: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = Int64(int); return a
    }
    static func attribute(_ name: String, float: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .float; a.f = float; return a
    }
    static func attribute(_ name: String, string: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .string; a.s = Data(string.utf8); return a
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "", _ attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var n = Onnx_NodeProto(); n.opType = op; n.input = inputs; n.output = outputs; n.name = name.isEmpty ? op + "_" + (outputs.first ?? "") : name
        n.attribute = attributes
        return n
    }

    static func valueInfo(_ name: String, _ shape: [Int], type: ONNXElementType = .float) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto(); v.name = name
        var t = Onnx_TypeProto.Tensor(); t.elemType = type.rawValue
        var s = Onnx_TensorShapeProto()
        s.dim = shape.map { d in var x = Onnx_TensorShapeProto.Dimension(); x.dimValue = Int64(d); return x }
        t.shape = s
        var tp = Onnx_TypeProto(); tp.tensorType = t
        v.type = tp
        return v
    }

    static func tensor(_ name: String, _ t: Tensor) -> Onnx_TensorProto { ONNXTensorCoding.encode(.float(t), name: name) }
    static func tensor(_ name: String, ints: [Int64], shape: [Int]? = nil) -> Onnx_TensorProto {
        ONNXTensorCoding.encode(.integer(IntegerTensor(shape: shape ?? [ints.count], values: ints)), name: name)
    }

    static func model(nodes: [Onnx_NodeProto], inputs: [Onnx_ValueInfoProto], outputs: [Onnx_ValueInfoProto],
                      initializers: [Onnx_TensorProto] = [], opset: Int = 17) -> Onnx_ModelProto {
        var g = Onnx_GraphProto(); g.name = "test"; g.node = nodes; g.input = inputs; g.output = outputs; g.initializer = initializers
        var m = Onnx_ModelProto(); m.irVersion = 8; m.graph = g
        var o = Onnx_OperatorSetIdProto(); o.domain = ""; o.version = Int64(opset)
        m.opsetImport = [o]
        return m
    }

    static func load(_ m: Onnx_ModelProto) throws -> ONNXModel { try ONNXModel(serialized: try m.serializedData()) }
}
