import ConvKit
import Foundation

/// Translates a TFLite subgraph (NHWC) into an ONNX graph on ConvKit's NCHW operators, so that an imported
/// `.tflite` model runs on the same kernels, fusion and training paths as an imported `.onnx` one.
///
/// Layouts: every TFLite tensor is logically in the file's layout (NHWC for images). A value produced here is
/// either *as declared* or, for rank-4 tensors, *channels-first* (the NCHW permutation `[0, 3, 1, 2]` of the
/// declared tensor). Convolutions, pooling, padding, resizing, concatenation and elementwise operators work on
/// channels-first values; layout-sensitive operators (reshape, fully connected, squeeze, …) get the declared form,
/// with a Transpose inserted (and cached) only where a value crosses from one form to the other. Constants are
/// permuted when the graph is built, never at run time: convolution filters OHWI → OIHW, depthwise
/// `[1, kh, kw, C·M]` → `[C·M, 1, kh, kw]`, transposed-convolution filters OHWI → IOHW, elementwise constants
/// broadcast against a channels-first value → NCHW.
struct TFLiteGraphBuilder {
    enum Layout { case declared, channelsFirst }

    let file: TFLiteFile
    let limits: ONNXLimits
    private(set) var writer = ONNXGraphWriter()
    var nodes: [Onnx_NodeProto] { writer.nodes }
    var initializers: [Onnx_TensorProto] { writer.initializers }
    private(set) var unsupported: [TFLiteError.UnsupportedOperator] = []
    /// The ONNX value currently holding each tensor, with its layout.
    private var values: [Int: (name: String, layout: Layout)] = [:]
    /// The other layout of a tensor, once a Transpose has made it.
    private var converted: [Int: String] = [:]
    /// Float constants in their declared layout (float32, float16 and dequantized int8/uint8 buffers).
    var floatConstants: [Int: [Float]] = [:]
    /// Integer constants (int32/int64 buffers): shapes, paddings, axes.
    private(set) var intConstants: [Int: [Int64]] = [:]
    /// Index of the operator being translated (for error messages).
    var current = 0

    init(file: TFLiteFile, limits: ONNXLimits) throws {
        self.file = file; self.limits = limits
        for (i, t) in file.tensors.enumerated() {
            guard let bytes = file.data(of: t) else { continue }
            let n = t.shape.reduce(1, *)
            guard let type = t.type, let size = type.byteSize, bytes.count == n * size else {
                if t.type == nil || t.type?.byteSize == nil { continue }
                throw TFLiteError.invalidModel("tensor '\(t.name)' (\(t.typeName) \(t.shape)) needs \(n * (t.type!.byteSize!)) bytes of data, its buffer has \(bytes.count)")
            }
            let base = bytes.startIndex
            func word(_ k: Int, _ width: Int) -> UInt64 {
                var v: UInt64 = 0
                for b in 0..<width { v |= UInt64(bytes[base + k * width + b]) << (8 * UInt64(b)) }
                return v
            }
            switch type {
            case .float32: floatConstants[i] = (0..<n).map { Float(bitPattern: UInt32(word($0, 4))) }
            case .float16: floatConstants[i] = (0..<n).map { ONNXTensorCoding.halfToFloat(UInt16(word($0, 2)), .float16) }
            case .int32: intConstants[i] = (0..<n).map { Int64(Int32(bitPattern: UInt32(word($0, 4)))) }
            case .int64: intConstants[i] = (0..<n).map { Int64(bitPattern: word($0, 8)) }
            case .int8, .uint8, .int16:
                // Quantized weights: dequantized when a DEQUANTIZE reads them; kept as integers for shapes.
                intConstants[i] = (0..<n).map { k -> Int64 in
                    switch type {
                    case .int8: return Int64(Int8(bitPattern: UInt8(word(k, 1))))
                    case .int16: return Int64(Int16(bitPattern: UInt16(word(k, 2))))
                    default: return Int64(word(k, 1))
                    }
                }
            default: continue
            }
        }
    }

    // MARK: tensors

    func tensor(_ i: Int) -> TFLiteTensor { file.tensors[i] }
    func shape(_ i: Int) -> [Int] { file.tensors[i].shape }

    /// The operator's input `k` (a tensor index), or nil when omitted (−1) or absent.
    func input(_ op: TFLiteOperator, _ k: Int) throws -> Int? {
        guard k < op.inputs.count, op.inputs[k] >= 0 else { return nil }
        let t = op.inputs[k]
        guard t < file.tensors.count else {
            throw TFLiteError.invalidModel("operator \(current) reads tensor \(t), the graph has \(file.tensors.count)")
        }
        return t
    }

    func requiredInput(_ op: TFLiteOperator, _ k: Int, _ what: String) throws -> Int {
        guard let t = try input(op, k) else { throw opError("has no \(what) (input \(k))") }
        return t
    }

    func output(_ op: TFLiteOperator, _ k: Int = 0) throws -> Int {
        guard k < op.outputs.count, op.outputs[k] >= 0, op.outputs[k] < file.tensors.count else {
            throw opError("has no output \(k)")
        }
        return op.outputs[k]
    }

    func floatConstant(_ i: Int, _ what: String) throws -> [Float] {
        guard let v = floatConstants[i] else { throw opError("needs a constant float \(what); '\(tensor(i).name)' is computed at run time or not float") }
        guard v.count == shape(i).reduce(1, *) else {
            throw opError("constant '\(tensor(i).name)' holds \(v.count) values for its shape \(shape(i))")
        }
        return v
    }

    func intConstant(_ i: Int, _ what: String) throws -> [Int] {
        guard let v = intConstants[i] else { throw opError("needs a constant integer \(what); '\(tensor(i).name)' is computed at run time") }
        return v.map { Int(truncatingIfNeeded: $0) }
    }

    /// The current operator's code (with its version) and the name of the tensor it writes, for messages.
    private func describeCurrent() -> (code: TFLiteOperatorCode?, opcode: String, output: String) {
        guard current >= 0, current < file.operators.count else { return (nil, "graph outputs", "?") }
        let op = file.operators[current]
        let name = op.outputs.first.flatMap { $0 >= 0 && $0 < file.tensors.count ? file.tensors[$0].name : nil } ?? "?"
        let code = op.opcodeIndex < file.operatorCodes.count ? file.operatorCodes[op.opcodeIndex] : nil
        return (code, code?.name ?? "opcode \(op.opcodeIndex)", name)
    }

    func opError(_ message: String) -> TFLiteError {
        if current >= file.operators.count { return .invalidModel("graph output: \(message)") }
        let d = describeCurrent()
        return .node(op: d.opcode, index: current, output: d.output, message: message)
    }

    mutating func reportUnsupported(_ reason: String? = nil) {
        let d = describeCurrent()
        unsupported.append(.init(op: d.opcode, version: d.code?.version ?? 0, index: current, output: d.output, reason: reason))
    }

    // MARK: ONNX values

    mutating func fresh(_ hint: String) -> String { writer.fresh(hint) }
    mutating func reserve(_ name: String) { writer.reserve(name) }

    /// Defines tensor `i` as held by ONNX value `name` in `layout`.
    mutating func define(_ i: Int, _ name: String, _ layout: Layout) {
        values[i] = (name, layout); converted[i] = nil
    }

    /// Declares a graph input (always in its declared layout).
    mutating func defineInput(_ i: Int) -> String {
        let name = fresh(tensor(i).name)
        define(i, name, .declared)
        return name
    }

    func layout(of i: Int) -> Layout? { values[i]?.layout }

    /// Tensor `i` in whatever layout it has now; constants come in their declared layout.
    mutating func currentValue(_ i: Int) throws -> (name: String, layout: Layout) {
        if let v = values[i] { return v }
        return (try constantValue(i, permutedToChannelsFirst: false), .declared)
    }

    /// Tensor `i` in its declared layout.
    mutating func declared(_ i: Int) throws -> String {
        guard let v = values[i] else { return try constantValue(i, permutedToChannelsFirst: false) }
        if v.layout == .declared { return v.name }
        if let c = converted[i] { return c }
        let name = fresh(tensor(i).name + "/nhwc")
        emit("Transpose", [v.name], [name], ["perm": .ints([0, 2, 3, 1])])
        converted[i] = name
        return name
    }

    /// Tensor `i` (rank 4) channels-first.
    mutating func channelsFirst(_ i: Int) throws -> String {
        guard let v = values[i] else { return try constantValue(i, permutedToChannelsFirst: true) }
        if v.layout == .channelsFirst { return v.name }
        if let c = converted[i] { return c }
        guard shape(i).count == 4 else { throw opError("needs a rank-4 input, '\(tensor(i).name)' has shape \(shape(i))") }
        let name = fresh(tensor(i).name + "/nchw")
        emit("Transpose", [v.name], [name], ["perm": .ints([0, 3, 1, 2])])
        converted[i] = name
        return name
    }

    /// An operand broadcast against a channels-first rank-4 value: rank-r tensors are right-aligned against NHWC
    /// (numpy broadcasting), padded to rank 4 and permuted to NCHW.
    mutating func broadcastOperand(_ i: Int, channelsFirst: Bool) throws -> String {
        guard channelsFirst else { return try declared(i) }
        let s = shape(i)
        guard s.count <= 4 else { throw opError("broadcasts a rank-\(s.count) operand against a rank-4 tensor") }
        if s.count == 4 { return try self.channelsFirst(i) }
        let padded = [Int](repeating: 1, count: 4 - s.count) + s
        if values[i] == nil, let data = floatConstants[i] {
            return addInitializer(tensor(i).name, shape: [padded[0], padded[3], padded[1], padded[2]], data: Self.nhwcToNCHW(data, padded))
        }
        let source = try declared(i)
        let reshaped = fresh(tensor(i).name + "/rank4")
        emit("Reshape", [source, addInt64(tensor(i).name + "/shape", padded.map(Int64.init))], [reshaped])
        let name = fresh(tensor(i).name + "/nchw")
        emit("Transpose", [reshaped], [name], ["perm": .ints([0, 3, 1, 2])])
        return name
    }

    private mutating func constantValue(_ i: Int, permutedToChannelsFirst: Bool) throws -> String {
        let s = shape(i)
        if let data = floatConstants[i] {
            if permutedToChannelsFirst && s.count == 4 {
                return addInitializer(tensor(i).name, shape: [s[0], s[3], s[1], s[2]], data: Self.nhwcToNCHW(data, s))
            }
            return addInitializer(tensor(i).name, shape: s, data: data)
        }
        if let ints = intConstants[i] {
            if permutedToChannelsFirst && s.count == 4 {
                return writer.addInt64Tensor(tensor(i).name, shape: [s[0], s[3], s[1], s[2]], values: Self.permute(ints, s, [0, 3, 1, 2]))
            }
            return writer.addInt64Tensor(tensor(i).name, shape: s, values: ints)
        }
        throw opError("reads '\(tensor(i).name)' before any operator writes it")
    }

    typealias Attribute = ONNXGraphWriter.Attribute

    mutating func addInitializer(_ hint: String, shape: [Int], data: [Float]) -> String { writer.addInitializer(hint, shape: shape, data: data) }
    mutating func addInt64(_ hint: String, _ values: [Int64]) -> String { writer.addInt64(hint, values) }
    mutating func addScalar(_ hint: String, _ v: Float) -> String { writer.addScalar(hint, v) }
    mutating func emit(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [String: Attribute] = [:]) {
        writer.emit(op, inputs, outputs, attributes)
    }

    /// Emits `op` and, when `activation` is set, the fused activation after it; defines tensor `out`.
    ///
    /// TFLite's kernels apply a fused activation as a clamp (`CalculateActivationRange`): RELU [0, ∞), RELU6
    /// [0, 6], RELU_N1_TO_1 [−1, 1]. TANH and SIGN_BIT have no range there, so the interpreter ignores them on
    /// convolutions, pooling and arithmetic; so does this importer (the golden cases check it).
    mutating func emitDefining(_ out: Int, _ layout: Layout, activation: TFLiteActivation = .none,
                               _ op: String, _ inputs: [String], _ attributes: [String: Attribute] = [:]) throws {
        let name = tensor(out).name
        if activation == .none || activation == .tanh || activation == .signBit {
            let v = fresh(name)
            emit(op, inputs, [v], attributes)
            define(out, v, layout)
            return
        }
        let pre = fresh(name + "/linear")
        emit(op, inputs, [pre], attributes)
        let v = fresh(name)
        switch activation {
        case .none, .tanh, .signBit: break
        case .relu: emit("Relu", [pre], [v])
        case .relu6: emit("Clip", [pre, addScalar(name + "/min", 0), addScalar(name + "/max", 6)], [v])
        case .reluN1To1: emit("Clip", [pre, addScalar(name + "/min", -1), addScalar(name + "/max", 1)], [v])
        }
        define(out, v, layout)
    }

    // MARK: permutations

    /// `data` of shape `s` (rank 4, NHWC) in NCHW order.
    static func nhwcToNCHW(_ data: [Float], _ s: [Int]) -> [Float] { permute(data, s, [0, 3, 1, 2]) }

    /// The elements of a row-major tensor of shape `s` with its axes permuted: `out` has shape `s[perm[k]]`.
    static func permute<T>(_ data: [T], _ s: [Int], _ perm: [Int]) -> [T] {
        let r = s.count
        guard r > 1, !data.isEmpty else { return data }
        var strides = [Int](repeating: 1, count: r)
        for k in stride(from: r - 2, through: 0, by: -1) { strides[k] = strides[k + 1] * s[k + 1] }
        let outShape = perm.map { s[$0] }, outStrides = perm.map { strides[$0] }
        var out = [T](), index = [Int](repeating: 0, count: r)
        out.reserveCapacity(data.count)
        for _ in 0..<data.count {
            var offset = 0
            for k in 0..<r { offset += index[k] * outStrides[k] }
            out.append(data[offset])
            var k = r - 1
            while k >= 0 { index[k] += 1; if index[k] < outShape[k] { break }; index[k] = 0; k -= 1 }
        }
        return out
    }

    /// TensorFlow's SAME padding on one axis: (before, after) so that the output has ⌈n/s⌉ positions.
    static func samePadding(size n: Int, kernel k: Int, stride s: Int, dilation d: Int) -> (Int, Int) {
        let out = (n + s - 1) / s
        let total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        return (total / 2, total - total / 2)
    }
}
