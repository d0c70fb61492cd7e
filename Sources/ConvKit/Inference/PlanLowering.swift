import CConvKernels

/// Turns a captured forward pass into the steps of an `InferencePlan`.
///
/// Nodes are taken in the order they ran. A convolution (or a batch norm on its own: a 1×1 depthwise convolution)
/// absorbs what follows it when it is the only reader: a batch norm (folded into the weights), a residual sum
/// whose other operand already exists, and a ReLU/ReLU6 (the epilogue's clamp). Values move between the plain and
/// the blocked layout only where an operation needs the other one (the first layer reads the plain input
/// directly; a flatten before the classifier unpacks once), and each conversion is made once per value.
final class PlanLowering {
    typealias Node = CapturedGraph.Node
    let graph: CapturedGraph
    private(set) var steps: [PlanStep] = []
    /// The value of each Variable lowered so far.
    var values: [ObjectIdentifier: PlanValue] = [:]
    /// Conversions made, by the identity of the value converted.
    private var blockedCopies: [ObjectIdentifier: PlanValue] = [:], plainCopies: [ObjectIdentifier: PlanValue] = [:]
    private var paddedCopies: [ObjectIdentifier: PlanValue] = [:]
    /// Node indices that read each Variable.
    private var readers: [ObjectIdentifier: [Int]] = [:]
    private let outputIDs: Set<ObjectIdentifier>
    /// Nodes already absorbed into an earlier step.
    var absorbed = Set<Int>()
    /// Concatenation parts written in place by their producers: the part's Variable → the whole value and the
    /// part's first block.
    var concatParts: [ObjectIdentifier: (whole: PlanValue, block: Int)] = [:]
    var concatWholes: [Int: PlanValue] = [:]

    /// The batch the plan runs, and the one the graph was captured at.
    let batch: Int, capturedBatch: Int

    init(_ graph: CapturedGraph, batch: Int) {
        self.graph = graph
        self.batch = batch
        capturedBatch = graph.shape(of: graph.input)[0]
        let x = graph.input, shape = [batch] + graph.shape(of: x).dropFirst()
        values[ObjectIdentifier(x)] = PlanValue(shape: shape, layout: .plain,
                                                buffer: PlanBuffer(elements: shape.reduce(1, *), isInput: true))
        for (i, node) in graph.nodes.enumerated() {
            for v in node.inputs { readers[ObjectIdentifier(v), default: []].append(i) }
        }
        outputIDs = Set(graph.outputs.map(ObjectIdentifier.init))
    }

    /// Lowers every node; returns the outputs (plain layout).
    func lower() throws -> [PlanValue] {
        for node in graph.nodes where graph.shape(of: node.output).first != capturedBatch {
            throw InferencePlanError(op: node.op, reason: "makes a value of shape \(graph.shape(of: node.output)) whose first axis is not the batch (\(capturedBatch) at capture)")
        }
        planConcatenations()
        for (i, node) in graph.nodes.enumerated() where !absorbed.contains(i) {
            switch node.op {
            case "conv", "batchNormEval": try lowerConvolution(i)
            case "activation", "clamp", "clampMin": try lowerActivation(node)
            case "add": try lowerAdd(i)
            case "mul": try lowerMultiply(node)
            case "maxPool", "avgPool": try lowerPooling(node)
            case "globalAvgPool": try lowerGlobalAverage(node.inputs[0], node.output)
            case "sum": try lowerSpatialSum(node)
            case "muls", "adds", "subs": try lowerScalarOperation(node)
            case "adaptiveAvgPool": try lowerAdaptiveAverage(node)
            case "flatten", "reshape": try lowerReshape(node)
            case "dropout": values[ObjectIdentifier(node.output)] = try value(node.inputs[0])
            case "linear": try lowerLinear(i)
            case "concat": try lowerConcatenation(i)
            case "softmax", "logSoftmax": try lowerSoftmax(node)
            case "lrn": try lowerLocalResponseNorm(node)
            case "permute": try lowerPermute(node)
            default:
                guard node.attributes["function"] != nil else { throw InferencePlanError(op: node.op, reason: "has no planned kernel") }
                try lowerActivation(node)
            }
        }
        return try graph.outputs.map { try plain(value($0)) }
    }

    // MARK: Values and conversions

    /// The shape `v` has at the plan's batch.
    func shape(_ v: Variable) -> [Int] { [batch] + graph.shape(of: v).dropFirst() }

    func value(_ v: Variable) throws -> PlanValue {
        guard let pv = values[ObjectIdentifier(v)] else {
            throw InferencePlanError(op: v.label, reason: "reads a value that is neither the input nor computed (a constant)")
        }
        return pv
    }

    /// The node that alone reads `v`, when `v` is not also an output of the graph.
    func soleReader(_ v: Variable) -> Int? {
        guard let r = readers[ObjectIdentifier(v)], r.count == 1, !outputIDs.contains(ObjectIdentifier(v)) else { return nil }
        return r[0]
    }

    func append(_ description: String, reads: [PlanValue], writes: [PlanValue], _ run: @escaping (PlanMemory) -> Void) {
        steps.append(PlanStep(description: description, reads: reads, writes: writes, run: run))
    }

    /// A new blocked value for Variable `v` — inside its concatenation when it is a part written in place.
    func newBlocked(for v: Variable, shape: [Int]) -> PlanValue {
        if let (whole, block) = concatParts[ObjectIdentifier(v)], shape.count > 2, shape[2...] == whole.shape[2...] {
            return PlanValue(shape: shape, layout: .blocked, buffer: whole.buffer,
                             offset: whole.offset + block * whole.positions * BlockedLayout.lanes, imageStride: whole.imageStride)
        }
        return PlanValue(shape: shape, layout: .blocked)
    }

    /// `pv` in the blocked layout (a conversion step the first time a plain map is needed blocked).
    func blocked(_ pv: PlanValue) throws -> PlanValue {
        if pv.layout == .blocked { return pv }
        if let b = blockedCopies[ObjectIdentifier(pv)] { return b }
        guard pv.shape.count >= 3 else {
            throw InferencePlanError(op: "layout", reason: "cannot block a value of shape \(pv.shape) (no spatial axes)")
        }
        let out = PlanValue(shape: pv.shape, layout: .blocked)
        let (c, p, cb) = (pv.channels, pv.positions, pv.blocks)
        append("pack \(pv.shape) → NCHW16c", reads: [pv], writes: [out]) { m in
            let src = m.pointer(pv), dst = m.pointer(out)
            Parallel.forEach(pv.batch * cb) { t in
                let n = t / cb, b = t % cb
                ck_to_blocked(src + n * pv.imageStride, Int32(c), p, Int32(b), Int32(b + 1), dst + n * out.imageStride)
            }
        }
        blockedCopies[ObjectIdentifier(pv)] = out
        return out
    }

    /// `pv` in the plain layout (a conversion step the first time a blocked value is needed plain).
    func plain(_ pv: PlanValue) throws -> PlanValue {
        if pv.layout == .plain { return pv }
        if let p = plainCopies[ObjectIdentifier(pv)] { return p }
        let out = PlanValue(shape: pv.shape, layout: .plain)
        let (c, p, cb) = (pv.channels, pv.positions, pv.blocks)
        append("unpack NCHW16c → \(pv.shape)", reads: [pv], writes: [out]) { m in
            let src = m.pointer(pv), dst = m.pointer(out)
            Parallel.forEach(pv.batch * cb) { t in
                let n = t / cb, b = t % cb
                ck_from_blocked(src + n * pv.imageStride, Int32(c), p, Int32(b), Int32(b + 1), dst + n * out.imageStride)
            }
        }
        plainCopies[ObjectIdentifier(pv)] = out
        return out
    }

    /// A plain map zero-padded as `geometry` pads it (first layers read their input this way).
    func padded(_ pv: PlanValue, _ geometry: WindowGeometry?) -> PlanValue {
        guard let g = geometry else { return pv }
        if let p = paddedCopies[ObjectIdentifier(pv)], Array(p.shape[2...]) == g.paddingAbsorbed.input { return p }
        let out = PlanValue(shape: Array(pv.shape[..<2]) + g.paddingAbsorbed.input, layout: .plain)
        let c = g.cGeometry(channels: 1), after = c.padsAfter(g)
        append("pad \(pv.shape) → \(out.shape)", reads: [pv], writes: [out]) { m in
            let src = m.pointer(pv), dst = m.pointer(out)
            // Plane by plane (a first layer's input has 3 at batch 1: both threads take part).
            let (channels, inPlane, outPlane) = (pv.channels, pv.shape[2...].reduce(1, *), out.shape[2...].reduce(1, *))
            Parallel.forEach(pv.batch * channels) { t in
                let (n, ch) = (t / channels, t % channels)
                ck_pad_planes(src + n * pv.imageStride + ch * inPlane, 1, c.id, c.ih, c.iw, c.pd, after.0, c.ph, after.1,
                              c.pw, after.2, dst + n * out.imageStride + ch * outPlane)
            }
        }
        paddedCopies[ObjectIdentifier(pv)] = out
        return out
    }

    /// How many Variables' values and conversion copies live in buffer `b` (an in-place step needs it to be one).
    func holders(of b: PlanBuffer) -> Int {
        let all = Array(values.values) + Array(blockedCopies.values) + Array(plainCopies.values) + Array(paddedCopies.values)
        return all.filter { $0.buffer === b }.count
    }

    /// The range of a node that clamps its input: ReLU, ReLU6, identity, or an explicit clamp (ONNX's Clip).
    func clampRange(_ node: Node) -> (lower: Float, upper: Float)? {
        switch node.op {
        case "activation": return (node.attributes["activation"] as? Activation)?.clampRange
        case "clamp":
            guard let lo = node.attributes["min"] as? Float, let hi = node.attributes["max"] as? Float else { return nil }
            return (lo, hi)
        case "clampMin": return (node.attributes["min"] as? Float).map { ($0, .infinity) }
        default: return nil
        }
    }

    /// The clamp (`clampRange`) that alone reads `v`: absorbs it and returns its range and output.
    func absorbClamp(after v: Variable) -> (lower: Float, upper: Float, output: Variable)? {
        guard let j = soleReader(v), let range = clampRange(graph.nodes[j]) else { return nil }
        absorbed.insert(j)
        return (range.lower, range.upper, graph.nodes[j].output)
    }
}
