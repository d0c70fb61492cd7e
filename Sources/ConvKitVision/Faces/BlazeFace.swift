import ConvKit
import ConvKitData
import Foundation

/// MediaPipe's BlazeFace short-range face detector around its network (Bazarevsky et al. 2019): letterboxed
/// 128×128 input in [−1, 1], 896 SSD anchors, box and six-keypoint regression, sigmoid scores and weighted
/// non-maximum suppression — MediaPipe's `face_detection_short_range` graph.
///
/// The network is passed in (`network`: `[1, 128, 128, 3]` → regressors `[1, 896, 16]`, classificators
/// `[1, 896, 1]`), so this file needs no model format; the CLI runs the bundled `.tflite` through ConvKitInterop.
public struct BlazeFace {
    /// An anchor in input-relative coordinates (0…1).
    public struct Anchor: Equatable, Sendable {
        public var x: Float, y: Float, w: Float, h: Float
    }

    public typealias Network = (Tensor) throws -> (regressors: Tensor, scores: Tensor)

    /// Side of the network input.
    public static let inputSize = 128
    /// Faces scoring below are dropped (MediaPipe: `min_score_thresh` 0.5).
    public var scoreThreshold: Float = 0.5
    /// IoU above which detections are merged (MediaPipe: `min_suppression_threshold` 0.3).
    public var suppressionThreshold: Float = 0.3
    public let anchors: [Anchor]
    let network: Network

    public init(network: @escaping Network) {
        self.network = network
        anchors = Self.ssdAnchors()
    }

    /// MediaPipe's `SsdAnchorsCalculator` with the short-range options: 4 layers with strides 8, 16, 16, 16,
    /// scales from 0.1484375 to 0.75, aspect ratio 1 plus one interpolated scale per layer, fixed anchor size;
    /// layers of equal stride share a feature map. For 128²: 16·16·2 + 8·8·6 = 896 anchors, centres
    /// `((x + 0.5)/W, (y + 0.5)/H)`, width and height 1.
    public static func ssdAnchors(inputSize: Int = inputSize, strides: [Int] = [8, 16, 16, 16],
                                  offset: Float = 0.5) -> [Anchor] {
        var anchors = [Anchor]()
        var layer = 0
        while layer < strides.count {
            var perCell = 0
            var last = layer
            while last < strides.count && strides[last] == strides[layer] {
                perCell += 2   // aspect ratio 1.0 and the interpolated scale (sizes are fixed: only the count matters)
                last += 1
            }
            let side = (inputSize + strides[layer] - 1) / strides[layer]
            for y in 0..<side {
                for x in 0..<side {
                    for _ in 0..<perCell {
                        anchors.append(Anchor(x: (Float(x) + offset) / Float(side), y: (Float(y) + offset) / Float(side), w: 1, h: 1))
                    }
                }
            }
            layer = last
        }
        return anchors
    }

    /// Faces in `image` (`[C, H, W]`, values 0…255, gray or RGB), boxes and the six keypoints (right eye, left
    /// eye, nose tip, mouth centre, right ear tragion, left ear tragion; "right" as the person sees it) in pixels.
    public func detect(_ image: Tensor) throws -> [Face] {
        let rgb = Preprocessing.matchChannels(image, 3)
        let (input, scale, padX, padY) = Self.letterbox(rgb, size: Self.inputSize)
        let (regressors, scores) = try network(input)
        let n = Float(Self.inputSize)
        return try decode(regressors: regressors, scores: scores).map { f in
            func back(_ p: [Float]) -> [Float] { [(p[0] * n - padX) / scale, (p[1] * n - padY) / scale] }
            let a = back([f.box[0], f.box[1]]), b = back([f.box[2], f.box[3]])
            return Face(box: a + b, score: f.score, landmarks: f.landmarks.map(back))
        }
    }

    /// The image scaled to fit `size`×`size` with its aspect ratio kept (area averaging when shrinking), centred,
    /// the border black; NHWC `[1, size, size, 3]` in [−1, 1]. Returns the scale and the left/top padding in input
    /// pixels: input = image·scale + pad.
    public static func letterbox(_ rgb: Tensor, size: Int) -> (Tensor, scale: Float, padX: Float, padY: Float) {
        let (h, w) = (rgb.shape[1], rgb.shape[2])
        let scale = Float(size) / Float(max(h, w))
        let sh = max(1, min(size, Int((Float(h) * scale).rounded()))), sw = max(1, min(size, Int((Float(w) * scale).rounded())))
        let resized = scale < 1 ? Preprocessing.resizeArea(rgb, to: (sh, sw)) : Preprocessing.resize(rgb, to: (sh, sw))
        let top = (size - sh) / 2, left = (size - sw) / 2
        let out = Tensor(shape: [1, size, size, 3]) { o in
            for i in 0..<(size * size * 3) { o[i] = -1 }
            resized.withUnsafeBufferPointer { src in
                for y in 0..<sh {
                    for x in 0..<sw {
                        for c in 0..<3 { o[((top + y) * size + left + x) * 3 + c] = src[(c * sh + y) * sw + x] * (2 / 255) - 1 }
                    }
                }
            }
        }
        return (out, Float(sw) / Float(w), Float(left), Float(top))
    }

    /// Decodes the network's outputs (MediaPipe's `TensorsToDetectionsCalculator`, x/y/w/h order, scales 128):
    /// centre = raw/128·anchor size + anchor centre, size = raw/128·anchor size, keypoints like the centre; score
    /// σ(clamp(raw, ±100)); then weighted NMS. Coordinates relative to the input (0…1).
    public func decode(regressors: Tensor, scores: Tensor) throws -> [Face] {
        let count = anchors.count
        guard regressors.count == count * 16, scores.count == count else {
            throw ConvKitError.invalidArgument(name: "BlazeFace outputs", expected: "\(count)×16 regressors and \(count) scores",
                                               found: "\(regressors.shape) and \(scores.shape)")
        }
        let r = regressors.scalars, s = scores.scalars
        let n = Float(Self.inputSize)
        var faces = [Face]()
        for i in 0..<count {
            let score = 1 / (1 + exp(-min(max(s[i], -100), 100)))
            guard score >= scoreThreshold else { continue }
            let a = anchors[i], v = r[(i * 16)..<(i * 16 + 16)].map { $0 / n }
            let cx = v[0] * a.w + a.x, cy = v[1] * a.h + a.y
            let bw = v[2] * a.w, bh = v[3] * a.h
            let keypoints = (0..<6).map { k in [v[4 + 2 * k] * a.w + a.x, v[5 + 2 * k] * a.h + a.y] }
            faces.append(Face(box: [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], score: score, landmarks: keypoints))
        }
        return Self.weightedNMS(faces, threshold: suppressionThreshold)
    }

    /// MediaPipe's weighted non-maximum suppression: take the best remaining detection, gather every remaining one
    /// whose IoU with it exceeds `threshold` (itself included), and replace them by their score-weighted mean box
    /// and keypoints, keeping the best score.
    public static func weightedNMS(_ faces: [Face], threshold: Float) -> [Face] {
        var remaining = faces.sorted { $0.score > $1.score }
        var out = [Face]()
        while let best = remaining.first {
            var merged = [Face](), rest = [Face]()
            for f in remaining {
                if BoxOverlap.iou(f.box, best.box) > threshold { merged.append(f) } else { rest.append(f) }
            }
            if merged.isEmpty { merged = [best]; rest.removeFirst() }
            let total = merged.reduce(Float(0)) { $0 + $1.score }
            var box = [Float](repeating: 0, count: 4)
            var points = best.landmarks.map { $0.map { _ in Float(0) } }
            for f in merged {
                let wgt = f.score / total
                for k in 0..<4 { box[k] += f.box[k] * wgt }
                for (p, q) in f.landmarks.enumerated() { for d in 0..<q.count { points[p][d] += q[d] * wgt } }
            }
            out.append(Face(box: box, score: best.score, landmarks: points))
            remaining = rest
        }
        return out
    }
}
