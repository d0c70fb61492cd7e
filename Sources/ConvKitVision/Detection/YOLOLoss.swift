import ConvKit
import Foundation

/// The YOLO v2 loss on raw outputs `[N, B·(5+C), S_h, S_w]`, summed over cells and averaged over the batch:
///
///   L = λ_coord Σ_obj (2 − w·h)[(σ(t_x) − t*_x)² + (σ(t_y) − t*_y)² + (t_w − t*_w)² + (t_h − t*_h)²]
///     + λ_obj Σ_obj BCE(σ(t_o), 1) + λ_noobj Σ_noobj BCE(σ(t_o), 0) + λ_class Σ_obj CE(softmax(c), class)
///
/// "obj" are the (cell, anchor) slots that `YOLOCodec.encode` assigned an object to; "noobj" are all the others
/// except those whose decoded box already overlaps some ground-truth box with IoU > `ignoreThreshold` (they
/// are neither pushed up nor down). (2 − w·h), with w, h the object's normalized size, weights small boxes up.
/// Value and gradient are computed in one pass (one fused op).
public struct YOLOLoss {
    public var coordinate: Float = 5
    public var objectness: Float = 1
    public var noObject: Float = 1
    public var classification: Float = 1
    public var ignoreThreshold: Float = 0.6
    public init() {}

    /// The loss's parts, averaged over the batch (for progress displays).
    public struct Parts { public var coordinate = 0.0, objectness = 0.0, noObject = 0.0, classification = 0.0 }

    public func callAsFunction(_ output: Variable, targets: [YOLOCodec.Targets], codec: YOLOCodec) -> (loss: Variable, parts: Parts) {
        let n = output.shape[0]
        precondition(output.shape == [n, codec.channels, codec.rows, codec.cols] && targets.count == n,
                     "YOLO loss: output \(output.shape) for \(targets.count) images with codec \(codec.channels)×\(codec.rows)×\(codec.cols)")
        let plane = codec.rows * codec.cols, per = codec.channelsPerAnchor, imageSize = codec.channels * plane
        let x = output.value
        var grad = [Float](repeating: 0, count: x.count)
        var parts = Parts()
        let invN = 1 / Float(n)
        x.withUnsafeBufferPointer { all in
            for (img, t) in targets.enumerated() {
                let o = UnsafeBufferPointer(rebasing: all[img * imageSize..<(img + 1) * imageSize])
                let g0 = img * imageSize
                var assigned = Set<Int>()
                let gt = t.boxes
                for s in t.assignments {
                    assigned.insert((s.anchor * codec.rows + s.row) * codec.cols + s.col)
                    let base = s.anchor * per * plane + s.row * codec.cols + s.col
                    let (_, _, w, h) = gt.converted(to: .cxcywh)[s.object]
                    let scale = coordinate * (2 - w * h) * invN
                    let sx = sigmoid(o[base]), sy = sigmoid(o[base + plane])
                    let dw = o[base + 2 * plane] - s.tw, dh = o[base + 3 * plane] - s.th
                    parts.coordinate += Double(scale * ((sx - s.tx) * (sx - s.tx) + (sy - s.ty) * (sy - s.ty) + dw * dw + dh * dh))
                    grad[g0 + base] += scale * 2 * (sx - s.tx) * sx * (1 - sx)
                    grad[g0 + base + plane] += scale * 2 * (sy - s.ty) * sy * (1 - sy)
                    grad[g0 + base + 2 * plane] += scale * 2 * dw
                    grad[g0 + base + 3 * plane] += scale * 2 * dh
                    let to = o[base + 4 * plane]
                    parts.objectness += Double(objectness * invN * softplus(-to))
                    grad[g0 + base + 4 * plane] += objectness * invN * (sigmoid(to) - 1)
                    var m = -Float.infinity
                    for k in 0..<codec.classes { m = Swift.max(m, o[base + (5 + k) * plane]) }
                    var z: Float = 0
                    for k in 0..<codec.classes { z += Foundation.exp(o[base + (5 + k) * plane] - m) }
                    parts.classification += Double(classification * invN * (Foundation.log(z) + m - o[base + (5 + s.classIndex) * plane]))
                    for k in 0..<codec.classes {
                        let p = Foundation.exp(o[base + (5 + k) * plane] - m) / z
                        grad[g0 + base + (5 + k) * plane] += classification * invN * (p - (k == s.classIndex ? 1 : 0))
                    }
                }
                for a in codec.anchors.indices {
                    for row in 0..<codec.rows {
                        for col in 0..<codec.cols where !assigned.contains((a * codec.rows + row) * codec.cols + col) {
                            let base = a * per * plane + row * codec.cols + col
                            if !gt.isEmpty && maxIoU(codec.box(o, a: a, row: row, col: col), gt.coordinates) > ignoreThreshold { continue }
                            let to = o[base + 4 * plane]
                            parts.noObject += Double(noObject * invN * softplus(to))
                            grad[g0 + base + 4 * plane] += noObject * invN * sigmoid(to)
                        }
                    }
                }
            }
        }
        func maxIoU(_ b: (Float, Float, Float, Float), _ g: [Float]) -> Float {
            var best: Float = 0
            let area = (b.2 - b.0) * (b.3 - b.1)
            for j in stride(from: 0, to: g.count, by: 4) {
                let iw = Swift.max(0, Swift.min(b.2, g[j + 2]) - Swift.max(b.0, g[j])), ih = Swift.max(0, Swift.min(b.3, g[j + 3]) - Swift.max(b.1, g[j + 1]))
                let inter = iw * ih, union = area + (g[j + 2] - g[j]) * (g[j + 3] - g[j + 1]) - inter
                if union > 0 { best = Swift.max(best, inter / union) }
            }
            return best
        }
        let total = Float(parts.coordinate + parts.objectness + parts.noObject + parts.classification)
        let gradient = Tensor(shape: x.shape, scalars: grad)
        let loss = Variable(Tensor(total), parents: [output], label: "yoloLoss") { g in [gradient * g.scalar] }
        return (loss, parts)
    }
}
