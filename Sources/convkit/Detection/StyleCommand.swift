import ArgumentParser
import ConvKit
import ConvKitData
import ConvKitVision
import Foundation

/// `convkit style`: neural style transfer, the generated image optimized directly.
struct StyleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "style",
        abstract: "Neural style transfer: optimize an image to keep one image's content and take another's style.",
        discussion: """
        Feature networks: `random` (default; one layer of random 7×7 filters on a 5-level Gaussian pyramid —
        works without pretrained weights; matches texture statistics, keeps the content's structure) or
        `vgg16`/`vgg19` with --weights, a safetensors file of torchvision's VGG state dict (features.N.weight and
        .bias; ImageNet weights give the familiar Gatys et al. results). Without --weights a VGG keeps
        torchvision's random initialization (He, Wang and Hopcroft 2016 transfer texture with random VGGs).
        Layers by torchvision index (features.22) or by name (relu4_2).
        """)

    @Option(help: "Content image (PNG, JPEG, PGM, PPM).") var content = "Data/images/chelsea.png"
    @Option(help: "Style image.") var style = "Data/images/gravel.png"
    @Option(help: "Feature network: random, vgg16, vgg19 (default: vgg19 with --weights, else random).") var network: String?
    @Option(help: "VGG weights (safetensors with torchvision names).") var weights: String?
    @Option(help: "Longer side of the generated image, in pixels (16…2048).") var size = 256
    @Option(help: "Iterations (L-BFGS(-B) iterations or Adam steps).") var iterations = 100
    @Option(help: "Optimizer on the image: lbfgsb (pixels kept in [0, 1]), lbfgs, adam.") var optimizer = "lbfgsb"
    @Option(help: "Adam's learning rate.") var lr: Float = 0.02
    @Option(help: "α, the content weight.") var contentWeight: Float = 1
    @Option(help: "β, the style weight (default: 1e10 for random features, 1e9 for a random VGG, 1e3 for a VGG with --weights as in Gatys et al.).") var styleWeight: Float?
    @Option(help: "γ, the total-variation weight.") var tvWeight: Float = 0
    @Option(help: "Content layer (default: the network's).") var contentLayer: String?
    @Option(help: "Comma-separated style layers, each weighted 1/L (default: the network's).") var styleLayers: String?
    @Option(help: "Initialization: content or noise.") var initialize = "content"
    @Option(help: "Seed for the noise initialization and the random filters.") var seed: UInt64 = 0
    @Option(help: "Output PNG; a panel content | style | result is written next to it as NAME_panel.png.") var out = "runs/style/stylized.png"
    @Flag(help: "Print one JSON line with the losses and seconds.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        guard (16...2048).contains(size) else { throw ValidationError("--size must be 16…2048, found \(size)") }
        guard (1...100_000).contains(iterations) else { throw ValidationError("--iterations must be 1…100000, found \(iterations)") }
        for (name, v) in [("--lr", lr), ("--content-weight", contentWeight), ("--tv-weight", tvWeight), ("--style-weight", styleWeight ?? 1)] {
            guard v.isFinite, v >= 0 else { throw ValidationError("\(name) must be a finite number ≥ 0, found \(v)") }
        }
    }

    func run() throws {
        threadOptions.apply()
        let kind = network ?? (weights == nil ? "random" : "vgg19")
        let net: any StyleFeatureNetwork
        switch kind {
        case "random": net = RandomMultiScaleFeatures(seed: seed)
        case "vgg16", "vgg19":
            let vgg = VGGStyleFeatures(depth: kind == "vgg16" ? 16 : 19)
            if let weights { try vgg.load(weights: weights) }
            net = vgg
        default: throw ConvKitError.invalidArgument(name: "--network", expected: "random, vgg16 or vgg19", found: kind)
        }
        if kind == "random", weights != nil {
            throw ConvKitError.invalidArgument(name: "--network", expected: "vgg16 or vgg19 with --weights", found: kind)
        }
        let defaultStyleWeight: Float = kind == "random" ? 1e10 : (weights == nil ? 1e9 : 1e3)
        var transfer = StyleTransfer(network: net, contentWeight: contentWeight, styleWeight: styleWeight ?? defaultStyleWeight)
        if let contentLayer { transfer.contentLayer = contentLayer }
        if let styleLayers {
            let names = styleLayers.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !names.isEmpty else { throw ConvKitError.invalidArgument(name: "--style-layers", expected: "comma-separated layer names", found: styleLayers) }
            transfer.styleLayers = names.map { ($0, 1 / Float(names.count)) }
        }
        try net.validate([transfer.contentLayer] + transfer.styleLayers.map(\.0))
        transfer.totalVariationWeight = tvWeight
        transfer.iterations = iterations
        switch optimizer {
        case "lbfgsb": transfer.optimizer = .lbfgsb
        case "lbfgs": transfer.optimizer = .lbfgs
        case "adam": transfer.optimizer = .adam(learningRate: lr)
        default: throw ConvKitError.invalidArgument(name: "--optimizer", expected: "lbfgsb, lbfgs or adam", found: optimizer)
        }
        switch initialize {
        case "content": transfer.initialization = .content
        case "noise": transfer.initialization = .noise(seed: seed)
        default: throw ConvKitError.invalidArgument(name: "--initialize", expected: "content or noise", found: initialize)
        }
        let contentImage = try Self.loadRGB(content, longerSide: size)
        let styleImage = try Self.loadRGB(style, longerSide: size)
        let started = Date()
        let result = try transfer.run(content: contentImage, style: styleImage) { i, j in
            if !json, i == 1 || i % 10 == 0 { print(String(format: "iteration %4d  J %.6g", i, j)) }
        }
        let seconds = Date().timeIntervalSince(started)
        let directory = (out as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let generated = result.image.squeezed(axis: 0)
        try PNG.save(PNG.Image(tensor: generated, maxValue: 1), to: out)
        let styleShown = Autograd.withoutGradients {
            Functional.resizeBilinear(Variable(styleImage), to: (contentImage.shape[2], contentImage.shape[3])).value
        }.squeezed(axis: 0)
        let panel = UnitVisualization.grid([contentImage.squeezed(axis: 0), styleShown, generated].map { $0 * 255 }, columns: 3)
        let panelPath = (out as NSString).deletingPathExtension + "_panel.png"
        try PNG.save(PNG.Image(tensor: panel), to: panelPath)
        if json {
            let obj: [String: Any] = [
                "task": "style", "network": kind, "optimizer": optimizer, "iterations": result.iterations,
                "evaluations": result.evaluations, "style_loss_start": result.start.style, "style_loss_end": result.end.style,
                "content_loss_end": result.end.content, "content_loss_of_style_image": result.contentCostOfStyleImage,
                "seconds": seconds, "out": out, "size": [contentImage.shape[3], contentImage.shape[2]],
            ]
            print(String(data: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), encoding: .utf8)!)
        } else {
            print(String(format: "style cost %.4g → %.4g (%.0f× lower), content cost %.4g (the style image's: %.4g), %d iterations, %.1f s",
                         result.start.style, result.end.style, result.start.style / max(result.end.style, 1e-30), result.end.content,
                         result.contentCostOfStyleImage, result.iterations, seconds))
            print("→ \(out), \(panelPath)")
        }
    }

    /// An image as `[1, 3, H, W]` in [0, 1], resized (bilinear) so that its longer side is `longerSide`.
    static func loadRGB(_ path: String, longerSide: Int) throws -> Tensor {
        let raw = Preprocessing.matchChannels(try ImageFile.load(path), 3) * (1 / 255)
        let (h, w) = (raw.shape[1], raw.shape[2])
        guard h >= 8, w >= 8 else { throw ConvKitError.shapeMismatch(expected: "\(path): an image of at least 8×8", found: "\(w)×\(h)") }
        let scale = Double(longerSide) / Double(max(h, w))
        let size = (max(8, Int((Double(h) * scale).rounded())), max(8, Int((Double(w) * scale).rounded())))
        return Autograd.withoutGradients { Functional.resizeBilinear(Variable(raw.unsqueezed(axis: 0)), to: size).value }
    }
}
