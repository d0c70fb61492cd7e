import ConvKit
import Foundation

/// Region-of-interest pooling: a fixed-size feature map per box, the step between region proposals and a
/// per-region classifier (Fast/Faster R-CNN). Both ops follow torchvision.ops exactly (checked on golden
/// values) and have a backward pass.
///
/// Input `x` `[N, C, H, W]`; `rois` `[K, 5]` rows (batch index, x1, y1, x2, y2) in input-image pixels, mapped to
/// the feature map by `spatialScale` (1/stride) → output `[K, C, ph, pw]`.
public enum RoIOps {
    /// RoI max pooling (Fast R-CNN): the box is rounded to whole cells (round(x·scale)), its
    /// (h+1)×(w+1) cells split into ph×pw bins (⌊i·h/ph⌋…⌈(i+1)·h/ph⌉), each bin's maximum taken; empty bins give 0.
    /// The gradient goes to each bin's argmax.
    public static func roiPool(_ x: Variable, rois: Tensor, outputSize: (Int, Int), spatialScale: Float) -> Variable {
        let (n, c, h, w) = dims(x.value, rois)
        let (ph, pw) = outputSize, k = rois.shape[0]
        var arg = [Int32](repeating: -1, count: k * c * ph * pw)
        let out = Tensor(shape: [k, c, ph, pw]) { o in
            for r in 0..<k {
                let b = batchIndex(rois, r, n)
                let sw = Int((rois[r, 1] * spatialScale).rounded(.toNearestOrAwayFromZero)), sh = Int((rois[r, 2] * spatialScale).rounded(.toNearestOrAwayFromZero))
                let ew = Int((rois[r, 3] * spatialScale).rounded(.toNearestOrAwayFromZero)), eh = Int((rois[r, 4] * spatialScale).rounded(.toNearestOrAwayFromZero))
                let rh = Swift.max(eh - sh + 1, 1), rw = Swift.max(ew - sw + 1, 1)
                let bh = Float(rh) / Float(ph), bw = Float(rw) / Float(pw)
                for i in 0..<ph {
                    for j in 0..<pw {
                        let hs = Swift.min(Swift.max(Int((Float(i) * bh).rounded(.down)) + sh, 0), h), he = Swift.min(Swift.max(Int((Float(i + 1) * bh).rounded(.up)) + sh, 0), h)
                        let ws = Swift.min(Swift.max(Int((Float(j) * bw).rounded(.down)) + sw, 0), w), we = Swift.min(Swift.max(Int((Float(j + 1) * bw).rounded(.up)) + sw, 0), w)
                        let empty = he <= hs || we <= ws
                        for ch in 0..<c {
                            let plane = (b * c + ch) * h * w
                            var m: Float = empty ? 0 : -Float.greatestFiniteMagnitude, mi = -1
                            if !empty { for y in hs..<he { for xx in ws..<we where x.value.scalars[plane + y * w + xx] > m { m = x.value.scalars[plane + y * w + xx]; mi = plane + y * w + xx } } }
                            let oi = ((r * c + ch) * ph + i) * pw + j
                            o[oi] = m; arg[oi] = Int32(mi)
                        }
                    }
                }
            }
        }
        let shape = x.shape
        return Variable(out, parents: [x], label: "roiPool") { g in
            var dx = Tensor.zeros(shape)
            for (i, a) in arg.enumerated() where a >= 0 { dx.scalars[Int(a)] += g.scalars[i] }
            return [dx]
        }
    }

    /// RoIAlign (Mask R-CNN): no rounding; each of the ph×pw bins averages bilinear samples on a regular
    /// grid of s_h×s_w points (`samplingRatio`, or ⌈roi_h/ph⌉ × ⌈roi_w/pw⌉ when ≤ 0). `aligned` shifts the box by
    /// −0.5 pixel so that pixel centers line up (and allows boxes under one pixel); otherwise boxes are at least 1×1.
    /// Samples outside [−1, H] × [−1, W] count as 0.
    public static func roiAlign(_ x: Variable, rois: Tensor, outputSize: (Int, Int), spatialScale: Float, samplingRatio: Int = -1,
                                aligned: Bool = false) -> Variable {
        let (n, c, h, w) = dims(x.value, rois)
        let (ph, pw) = outputSize, k = rois.shape[0]
        /// For each output bin: the four corner indices (within a plane) and weights of every sample, divided by the count.
        var taps = [[(Int, Float)]](repeating: [], count: k * ph * pw)
        var batch = [Int](repeating: 0, count: k)
        let offset: Float = aligned ? 0.5 : 0
        for r in 0..<k {
            batch[r] = batchIndex(rois, r, n)
            let sw = rois[r, 1] * spatialScale - offset, sh = rois[r, 2] * spatialScale - offset
            var rw = rois[r, 3] * spatialScale - offset - sw, rh = rois[r, 4] * spatialScale - offset - sh
            if !aligned { rw = Swift.max(rw, 1); rh = Swift.max(rh, 1) }
            let bh = rh / Float(ph), bw = rw / Float(pw)
            let gh = samplingRatio > 0 ? samplingRatio : Int((rh / Float(ph)).rounded(.up)), gw = samplingRatio > 0 ? samplingRatio : Int((rw / Float(pw)).rounded(.up))
            let count = Float(Swift.max(gh * gw, 1))
            for i in 0..<ph {
                for j in 0..<pw {
                    var t = [(Int, Float)]()
                    for iy in 0..<Swift.max(gh, 0) {
                        let yy = sh + Float(i) * bh + (Float(iy) + 0.5) * bh / Float(gh)
                        for ix in 0..<Swift.max(gw, 0) {
                            let xx = sw + Float(j) * bw + (Float(ix) + 0.5) * bw / Float(gw)
                            bilinearTaps(yy, xx, h, w) { idx, wt in t.append((idx, wt / count)) }
                        }
                    }
                    taps[(r * ph + i) * pw + j] = t
                }
            }
        }
        let xv = x.value
        let out = Tensor(shape: [k, c, ph, pw]) { o in
            for r in 0..<k { for ch in 0..<c {
                let plane = (batch[r] * c + ch) * h * w
                for b in 0..<ph * pw {
                    var s: Float = 0
                    for (idx, wt) in taps[r * ph * pw + b] { s += wt * xv.scalars[plane + idx] }
                    o[(r * c + ch) * ph * pw + b] = s
                }
            } }
        }
        let shape = x.shape
        return Variable(out, parents: [x], label: "roiAlign") { g in
            var dx = Tensor.zeros(shape)
            for r in 0..<k { for ch in 0..<c {
                let plane = (batch[r] * c + ch) * h * w
                for b in 0..<ph * pw {
                    let gv = g.scalars[(r * c + ch) * ph * pw + b]
                    for (idx, wt) in taps[r * ph * pw + b] { dx.scalars[plane + idx] += wt * gv }
                }
            } }
            return [dx]
        }
    }

    /// torchvision's bilinear_interpolate: clamps to the map, 0 outside [−1, H] × [−1, W].
    static func bilinearTaps(_ y0: Float, _ x0: Float, _ h: Int, _ w: Int, _ add: (Int, Float) -> Void) {
        var y = y0, x = x0
        if y < -1 || y > Float(h) || x < -1 || x > Float(w) { return }
        if y <= 0 { y = 0 }
        if x <= 0 { x = 0 }
        var yl = Int(y), xl = Int(x), yh: Int, xh: Int
        if yl >= h - 1 { yh = h - 1; yl = h - 1; y = Float(yl) } else { yh = yl + 1 }
        if xl >= w - 1 { xh = w - 1; xl = w - 1; x = Float(xl) } else { xh = xl + 1 }
        let ly = y - Float(yl), lx = x - Float(xl), hy = 1 - ly, hx = 1 - lx
        add(yl * w + xl, hy * hx); add(yl * w + xh, hy * lx); add(yh * w + xl, ly * hx); add(yh * w + xh, ly * lx)
    }

    static func dims(_ x: Tensor, _ rois: Tensor) -> (Int, Int, Int, Int) {
        precondition(x.rank == 4, "RoI ops take feature maps [N, C, H, W], got \(x.shape)")
        precondition(rois.rank == 2 && rois.shape[1] == 5, "rois must be [K, 5] (batch index, x1, y1, x2, y2), got \(rois.shape)")
        return (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    }

    static func batchIndex(_ rois: Tensor, _ r: Int, _ n: Int) -> Int {
        let b = Int(rois[r, 0])
        precondition(b >= 0 && b < n, "roi \(r) names batch element \(b) of \(n)")
        return b
    }
}
