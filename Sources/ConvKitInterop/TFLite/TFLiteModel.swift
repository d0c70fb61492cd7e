import ConvKit
import Foundation

/// A TFLite model (`.tflite`) imported onto ConvKit's operators.
///
/// The flatbuffer is read directly (`TFLiteFile`); the float CNN operator set is translated into an ONNX graph
/// on NCHW operators (`TFLiteGraphBuilder`), which `ONNXModel` runs — so an imported TFLite model gets the same
/// kernels, fused convolution epilogues, summary and fine-tuning as an ONNX one. Inputs and outputs keep the file's
/// names and layouts (NHWC for images): `run(["input": x])` with x of shape `[1, 128, 128, 3]`.
public final class TFLiteModel {
    public struct TensorInfo: Equatable, CustomStringConvertible {
        public var name: String
        public var shape: [Int]
        /// `shape_signature` when the file has one (−1: any extent).
        public var signature: [Int]
        public var type: String
        public var description: String { "\(name): \(type) [\(zip(shape, signature.isEmpty ? shape : signature).map { $1 == -1 ? "?" : "\($0)" }.joined(separator: ", "))]" }
    }

    public let inputs: [TensorInfo]
    public let outputs: [TensorInfo]
    public let schemaVersion: Int
    public let modelDescription: String
    /// Operator counts of the file (TFLite's names).
    public let operatorCounts: [(String, Int)]
    public let tensorCount: Int
    /// The graph that runs: a ConvKit module (parameters under the TFLite tensor names).
    public let graph: ONNXModel

    public convenience init(contentsOf url: URL, limits: ONNXLimits = .default) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TFLiteError.corruptFile(path: url.path, reason: "cannot be read (\(error.localizedDescription))")
        }
        try self.init(serialized: data, path: url.path, limits: limits)
    }

    public init(serialized data: Data, path: String = "model", limits: ONNXLimits = .default) throws {
        let file: TFLiteFile
        do { file = try TFLiteFile(data: data, limits: limits) } catch let e as FlatBufferError {
            throw TFLiteError.corruptFile(path: path, reason: e.description)
        }
        func info(_ i: Int) throws -> TensorInfo {
            guard i >= 0, i < file.tensors.count else {
                throw TFLiteError.invalidModel("\(path): graph input/output \(i) is not one of the \(file.tensors.count) tensors")
            }
            let t = file.tensors[i]
            return TensorInfo(name: t.name, shape: t.shape, signature: t.signature, type: t.typeName)
        }
        inputs = try file.inputs.map(info)
        outputs = try file.outputs.map(info)
        schemaVersion = file.version
        modelDescription = file.description
        tensorCount = file.tensors.count
        var counts = [String: Int]()
        for op in file.operators {
            let name = op.opcodeIndex < file.operatorCodes.count ? file.operatorCodes[op.opcodeIndex].name : "opcode \(op.opcodeIndex)"
            counts[name, default: 0] += 1
        }
        operatorCounts = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let proto = try Self.translate(file, path: path, limits: limits)
        graph = try ONNXModel(proto: proto, baseDirectory: nil, limits: limits)
    }

    /// Runs the model: `feeds` by input name, in the file's layouts; returns every output by name.
    public func run(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        for (name, x) in feeds {
            guard let i = inputs.first(where: { $0.name == name }) else {
                throw TFLiteError.input("unknown input '\(name)' (the model's inputs: \(inputs.map(\.name).joined(separator: ", ")))")
            }
            let fits = x.shape.count == i.shape.count && zip(x.shape, i.shape).enumerated().allSatisfy { k, p in
                p.0 == p.1 || (k == 0 && (i.signature.first ?? 0) == -1) || (i.signature.count > k && i.signature[k] == -1)
            }
            guard fits else { throw TFLiteError.input("'\(name)' has shape \(x.shape), the model declares \(i)") }
        }
        for i in inputs where feeds[i.name] == nil {
            throw TFLiteError.input("missing input '\(i.name)' (the model declares \(inputs.map(\.description).joined(separator: "; ")))")
        }
        let out = try Autograd.withoutGradients { try graph.run(feeds.mapValues { ONNXValue.float($0) }) }
        return out.mapValues(\.floatTensor)
    }

    /// The outputs, in the file's order, for a single-input model.
    public func predict(_ x: Tensor) throws -> [Tensor] {
        guard inputs.count == 1 else { throw TFLiteError.input("the model has \(inputs.count) inputs; use run(_:) with names") }
        let out = try run([inputs[0].name: x])
        return outputs.map { out[$0.name]! }
    }

    // MARK: translation

    static func translate(_ file: TFLiteFile, path: String, limits: ONNXLimits) throws -> Onnx_ModelProto {
        var b = try TFLiteGraphBuilder(file: file, limits: limits)
        var graph = Onnx_GraphProto()
        graph.name = "tflite"
        for i in file.inputs {
            let name = b.defineInput(i)
            graph.input.append(valueInfo(name, file.tensors[i]))
        }
        for i in file.outputs where !file.inputs.contains(i) { b.reserve(file.tensors[i].name) }   // keep output names free
        for (k, op) in file.operators.enumerated() {
            b.current = k
            guard op.opcodeIndex < file.operatorCodes.count else {
                throw TFLiteError.invalidModel("\(path): operator \(k) uses opcode \(op.opcodeIndex), the model has \(file.operatorCodes.count)")
            }
            for t in op.outputs where t >= file.tensors.count || t < 0 {
                throw TFLiteError.invalidModel("\(path): operator \(k) writes tensor \(t), the graph has \(file.tensors.count)")
            }
            let code = file.operatorCodes[op.opcodeIndex].builtin
            if TFLiteGraphBuilder.supportedBuiltins.contains(code) && b.unsupported.isEmpty {
                try b.translate(op, builtin: code)
            } else if !TFLiteGraphBuilder.supportedBuiltins.contains(code) {
                b.reportUnsupported()
            }
            // After an unsupported operator only the rest of the list is collected: nothing is translated.
        }
        guard b.unsupported.isEmpty else { throw TFLiteError.unsupported(b.unsupported) }
        for i in file.outputs {
            let t = file.tensors[i]
            b.current = file.operators.count   // messages name the graph outputs
            let source = try b.declared(i)
            if source != t.name { b.emit("Identity", [source], [t.name]) }
            graph.output.append(valueInfo(t.name, t))
        }
        graph.node = b.nodes
        graph.initializer = b.initializers
        return ONNXGraphWriter.model(graph, opset: 18, producer: "tflite", producerVersion: "schema \(file.version)")
    }

    private static func valueInfo(_ name: String, _ t: TFLiteTensor) -> Onnx_ValueInfoProto {
        var dynamic = [Int: String]()
        for k in t.shape.indices where k < t.signature.count && t.signature[k] == -1 { dynamic[k] = "d\(k)" }
        return ONNXGraphWriter.valueInfo(name, shape: t.shape, dimParams: dynamic)
    }
}
