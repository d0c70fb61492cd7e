import ConvKit
import Foundation

/// Segments a volume too large for one pass by running a network on overlapping windows, blending the windows'
/// class probabilities with Gaussian weights (centre voxels count more than border voxels, which see less context)
/// and taking the argmax — with memory bounded by the window, not the volume.
///
/// Windows are visited plane-slab by plane-slab along depth. The blended sums live in a ring of `window[0]` planes
/// (classes × window depth × H × W floats); when the next slab of windows starts at depth z₁, every plane below z₁ can
/// no longer receive a contribution, so its argmax is final and its ring slot is reused (the "running argmax"). The
/// network itself only ever sees one window. Output: one `UInt8` class per voxel.
///
/// Blending: p(v) = Σ_w g_w(v)·softmax(f(x_w))(v) / Σ_w g_w(v), g a separable Gaussian with σ = side/8 per axis (MONAI's
/// default), floored at 1e-3 so that every voxel a window covers counts. The denominator is positive and the same for
/// every class of a voxel, so the argmax needs only the numerators: those are all the ring holds.
public struct VolumeSlidingWindow {
    /// Window sides (D, H, W) and the fraction of a window two neighbours share (0 ≤ overlap < 1).
    public let window: [Int]
    public let overlap: Double

    /// What the last `segment` call held at its peak, for reports.
    public struct Usage: Equatable {
        public var windows: Int
        /// Bytes of the blending ring.
        public var accumulatorBytes: Int
        /// Bytes the same blending would need for the whole volume at once.
        public var wholeVolumeAccumulatorBytes: Int
    }

    public init(window: [Int], overlap: Double = 0.25) throws {
        guard window.count == 3, window.allSatisfy({ (1...1024).contains($0) }) else {
            throw ConvKitError.invalidArgument(name: "window", expected: "three sides of 1…1024 voxels",
                                               found: window.map(String.init).joined(separator: "×"))
        }
        guard overlap.isFinite, overlap >= 0, overlap < 1 else {
            throw ConvKitError.invalidArgument(name: "overlap", expected: "a fraction in [0, 1)", found: "\(overlap)")
        }
        self.window = window; self.overlap = overlap
    }

    /// Window starts along one axis of `size` voxels: step ⌈side·(1 − overlap)⌉, the last window flush with the end.
    public static func starts(size: Int, side: Int, overlap: Double) -> [Int] {
        if size <= side { return [0] }
        let step = Swift.max(1, Int((Double(side) * (1 - overlap)).rounded(.up)))
        var s = Array(stride(from: 0, through: size - side, by: step))
        if s.last! != size - side { s.append(size - side) }
        return s
    }

    /// - Parameters:
    ///   - volume: `[C, D, H, W]`, each side at least the window's.
    ///   - classes: channels of the network's output.
    ///   - network: `[1, C, wd, wh, ww]` → logits `[1, classes, wd, wh, ww]`.
    /// - Returns: a class per voxel (row-major D, H, W) and what the blending held.
    public func segment(_ volume: Tensor, classes: Int, network: (Tensor) throws -> Tensor) throws -> (labels: [UInt8], usage: Usage) {
        guard volume.rank == 4 else {
            throw ConvKitError.shapeMismatch(expected: "a volume [C, D, H, W]", found: "\(volume.shape)")
        }
        guard (1...255).contains(classes) else {
            throw ConvKitError.invalidArgument(name: "classes", expected: "1…255 (one byte per voxel)", found: "\(classes)")
        }
        let c = volume.shape[0], dims = Array(volume.shape[1...])
        guard zip(dims, window).allSatisfy({ $0 >= $1 }) else {
            throw ConvKitError.shapeMismatch(expected: "a volume at least the window \(window.map(String.init).joined(separator: "×"))",
                                             found: dims.map(String.init).joined(separator: "×"))
        }
        let (d, h, w) = (dims[0], dims[1], dims[2]), (wd, wh, ww) = (window[0], window[1], window[2])
        let zs = Self.starts(size: d, side: wd, overlap: overlap), ys = Self.starts(size: h, side: wh, overlap: overlap)
        let xs = Self.starts(size: w, side: ww, overlap: overlap)
        let weights = gaussianWeights()
        let plane = h * w
        // Ring slot of depth z: z mod wd (the planes of one slab, [z₀, z₀ + wd), never share a slot).
        var sums = [Float](repeating: 0, count: wd * classes * plane)
        var labels = [UInt8](repeating: 0, count: d * plane)
        var finalized = 0   // planes [0, finalized) are done
        var windows = 0

        func finalize(upTo z1: Int) {
            while finalized < z1 {
                let slot = finalized % wd
                for p in 0..<plane {
                    var best = 0, bestValue = -Float.infinity
                    for k in 0..<classes {
                        let v = sums[(slot * classes + k) * plane + p]
                        if v > bestValue { bestValue = v; best = k }
                    }
                    labels[finalized * plane + p] = UInt8(best)
                    for k in 0..<classes { sums[(slot * classes + k) * plane + p] = 0 }
                }
                finalized += 1
            }
        }

        for z0 in zs {
            finalize(upTo: z0)
            for y0 in ys { for x0 in xs {
                let crop = volume.withUnsafeBufferPointer { v in
                    Tensor(shape: [1, c, wd, wh, ww]) { o in
                        var i = 0
                        for ch in 0..<c { for z in 0..<wd { for y in 0..<wh {
                            let src = ((ch * d + z0 + z) * h + y0 + y) * w + x0
                            for x in 0..<ww { o[i + x] = v[src + x] }
                            i += ww
                        } } }
                    }
                }
                let logits = try network(crop)
                guard logits.shape == [1, classes, wd, wh, ww] else {
                    throw ConvKitError.shapeMismatch(expected: "logits [1, \(classes), \(wd), \(wh), \(ww)]", found: "\(logits.shape)")
                }
                windows += 1
                logits.withUnsafeBufferPointer { l in
                    let wvol = wd * wh * ww
                    var e = [Float](repeating: 0, count: classes)
                    for q in 0..<wvol {
                        var m = -Float.infinity
                        for k in 0..<classes { m = Swift.max(m, l[k * wvol + q]) }
                        var total: Float = 0
                        for k in 0..<classes { e[k] = Foundation.exp(l[k * wvol + q] - m); total += e[k] }
                        let z = q / (wh * ww), y = (q / ww) % wh, x = q % ww
                        let g = weights[q], slot = (z0 + z) % wd, p = (y0 + y) * w + x0 + x
                        for k in 0..<classes { sums[(slot * classes + k) * plane + p] += g * e[k] / total }
                    }
                }
            } }
        }
        finalize(upTo: d)
        let ring = sums.count * MemoryLayout<Float>.size
        let whole = classes * d * plane * MemoryLayout<Float>.size
        return (labels, Usage(windows: windows, accumulatorBytes: ring, wholeVolumeAccumulatorBytes: whole))
    }

    /// g(z, y, x) = Π_axis exp(−(i − centre)²/(2σ²)), σ = side/8, normalized to a maximum of 1 and floored at 1e-3.
    func gaussianWeights() -> [Float] {
        let axes = window.map { side -> [Float] in
            let sigma = Swift.max(Float(side) / 8, 0.5), centre = Float(side - 1) / 2
            return (0..<side).map { Foundation.exp(-(Float($0) - centre) * (Float($0) - centre) / (2 * sigma * sigma)) }
        }
        var out = [Float](); out.reserveCapacity(window.reduce(1, *))
        for a in axes[0] { for b in axes[1] { for c in axes[2] { out.append(Swift.max(a * b * c, 1e-3)) } } }
        return out
    }
}
