import ConvKit

/// Arithmetic, reductions and movement ops of a captured graph as ONNX nodes.
extension ONNXExportTranslation {
    mutating func elementwiseOrShape(_ node: CapturedGraph.Node) throws {
        let a = node.attributes
        func input(_ k: Int) throws -> String { try value(node.inputs[k]) }
        let binary = ["add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div"]
        let unary = ["neg": "Neg", "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "abs": "Abs"]
        if let op = binary[node.op] {
            writer.emit(op, [try input(0), try input(1)], [outputName(node)])
            return
        }
        if let op = unary[node.op] {
            writer.emit(op, [try input(0)], [outputName(node)])
            return
        }
        switch node.op {
        case "adds", "subs", "muls":
            guard let s = a["scalar"] as? Float else { return missing(node, "scalar") }
            let op = ["adds": "Add", "subs": "Sub", "muls": "Mul"][node.op]!
            writer.emit(op, [try input(0), writer.addScalar("scalar", s)], [outputName(node)])
        case "square":
            let x = try input(0)
            writer.emit("Mul", [x, x], [outputName(node)])
        case "pow":
            guard let e = a["exponent"] as? Float else { return missing(node, "exponent") }
            writer.emit("Pow", [try input(0), writer.addScalar("exponent", e)], [outputName(node)])
        case "clamp":
            guard let lo = a["min"] as? Float, let hi = a["max"] as? Float else { return missing(node, "bounds") }
            writer.emit("Clip", [try input(0), writer.addScalar("min", lo), writer.addScalar("max", hi)], [outputName(node)])
        case "clampMin":
            guard let lo = a["min"] as? Float else { return missing(node, "bound") }
            writer.emit("Clip", [try input(0), writer.addScalar("min", lo)], [outputName(node)])
        case "sum":
            guard let axes = a["axes"] as? [Int], let keep = a["keepDims"] as? Bool else { return missing(node, "axes") }
            writer.emit("ReduceSum", [try input(0), writer.addInt64("axes", axes.map(Int64.init))], [outputName(node)], ["keepdims": .int(keep ? 1 : 0)])
        case "reshape", "flatten":
            writer.emit("Reshape", [try input(0), writer.addInt64("shape", reshapeTarget(from: node.inputs[0].shape, to: node.output.shape))], [outputName(node)])
        case "permute":
            guard let order = a["order"] as? [Int] else { return missing(node, "order") }
            writer.emit("Transpose", [try input(0)], [outputName(node)], ["perm": .ints(order)])
        case "slice":
            guard let axis = a["axis"] as? Int, let start = a["start"] as? Int, let end = a["end"] as? Int else { return missing(node, "range") }
            writer.emit("Slice", [try input(0), writer.addInt64("starts", [Int64(start)]), writer.addInt64("ends", [Int64(end)]),
                                  writer.addInt64("axes", [Int64(axis)])], [outputName(node)])
        case "concat":
            guard let axis = a["axis"] as? Int else { return missing(node, "axis") }
            writer.emit("Concat", try node.inputs.indices.map(input), [outputName(node)], ["axis": .int(axis)])
        case "pad":
            guard let before = a["before"] as? [Int], let after = a["after"] as? [Int], let mode = a["mode"] as? PaddingMode else {
                return missing(node, "amounts")
            }
            var inputs = [try input(0), writer.addInt64("pads", (before + after).map(Int64.init))]
            let onnxMode: String
            switch mode {
            case .constant(let c): onnxMode = "constant"; inputs.append(writer.addScalar("pad_value", c))
            case .reflect: onnxMode = "reflect"
            case .replicate: onnxMode = "edge"
            }
            writer.emit("Pad", inputs, [outputName(node)], ["mode": .string(onnxMode)])
        default:
            unsupported.append("'\(node.op)' (output \(node.output.shape))")
        }
    }

    /// Reshape's target: extents equal to the input's at the front (the batch) are copied (0) so that other batch
    /// sizes run; the rest are fixed.
    func reshapeTarget(from x: [Int], to y: [Int]) -> [Int64] {
        var target = y.map(Int64.init)
        if let first = x.first, let out = y.first, first == out, y.count > 1 { target[0] = 0 }
        return target
    }
}
