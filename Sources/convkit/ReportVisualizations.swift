import ConvKit
import ConvKitData
import ConvKitVision
import Foundation

/// The "what the units see" pictures of a classification run (notes 004 §4.6), written next to the report and
/// linked from it: the first convolution's filters, the 9 test patches that most activate each unit of the first
/// activation layer (cut at the unit's receptive field), and saliency maps of the first test images.
struct ReportVisualizations {
    struct Picture { let title: String; let file: String; let caption: String }

    /// Writes the PNGs into `dir`; pictures the model does not allow (no convolution, no `features`) are left out.
    static func write(net: any UnaryLayer, input: ModelInput, test: LabeledImages, to dir: String, scan: Int = 500) throws -> [Picture] {
        net.eval()
        var out = [Picture]()
        let convs = net.namedModules().compactMap { n, m in (m as? Conv).map { (n, $0) } }
        if let (name, conv) = convs.first {
            try PNG.save(PNG.Image(tensor: UnitVisualization.filters(conv)), to: dir + "/filters.png")
            out.append(Picture(title: "Filters of \(name)", file: "filters.png",
                               caption: "\(conv.outputChannels) filters, each \(conv.kernelSize.map(String.init).joined(separator: "×")) (channels averaged), gray = 0"))
        }
        if let features = net.namedModules().first(where: { $0.0 == "features" })?.1 as? Sequential,
           let firstConv = features.layers.firstIndex(where: { $0 is Conv }) {
            var index = firstConv
            if index + 1 < features.layers.count, !(features.layers[index + 1] is Conv), !(features.layers[index + 1] is MaxPool) { index += 1 }
            let n = Swift.min(scan, test.count)
            let raw = test.images.slice(axis: 0, 0..<n)
            let prepared = Tensor.stack((0..<n).map { input.prepare(raw.slice(axis: 0, $0..<$0 + 1).squeezed(axis: 0)) }, axis: 0)
            let (grid, units) = try VisualizeCommand.top9Grid(try VisualizeCommand.prefix(net, layer: "features.\(index)"), raw: raw, prepared: prepared)
            try PNG.save(PNG.Image(tensor: grid), to: dir + "/top9.png")
            out.append(Picture(title: "Top 9 patches per unit of features.\(index)", file: "top9.png",
                               caption: "one row per unit (\(units) units), the 9 of \(n) test images' patches that activate it most"))
        }
        var tiles = [Tensor]()
        for i in 0..<Swift.min(8, test.count) {
            let raw = test.image(i)
            let (picture, _) = VisualizeCommand.saliencyPicture(net, prepared: input.prepare(raw), size: 96)
            let shown = Drawing.enlarged(Drawing.rgb(raw), by: Swift.max(1, picture.shape[1] / Swift.max(raw.shape[1], 1)))
            tiles += [shown, picture]
        }
        if !tiles.isEmpty {
            try PNG.save(PNG.Image(tensor: UnitVisualization.grid(tiles, columns: 4)), to: dir + "/saliency.png")
            out.append(Picture(title: "Saliency", file: "saliency.png",
                               caption: "test image and |∂ score of its predicted class / ∂ pixel|, for the first \(tiles.count / 2) test images"))
        }
        return out
    }
}
