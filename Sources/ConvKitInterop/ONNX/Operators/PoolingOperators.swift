import ConvKit
import Foundation

/// MaxPool (with Indices), AveragePool, GlobalAveragePool, GlobalMaxPool.
enum ONNXPooling {
    /// A pooling node resolved for one input: the window, and whether ConvKit's kernels can run it (pads at most half
    /// the kernel, no dilated averaging, float input); otherwise the reference loop below runs.
    struct Plan {
        var window: ONNXWindow, ceil: Bool, countIncludePad: Bool, output: [Int]
        var options: PoolOptions { PoolOptions(kernel: window.kernel, stride: window.strides, padding: window.padding, dilation: window.dilations,
                                               ceilMode: ceil, countIncludePad: countIncludePad) }
        func fitsKernels(average: Bool) -> Bool {
            (0..<window.kernel.count).allSatisfy { window.padBefore[$0] <= window.kernel[$0] / 2 && window.padAfter[$0] <= window.kernel[$0] / 2 }
                && (!average || window.dilations.allSatisfy { $0 == 1 })
        }
    }

    static func plan(_ ctx: ONNXNodeContext, shape s: [Int]) throws -> Plan {
        try ctx.require((3...5).contains(s.count), "expected X [N, C, spatial…] with 1–3 spatial axes, found \(s)")
        let win = try ONNXWindow(ctx, spatial: Array(s[2...]), kernel: nil)
        let ceil = try ctx.attributes.int("ceil_mode", default: 0) != 0
        let out = (0..<win.kernel.count).map { i in
            convOutputSize(s[2 + i], kernel: win.kernel[i], stride: win.strides[i], padBefore: win.padBefore[i], padAfter: win.padAfter[i],
                           dilation: win.dilations[i], ceilMode: ceil)
        }
        try ctx.require(out.allSatisfy { $0 > 0 }, "the pooled output \(out) would be empty for X \(s)")
        _ = try ctx.checkSize(Array(s[..<2]) + out)
        return Plan(window: win, ceil: ceil, countIncludePad: try ctx.attributes.int("count_include_pad", default: 0) != 0, output: out)
    }

    static func maxPool(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let xv = try ctx.value(0)
        let p = try plan(ctx, shape: xv.shape)
        let columnMajor = try ctx.attributes.int("storage_order", default: 0) != 0
        let wantsIndices = ctx.node.outputs.count > 1 && !ctx.node.outputs[1].isEmpty
        guard case .float(let x, let t) = xv, p.fitsKernels(average: false) else {
            let (index, _) = windows(shape: xv.shape, p, max: xv.floatTensor.scalars)
            let y = ONNXTensorHelpers.gather(xv, shape: Array(xv.shape[..<2]) + p.output, index: index, fill: -.infinity)
            return [y] + (wantsIndices ? [indices(index.map { Int32($0) }, shape: xv.shape, outputShape: y.shape, flat: true, columnMajor: columnMajor)] : [])
        }
        guard wantsIndices else { return [.float(Functional.maxPool(x, p.options), t)] }
        let o = p.options
        let (value, idx) = ConvKit.maxPool(x.value, o, returnIndices: true)
        let argmax = idx ?? []
        let y = Variable(value, parents: [x], label: "maxPool") { g in [maxPoolBackward(inputShape: x.shape, gradOutput: g, indices: argmax, o)] }
        return [.float(y, t), indices(argmax, shape: x.shape, outputShape: y.shape, flat: false, columnMajor: columnMajor)]
    }

    /// MaxPool's Indices: offsets into the flattened input, row-major (storage_order 0) or with the spatial axes
    /// column-major (1). `flat` says whether `idx` already counts from the tensor's start or from each plane's.
    static func indices(_ idx: [Int32], shape s: [Int], outputShape: [Int], flat: Bool, columnMajor: Bool) -> ONNXValue {
        let spatial = Array(s[2...]), plane = spatial.reduce(1, *), outPlane = outputShape[2...].reduce(1, *)
        let values = idx.enumerated().map { k, v -> Int64 in
            let p = k / outPlane
            var inPlane = Int(v) - (flat ? p * plane : 0)
            if columnMajor {
                var rem = inPlane, acc = 0, mult = 1
                let st = ONNXTensorHelpers.strides(spatial)
                let coords = spatial.indices.map { d -> Int in let c = rem / st[d]; rem %= st[d]; return c }
                for d in spatial.indices { acc += coords[d] * mult; mult *= spatial[d] }
                inPlane = acc
            }
            return Int64(p * plane + inPlane)
        }
        return .integer(IntegerTensor(shape: outputShape, values: values, type: .int64))
    }

    static func averagePool(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.float(0), t = try ctx.floatType(0)
        let p = try plan(ctx, shape: x.shape)
        if p.fitsKernels(average: true) { return [.float(Functional.avgPool(x, p.options), t)] }
        let (_, members) = windows(shape: x.shape, p, max: nil)
        let outShape = Array(x.shape[..<2]) + p.output
        let xs = x.value.scalars
        let y = Tensor(shape: outShape, scalars: members.map { m in m.cells.reduce(0) { $0 + xs[$1] } / Float(Swift.max(m.divisor, 1)) })
        let inShape = x.shape
        return [.float(Variable(y, parents: [x], label: "avgPool") { g in
            var gx = [Float](repeating: 0, count: xs.count)
            for (k, m) in members.enumerated() { let v = g.scalars[k] / Float(Swift.max(m.divisor, 1)); for c in m.cells { gx[c] += v } }
            return [Tensor(shape: inShape, scalars: gx)]
        }, t)]
    }

    /// The reference loop: for every output position, the input cells its window covers (and, for max, the argmax
    /// cell or −1 when the window lies in the padding); the divisor counts padded cells with count_include_pad.
    static func windows(shape s: [Int], _ p: Plan, max values: [Float]?) -> (argmax: [Int], members: [(cells: [Int], divisor: Int)]) {
        let spatial = Array(s[2...]), r = spatial.count, planes = s[0] * s[1]
        let inPlane = spatial.reduce(1, *), outPlane = p.output.reduce(1, *)
        let ost = ONNXTensorHelpers.strides(p.output), ist = ONNXTensorHelpers.strides(spatial)
        let w = p.window
        var argmax = [Int](), members = [(cells: [Int], divisor: Int)]()
        for plane in 0..<planes {
            for o in 0..<outPlane {
                var cells = [Int](), divisor = 1
                var starts = [Int](), rem = o
                for d in 0..<r { starts.append((rem / ost[d]) * w.strides[d] - w.padBefore[d]); rem %= ost[d] }
                var kidx = [Int](repeating: 0, count: r)
                var padded = 1
                for d in 0..<r {
                    // Window taps inside the padded extent count toward count_include_pad's divisor.
                    let taps = (0..<w.kernel[d]).filter { let c = starts[d] + $0 * w.dilations[d]; return c < spatial[d] + w.padAfter[d] }.count
                    padded *= taps
                }
                divisor = padded
                let total = w.kernel.reduce(1, *)
                for _ in 0..<total {
                    var off = 0, inside = true
                    for d in 0..<r {
                        let c = starts[d] + kidx[d] * w.dilations[d]
                        if c < 0 || c >= spatial[d] { inside = false; break }
                        off += c * ist[d]
                    }
                    if inside { cells.append(plane * inPlane + off) }
                    var d = r - 1
                    while d >= 0 { kidx[d] += 1; if kidx[d] < w.kernel[d] { break }; kidx[d] = 0; d -= 1 }
                }
                if let values {
                    var best = -1
                    for c in cells where best < 0 || values[c] > values[best] { best = c }
                    argmax.append(best)
                } else {
                    members.append((cells, p.countIncludePad ? divisor : cells.count))
                }
            }
        }
        return (argmax, members)
    }

    static func global(_ op: String) -> ONNXKernel {
        { ctx in
            let x = try ctx.float(0), s = x.shape
            try ctx.require(s.count >= 3 && !s[2...].contains(0), "expected X [N, C, spatial…] with non-empty spatial axes, found \(s)")
            let y = op == "GlobalAveragePool" ? Functional.globalAvgPool(x) : Functional.globalMaxPool(x)
            return [.float(y.reshaped([s[0], s[1]] + s[2...].map { _ in 1 }), try ctx.floatType(0))]
        }
    }
}
