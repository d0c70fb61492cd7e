import ConvKit
import Foundation

/// Line charts rendered to an RGB image [3, H, W] (white background, axes with ticks, a legend), for the
/// precision/recall curves and training curves of reports.
public enum Plot {
    public struct Series {
        public var name: String, x: [Double], y: [Double], color: Drawing.Color
        public init(name: String, x: [Double], y: [Double], color: Drawing.Color) { self.name = name; self.x = x; self.y = y; self.color = color }
    }

    /// Plots `series` over [xRange] × [yRange].
    public static func lines(_ series: [Series], title: String, xLabel: String, yLabel: String, xRange: ClosedRange<Double> = 0...1,
                             yRange: ClosedRange<Double> = 0...1, width: Int = 480, height: Int = 360) -> Tensor {
        var img = Tensor(repeating: 255, shape: [3, height, width])
        let left = 44, right = width - 12, top = 24, bottom = height - 34
        let black: Drawing.Color = (0, 0, 0), gray: Drawing.Color = (225, 225, 225)
        func px(_ x: Double) -> Int { left + Int(((x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * Double(right - left)).rounded()) }
        func py(_ y: Double) -> Int { bottom - Int(((y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * Double(bottom - top)).rounded()) }
        for i in 0...5 {
            let fx = xRange.lowerBound + Double(i) / 5 * (xRange.upperBound - xRange.lowerBound)
            let fy = yRange.lowerBound + Double(i) / 5 * (yRange.upperBound - yRange.lowerBound)
            Drawing.fill(&img, x0: px(fx), y0: top, x1: px(fx) + 1, y1: bottom, color: gray)
            Drawing.fill(&img, x0: left, y0: py(fy), x1: right, y1: py(fy) + 1, color: gray)
            let lx = label(fx), ly = label(fy)
            Drawing.text(&img, lx, x: px(fx) - Drawing.textWidth(lx) / 2, y: bottom + 5, color: black)
            Drawing.text(&img, ly, x: left - 4 - Drawing.textWidth(ly), y: py(fy) - 2, color: black)
        }
        Drawing.fill(&img, x0: left, y0: bottom, x1: right + 1, y1: bottom + 1, color: black)
        Drawing.fill(&img, x0: left, y0: top, x1: left + 1, y1: bottom + 1, color: black)
        Drawing.text(&img, title, x: (width - Drawing.textWidth(title, scale: 2)) / 2, y: 6, color: black, scale: 2)
        Drawing.text(&img, xLabel, x: (left + right - Drawing.textWidth(xLabel)) / 2, y: height - 12, color: black)
        Drawing.text(&img, yLabel, x: 2, y: top - 10, color: black)
        for (n, s) in series.enumerated() {
            for (a, b) in zip(zip(s.x, s.y), zip(s.x, s.y).dropFirst()) { segment(&img, px(a.0), py(a.1), px(b.0), py(b.1), s.color) }
            if s.x.count == 1 { Drawing.fill(&img, x0: px(s.x[0]) - 1, y0: py(s.y[0]) - 1, x1: px(s.x[0]) + 2, y1: py(s.y[0]) + 2, color: s.color) }
            let ly = top + 6 + 10 * n
            Drawing.fill(&img, x0: right - 90, y0: ly + 1, x1: right - 80, y1: ly + 4, color: s.color)
            Drawing.text(&img, s.name, x: right - 76, y: ly, color: black)
        }
        return img
    }

    static func label(_ v: Double) -> String {
        let a = Swift.abs(v)
        if a >= 100 || v == v.rounded() { return "\(Int(v.rounded()))" }
        return a >= 10 ? String(format: "%.1f", v) : String(format: "%.2g", v)
    }

    /// A 2-px line from (x0, y0) to (x1, y1) (DDA).
    static func segment(_ img: inout Tensor, _ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: Drawing.Color) {
        let steps = Swift.max(Swift.abs(x1 - x0), Swift.abs(y1 - y0), 1)
        for s in 0...steps {
            let x = x0 + (x1 - x0) * s / steps, y = y0 + (y1 - y0) * s / steps
            Drawing.fill(&img, x0: x, y0: y, x1: x + 2, y1: y + 2, color: c)
        }
    }
}
