import ConvKit

/// A small YOLO (v2 form, as the notes teach it): a conv-BN-ReLU backbone that halves the map four times (a
/// stride-2 first layer, then three max-pools), two
/// 3×3 layers at stride 16, and a 1×1 head giving, for each of the S×S cells and each of the B anchors,
/// (t_x, t_y, t_w, t_h, t_o, c_1…c_C). Output `[N, B·(5+C), H/16, W/16]`, anchor-major along channels.
/// Decoding (ConvKitVision's `YOLOCodec`): b_x = (col + σ(t_x))/S, b_y = (row + σ(t_y))/S, b_w = a_w·e^{t_w},
/// b_h = a_h·e^{t_h} (anchors as fractions of the image), objectness σ(t_o), class softmax(c).
///
/// With the default width 16 on a 1×128×128 canvas: 8×8 grid, receptive field 110 px, ≈ 1.2 M parameters,
/// ≈ 117 M multiply-adds.
public final class YOLOTiny: Module, UnaryLayer {
    public let classes: Int
    /// (w, h) of each anchor as a fraction of the image side.
    public let anchors: [(w: Float, h: Float)]
    public static let stride = 16

    var backbone: Sequential
    var head: Conv

    /// - Parameters:
    ///   - width: channels of the first layer; later layers use 2×, 4×, 8×, 16×.
    ///   - anchors: at least one (w, h) in (0, 1]; the default 5 cover the generated digits' shapes.
    public init(classes: Int, anchors: [(w: Float, h: Float)] = YOLOTiny.defaultAnchors, inputChannels: Int = 1, width: Int = 16) {
        precondition(classes > 0 && !anchors.isEmpty && width > 0, "YOLOTiny needs classes, anchors and a width")
        self.classes = classes; self.anchors = anchors
        let w = width
        backbone = Sequential(
            ConvBNActivation(inputChannels, w, kernel: 3, stride: 2),
            ConvBNActivation(w, 2 * w, kernel: 3), MaxPool(kernel: [2]),
            ConvBNActivation(2 * w, 4 * w, kernel: 3), MaxPool(kernel: [2]),
            ConvBNActivation(4 * w, 8 * w, kernel: 3), MaxPool(kernel: [2]),
            ConvBNActivation(8 * w, 16 * w, kernel: 3),
            ConvBNActivation(16 * w, 16 * w, kernel: 3))
        head = Conv2D(16 * w, anchors.count * (5 + classes), kernel: 1)
        super.init()
        initializeLikeTorchvision(self)
        // A quiet head (weights N(0, 0.01²)): boxes start at their anchors, classes uniform; and low objectness
        // everywhere (the RetinaNet prior), since most cells hold no object.
        var rng = ConvKitRandom.generator
        head.weight.value = .normal(head.weight.shape, std: 0.01, rng: &rng)
        ConvKitRandom.generator = rng
        if let b = head.bias {
            var v = b.value
            for a in 0..<anchors.count { v.scalars[a * (5 + classes) + 4] = -4 }
            b.value = v
        }
    }

    /// Anchors (w, h) for digits of 12…64 px on 128-px canvases (k-means, k = 5, on the generated set).
    public static let defaultAnchors: [(w: Float, h: Float)] = [(0.07, 0.13), (0.14, 0.20), (0.21, 0.33), (0.30, 0.45), (0.44, 0.47)]

    public func callAsFunction(_ x: Variable) -> Variable { head(backbone(x)) }
}
