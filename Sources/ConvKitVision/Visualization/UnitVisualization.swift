import ConvKit
import Foundation

/// "What are deep ConvNets learning?" (notes 004 §4.6, Zeiler & Fergus): filters as pictures, feature maps, the
/// image patches that most activate each unit, and saliency maps.
public enum UnitVisualization {
    /// A grid of a convolution's filters (weight [Cout, Cin, k, k]): RGB when Cin = 3, otherwise the mean over input
    /// channels; each filter scaled to 0…255 on its own, enlarged `scale`×, 1-px gaps. Output [3, H, W].
    public static func filters(_ conv: Conv, scale: Int = 8, columns: Int = 8) -> Tensor {
        let w = conv.weight.value
        let (co, ci, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let tiles = (0..<co).map { o -> Tensor in
            var t = Tensor.zeros([3, kh, kw])
            for c in 0..<3 { for y in 0..<kh { for x in 0..<kw {
                if ci == 3 { t[c, y, x] = w[o, c, y, x] } else { t[c, y, x] = (0..<ci).map { w[o, $0, y, x] }.reduce(0, +) / Float(ci) }
            } } }
            let lo = t.scalars.min() ?? 0, hi = t.scalars.max() ?? 0
            return Drawing.enlarged(t.map { hi > lo ? ($0 - lo) / (hi - lo) * 255 : 128 }, by: scale)
        }
        return grid(tiles, columns: columns)
    }

    /// The channels of a feature map [C, h, w] as gray tiles (each scaled to 0…255), enlarged to about `tile` px.
    public static func featureMaps(_ map: Tensor, tile: Int = 64, columns: Int = 8) -> Tensor {
        let (c, h, w) = (map.shape[0], map.shape[1], map.shape[2])
        let f = Swift.max(1, tile / Swift.max(h, w))
        let tiles = (0..<c).map { ch -> Tensor in
            let plane = Tensor(shape: [1, h, w], scalars: Array(map.scalars[ch * h * w..<(ch + 1) * h * w]))
            let lo = plane.scalars.min() ?? 0, hi = plane.scalars.max() ?? 0
            return Drawing.enlarged(Drawing.rgb(plane.map { hi > lo ? ($0 - lo) / (hi - lo) * 255 : 0 }), by: f)
        }
        return grid(tiles, columns: columns)
    }

    /// One of the top activations of a unit: which image, where (the feature-map cell), how strongly, and the
    /// input patch it sees (xyxy pixels, clipped to the image).
    public struct Hit: Equatable {
        public var image: Int, row: Int, col: Int
        public var value: Float
        public var patch: (x1: Int, y1: Int, x2: Int, y2: Int)
        public static func == (a: Hit, b: Hit) -> Bool { a.image == b.image && a.row == b.row && a.col == b.col && a.value == b.value && a.patch == b.patch }
    }

    /// For every channel of `layers` (applied in order to images [N, C, H, W]), the `k` images whose strongest
    /// response in that channel is largest (one hit per image, ties by lower image index), each with the patch of
    /// its receptive field: centre = c₀ + cell·jump, side = the field size, from the summary's geometry.
    public static func topPatches(_ layers: Sequential, images: Tensor, k: Int = 9, batchSize: Int = 64) -> [[Hit]] {
        let shape = Array(images.shape[1...])
        let rf = ModelSummary.of(layers, name: "units", inputShape: shape).layers.last { $0.jump != nil }
        let size = rf?.receptiveField ?? [1, 1], jump = rf?.jump ?? [1, 1], center = rf?.center ?? [0, 0]
        var best = [[Hit]]()
        layers.eval()
        for start in stride(from: 0, to: images.shape[0], by: batchSize) {
            let n = Swift.min(batchSize, images.shape[0] - start)
            let y = layers.predict(images.slice(axis: 0, start..<start + n))
            let (c, h, w) = (y.shape[1], y.shape[2], y.shape[3])
            if best.isEmpty { best = [[Hit]](repeating: [], count: c) }
            for b in 0..<n {
                for ch in 0..<c {
                    var m = -Float.infinity, mi = 0
                    let base = (b * c + ch) * h * w
                    for i in 0..<h * w where y.scalars[base + i] > m { m = y.scalars[base + i]; mi = i }
                    let (row, col) = (mi / w, mi % w)
                    let cy = center[0] + Double(row * jump[0]), cx = center[1] + Double(col * jump[1])
                    let half = (Double(size[0] - 1) / 2, Double(size[1] - 1) / 2)
                    let patch = (x1: Swift.max(0, Int((cx - half.1).rounded())), y1: Swift.max(0, Int((cy - half.0).rounded())),
                                 x2: Swift.min(shape[2], Int((cx + half.1).rounded()) + 1), y2: Swift.min(shape[1], Int((cy + half.0).rounded()) + 1))
                    let hit = Hit(image: start + b, row: row, col: col, value: m, patch: patch)
                    var list = best[ch]
                    if list.count < k || m > list[list.count - 1].value {
                        let at = list.firstIndex { m > $0.value } ?? list.count
                        list.insert(hit, at: at)
                        if list.count > k { list.removeLast() }
                        best[ch] = list
                    }
                }
            }
        }
        return best
    }

    /// Saliency (Simonyan et al. 2014): |∂ score_class / ∂ input|, the maximum over channels, for one image
    /// [C, H, W] → [1, H, W].
    public static func saliency(_ model: any UnaryLayer, image: Tensor, classIndex: Int) -> Tensor {
        model.eval()
        let x = Variable(image.unsqueezed(axis: 0), requiresGrad: true)
        let y = model(x)
        precondition(y.shape.count == 2 && classIndex < y.shape[1], "saliency needs class scores [1, K], got \(y.shape)")
        var seed = Tensor.zeros(y.shape); seed[0, classIndex] = 1
        y.backward(seed)
        let g = x.grad!.squeezed(axis: 0), (c, h, w) = (g.shape[0], g.shape[1], g.shape[2])
        return Tensor(shape: [1, h, w]) { o in for i in 0..<h * w { o[i] = (0..<c).map { Swift.abs(g.scalars[$0 * h * w + i]) }.max() ?? 0 } }
    }

    /// Tiles [3, h, w] in rows of `columns` with 2-px white gaps.
    public static func grid(_ tiles: [Tensor], columns: Int) -> Tensor {
        guard !tiles.isEmpty else { return Tensor(repeating: 255, shape: [3, 1, 1]) }
        let (h, w) = (tiles.map { $0.shape[1] }.max()!, tiles.map { $0.shape[2] }.max()!)
        let cols = Swift.min(columns, tiles.count), rows = (tiles.count + cols - 1) / cols
        var out = Tensor(repeating: 255, shape: [3, rows * (h + 2), cols * (w + 2)])
        for (i, t) in tiles.enumerated() {
            let oy = (i / cols) * (h + 2), ox = (i % cols) * (w + 2), th = t.shape[1], tw = t.shape[2]
            for ch in 0..<3 { for y in 0..<th { for x in 0..<tw { out.scalars[(ch * out.shape[1] + oy + y) * out.shape[2] + ox + x] = t.scalars[(ch * th + y) * tw + x] } } }
        }
        return out
    }
}
