import ConvKit
import Foundation

/// Resize (opsets 10, 11, 13, 18, 19) and Upsample (7, 9): nearest (four rounding modes), linear and cubic, every
/// coordinate_transformation_mode, applied axis by axis as sparse linear maps (so gradients flow back through them).
enum ONNXResize {
    typealias H = ONNXTensorHelpers

    /// Source taps of one output coordinate along one axis: (input index, weight); `outside` → extrapolation value.
    struct Taps { var index: [Int]; var weight: [Float]; var outside: Bool }

    struct Mode {
        var interpolation = "nearest", transform = "half_pixel", nearest = "round_prefer_floor"
        var cubicA: Float = -0.75, excludeOutside = false, extrapolation: Float = 0, antialias = false
    }

    static func resize(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0), s = x.shape, r = s.count
        let a = ctx.attributes
        var mode = Mode()
        mode.interpolation = try a.string("mode", default: "nearest")
        try ctx.require(["nearest", "linear", "cubic"].contains(mode.interpolation), "mode '\(mode.interpolation)' is not nearest, linear or cubic")
        mode.transform = ctx.opset >= 11 ? try a.string("coordinate_transformation_mode", default: "half_pixel") : "asymmetric"
        mode.nearest = ctx.opset >= 11 ? try a.string("nearest_mode", default: "round_prefer_floor") : "floor"
        mode.cubicA = try a.float("cubic_coeff_a", default: -0.75)
        mode.excludeOutside = try a.int("exclude_outside", default: 0) != 0
        mode.extrapolation = try a.float("extrapolation_value", default: 0)
        mode.antialias = try a.int("antialias", default: 0) != 0
        let policy = try a.string("keep_aspect_ratio_policy", default: "stretch")
        let axes = try H.axes(ctx, try a.ints("axes") ?? Array(0..<r), rank: r)

        let roiIndex = ctx.opset >= 11 ? 1 : -1, scalesIndex = ctx.opset >= 11 ? 2 : 1, sizesIndex = ctx.opset >= 11 ? 3 : -1
        var roi: [Float]? = roiIndex >= 0 && ctx.optional(roiIndex) != nil ? try ctx.floats(roiIndex) : nil
        if roi?.isEmpty == true { roi = nil }
        var scales = [Float](repeating: 1, count: r), out = s
        let givenScales = ctx.optional(scalesIndex).map { $0.count > 0 } ?? false
        let givenSizes = sizesIndex >= 0 && (ctx.optional(sizesIndex).map { $0.count > 0 } ?? false)
        try ctx.require(givenScales != givenSizes, "exactly one of scales and sizes must be given")
        if givenScales {
            let sc = try ctx.floats(scalesIndex)
            try ctx.require(sc.count == axes.count && sc.allSatisfy { $0 > 0 && $0.isFinite }, "scales \(sc) for axes \(axes)")
            for (k, ax) in axes.enumerated() {
                scales[ax] = sc[k]
                out[ax] = try extent(ctx, Double(s[ax]) * Double(sc[k]), .down)
            }
        } else {
            let sz = try ctx.ints(sizesIndex)
            try ctx.require(sz.count == axes.count && sz.allSatisfy { $0 >= 0 }, "sizes \(sz) for axes \(axes)")
            if policy == "stretch" {
                for (k, ax) in axes.enumerated() { out[ax] = sz[k]; scales[ax] = s[ax] > 0 ? Float(sz[k]) / Float(s[ax]) : 1 }
            } else {
                try ctx.require(policy == "not_larger" || policy == "not_smaller", "keep_aspect_ratio_policy '\(policy)'")
                let ratios = axes.enumerated().map { Float($0.element == 0 ? 0 : sz[$0.offset]) / Float(Swift.max(s[$0.element], 1)) }
                let scale = policy == "not_larger" ? ratios.min()! : ratios.max()!
                for ax in axes { scales[ax] = scale; out[ax] = try extent(ctx, Double(scale) * Double(s[ax]), .toNearestOrAwayFromZero) }
            }
        }
        _ = try ctx.checkSize(out)
        var roiStart = [Float](repeating: 0, count: r), roiEnd = [Float](repeating: 1, count: r)
        if let roi, mode.transform == "tf_crop_and_resize" {
            try ctx.require(roi.count == 2 * axes.count || roi.count == 2 * r, "roi \(roi) for axes \(axes)")
            let full = roi.count == 2 * r
            for (k, ax) in axes.enumerated() {
                roiStart[ax] = roi[full ? ax : k]; roiEnd[ax] = roi[full ? r + ax : axes.count + k]
            }
        }
        var y = x
        for ax in 0..<r where out[ax] != s[ax] || scales[ax] != 1 || mode.transform == "tf_crop_and_resize" {
            let axisTaps = (0..<out[ax]).map { i in
                taps(for: i, inputLength: s[ax], outputLength: out[ax], scale: scales[ax], roi: (roiStart[ax], roiEnd[ax]), mode: mode)
            }
            y = apply(y, axis: ax, taps: axisTaps, extrapolation: mode.extrapolation)
        }
        return [y]
    }

    /// Upsample (7: scales attribute; 9: scales input): nearest rounds down, linear is asymmetric.
    static func upsample(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let x = try ctx.value(0), s = x.shape
        let scales = ctx.opset >= 9 ? try ctx.floats(1) : (try ctx.attributes.floats("scales") ?? [])
        try ctx.require(scales.count == s.count && scales.allSatisfy { $0 >= 1 && $0.isFinite }, "scales \(scales) for rank \(s.count) (each ≥ 1)")
        var mode = Mode()
        mode.interpolation = try ctx.attributes.string("mode", default: "nearest")
        if mode.interpolation == "bilinear" { mode.interpolation = "linear" }
        try ctx.require(["nearest", "linear"].contains(mode.interpolation), "mode '\(mode.interpolation)' is not nearest or linear")
        mode.transform = "asymmetric"; mode.nearest = "floor"
        let out = try zip(s, scales).map { try extent(ctx, Double($0) * Double($1), .down) }
        _ = try ctx.checkSize(out)
        var y = x
        for ax in 0..<s.count where out[ax] != s[ax] {
            y = apply(y, axis: ax, taps: (0..<out[ax]).map { taps(for: $0, inputLength: s[ax], outputLength: out[ax], scale: scales[ax], roi: (0, 1), mode: mode) },
                      extrapolation: 0)
        }
        return [y]
    }

    /// An output extent from a scaled length, refused (not trapped) when it is absurd.
    static func extent(_ ctx: ONNXNodeContext, _ v: Double, _ rule: FloatingPointRoundingRule) throws -> Int {
        let r = v.rounded(rule)
        try ctx.require(r.isFinite && r >= 0 && r <= Double(ctx.limits.maxElements), "the resized extent \(v) is out of range")
        return Int(r)
    }

    /// The input coordinate of output coordinate `i` (ONNX's coordinate_transformation_mode formulas).
    /// As ONNX's reference, the resized length in these formulas is scale · n (not rounded).
    static func sourceCoordinate(_ i: Int, inputLength n: Int, outputLength m: Int, scale: Float, roi: (Float, Float), transform: String) -> Float {
        let x = Float(i), resized = scale * Float(n)
        switch transform {
        case "align_corners": return resized == 1 ? 0 : x * Float(n - 1) / (resized - 1)
        case "asymmetric": return x / scale
        case "pytorch_half_pixel": return resized > 1 ? (x + 0.5) / scale - 0.5 : 0
        case "tf_half_pixel_for_nn": return (x + 0.5) / scale
        case "half_pixel_symmetric":
            let adjustment = Float(m) / (scale * Float(n))
            let center = Float(n) / 2
            return center * (1 - adjustment) + (x + 0.5) / scale - 0.5
        case "tf_crop_and_resize":
            return resized != 1 ? roi.0 * Float(n - 1) + x * (roi.1 - roi.0) * Float(n - 1) / (resized - 1) : 0.5 * (roi.0 + roi.1) * Float(n - 1)
        default: return (x + 0.5) / scale - 0.5   // half_pixel
        }
    }

    static func taps(for i: Int, inputLength n: Int, outputLength m: Int, scale: Float, roi: (Float, Float), mode: Mode) -> Taps {
        var x = sourceCoordinate(i, inputLength: n, outputLength: m, scale: scale, roi: roi, transform: mode.transform)
        if mode.transform == "tf_crop_and_resize" && !(x >= 0 && x <= Float(n - 1)) { return Taps(index: [], weight: [], outside: true) }
        // Far outside the input every tap clamps to the edge anyway; keep the coordinate where Int conversions are safe.
        x = x.isNaN ? 0 : Swift.min(Swift.max(x, -4), Float(n + 4))
        func clamp(_ k: Int) -> Int { Swift.min(Swift.max(k, 0), n - 1) }
        switch mode.interpolation {
        case "nearest":
            let k: Int
            switch mode.nearest {
            case "floor": k = Int(x.rounded(.down))
            case "ceil": k = Int(x.rounded(.up))
            case "round_prefer_ceil": k = x == x.rounded(.down) + 0.5 ? Int(x.rounded(.up)) : Int(x.rounded(.toNearestOrAwayFromZero))
            default: k = x == x.rounded(.down) + 0.5 ? Int(x.rounded(.down)) : Int(x.rounded(.toNearestOrAwayFromZero))
            }
            return Taps(index: [clamp(k)], weight: [1], outside: false)
        default:
            // ONNX's reference: the taps are base + i with base = x − ratio, ratio ∈ (0, 1]; with antialias and
            // downscaling, the kernel is stretched by 1/scale (more taps) and renormalized.
            var ratio = x - x.rounded(.down)
            if ratio == 0 { ratio = 1 }
            let base = Int((x - ratio).rounded())
            // Antialiasing widens the kernel to 1/scale taps; beyond the input's length more taps only repeat the edge.
            let s = mode.antialias ? Swift.max(Swift.min(scale, 1), 1 / Float(n + 4)) : 1
            var offsets = [Int](), w = [Float]()
            if mode.interpolation == "linear" {
                let start = Int((-1 / s).rounded(.down)) + 1
                for i in start..<(2 - start) { offsets.append(i); w.append(Swift.max(0, Swift.min(1, 1 - Swift.abs(Float(i) - ratio) * s))) }
            } else {
                let A = mode.cubicA
                func cubic(_ v: Float) -> Float {
                    let d = Swift.abs(v)
                    if d <= 1 { return ((A + 2) * d - (A + 3)) * d * d + 1 }
                    if d < 2 { return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A }
                    return 0
                }
                let start = Int((-2 / s).rounded(.down)) + 1
                for i in start..<(2 - start) { offsets.append(i); w.append(cubic(s * (Float(i) - ratio))) }
            }
            let idx = offsets.map { base + $0 }
            if mode.excludeOutside { for j in 0..<w.count where idx[j] < 0 || idx[j] >= n { w[j] = 0 } }
            let total = w.reduce(0, +)
            if total != 0 && (mode.excludeOutside || s < 1) { w = w.map { $0 / total } }
            return Taps(index: idx.map(clamp), weight: w, outside: false)
        }
    }

    /// y[…, i, …] = Σ_j w_ij · x[…, j, …] along `axis` (extrapolation where the taps are outside); gradients are the transpose.
    static func apply(_ v: ONNXValue, axis: Int, taps: [Taps], extrapolation: Float) -> ONNXValue {
        let s = v.shape
        let outer = s[..<axis].reduce(1, *), n = s[axis], inner = s[(axis + 1)...].reduce(1, *), m = taps.count
        var shape = s
        shape[axis] = m
        func forward(_ x: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: outer * m * inner)
            for o in 0..<outer { for (i, t) in taps.enumerated() {
                let dst = (o * m + i) * inner
                if t.outside { for j in 0..<inner { y[dst + j] = extrapolation }; continue }
                for (k, w) in zip(t.index, t.weight) where w != 0 {
                    let src = (o * n + k) * inner
                    for j in 0..<inner { y[dst + j] += w * x[src + j] }
                }
            } }
            return y
        }
        switch v {
        case .integer(let t):
            let y = forward(t.values.map { Float($0) })
            return .integer(IntegerTensor(shape: shape, values: y.map { Int64(saturating: $0.rounded()) }, type: t.type))
        case .float(let x, let type):
            let y = Tensor(shape: shape, scalars: forward(x.value.scalars))
            return .float(Variable(y, parents: [x], label: "resize") { g in
                var gx = [Float](repeating: 0, count: outer * n * inner)
                for o in 0..<outer { for (i, t) in taps.enumerated() where !t.outside {
                    let src = (o * m + i) * inner
                    for (k, w) in zip(t.index, t.weight) where w != 0 {
                        let dst = (o * n + k) * inner
                        for j in 0..<inner { gx[dst + j] += w * g.scalars[src + j] }
                    }
                } }
                return [Tensor(shape: s, scalars: gx)]
            }, type)
        }
    }
}

/// NonMaxSuppression (10, 11): per batch and class, greedy suppression by IoU; selected [K, 3] = (batch, class, box).
enum ONNXNonMaxSuppression {
    static func run(_ ctx: ONNXNodeContext) throws -> [ONNXValue] {
        let boxes = try ctx.value(0).floatTensor, scores = try ctx.value(1).floatTensor
        try ctx.require(boxes.rank == 3 && boxes.shape[2] == 4 && scores.rank == 3 && scores.shape[0] == boxes.shape[0] && scores.shape[2] == boxes.shape[1],
                        "expected boxes [B, N, 4] and scores [B, C, N], found \(boxes.shape) and \(scores.shape)")
        let maxOut = ctx.optional(2) == nil ? 0 : (try ctx.ints(2)).first ?? 0
        let iouThreshold = try ctx.scalar(3) ?? 0
        let scoreThreshold = try ctx.scalar(4)
        let center = try ctx.attributes.int("center_point_box", default: 0) != 0
        let (b, n, c) = (boxes.shape[0], boxes.shape[1], scores.shape[1])
        var selected = [Int64]()
        for bi in 0..<b {
            var corners = [(Float, Float, Float, Float)]()
            for i in 0..<n {
                let p = (bi * n + i) * 4
                let (v0, v1, v2, v3) = (boxes.scalars[p], boxes.scalars[p + 1], boxes.scalars[p + 2], boxes.scalars[p + 3])
                if center { corners.append((v1 - v3 / 2, v0 - v2 / 2, v1 + v3 / 2, v0 + v2 / 2)) }
                else { corners.append((Swift.min(v0, v2), Swift.min(v1, v3), Swift.max(v0, v2), Swift.max(v1, v3))) }
            }
            func iou(_ a: Int, _ d: Int) -> Float {
                let p = corners[a], q = corners[d]
                let ih = Swift.max(0, Swift.min(p.2, q.2) - Swift.max(p.0, q.0)), iw = Swift.max(0, Swift.min(p.3, q.3) - Swift.max(p.1, q.1))
                let inter = ih * iw, union = (p.2 - p.0) * (p.3 - p.1) + (q.2 - q.0) * (q.3 - q.1) - inter
                return union > 0 ? inter / union : 0
            }
            for ci in 0..<c {
                let base = (bi * c + ci) * n
                var order = (0..<n).filter { scoreThreshold == nil || scores.scalars[base + $0] > scoreThreshold! }
                order.sort { scores.scalars[base + $0] != scores.scalars[base + $1] ? scores.scalars[base + $0] > scores.scalars[base + $1] : $0 < $1 }
                var kept = [Int]()
                for i in order where kept.count < maxOut {
                    if kept.allSatisfy({ iou($0, i) <= iouThreshold }) { kept.append(i) }
                }
                for k in kept { selected += [Int64(bi), Int64(ci), Int64(k)] }
            }
        }
        return [.integer(IntegerTensor(shape: [selected.count / 3, 3], values: selected, type: .int64))]
    }
}
