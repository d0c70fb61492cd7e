import ConvKit
import ConvKitModels

/// A fixed network whose activations at named layers define "content" and "style" for style transfer.
/// Input: an image `[1, 3, H, W]` with values in [0, 1] (the network applies its own normalization).
public protocol StyleFeatureNetwork: AnyObject {
    /// Every layer name `activations(_:at:)` accepts.
    var layerNames: [String] { get }
    var defaultContentLayer: String { get }
    var defaultStyleLayers: [String] { get }
    /// The activations at `layers`, computed only as deep as the deepest of them needs.
    func activations(_ image: Variable, at layers: Set<String>) -> [String: Variable]
}

extension StyleFeatureNetwork {
    /// Throws when a name is not a layer of this network; the error lists the valid ones.
    public func validate(_ names: [String]) throws {
        let known = Set(layerNames)
        let unknown = names.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw ConvKitError.invalidArgument(name: "layer \(unknown.joined(separator: ", "))",
                                               expected: "one of \(layerNames.joined(separator: ", "))", found: unknown.joined(separator: ", "))
        }
    }
}

/// The convolutional part of VGG-16 or VGG-19 under torchvision's names (`features.0.weight`, …), so that
/// torchvision's ImageNet weights exported to safetensors load directly (`load(weights:)`; the classifier's
/// tensors in the file are ignored). Layers are addressed by torchvision index (`features.20`) or by the
/// conventional names of Gatys et al. (`conv4_2`, `relu4_1`, `pool3`). Input is normalized with ImageNet's
/// mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225), as those weights expect.
/// Default layers (Gatys et al. 2016): content `relu4_2`, style `relu1_1 … relu5_1`.
public final class VGGStyleFeatures: Module, StyleFeatureNetwork {
    public let depth: Int
    public var features: Sequential
    /// conventional name → index in `features`.
    let aliases: [String: Int]

    public init(depth: Int) {
        precondition(depth == 16 || depth == 19, "style features come from VGG-16 or VGG-19")
        features = VGG.makeFeatures(depth: depth)
        var aliases = [String: Int](), index = 0, block = 1, conv = 1
        for v in VGG.configurations[depth]! {
            if v == 0 {
                aliases["pool\(block)"] = index; index += 1; block += 1; conv = 1
            } else {
                aliases["conv\(block)_\(conv)"] = index; aliases["relu\(block)_\(conv)"] = index + 1
                index += 2; conv += 1
            }
        }
        self.depth = depth
        self.aliases = aliases
        super.init()
        freeze()
    }

    public var layerNames: [String] {
        (0..<features.layers.count).map { "features.\($0)" } + aliases.sorted { $0.value < $1.value || ($0.value == $1.value && $0.key < $1.key) }.map(\.key)
    }
    public var defaultContentLayer: String { "relu4_2" }
    public var defaultStyleLayers: [String] { ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"] }

    func index(of name: String) -> Int? {
        if let i = aliases[name] { return i }
        if name.hasPrefix("features."), let i = Int(name.dropFirst("features.".count)), features.layers.indices.contains(i) { return i }
        return nil
    }

    /// Loads `features.*` from a safetensors file (a torchvision state dict or a ConvKit VGG checkpoint).
    /// Every convolution's weight and bias must be present with its shape; other tensors are ignored.
    public func load(weights path: String) throws {
        let (tensors, _) = try Safetensors.load(path)
        let result = Checkpoint.assign(tensors, to: self)
        guard result.problems.isEmpty else {
            throw ConvKitError.shapeMismatch(expected: "VGG-\(depth) features (torchvision names) in \(path)",
                                             found: result.problems.prefix(6).joined(separator: "; "))
        }
    }

    public func activations(_ image: Variable, at layers: Set<String>) -> [String: Variable] {
        let wanted = layers.compactMap { name in index(of: name).map { (name, $0) } }
        guard let last = wanted.map(\.1).max() else { return [:] }
        let mean = Tensor(shape: [1, 3, 1, 1], scalars: [0.485, 0.456, 0.406])
        let inverseStd = Tensor(shape: [1, 3, 1, 1], scalars: [1 / 0.229, 1 / 0.224, 1 / 0.225])
        var y = (image - mean) * inverseStd
        var out = [String: Variable]()
        for i in 0...last {
            y = features.layers[i](y)
            for (name, j) in wanted where j == i { out[name] = y }
        }
        return out
    }
}

/// The default feature network on a machine without pretrained weights: one layer of random filters applied
/// to an image pyramid. Ustyuzhaninov, Brendel, Gatys and Bethge (2017, "What does it take to generate natural
/// textures?") showed that Gram matrices of a single layer of random multi-scale filters already synthesize
/// textures well. Here: a Gaussian pyramid of `scales` levels (Burt & Adelson: each level the previous blurred
/// with the binomial 5×5 kernel [1 4 6 4 1]ᵀ[1 4 6 4 1]/256 and subsampled by 2 — smooth, so the gradient
/// leaves no block artifacts as 2×2 average pooling does), at each level `filters` random `kernel`×`kernel`
/// filters (Gaussian, zero-mean per filter, unit norm) followed by ReLU, on the image minus 0.5; edges are
/// padded by replication. Layers `scale0` (full resolution) … `scale{n−1}`; a filter at level s covers
/// kernel·2^s pixels of the input. Default content layer `scale1`, style layers all levels.
/// What it gives: colour, local texture and its statistics at several sizes; what it cannot give is VGG's
/// object-level features, so strokes follow the content's edges less faithfully than with ImageNet weights.
public final class RandomMultiScaleFeatures: Module, StyleFeatureNetwork {
    public let scales: Int
    var convolutions: [Conv]

    public init(scales: Int = 5, filters: Int = 128, kernel: Int = 7, seed: UInt64 = 0) {
        precondition(scales >= 1 && filters >= 1 && kernel >= 1 && kernel % 2 == 1, "random features need scales, filters and an odd kernel")
        var rng = SeededGenerator(seed: seed)
        self.scales = scales
        convolutions = (0..<scales).map { _ in
            let conv = Conv2D(3, filters, kernel: kernel)
            var w = Tensor.normal([filters, 3 * kernel * kernel], rng: &rng)
            w = w - w.mean(axes: [1], keepingDims: true)
            w = w / (w.squared().sum(axes: [1], keepingDims: true).sqrt() + 1e-12)
            conv.weight.value = w.reshaped([filters, 3, kernel, kernel])
            conv.bias?.value = .zeros([filters])
            return conv
        }
        super.init()
        freeze()
    }

    public var layerNames: [String] { (0..<scales).map { "scale\($0)" } }
    public var defaultContentLayer: String { scales > 1 ? "scale1" : "scale0" }
    public var defaultStyleLayers: [String] { layerNames }

    public func activations(_ image: Variable, at layers: Set<String>) -> [String: Variable] {
        let wanted = layerNames.enumerated().filter { layers.contains($0.element) }
        guard let last = wanted.map(\.offset).max() else { return [:] }
        var level = image - 0.5
        var out = [String: Variable]()
        let r = convolutions[0].kernelSize[0] / 2
        for s in 0...last {
            if s > 0 { level = Self.downsample(level) }
            if layers.contains("scale\(s)") {
                out["scale\(s)"] = convolutions[s](level.padded([(0, 0), (0, 0), (r, r), (r, r)], mode: .replicate)).relu()
            }
        }
        return out
    }

    static let binomial: Tensor = {
        let k: [Float] = [1, 4, 6, 4, 1]
        let w = (0..<25).map { k[$0 / 5] * k[$0 % 5] / 256 }
        return Tensor(shape: [3, 1, 5, 5], scalars: w + w + w)
    }()

    /// One Gaussian-pyramid step: binomial blur (depthwise), then every second pixel. `[1, 3, H, W]` →
    /// `[1, 3, ⌈H/2⌉, ⌈W/2⌉]`.
    static func downsample(_ x: Variable) -> Variable {
        let padded = x.padded([(0, 0), (0, 0), (2, 2), (2, 2)], mode: .replicate)
        return Functional.conv(padded, weight: Variable(binomial), options: ConvOptions(stride: [2, 2], groups: 3))
    }
}
