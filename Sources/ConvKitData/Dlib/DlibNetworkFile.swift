import ConvKit
import Foundation

/// One computational layer of a dlib network as its `.dat` file stores it (layer details, dlib/dnn/layers.h).
public enum DlibLayer: Equatable {
    /// `con_4`/`con_5`: filters `[O, C, kh, kw]` (cross-correlation as cuDNN), bias `[O]` or nil.
    case conv(filters: Tensor, bias: Tensor?, stride: [Int], padding: [Int])
    /// `affine_`/`affine_2`, or a `bn_con2`/`bn_fc2` converted as dlib converts it: y = γ·x + β per channel.
    case affine(gamma: Tensor, beta: Tensor)
    case relu
    /// `max_pool_2`/`avg_pool_2`; a window of 0 means the whole map (`avg_pool_everything`).
    case maxPool(window: [Int], stride: [Int], padding: [Int])
    case avgPool(window: [Int], stride: [Int], padding: [Int])
    /// `add_prev_`: the sum with a tagged earlier output, zero-extended where the shapes differ.
    case addPrevious
    /// `fc_2`: weight `[inputs, outputs]` (y = x·W + b), bias `[outputs]` or nil.
    case fullyConnected(weight: Tensor, bias: Tensor?)

    public var name: String {
        switch self {
        case .conv: return "con"
        case .affine: return "affine"
        case .relu: return "relu"
        case .maxPool: return "max_pool"
        case .avgPool: return "avg_pool"
        case .addPrevious: return "add_prev"
        case .fullyConnected: return "fc"
        }
    }
}

/// A dlib network file (`dlib::serialize(net, out)`) read into its parts:
///
///     loss wrapper:  version, loss details ("loss_metric_2", …), then the subnet
///     layer wrapper: version, subnet, layer details, bookkeeping (bools and empty tensors)
///     tag / skip:    version 1, subnet
///
/// so the file holds one version integer per wrapper from the output inward, the input layer, then each
/// layer's details from the input outward. Tags and skips store nothing but their version: the topology (which
/// tag a skip or add_prev refers to) is in the C++ type, not the file, and the caller that builds the network
/// supplies it. `layers` is in input → output order; `wrappers` lists every wrapper from the input outward
/// (`.layer` for computational layers, `.tagOrSkip` for the rest) so a caller can check the file's shape.
public struct DlibNetworkFile {
    public enum Wrapper: Equatable { case layer, tagOrSkip }
    public enum Loss: Equatable {
        /// `loss_metric_`: pairwise hinge loss on embedding distances (margin, distance threshold).
        case metric(margin: Float, distanceThreshold: Float)
        /// `loss_mmod_`: max-margin object detection (King 2015) with sliding detection windows.
        case mmod(MMODOptions)
    }
    public enum Input: Equatable {
        /// `input_rgb_image_sized<NR, NC>` / `input_rgb_image`: (pixel − average)/256 per RGB plane.
        case rgb(average: [Float], rows: Int?, columns: Int?)
        /// `input_rgb_image_pyramid<pyramid_down<N>>`: the image and its pyramid tiled into one tensor, `padding`
        /// pixels between levels and `outerPadding` around (N is in the C++ type, not the file).
        case rgbPyramid(average: [Float], padding: Int, outerPadding: Int)
    }

    /// `mmod_options`: the detection windows (each an output channel), the NMS overlap test, and training settings.
    public struct MMODOptions: Equatable {
        public struct Window: Equatable { public var width: Int, height: Int, label: String }
        /// dlib's `test_box_overlap`: two boxes overlap when IoU > `iou` or either covers more than `covered` of the other.
        public struct Overlap: Equatable { public var iou: Double, covered: Double }
        public var windows: [Window]
        public var lossPerFalseAlarm: Double, lossPerMissedTarget: Double, truthMatchIoU: Double
        public var nms: Overlap, ignore: Overlap
        public var boundingBoxRegression: Bool
    }

    public var loss: Loss
    public var input: Input
    public var layers: [DlibLayer]
    public var wrappers: [Wrapper]

    public static func load(_ path: String) throws -> DlibNetworkFile {
        try parse([UInt8](AtomicFile.read(path)), path: path)
    }

    public static func parse(_ bytes: [UInt8], path: String) throws -> DlibNetworkFile {
        var r = DlibReader(bytes: bytes, path: path)
        r.context = "the loss layer"
        _ = try r.version("add_loss_layer version", allowed: [1])
        let loss = try readLoss(&r)
        // Wrapper versions from the output inward, until the input layer's name (a string longer than 3).
        var versions = [Int]()
        while true {
            var peek = r
            let v = try peek.int("layer wrapper version")
            if v > 3 { break }
            guard v >= 1 else { throw r.error(expected: "a layer wrapper version 1…3", found: "\(v)") }
            versions.append(Int(v)); r = peek
            guard versions.count <= 100_000 else { throw r.error(expected: "at most 100,000 layers", found: "more") }
        }
        guard let innermost = versions.last, innermost >= 2 else {
            throw r.error(expected: "a computational layer (wrapper version 2 or 3) directly on the input", found: "versions \(versions.suffix(3))")
        }
        r.context = "the input layer"
        let input = try readInput(&r)
        var layers = [DlibLayer](), wrappers = [Wrapper]()
        for (i, v) in versions.reversed().enumerated() {
            guard v >= 2 else { wrappers.append(.tagOrSkip); continue }
            wrappers.append(.layer)
            let name = r.peekName() ?? "?"
            r.context = "layer \(layers.count) from the input (\(name), at wrapper \(i))"
            layers.append(try readLayer(&r))
            // Bookkeeping: setup called, gradient stale, getters disabled, then x_grad, cached_output and
            // params_grad (grad_final and the sample expansion factor for the layer on the input).
            for f in ["this_layer_setup_called", "gradient_input_is_stale", "get_output_and_gradient_input_disabled"] { _ = try r.bool(f) }
            for f in ["x_grad", "cached_output", "params_grad or grad_final"] { _ = try r.tensor(f) }
            if i == 0 && v == 3 { _ = try r.count("sample_expansion_factor") }
        }
        guard r.remaining == 0 else {
            throw r.error(expected: "the end of the file after the last layer", found: "\(r.remaining) more bytes")
        }
        return DlibNetworkFile(loss: loss, input: input, layers: layers, wrappers: wrappers)
    }

    static func readLoss(_ r: inout DlibReader) throws -> Loss {
        switch try r.tag("loss name", allowed: ["loss_metric_", "loss_metric_2", "loss_mmod_"]) {
        case "loss_metric_": return .metric(margin: 0.1, distanceThreshold: 0.75)
        case "loss_mmod_": return .mmod(try readMMODOptions(&r))
        default: return .metric(margin: try r.finiteFloat("margin"), distanceThreshold: try r.finiteFloat("distance threshold"))
        }
    }

    /// `mmod_options` versions 1–4 (version 1: a single unlabelled window; 3 adds the pyramid flag, 4 box regression).
    static func readMMODOptions(_ r: inout DlibReader) throws -> MMODOptions {
        let version = try r.version("mmod_options version", allowed: [1, 2, 3, 4])
        var windows = [MMODOptions.Window]()
        if version == 1 {
            windows = [.init(width: try r.count("detector width", in: 1...1 << 16), height: try r.count("detector height", in: 1...1 << 16), label: "")]
        } else {
            let n = try r.count("detector windows", in: 1...10_000)
            for _ in 0..<n {
                let v = try r.version("detector window version", allowed: [1, 2])
                let w = try r.count("window width", in: 1...1 << 16), h = try r.count("window height", in: 1...1 << 16)
                windows.append(.init(width: w, height: h, label: v == 2 ? try r.string("window label", maxLength: 1024) : ""))
            }
        }
        let falseAlarm = try r.double("loss_per_false_alarm"), missed = try r.double("loss_per_missed_target")
        let match = try r.double("truth_match_iou_threshold")
        func overlap(_ name: String) throws -> MMODOptions.Overlap {
            let o = MMODOptions.Overlap(iou: try r.double("\(name) iou threshold"), covered: try r.double("\(name) percent covered threshold"))
            guard o.iou.isFinite, o.covered.isFinite else { throw r.error(expected: "finite \(name) thresholds", found: "\(o)") }
            return o
        }
        let nms = try overlap("overlaps_nms"), ignore = try overlap("overlaps_ignore")
        if version >= 3 { _ = try r.count("assume_image_pyramid", in: 0...1) }
        var regression = false
        if version >= 4 { regression = try r.bool("use_bounding_box_regression"); _ = try r.double("bbr_lambda") }
        return MMODOptions(windows: windows, lossPerFalseAlarm: falseAlarm, lossPerMissedTarget: missed, truthMatchIoU: match,
                           nms: nms, ignore: ignore, boundingBoxRegression: regression)
    }

    static func readInput(_ r: inout DlibReader) throws -> Input {
        let name = try r.tag("input layer name", allowed: ["input_rgb_image_sized", "input_rgb_image", "input_rgb_image_pyramid", "input_rgb_image_pyramid2"])
        let average = [try r.finiteFloat("avg_red"), try r.finiteFloat("avg_green"), try r.finiteFloat("avg_blue")]
        if name == "input_rgb_image_pyramid" { return .rgbPyramid(average: average, padding: 10, outerPadding: 11) }
        if name == "input_rgb_image_pyramid2" {
            return .rgbPyramid(average: average, padding: try r.count("pyramid_padding", in: 0...4096), outerPadding: try r.count("pyramid_outer_padding", in: 0...4096))
        }
        guard name == "input_rgb_image_sized" else { return .rgb(average: average, rows: nil, columns: nil) }
        return .rgb(average: average, rows: try r.count("NR", in: 1...65536), columns: try r.count("NC", in: 1...65536))
    }

    static let layerNames = ["con_4", "con_5", "affine_", "affine_2", "bn_con2", "bn_fc2", "relu_", "max_pool_2", "avg_pool_2", "add_prev_", "fc_2"]

    static func readLayer(_ r: inout DlibReader) throws -> DlibLayer {
        let name = try r.tag("layer name", allowed: layerNames)
        switch name {
        case "con_4", "con_5": return try readConv(&r, hasBiasFlag: name == "con_5")
        case "affine_", "affine_2":
            let params = try r.tensor("params")
            let g = try r.aliasTensor("gamma"), b = try r.aliasTensor("beta")
            _ = try r.int("mode")
            if name == "affine_2" { _ = try r.bool("disabled") }
            let n = g.reduce(1, *)
            guard b.reduce(1, *) == n, params.count == 2 * n else {
                throw r.error(expected: "params of γ \(g) and β \(b)", found: "\(params.count) values")
            }
            let v = params.scalars
            return .affine(gamma: Tensor(Array(v[0..<n])), beta: Tensor(Array(v[n...])))
        case "bn_con2", "bn_fc2": return try readBatchNorm(&r)
        case "relu_": return .relu
        case "max_pool_2", "avg_pool_2":
            let window = [try r.count("nr"), try r.count("nc")], stride = [try r.count("stride_y", in: 1...1 << 16), try r.count("stride_x", in: 1...1 << 16)]
            let padding = [try r.count("padding_y"), try r.count("padding_x")]
            return name == "max_pool_2" ? .maxPool(window: window, stride: stride, padding: padding) : .avgPool(window: window, stride: stride, padding: padding)
        case "add_prev_": return .addPrevious
        default: return try readFullyConnected(&r)
        }
    }

    static func readConv(_ r: inout DlibReader, hasBiasFlag: Bool) throws -> DlibLayer {
        let params = try r.tensor("params")
        let filtersCount = try r.count("num_filters", in: 1...1 << 20)
        let nr = try r.count("nr", in: 0...1 << 12), nc = try r.count("nc", in: 0...1 << 12)
        let stride = [try r.count("stride_y", in: 1...1 << 12), try r.count("stride_x", in: 1...1 << 12)]
        let padding = [try r.count("padding_y", in: 0...1 << 12), try r.count("padding_x", in: 0...1 << 12)]
        let filters = try r.aliasTensor("filters"), biases = try r.aliasTensor("biases")
        for f in ["learning_rate_multiplier", "weight_decay_multiplier", "bias_learning_rate_multiplier", "bias_weight_decay_multiplier"] { _ = try r.double(f) }
        let useBias = hasBiasFlag ? try r.bool("use_bias") : true
        let weightCount = filters.reduce(1, *), biasCount = useBias ? biases.reduce(1, *) : 0
        guard filters.allSatisfy({ $0 >= 1 }), filters[0] == filtersCount, filters[2] == nr || nr == 0, filters[3] == nc || nc == 0,
              biasCount == 0 || biasCount == filtersCount, params.count == weightCount + biasCount else {
            throw r.error(expected: "params of \(filtersCount) filters \(filters) + \(biasCount) biases (\(nr)×\(nc))",
                          found: "\(params.count) values")
        }
        let v = params.scalars
        let w = Tensor(shape: filters, scalars: Array(v[0..<weightCount]))
        return .conv(filters: w, bias: useBias ? Tensor(Array(v[weightCount...])) : nil, stride: stride, padding: padding)
    }

    /// dlib's conversion of batch norm to affine: γ′ = γ/√(σ² + ε), β′ = β − μ·γ′ with the running statistics.
    static func readBatchNorm(_ r: inout DlibReader) throws -> DlibLayer {
        let params = try r.tensor("params")
        let g = try r.aliasTensor("gamma"), b = try r.aliasTensor("beta")
        _ = try r.tensor("means"); _ = try r.tensor("invstds")
        let mean = try r.tensor("running_means"), variance = try r.tensor("running_variances")
        _ = try r.count("num_updates", in: 0...Int.max); _ = try r.count("running_stats_window_size", in: 0...Int.max)
        for f in ["learning_rate_multiplier", "weight_decay_multiplier", "bias_learning_rate_multiplier", "bias_weight_decay_multiplier"] { _ = try r.double(f) }
        let eps = try r.double("eps")
        let n = g.reduce(1, *)
        guard b.reduce(1, *) == n, params.count == 2 * n, mean.count == n, variance.count == n, eps >= 0 else {
            throw r.error(expected: "γ, β, running mean and variance of \(n) values each", found: "\(params.count), \(mean.count), \(variance.count); ε \(eps)")
        }
        let p = params.scalars
        var gamma = [Float](repeating: 0, count: n), beta = [Float](repeating: 0, count: n)
        for i in 0..<n {
            gamma[i] = p[i] / (variance.scalars[i] + Float(eps)).squareRoot()
            beta[i] = p[n + i] - mean.scalars[i] * gamma[i]
        }
        return .affine(gamma: Tensor(gamma), beta: Tensor(beta))
    }

    static func readFullyConnected(_ r: inout DlibReader) throws -> DlibLayer {
        let outputs = try r.count("num_outputs", in: 1...1 << 24), inputs = try r.count("num_inputs", in: 1...1 << 28)
        let params = try r.tensor("params")
        _ = try r.aliasTensor("weights"); _ = try r.aliasTensor("biases")
        let biasMode = try r.count("bias_mode", in: 0...1)   // FC_HAS_BIAS = 0, FC_NO_BIAS = 1
        for f in ["learning_rate_multiplier", "weight_decay_multiplier", "bias_learning_rate_multiplier", "bias_weight_decay_multiplier"] { _ = try r.double(f) }
        let (weightCount, overflow) = inputs.multipliedReportingOverflow(by: outputs)
        let expected = weightCount + (biasMode == 0 ? outputs : 0)
        guard !overflow, params.count == expected else {
            throw r.error(expected: "\(inputs)×\(outputs) weights\(biasMode == 0 ? " + \(outputs) biases" : "")", found: "\(params.count) values")
        }
        let v = params.scalars
        return .fullyConnected(weight: Tensor(shape: [inputs, outputs], scalars: Array(v[0..<weightCount])),
                               bias: biasMode == 0 ? Tensor(Array(v[weightCount...])) : nil)
    }
}
