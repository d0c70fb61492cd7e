import ConvKit
import ConvKitData
import Foundation

/// The worked example of classification with localization and landmarks: one MNIST digit (or none) per gray
/// canvas, its tight ink box, and four landmarks — its topmost, bottommost, leftmost and rightmost ink pixels.
///
/// Target vector (the notes' §3.1–3.2), coordinates as fractions of the canvas side, (0, 0) the top-left corner:
/// y = [p_c, b_x, b_y, b_h, b_w, c_1…c_10, l_1x, l_1y, …, l_4x, l_4y], b_x, b_y the box's midpoint; when p_c = 0 the
/// rest is "don't care" (zeros here; the masked loss ignores it).
public struct DigitLocalization {
    public var size = 64
    public var digitSize = 16...48
    /// Fraction of canvases without a digit (p_c = 0).
    public var emptyFraction: Float = 0.15
    public var inkThreshold: Float = 64
    public static let landmarkNames = ["top", "bottom", "left", "right"]
    public init() {}

    public struct Sample {
        public var image: Tensor
        public var present: Bool
        public var digit: Int
        /// Pixels, xyxy (empty when absent).
        public var box: BoxSet
        /// Pixel-center coordinates (x, y) of the four landmarks (empty when absent).
        public var landmarks: [(x: Float, y: Float)]
    }

    /// Canvases from `digits` (images [N, 1, 28, 28], labels 0…9); canvas i depends only on (seed, split, i).
    public func generate(from digits: LabeledImages, count: Int, seed: UInt64, split: String) -> [Sample] {
        let salt: UInt64 = split == "train" ? 0x4C4F_4341 : 0x4C4F_4354
        var out = [Sample?](repeating: nil, count: count)
        Parallel.forEach(count) { i in
            var rng = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ salt ^ (UInt64(i) &* 0xD1B5_4A32_D192_ED03))
            out[i] = canvas(digits, &rng)
        }
        return out.map { $0! }
    }

    func canvas(_ digits: LabeledImages, _ rng: inout SeededGenerator) -> Sample {
        let n = size
        var img = [Float](repeating: 0, count: n * n)
        for _ in 0..<(8 + Int(rng.next() % 12)) { let p = Int(rng.next() % UInt64(n * n)); img[p] = 40 + rng.nextUniform() * 100 }
        var sample = Sample(image: Tensor.zeros([1, n, n]), present: false, digit: 0, box: .empty(), landmarks: [])
        if rng.nextUniform() >= emptyFraction {
            let pick = Int(rng.next() % UInt64(digits.count))
            let crop = DigitsCanvas.inkCrop(digits.image(pick))
            let (ch, cw) = (crop.shape[1], crop.shape[2])
            let longer = digitSize.lowerBound + Int(rng.next() % UInt64(digitSize.count))
            let s = Float(longer) / Float(Swift.max(ch, cw))
            let th = Swift.max(1, Int((Float(ch) * s).rounded())), tw = Swift.max(1, Int((Float(cw) * s).rounded()))
            let patch = th < ch || tw < cw ? Preprocessing.resizeArea(crop, to: (th, tw)) : Preprocessing.resize(crop, to: (th, tw))
            let ox = Int(rng.next() % UInt64(n - tw + 1)), oy = Int(rng.next() % UInt64(n - th + 1))
            var ink = [(Int, Int)]()
            for y in 0..<th { for x in 0..<tw {
                let v = patch.scalars[y * tw + x], p = (oy + y) * n + ox + x
                img[p] = Swift.max(img[p], v)
                if v >= inkThreshold { ink.append((ox + x, oy + y)) }
            } }
            if !ink.isEmpty {
                func center(_ pts: [(Int, Int)]) -> (x: Float, y: Float) {
                    (Float(pts.map(\.0).reduce(0, +)) / Float(pts.count) + 0.5, Float(pts.map(\.1).reduce(0, +)) / Float(pts.count) + 0.5)
                }
                let minY = ink.map(\.1).min()!, maxY = ink.map(\.1).max()!, minX = ink.map(\.0).min()!, maxX = ink.map(\.0).max()!
                sample.present = true
                sample.digit = digits.labels[pick]
                sample.box = BoxSet([Float(minX), Float(minY), Float(maxX + 1), Float(maxY + 1)])
                sample.landmarks = [center(ink.filter { $0.1 == minY }), center(ink.filter { $0.1 == maxY }),
                                    center(ink.filter { $0.0 == minX }), center(ink.filter { $0.0 == maxX })]
            }
        }
        for i in 0..<img.count { img[i] = Swift.min(255, Swift.max(0, img[i] + 6 * rng.nextNormal())).rounded() }
        sample.image = Tensor(shape: [1, n, n], scalars: img)
        return sample
    }

    /// The target vector of a sample.
    public func target(_ s: Sample, classes: Int = 10) -> [Float] {
        var y = [Float](repeating: 0, count: 5 + classes + 2 * Self.landmarkNames.count)
        guard s.present else { return y }
        let f = Float(size), (x1, y1, x2, y2) = s.box[0]
        y[0] = 1
        y[1] = (x1 + x2) / 2 / f; y[2] = (y1 + y2) / 2 / f; y[3] = (y2 - y1) / f; y[4] = (x2 - x1) / f
        y[5 + s.digit] = 1
        for (k, l) in s.landmarks.enumerated() { y[5 + classes + 2 * k] = l.x / f; y[5 + classes + 2 * k + 1] = l.y / f }
        return y
    }

    /// What a prediction vector says, in pixels.
    public struct Prediction { public var present: Bool, digit: Int, box: BoxSet, landmarks: [(x: Float, y: Float)] }

    public func decode(_ y: [Float], classes: Int = 10) -> Prediction {
        let f = Float(size)
        let digit = (0..<classes).max { y[5 + $0] < y[5 + $1] } ?? 0
        let (bx, by, bh, bw) = (y[1] * f, y[2] * f, y[3] * f, y[4] * f)
        let lm = (0..<Self.landmarkNames.count).map { (x: y[5 + classes + 2 * $0] * f, y: y[5 + classes + 2 * $0 + 1] * f) }
        return Prediction(present: y[0] > 0.5, digit: digit, box: BoxSet([bx - bw / 2, by - bh / 2, bx + bw / 2, by + bh / 2]), landmarks: lm)
    }

    /// Scores on a set: presence accuracy (all canvases), then on canvases that hold a digit the class accuracy,
    /// the mean IoU of predicted and true boxes, and the mean Euclidean landmark error in pixels.
    public struct Metrics: Equatable { public var presenceAccuracy: Double, classAccuracy: Double, meanBoxIoU: Double, landmarkErrorPixels: Double }

    public func metrics(_ samples: [Sample], _ predictions: [Prediction]) -> Metrics {
        var presence = 0, cls = 0, iou = 0.0, lm = 0.0, n = 0
        for (s, p) in zip(samples, predictions) {
            if s.present == p.present { presence += 1 }
            guard s.present else { continue }
            n += 1
            if s.digit == p.digit { cls += 1 }
            iou += Double(BoxOverlap.iou(s.box, p.box).scalar)
            for (a, b) in zip(s.landmarks, p.landmarks) { lm += Double(((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)).squareRoot()) }
        }
        let m = Double(Swift.max(n, 1))
        return Metrics(presenceAccuracy: Double(presence) / Double(Swift.max(samples.count, 1)), classAccuracy: Double(cls) / m,
                       meanBoxIoU: iou / m, landmarkErrorPixels: lm / (m * Double(Self.landmarkNames.count)))
    }
}
