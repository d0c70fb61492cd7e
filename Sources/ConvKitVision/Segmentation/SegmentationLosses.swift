import ConvKit
import Foundation

/// Per-pixel losses for segmentation. Logits `[N, K, H, W]` (or `[N, K, D, H, W]` for volumes, `[N, K, L]` for
/// sequences), labels `[N·H·W]` class indices (row-major per image or volume).
public enum SegmentationLoss {
    /// Pixel-wise softmax cross-entropy, PyTorch's `cross_entropy(weight:, ignore_index:)`:
    /// L = Σ_p w_{y_p} · (−log softmax(z_p)_{y_p}) / Σ_p w_{y_p} over pixels p whose label is not `ignoreIndex`
    /// (0 when every pixel is ignored). One fused op (value and gradient in one pass).
    public static func crossEntropy(_ logits: Variable, labels: [Int32], classWeights: [Float]? = nil, ignoreIndex: Int32? = nil) -> Variable {
        let (n, k, h, w) = dims(logits, labels, classWeights)
        let plane = h * w, z = logits.value
        var grad = [Float](repeating: 0, count: z.count)
        // Pixels are independent: chunks of them run in parallel, each with its own partial sums (added in chunk
        // order, so the result does not depend on the thread count); one exp per logit.
        let chunk = 4096, chunks = (n * plane + chunk - 1) / chunk
        var partial = [(Double, Double)](repeating: (0, 0), count: chunks)
        z.withUnsafeBufferPointer { zp in grad.withUnsafeMutableBufferPointer { gp in partial.withUnsafeMutableBufferPointer { pp in
            Parallel.forEach(chunks) { t in
                var e = [Float](repeating: 0, count: k)
                var total = 0.0, weightSum = 0.0
                for q in (t * chunk)..<Swift.min(n * plane, (t + 1) * chunk) {
                    let b = q / plane, p = q % plane
                    let y = labels[q]
                    if let ig = ignoreIndex, y == ig { continue }
                    let wy = classWeights?[Int(y)] ?? 1
                    var m = -Float.infinity
                    for c in 0..<k { m = Swift.max(m, zp[(b * k + c) * plane + p]) }
                    var sum: Float = 0
                    for c in 0..<k { e[c] = Foundation.exp(zp[(b * k + c) * plane + p] - m); sum += e[c] }
                    total += Double(wy * (m + Foundation.log(sum) - zp[(b * k + Int(y)) * plane + p]))
                    weightSum += Double(wy)
                    let inv = 1 / sum
                    for c in 0..<k { gp[(b * k + c) * plane + p] = wy * (e[c] * inv - (c == Int(y) ? 1 : 0)) }
                }
                pp[t] = (total, weightSum)
            }
        } } }
        let total = partial.reduce(0) { $0 + $1.0 }, weightSum = partial.reduce(0) { $0 + $1.1 }
        let scale = weightSum > 0 ? Float(1 / weightSum) : 0
        let g = Tensor(shape: z.shape, scalars: grad)
        return Variable(Tensor(Float(total) * scale), parents: [logits], label: "pixelCrossEntropy") { up in [g * (up.scalar * scale)] }
    }

    /// Soft Dice loss: 1 − mean_k (2·Σ_p s_pk·g_pk + ε) / (Σ_p s_pk + Σ_p g_pk + ε), s = softmax over classes, g the
    /// one-hot labels, ignored pixels left out, over the whole batch; classes listed in `excluding` (background, say)
    /// left out of the mean. Built from differentiable ops.
    public static func dice(_ logits: Variable, labels: [Int32], ignoreIndex: Int32? = nil, smooth: Float = 1, excluding: Set<Int> = []) -> Variable {
        let (n, k, h, w) = dims(logits, labels, nil)
        let plane = h * w
        let logits = logits.shape.count == 4 ? logits : logits.reshaped([n, k, h, w])
        var onehot = Tensor.zeros([n, k, h, w]), valid = Tensor.zeros([n, 1, h, w])
        for b in 0..<n {
            for p in 0..<plane {
                let y = labels[b * plane + p]
                if let ig = ignoreIndex, y == ig { continue }
                valid.scalars[b * plane + p] = 1
                onehot.scalars[(b * k + Int(y)) * plane + p] = 1
            }
        }
        let s = Functional.softmax(logits, axis: 1) * Variable(valid)
        let inter = (s * Variable(onehot)).sum(axes: [0, 2, 3])
        let denom = s.sum(axes: [0, 2, 3]) + Variable(onehot.sum(axes: [0, 2, 3]))
        let perClass = (inter * 2 + smooth) / (denom + smooth)
        let keep = (0..<k).filter { !excluding.contains($0) }
        guard !keep.isEmpty else { return perClass.sum() * 0 }
        var mask = Tensor.zeros([k]); for c in keep { mask.scalars[c] = 1 / Float(keep.count) }
        return 1 - (perClass * Variable(mask)).sum()
    }

    static func dims(_ logits: Variable, _ labels: [Int32], _ weights: [Float]?) -> (Int, Int, Int, Int) {
        precondition((3...5).contains(logits.shape.count), "segmentation logits are [N, K, spatial…], got \(logits.shape)")
        // Every spatial layout is one plane of positions per sample: [N, K, H, W] or [N, K, D·H·W, 1].
        let (n, k) = (logits.shape[0], logits.shape[1])
        let h = logits.shape.count == 4 ? logits.shape[2] : logits.shape[2...].reduce(1, *)
        let w = logits.shape.count == 4 ? logits.shape[3] : 1
        precondition(labels.count == n * h * w, "\(labels.count) labels for \(n)×\(h)×\(w) pixels")
        precondition(weights == nil || weights!.count == k, "one class weight per class")
        return (n, k, h, w)
    }
}
