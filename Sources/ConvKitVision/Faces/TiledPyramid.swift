import ConvKit
import Foundation

/// dlib's tiled image pyramid (`compute_tiled_image_pyramid_details`, `input_rgb_image_pyramid`): an image and its
/// `pyramid_down<N>` levels packed into one image, so that one forward pass of a fully convolutional detector
/// scores every scale.
///
/// Level sizes: each ⌊(N − 1)/N · previous⌋ in both axes, while at least 5 rows remain. Placement: down the first
/// column (level 0 at the top) while the next level does not fit beside the previous one or the column is less
/// than half of the other levels' height; the rest go back up the right side, bottom-aligned against the last
/// one, and stop where they would touch level 0. `padding` pixels separate levels, `outerPadding` surround all.
/// Rectangles are dlib's inclusive pixel rectangles.
public struct TiledPyramid {
    /// A level's placement: top-left corner and size.
    public struct Level: Equatable {
        public var left: Int, top: Int, width: Int, height: Int
        public init(left: Int, top: Int, width: Int, height: Int) { self.left = left; self.top = top; self.width = width; self.height = height }
    }

    public let levels: [Level]
    public let rows: Int, columns: Int
    public let n: Int

    public init(height: Int, width: Int, n: Int, padding: Int, outerPadding: Int) {
        self.n = n
        var sizes = [(w: Int, h: Int)]()
        if height > 0 && width > 0 {
            sizes.append((width, height))
            var (nr, nc) = (height, width)
            let rate = Double(n - 1) / Double(n)
            while true {
                nr = Int((rate * Double(nr)).rounded(.down)); nc = Int((rate * Double(nc)).rounded(.down))
                if nr * nc == 0 || nr < 5 { break }
                sizes.append((nc, nr))
            }
        }
        guard let first = sizes.first else { levels = []; rows = 0; columns = 0; return }
        let total = sizes.reduce(0) { $0 + $1.h + padding } - 2 * padding
        var column = 0, previousWidth = 0
        for s in sizes {
            if s.w <= first.w - previousWidth - padding && (column - first.h) * 2 >= total - first.h { break }
            column += s.h + padding
            previousWidth = s.w
        }
        column -= padding
        rows = column + 2 * outerPadding
        columns = first.w + 2 * outerPadding
        var placed = [Level](), y = outerPadding, i = 0
        while y < column + outerPadding && i < sizes.count {
            placed.append(Level(left: outerPadding, top: y, width: sizes[i].w, height: sizes[i].h))
            y += sizes[i].h + padding
            i += 1
        }
        y -= padding
        while i < sizes.count {
            // Bottom-right corner at (outer + W0 − 1, y − 1), growing up and left.
            let right = outerPadding + first.w - 1, bottom = y - 1
            let l = Level(left: right - sizes[i].w + 1, top: bottom - sizes[i].h + 1, width: sizes[i].w, height: sizes[i].h)
            let zero = placed[0]
            let touches = l.left <= zero.left + zero.width - 1 && zero.left <= right && l.top <= zero.top + zero.height - 1 && zero.top <= bottom
            if touches { break }
            placed.append(l)
            y -= sizes[i].h + padding
            i += 1
        }
        levels = placed
    }

    /// The tiled `[3, rows, columns]` tensor of an RGB image (values 0…255): (pixel − average)/256 in level 0,
    /// each further level resized bilinearly (corners aligned, as dlib's `resize_bilinear`) from the one before,
    /// zero elsewhere.
    public func tensor(_ rgb: Tensor, average: [Float]) -> Tensor {
        let (h, w) = (rgb.shape[1], rgb.shape[2])
        return Tensor(shape: [3, rows, columns]) { o in
            rgb.withUnsafeBufferPointer { src in
                let plane = rows * columns
                o.initialize(repeating: 0)
                for ch in 0..<3 {
                    let base = ch * plane
                    let l0 = levels[0]
                    for y in 0..<h {
                        for x in 0..<w { o[base + (l0.top + y) * columns + l0.left + x] = (src[(ch * h + y) * w + x] - average[ch]) / 256 }
                    }
                    for i in 1..<Swift.max(levels.count, 1) where i < levels.count {
                        let s = levels[i - 1], d = levels[i]
                        let xs = Float(s.width - 1) / Float(Swift.max(d.width - 1, 1)), ys = Float(s.height - 1) / Float(Swift.max(d.height - 1, 1))
                        for r in 0..<d.height {
                            let fy = Float(r) * ys
                            let top = Int(fy.rounded(.down)), bottom = Swift.min(top + 1, s.height - 1), tb = fy - Float(top)
                            for c in 0..<d.width {
                                let fx = Float(c) * xs
                                let left = Int(fx.rounded(.down)), right = Swift.min(left + 1, s.width - 1), lr = fx - Float(left)
                                func at(_ yy: Int, _ xx: Int) -> Float { o[base + (s.top + yy) * columns + s.left + xx] }
                                let v = (1 - tb) * ((1 - lr) * at(top, left) + lr * at(top, right)) + tb * ((1 - lr) * at(bottom, left) + lr * at(bottom, right))
                                o[base + (d.top + r) * columns + d.left + c] = v
                            }
                        }
                    }
                }
            }
        }
    }

    /// The level nearest to a point of the tiled image (dlib's `nearest_rect`: the first containing it, else the
    /// closest by Euclidean distance).
    func nearestLevel(_ x: Int, _ y: Int) -> Int {
        var best = 0, bestDistance = Double.infinity
        for (i, l) in levels.enumerated() {
            let cx = Swift.min(Swift.max(x, l.left), l.left + l.width - 1), cy = Swift.min(Swift.max(y, l.top), l.top + l.height - 1)
            if cx == x && cy == y { return i }
            let d = (Double(cx - x) * Double(cx - x) + Double(cy - y) * Double(cy - y)).squareRoot()
            if d < bestDistance { bestDistance = d; best = i }
        }
        return best
    }

    /// A rectangle of the tiled image mapped back into the original image from the level its centre lies in:
    /// subtract the level's origin, then each level up p → p·N/(N − 1) + 0.3 (dlib's `pyramid_down<N>::point_up`).
    func toImage(left: Double, top: Double, right: Double, bottom: Double, center: (Double, Double)) -> [Double] {
        let level = nearestLevel(Int(center.0.rounded(.toNearestOrAwayFromZero)), Int(center.1.rounded(.toNearestOrAwayFromZero)))
        let origin = levels[level]
        var p = [left - Double(origin.left), top - Double(origin.top), right - Double(origin.left), bottom - Double(origin.top)]
        let up = Double(n) / Double(n - 1)
        for _ in 0..<level { p = p.map { $0 * up + 0.3 } }
        return p
    }
}
