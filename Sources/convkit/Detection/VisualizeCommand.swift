import ArgumentParser
import ConvKit
import ConvKitData
import ConvKitModels
import ConvKitVision
import Foundation

/// `convkit visualize filters|maps|top9|saliency`: what a trained classifier's units respond to.
struct VisualizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "visualize",
        abstract: "Filters, feature maps, the 9 most activating patches per unit, and saliency maps of a trained classifier.")

    enum What: String, ExpressibleByArgument, CaseIterable { case filters, maps, top9, saliency }

    @Argument(help: "filters, maps, top9 or saliency.") var what: What
    @Option(help: "Checkpoint written by `convkit train`.") var weights: String
    @Option(help: "Layer: a convolution's name for filters (e.g. features.0); features.N (the first N+1 feature layers) for maps and top9.") var layer = "features.0"
    @Option(help: "Dataset folder (its test split) for top9.") var data: String?
    @Option(help: "How many images of --data to scan (1…100000).") var count = 1000
    @Argument(help: "Image for maps and saliency.") var image: String?
    @Option(help: "Output folder.") var out = "runs/visualize"

    func run() throws {
        let input = try ModelInput(checkpoint: weights)
        let net = try input.loadModel(weights: weights, expectedName: nil)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        switch what {
        case .filters:
            let convs = net.namedModules().compactMap { n, m in (m as? Conv).map { (n, $0) } }
            guard let conv = convs.first(where: { $0.0 == layer })?.1 else {
                throw ConvKitError.invalidArgument(name: "--layer", expected: "a convolution: one of \(convs.map(\.0).joined(separator: ", "))", found: layer)
            }
            try save(UnitVisualization.filters(conv), "filters_\(layer).png")
        case .maps, .saliency:
            guard let image else { throw ValidationError("give an IMAGE for \(what.rawValue)") }
            let x = input.prepare(try ImageFile.load(image))
            if what == .maps {
                try save(UnitVisualization.featureMaps(try Self.prefix(net, layer: layer).predict(x.unsqueezed(axis: 0)).squeezed(axis: 0)), "maps_\(layer).png")
            } else {
                let (picture, cls) = Self.saliencyPicture(net, prepared: x, size: 256)
                try save(picture, "saliency.png")
                print("saliency of class \(input.classes[cls])")
            }
        case .top9:
            guard let data else { throw ValidationError("give --data DIR for top9") }
            guard (1...100_000).contains(count) else { throw ValidationError("--count must be in 1…100000, found \(count)") }
            let set = try loadEvaluationSet(data, input: input)
            let n = Swift.min(count, set.count)
            let raw = set.images.slice(axis: 0, 0..<n)
            let prepared = Tensor.stack((0..<n).map { input.prepare(raw.slice(axis: 0, $0..<$0 + 1).squeezed(axis: 0)) }, axis: 0)
            let (grid, units) = try Self.top9Grid(try Self.prefix(net, layer: layer), raw: raw, prepared: prepared)
            try save(grid, "top9_\(layer).png")
            print("\(units) units of \(layer), top 9 patches over \(n) images (one row per unit)")
        }
    }

    /// The model's `features` layers 0…N (the `features.N` of `layer`).
    static func prefix(_ net: any UnaryLayer, layer: String) throws -> Sequential {
        let seqs = (net as? Module)?.namedModules().compactMap { n, m in (m as? Sequential).map { (n, $0) } }.filter { $0.0 == "features" } ?? []
        let parts = layer.split(separator: ".")
        guard let features = seqs.first?.1, parts.count == 2, parts[0] == "features", let i = Int(parts[1]), (0..<features.layers.count).contains(i) else {
            let valid = seqs.first.map { s in (0..<s.1.layers.count).map { "features.\($0)" }.joined(separator: ", ") } ?? "none (the model has no features sequence)"
            throw ConvKitError.invalidArgument(name: "--layer", expected: "one of \(valid)", found: layer)
        }
        return Sequential(Array(features.layers[0...i]))
    }

    /// One row per unit of `layers`' output: its 9 most activating patches of `raw` (each cut at the unit's
    /// receptive field, enlarged to 48×48). Returns the picture and the number of units.
    static func top9Grid(_ layers: Sequential, raw: Tensor, prepared: Tensor) throws -> (Tensor, Int) {
        let hits = UnitVisualization.topPatches(layers, images: prepared, k: 9)
        var tiles = [Tensor]()
        for unit in hits {
            for h in unit {
                let img = raw.slice(axis: 0, h.image..<h.image + 1).squeezed(axis: 0)
                let patch = img.slice(axis: 1, h.patch.y1..<h.patch.y2).slice(axis: 2, h.patch.x1..<h.patch.x2)
                tiles.append(Drawing.enlarged(Drawing.rgb(Preprocessing.resize(patch, to: (24, 24))), by: 2))
            }
            tiles += Array(repeating: Tensor(repeating: 255, shape: [3, 48, 48]), count: 9 - unit.count)
        }
        return (UnitVisualization.grid(tiles, columns: 9), hits.count)
    }

    /// |∂(score of the predicted class)/∂input| as a picture about `size` pixels wide, and that class.
    static func saliencyPicture(_ net: any UnaryLayer, prepared x: Tensor, size: Int) -> (Tensor, Int) {
        let p = Autograd.withoutGradients { net(Variable(x.unsqueezed(axis: 0))).value }.scalars
        let cls = p.indices.max { p[$0] < p[$1] } ?? 0
        let s = UnitVisualization.saliency(net, image: x, classIndex: cls)
        return (Drawing.enlarged(Drawing.rgb(EdgeFilter.display(s)), by: Swift.max(1, size / Swift.max(s.shape[1], s.shape[2]))), cls)
    }

    func save(_ t: Tensor, _ name: String) throws {
        try PNG.save(PNG.Image(tensor: t), to: "\(out)/\(name)")
        print("\(out)/\(name)")
    }
}
