import ConvKit
import ConvKitData
import Foundation

/// The report `convkit train` writes: report.html with loss/accuracy curves (SVG), the confusion matrix,
/// and a grid of misclassified test images (embedded PNG), plus history.json.
struct TrainingReport {
    let model: String, dataset: String
    let history: [EpochRecord]
    let evaluation: EvaluationResult
    let test: LabeledImages
    let classNames: [String]
    /// Pictures already written next to the report (ReportVisualizations), shown and linked.
    var pictures: [ReportVisualizations.Picture] = []

    /// Writes the files and returns the report's path.
    func write(to dir: String) throws -> String {
        let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(history), to: dir + "/history.json")
        var html = """
        <!doctype html><html><head><meta charset="utf-8"><title>ConvKit — \(model) on \(dataset)</title>
        <style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table.cm td{width:2.2em;height:1.6em;text-align:center;font-size:12px}
        .grid{display:flex;flex-wrap:wrap;gap:8px}.grid figure{margin:0;text-align:center;font-size:12px}.grid img{image-rendering:pixelated;width:56px;height:56px;border:1px solid #ccc}</style>
        </head><body><h1>\(model) on \(dataset)</h1>
        <p>Test accuracy <b>\(String(format: "%.2f", evaluation.accuracy * 100)) %</b> (top-5 \(String(format: "%.2f", (evaluation.topK[5] ?? 0) * 100)) %),
        test loss \(String(format: "%.4f", evaluation.loss)), \(evaluation.count) test images, \(history.count) epochs.</p>
        <h2>Training curves</h2>
        """
        html += chart(title: "loss", series: [("train", history.map(\.trainLoss), "#1f77b4"), ("validation", history.compactMap(\.validationLoss), "#d62728")])
        html += chart(title: "accuracy", series: [("train", history.map(\.trainAccuracy), "#1f77b4"), ("validation", history.compactMap(\.validationAccuracy), "#d62728")])
        html += "<h2>Confusion matrix (rows: true class, columns: predicted)</h2><table class=\"cm\"><tr><td></td>"
        html += classNames.map { "<td><b>\($0)</b></td>" }.joined() + "</tr>"
        let maxCell = Swift.max(1, evaluation.confusion.flatMap { $0 }.max() ?? 1)
        for (i, row) in evaluation.confusion.enumerated() {
            html += "<tr><td><b>\(classNames[i])</b></td>"
            for (j, v) in row.enumerated() {
                let a = Double(v) / Double(maxCell)
                let color = i == j ? "rgba(31,119,180,\(a))" : "rgba(214,39,40,\(Swift.min(1, a * 4)))"
                html += "<td style=\"background:\(color)\">\(v == 0 ? "" : String(v))</td>"
            }
            html += "</tr>"
        }
        html += "</table><h2>Misclassified test images (first \(Swift.min(64, evaluation.mistakes.count)) of \(evaluation.mistakes.count))</h2><div class=\"grid\">"
        for m in evaluation.mistakes.prefix(64) {
            let img = test.image(m.index)
            let png = PNG.encode(PNG.Image(tensor: img, maxValue: img.scalars.max() ?? 255 > 1 ? 255 : 1))
            html += "<figure><img src=\"data:image/png;base64,\(Data(png).base64EncodedString())\"><figcaption>\(classNames[m.label]) → \(classNames[m.predicted])<br>\(String(format: "%.0f", m.probability * 100)) %</figcaption></figure>"
        }
        html += "</div>"
        if !pictures.isEmpty {
            html += "<h2>What the units see</h2>"
            for p in pictures {
                html += "<figure style=\"margin:1em 0\"><figcaption><b>\(p.title)</b> — \(p.caption) (<a href=\"\(p.file)\">\(p.file)</a>)</figcaption>"
                html += "<a href=\"\(p.file)\"><img src=\"\(p.file)\" style=\"max-width:100%;image-rendering:pixelated\"></a></figure>"
            }
        }
        html += "</body></html>\n"
        let path = dir + "/report.html"
        try AtomicFile.write(Data(html.utf8), to: path)
        return path
    }

    /// A small SVG line chart.
    func chart(title: String, series: [(String, [Float], String)]) -> String {
        let w = 420.0, h = 220.0, pad = 36.0
        let all = series.flatMap(\.1)
        guard let lo = all.min(), let hi = all.max(), let n = series.map({ $0.1.count }).max(), n > 0 else { return "" }
        let span = Double(hi - lo) == 0 ? 1 : Double(hi - lo)
        var svg = "<figure style=\"display:inline-block;margin:0 1em\"><svg width=\"\(Int(w))\" height=\"\(Int(h))\" style=\"background:#fafafa;border:1px solid #ddd\">"
        svg += "<text x=\"\(pad)\" y=\"16\" font-size=\"13\">\(title)</text>"
        svg += String(format: "<text x=\"2\" y=\"%.0f\" font-size=\"10\">%.3g</text><text x=\"2\" y=\"%.0f\" font-size=\"10\">%.3g</text>", pad, hi, h - pad, lo)
        for (k, (name, values, color)) in series.enumerated() where !values.isEmpty {
            let pts = values.enumerated().map { i, v in
                String(format: "%.1f,%.1f", pad + (w - 2 * pad) * Double(i) / Double(Swift.max(n - 1, 1)), h - pad - (h - 2 * pad) * Double(v - lo) / span)
            }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(pts)\"/>"
            svg += "<text x=\"\(Int(w - 90))\" y=\"\(20 + 14 * k)\" font-size=\"11\" fill=\"\(color)\">\(name)</text>"
        }
        svg += "<text x=\"\(Int(w / 2))\" y=\"\(Int(h - 8))\" font-size=\"10\">epoch 1…\(n)</text></svg></figure>"
        return svg
    }
}
