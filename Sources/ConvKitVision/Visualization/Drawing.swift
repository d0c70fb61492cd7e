import ConvKit
import ConvKitData

/// Drawing on RGB images [3, H, W] (values 0…255): box outlines, filled rectangles and text in a 3×5 pixel
/// font (digits, A–Z — lowercase drawn as capitals — and . - _ : % space), for detection pictures and reports.
public enum Drawing {
    public typealias Color = (r: Float, g: Float, b: Float)

    /// A fixed palette of distinguishable colors, one per class index (cycled).
    public static func color(_ i: Int) -> Color {
        let p: [Color] = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
                          (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40)]
        return p[((i % p.count) + p.count) % p.count]
    }

    /// Gray or RGB(A) [C, H, W] → RGB [3, H, W].
    public static func rgb(_ image: Tensor) -> Tensor { Preprocessing.matchChannels(image, 3) }

    /// Fills [x0, x1) × [y0, y1), clipped to the image.
    public static func fill(_ img: inout Tensor, x0: Int, y0: Int, x1: Int, y1: Int, color: Color, alpha: Float = 1) {
        let h = img.shape[1], w = img.shape[2], plane = h * w
        let xa = Swift.max(0, x0), xb = Swift.min(w, x1), ya = Swift.max(0, y0), yb = Swift.min(h, y1)
        guard xa < xb, ya < yb else { return }
        let c = [color.r, color.g, color.b]
        img.withUnsafeMutableBufferPointer { p in
            for ch in 0..<3 { for y in ya..<yb { for x in xa..<xb {
                let i = ch * plane + y * w + x
                p[i] = alpha >= 1 ? c[ch] : p[i] * (1 - alpha) + c[ch] * alpha
            } } }
        }
    }

    /// The outline of the box with corners (x1, y1)–(x2, y2) in pixels, `thickness` pixels inward.
    public static func rectangle(_ img: inout Tensor, x1: Float, y1: Float, x2: Float, y2: Float, color: Color, thickness: Int = 1) {
        let a = Int(x1.rounded(.down)), b = Int(y1.rounded(.down)), c = Int(x2.rounded(.up)), d = Int(y2.rounded(.up))
        let t = thickness
        fill(&img, x0: a, y0: b, x1: c, y1: b + t, color: color)
        fill(&img, x0: a, y0: d - t, x1: c, y1: d, color: color)
        fill(&img, x0: a, y0: b, x1: a + t, y1: d, color: color)
        fill(&img, x0: c - t, y0: b, x1: c, y1: d, color: color)
    }

    /// Glyph rows (top to bottom), 3 bits each, most significant = leftmost pixel.
    static let glyphs: [Character: [UInt8]] = [
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7], "4": [5, 5, 7, 1, 1],
        "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 1, 1], "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7],
        "A": [2, 5, 7, 5, 5], "B": [6, 5, 6, 5, 6], "C": [3, 4, 4, 4, 3], "D": [6, 5, 5, 5, 6], "E": [7, 4, 6, 4, 7],
        "F": [7, 4, 6, 4, 4], "G": [3, 4, 5, 5, 3], "H": [5, 5, 7, 5, 5], "I": [7, 2, 2, 2, 7], "J": [1, 1, 1, 5, 2],
        "K": [5, 5, 6, 5, 5], "L": [4, 4, 4, 4, 7], "M": [5, 7, 7, 5, 5], "N": [6, 5, 5, 5, 5], "O": [2, 5, 5, 5, 2],
        "P": [6, 5, 6, 4, 4], "Q": [2, 5, 5, 6, 3], "R": [6, 5, 6, 5, 5], "S": [3, 4, 2, 1, 6], "T": [7, 2, 2, 2, 2],
        "U": [5, 5, 5, 5, 7], "V": [5, 5, 5, 5, 2], "W": [5, 5, 7, 7, 5], "X": [5, 5, 2, 5, 5], "Y": [5, 5, 2, 2, 2],
        "Z": [7, 1, 2, 4, 7], ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0], "_": [0, 0, 0, 0, 7], ":": [0, 2, 0, 2, 0],
        "%": [5, 1, 2, 4, 5], " ": [0, 0, 0, 0, 0],
    ]

    /// Width in pixels of `text` drawn at `scale` (4 columns per character, the last without its gap).
    public static func textWidth(_ text: String, scale: Int = 1) -> Int { Swift.max(0, text.count * 4 - 1) * scale }

    /// Draws `text` with its top-left corner at (x, y); unknown characters are drawn as '_'.
    public static func text(_ img: inout Tensor, _ text: String, x: Int, y: Int, color: Color, scale: Int = 1) {
        for (i, ch) in text.uppercased().enumerated() {
            let rows = glyphs[ch] ?? glyphs["_"]!
            for (r, bits) in rows.enumerated() {
                for col in 0..<3 where bits & (4 >> UInt8(col)) != 0 {
                    let px = x + (i * 4 + col) * scale, py = y + r * scale
                    fill(&img, x0: px, y0: py, x1: px + scale, y1: py + scale, color: color)
                }
            }
        }
    }

    /// Boxes (pixels, any format) with a label tag each ("7 0.93"): the picture `convkit detect` writes.
    public static func detections(on image: Tensor, boxes: BoxSet, labels: [String], classes: [Int], scale: Int = 1) -> Tensor {
        var img = rgb(image)
        let b = boxes.xyxy
        for i in 0..<b.count {
            let (x1, y1, x2, y2) = b[i]
            let c = color(classes[i])
            rectangle(&img, x1: x1, y1: y1, x2: x2, y2: y2, color: c, thickness: scale)
            let tw = textWidth(labels[i], scale: scale) + 2 * scale, th = 7 * scale
            let tx = Int(x1.rounded(.down)), ty = Swift.max(0, Int(y1.rounded(.down)) - th)
            fill(&img, x0: tx, y0: ty, x1: tx + tw, y1: ty + th, color: c, alpha: 0.85)
            text(&img, labels[i], x: tx + scale, y: ty + scale, color: (0, 0, 0), scale: scale)
        }
        return img
    }

    /// Nearest-neighbour enlargement by an integer factor (small canvases are easier to look at).
    public static func enlarged(_ img: Tensor, by f: Int) -> Tensor {
        guard f > 1 else { return img }
        let (c, h, w) = (img.shape[0], img.shape[1], img.shape[2])
        return Tensor(shape: [c, h * f, w * f]) { o in
            for ch in 0..<c { for y in 0..<h * f { for x in 0..<w * f { o[(ch * h * f + y) * w * f + x] = img.scalars[(ch * h + y / f) * w + x / f] } } }
        }
    }
}
