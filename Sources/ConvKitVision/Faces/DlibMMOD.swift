import ConvKit
import ConvKitData
import Foundation

/// dlib's CNN face detector (`mmod_human_face_detector.dat`, King 2015, "Max-Margin Object Detection"), read from
/// its own file and run as dlib runs it:
///
///     loss_mmod<con<1,9,9,1,1, rcon5<rcon5<rcon5<downsampler<input_rgb_image_pyramid<pyramid_down<6>>>>>>>>
///     downsampler = 3 × (con 5×5/2, no padding → batch norm → relu) with 16, 32, 32 filters
///     rcon5       = con 5×5/1, padding 2 → affine → relu with 45 filters
///
/// 1. The image and its pyramid (each level ⌊5/6⌋ of the previous, down to 5 rows) are tiled into one tensor
///    (`TiledPyramid`): level 0 at the top left, the others below it and then back up its right side, `padding`
///    pixels apart and `outerPadding` around; values (pixel − average)/256, each level resized bilinearly
///    (corners aligned) from the one before.
/// 2. The network scores every position of the tiled tensor for each detection window (80×80 for this model).
/// 3. Every score above the threshold (0) becomes a window centred on the position's input point
///    p = 8·q + 14 (the three stride-2 5×5 layers; composed from each layer's p·s − pad + k/2) and is mapped back
///    into the image from the pyramid level it lies in (each level up: p·6/5 + 0.3).
/// 4. Non-maximum suppression by dlib's overlap test (IoU over the bounding box of both, or coverage), best first.
public final class DlibMMODDetector: Module {
    public var convs: [Conv]
    public var norms: [BatchNorm]
    public let options: DlibNetworkFile.MMODOptions
    public let average: [Float]
    public let padding: Int, outerPadding: Int
    /// The pyramid's N of `pyramid_down<N>` (each level (N − 1)/N of the previous); 6 for dlib's face detector.
    public let pyramidN: Int
    /// Scores above this are detections (dlib's `adjust_threshold`, 0 by default).
    public var threshold: Float = 0

    public init(file: DlibNetworkFile, pyramidN: Int = 6) throws {
        var c = LayerCursor(layers: file.layers)
        guard case let .mmod(options) = file.loss, case let .rgbPyramid(average, padding, outerPadding) = file.input else {
            throw c.error(expected: "an MMOD network on an RGB image pyramid", found: "\(file.loss), \(file.input)")
        }
        guard !options.boundingBoxRegression else {
            throw c.error(expected: "an MMOD model without bounding-box regression", found: "use_bounding_box_regression")
        }
        guard (2...100).contains(pyramidN) else { throw c.error(expected: "pyramid_down<N> with N in 2…100", found: "\(pyramidN)") }
        var convs = [Conv](), norms = [BatchNorm]()
        while c.index < file.layers.count - 1 {
            let (conv, norm) = try c.convAffine()
            try c.expect(.relu)
            convs.append(conv); norms.append(norm)
        }
        guard case let .conv(filters, bias, stride, pad) = try c.next("the final con") else { throw c.mismatch("the final con") }
        let s = filters.shape
        let last = Conv(inputChannels: s[1], outputChannels: s[0], kernelSize: [s[2], s[3]], stride: stride, padding: .symmetricPerAxis(pad), bias: bias != nil)
        last.weight.value = filters
        if let bias { last.bias?.value = bias }
        guard s[0] == options.windows.count else {
            throw c.error(expected: "one output channel per detection window (\(options.windows.count))", found: "\(s[0])")
        }
        guard convs.first?.inputChannels ?? s[1] == 3 else { throw c.error(expected: "an RGB first layer", found: "\(convs[0].inputChannels) channels") }
        self.convs = convs + [last]; self.norms = norms
        self.options = options; self.average = average; self.padding = padding; self.outerPadding = outerPadding; self.pyramidN = pyramidN
        super.init()
        eval()
    }

    public convenience init(contentsOf path: String) throws { try self.init(file: DlibNetworkFile.load(path)) }

    /// The bundled `Data/models/dlib/mmod_human_face_detector.dat`.
    public static func bundled() throws -> DlibMMODDetector {
        try DlibMMODDetector(contentsOf: try DlibFaceRecognitionNetwork.bundledModel("mmod_human_face_detector.dat"))
    }

    /// Scores `[1, windows, h, w]` of a tiled tensor `[1, 3, H, W]`.
    public func callAsFunction(_ x: Variable) -> Variable {
        var h = x
        for (conv, norm) in zip(convs, norms) { h = conv.fused(h, norm: norm, activation: .relu) }
        return convs.last!(h)
    }

    /// The input-tensor point (x, y) of output position (column, row): each layer from the output inward maps
    /// p → p·stride − padding + k/2.
    func inputPoint(_ column: Int, _ row: Int) -> (Double, Double) {
        var x = Double(column), y = Double(row)
        for conv in convs.reversed() {
            let k = conv.kernelSize, s = conv.options.stride, p = Self.paddingAmounts(conv)
            x = x * Double(s.count > 1 ? s[1] : s[0]) - Double(p.1) + Double(k[1] / 2)
            y = y * Double(s[0]) - Double(p.0) + Double(k[0] / 2)
        }
        return (x, y)
    }

    /// The score map's (rows, columns) for a tiled tensor of this size, nil when a layer's output would be empty.
    func outputSize(_ rows: Int, _ columns: Int) -> (Int, Int)? {
        var (h, w) = (rows, columns)
        for conv in convs {
            let k = conv.kernelSize, s = conv.options.stride, p = Self.paddingAmounts(conv)
            h = convOutputSize(h, kernel: k[0], stride: s[0], padBefore: p.0, padAfter: p.0)
            w = convOutputSize(w, kernel: k[1], stride: s.count > 1 ? s[1] : s[0], padBefore: p.1, padAfter: p.1)
            if h <= 0 || w <= 0 { return nil }
        }
        return (h, w)
    }

    static func paddingAmounts(_ conv: Conv) -> (Int, Int) {
        switch conv.options.padding {
        case .symmetric(let p): return (p, p)
        case .explicit(let before, _): return (before[0], before.count > 1 ? before[1] : before[0])
        default: return (0, 0)
        }
    }

    /// Faces in a `[C, H, W]` image (values 0…255): boxes [left, top, right, bottom] (dlib's inclusive integer
    /// pixels) with their scores, best first; an image too small for a window gives none.
    public func detect(_ image: Tensor) throws -> [(box: [Float], score: Float)] {
        guard image.rank == 3, image.shape[1] >= 1, image.shape[2] >= 1 else {
            throw ConvKitError.shapeMismatch(expected: "an image [C, H, W]", found: "\(image.shape)")
        }
        let rgb = Preprocessing.matchChannels(image, 3)
        let pyramid = TiledPyramid(height: rgb.shape[1], width: rgb.shape[2], n: pyramidN, padding: padding, outerPadding: outerPadding)
        guard !pyramid.levels.isEmpty, outputSize(pyramid.rows, pyramid.columns) != nil else { return [] }
        let (needed, overflow) = pyramid.rows.multipliedReportingOverflow(by: pyramid.columns)
        guard !overflow, needed <= ImageLimits.maxPixels else {
            throw ConvKitError.invalidArgument(name: "image", expected: "a tiled pyramid of at most \(ImageLimits.maxPixels) pixels", found: "\(pyramid.rows)×\(pyramid.columns)")
        }
        let input = pyramid.tensor(rgb, average: average)
        let scores = Autograd.withoutGradients { self(Variable(input.unsqueezed(axis: 0))).value }
        let (k, h, w) = (scores.shape[1], scores.shape[2], scores.shape[3])
        var found = [(box: [Float], score: Float)]()
        for window in 0..<k {
            let size = options.windows[window]
            for r in 0..<h {
                for c in 0..<w {
                    let score = scores.scalars[(window * h + r) * w + c]
                    guard score > threshold else { continue }
                    let (px, py) = inputPoint(c, r)
                    let hw = Double(size.width - 1) / 2, hh = Double(size.height - 1) / 2
                    let box = pyramid.toImage(left: px - hw, top: py - hh, right: px + hw, bottom: py + hh, center: (px, py))
                    found.append((box.map { Float(($0).rounded(.toNearestOrAwayFromZero)) }, score))
                }
            }
        }
        found.sort { $0.score > $1.score }
        var kept = [(box: [Float], score: Float)]()
        for d in found where !kept.contains(where: { Self.overlaps($0.box, d.box, options.nms) }) { kept.append(d) }
        return kept
    }

    /// dlib's `test_box_overlap` on inclusive integer rectangles: intersection over the area of the box bounding
    /// both greater than `iou`, or more than `covered` of either box covered.
    static func overlaps(_ a: [Float], _ b: [Float], _ t: DlibNetworkFile.MMODOptions.Overlap) -> Bool {
        func area(_ l: Float, _ t: Float, _ r: Float, _ b: Float) -> Double { Double(max(0, r - l + 1)) * Double(max(0, b - t + 1)) }
        let inner = area(max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
        guard inner > 0 else { return false }
        let outer = area(min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
        return inner / outer > t.iou || inner / area(a[0], a[1], a[2], a[3]) > t.covered || inner / area(b[0], b[1], b[2], b[3]) > t.covered
    }
}
