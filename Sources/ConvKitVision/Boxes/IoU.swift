import CConvKernels
import ConvKit

/// Overlap measures between box sets.
public enum BoxOverlap {
    /// The intersection-over-union matrix: `[N,4] × [M,4] → [N,M]`,
    /// IoU(a, b) = |a ∩ b| / (|a| + |b| − |a ∩ b|), with |a| = (x2 − x1)(y2 − y1).
    ///
    /// The arithmetic is torchvision's `box_iou` step for step (float, no fused multiply-add), so values agree
    /// bit for bit; two empty boxes give 0/0 = NaN as there. Rows are split across threads; the inner loop is
    /// vectorized per instruction set (AVX-512: 16 pairs per instruction).
    /// IoU of two corner boxes `[x1, y1, x2, y2]`; 0 when either has no area.
    public static func iou(_ a: [Float], _ b: [Float]) -> Float {
        let iw = max(0, min(a[2], b[2]) - max(a[0], b[0])), ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
        let inter = iw * ih
        let union = max(0, a[2] - a[0]) * max(0, a[3] - a[1]) + max(0, b[2] - b[0]) * max(0, b[3] - b[1]) - inter
        return union > 0 ? inter / union : 0
    }

    public static func iou(_ a: BoxSet, _ b: BoxSet) -> Tensor {
        precondition(a.units == b.units, "IoU of boxes in different units")
        let n = a.count, m = b.count
        let ax = a.xyxy.coordinates, p = b.planes()
        return Tensor(shape: [n, m]) { out in
            guard n > 0, m > 0 else { return }
            ax.withUnsafeBufferPointer { ap in
                Parallel.forRanges(n, minChunk: Swift.max(1, 16_384 / m)) { r in
                    ck_box_iou_rows(ap.baseAddress, Int32(r.lowerBound), Int32(r.upperBound), p.x1, p.y1, p.x2, p.y2,
                                    p.area, Int32(m), out.baseAddress)
                }
            }
        }
    }

    /// Generalized IoU (Rezatofighi et al. 2019): `[N,4] × [M,4] → [N,M]`,
    /// GIoU = IoU − (|C| − |a ∪ b|) / |C|, C the smallest box enclosing a and b; in [−1, 1].
    public static func generalizedIoU(_ a: BoxSet, _ b: BoxSet) -> Tensor {
        precondition(a.units == b.units, "GIoU of boxes in different units")
        let iou = iou(a, b)
        let pa = a.planes(), pb = b.planes()
        let n = a.count, m = b.count
        return Tensor(shape: [n, m]) { out in
            for i in 0..<n {
                for j in 0..<m {
                    let v = iou.scalars[i * m + j]
                    let iw = Swift.max(0, Swift.min(pa.x2[i], pb.x2[j]) - Swift.max(pa.x1[i], pb.x1[j]))
                    let ih = Swift.max(0, Swift.min(pa.y2[i], pb.y2[j]) - Swift.max(pa.y1[i], pb.y1[j]))
                    let union = pa.area[i] + pb.area[j] - iw * ih
                    let cw = Swift.max(pa.x2[i], pb.x2[j]) - Swift.min(pa.x1[i], pb.x1[j])
                    let ch = Swift.max(pa.y2[i], pb.y2[j]) - Swift.min(pa.y1[i], pb.y1[j])
                    let c = cw * ch
                    out[i * m + j] = v - (c - union) / c
                }
            }
        }
    }

    /// IoU of two boxes given as (w, h) placed on the same center: min(w)·min(h) / (w₁h₁ + w₂h₂ − min(w)·min(h)).
    /// The "shape IoU" that assigns objects to anchors and that anchor k-means uses as its similarity.
    @inlinable public static func shapeIoU(_ w1: Float, _ h1: Float, _ w2: Float, _ h2: Float) -> Float {
        let inter = Swift.min(w1, w2) * Swift.min(h1, h2)
        let union = w1 * h1 + w2 * h2 - inter
        return union > 0 ? inter / union : 0
    }
}
