import ConvKit
import ConvKitData
import Foundation

/// A detected face: box in pixel coordinates (x1, y1, x2, y2 with x2, y2 exclusive: the box covers
/// [x1, x2) × [y1, y2)), the final stage's face probability, and five landmarks (left eye, right eye, nose,
/// left and right mouth corner) as (x, y) pixel positions.
public struct Face: Equatable, Sendable {
    public var box: [Float]
    public var score: Float
    public var landmarks: [[Float]]

    public init(box: [Float], score: Float, landmarks: [[Float]]) { self.box = box; self.score = score; self.landmarks = landmarks }
}

/// The MTCNN cascade (Zhang et al. 2016) with the original's pretrained weights.
///  1. An image pyramid: scales m·fᵏ with m = 12 / minFaceSize and f = `scaleFactor`, while the shorter side
///     times the scale is ≥ 12 (each level area-resized); P-Net runs fully convolutionally on each level, every
///     output cell with face probability ≥ t₁ proposes the 12×12 window at stride 2 mapped back by 1/scale;
///     NMS (IoU 0.5) per scale, then (0.7) across scales; boxes move by the regression (Δ·[w, h, w, h]) and
///     are squared about their centers.
///  2. Each candidate is cut from the image (parts outside it zero-filled, as the reference does), area-resized
///     to 24×24 and scored by R-Net: keep ≥ t₂, NMS 0.7, regress, square.
///  3. The same at 48×48 with O-Net: keep ≥ t₃, landmarks from its fractions of the box, regress, then NMS by
///     intersection over the smaller box (0.7), which removes boxes nested in a face.
/// Box arithmetic follows the reference's 1-based inclusive pixel convention internally; results are converted
/// to `Face`'s 0-based half-open boxes.
public final class MTCNN {
    public let pnet: PNet
    public let rnet: RNet
    public let onet: ONet
    public var minFaceSize: Float = 20
    public var scaleFactor: Float = 0.709
    /// Probability thresholds of P-Net, R-Net, O-Net.
    public var thresholds: [Float] = [0.6, 0.7, 0.7]

    public init(pnet: PNet, rnet: RNet, onet: ONet) { self.pnet = pnet; self.rnet = rnet; self.onet = onet }

    /// Loads `pnet.npz`, `rnet.npz`, `onet.npz` from `directory`.
    public convenience init(directory: String) throws {
        func weights(_ n: String) throws -> ([String: Tensor], String) {
            let path = directory + "/\(n).npz"
            guard FileManager.default.fileExists(atPath: path) else { throw ConvKitError.io(path: path, reason: "no MTCNN weights here") }
            return (try NumPy.loadArchive(path), path)
        }
        let (p, pp) = try weights("pnet"), (r, rp) = try weights("rnet"), (o, op) = try weights("onet")
        self.init(pnet: try PNet(weights: p, file: pp), rnet: try RNet(weights: r, file: rp), onet: try ONet(weights: o, file: op))
    }

    /// The weights bundled in the repository (Data/models/mtcnn).
    public static func bundled() throws -> MTCNN {
        guard let data = Datasets.bundledDataDirectory() else {
            throw ConvKitError.io(path: "Data/models/mtcnn", reason: "bundled data not found; run from the repository or pass the weights folder")
        }
        return try MTCNN(directory: data + "/models/mtcnn")
    }

    /// `(pixel − 127.5) / 128`.
    static func normalized(_ x: Tensor) -> Tensor { (x - 127.5) * 0.0078125 }

    /// Faces in `image` (`[C, H, W]`, values 0…255; gray or RGBA are converted to RGB), best first.
    public func detect(_ image: Tensor) throws -> [Face] {
        guard image.rank == 3, image.shape[1] >= 1, image.shape[2] >= 1 else {
            throw ConvKitError.shapeMismatch(expected: "an image [C, H, W]", found: "\(image.shape)")
        }
        guard thresholds.count == 3, thresholds.allSatisfy({ $0.isFinite }), minFaceSize >= 12, scaleFactor > 0, scaleFactor < 1 else {
            throw ConvKitError.invalidArgument(name: "MTCNN settings", expected: "3 finite thresholds, minFaceSize ≥ 12, 0 < scaleFactor < 1",
                                               found: "\(thresholds), \(minFaceSize), \(scaleFactor)")
        }
        let rgb = Preprocessing.matchChannels(image, 3)
        return Autograd.withoutGradients {
            var c = proposals(rgb)
            if !c.isEmpty { c = refine(rgb, c) }
            return c.isEmpty ? [] : output(rgb, c)
        }
    }

    /// A candidate: box (1-based inclusive pixels), score, and the regression to apply.
    struct Candidate { var box: [Float]; var score: Float; var regression: [Float] }

    /// The pyramid's scales for an image whose shorter side is `shorter`.
    public func scales(shorterSide: Int) -> [Float] {
        var out = [Float](), scale = 12 / minFaceSize, side = Float(shorterSide) * scale
        while side >= 12 { out.append(scale); scale *= scaleFactor; side *= scaleFactor }
        return out
    }

    func proposals(_ image: Tensor) -> [Candidate] {
        let (h, w) = (image.shape[1], image.shape[2])
        var all = [Candidate]()
        for s in scales(shorterSide: min(h, w)) {
            let hs = Int(Float(h) * s + 1), ws = Int(Float(w) * s + 1)
            guard hs >= 12, ws >= 12 else { continue }
            let level = Self.normalized(Preprocessing.resizeArea(image, to: (hs, ws)))
            let (reg, prob) = pnet(Variable(level.unsqueezed(axis: 0)))
            let (oh, ow) = (prob.shape[2], prob.shape[3]), plane = oh * ow
            var found = [Candidate]()
            prob.value.withUnsafeBufferPointer { p in reg.value.withUnsafeBufferPointer { r in
                for i in 0..<plane where p[plane + i] >= thresholds[0] {
                    let y = Float(i / ow), x = Float(i % ow)
                    let box = [((2 * x + 1) / s).rounded(.down), ((2 * y + 1) / s).rounded(.down),
                               ((2 * x + 12) / s).rounded(.down), ((2 * y + 12) / s).rounded(.down)]
                    found.append(Candidate(box: box, score: p[plane + i], regression: (0..<4).map { r[$0 * plane + i] }))
                }
            } }
            all += suppress(found, threshold: 0.5)
        }
        all = suppress(all, threshold: 0.7)
        return all.map { c in
            // Stage 1 regresses by the width without the +1 (as the reference implementations do).
            let bw = c.box[2] - c.box[0], bh = c.box[3] - c.box[1]
            let moved = [c.box[0] + c.regression[0] * bw, c.box[1] + c.regression[1] * bh, c.box[2] + c.regression[2] * bw, c.box[3] + c.regression[3] * bh]
            return Candidate(box: Self.squared(moved), score: c.score, regression: [0, 0, 0, 0])
        }
    }

    func refine(_ image: Tensor, _ candidates: [Candidate]) -> [Candidate] {
        let crops = Tensor.stack(candidates.map { Self.crop(image, $0.box, size: 24) }, axis: 0)
        let (reg, prob) = rnet(Variable(Self.normalized(crops)))
        var kept = [Candidate]()
        for (i, c) in candidates.enumerated() where prob.value.scalars[i * 2 + 1] >= thresholds[1] {
            kept.append(Candidate(box: c.box, score: prob.value.scalars[i * 2 + 1], regression: Array(reg.value.scalars[(i * 4)..<(i * 4 + 4)])))
        }
        return suppress(kept, threshold: 0.7).map { Candidate(box: Self.squared(Self.regressed($0.box, $0.regression)), score: $0.score, regression: [0, 0, 0, 0]) }
    }

    func output(_ image: Tensor, _ candidates: [Candidate]) -> [Face] {
        let crops = Tensor.stack(candidates.map { Self.crop(image, $0.box, size: 48) }, axis: 0)
        let (reg, marks, prob) = onet(Variable(Self.normalized(crops)))
        var faces = [(Candidate, [[Float]])]()
        for (i, c) in candidates.enumerated() where prob.value.scalars[i * 2 + 1] >= thresholds[2] {
            let bw = c.box[2] - c.box[0] + 1, bh = c.box[3] - c.box[1] + 1
            let m = Array(marks.value.scalars[(i * 10)..<(i * 10 + 10)])
            // Landmark fractions of the (1-based) box → 0-based pixel positions, as the reference reports them.
            let points = (0..<5).map { k in [bw * m[k] + c.box[0] - 1, bh * m[5 + k] + c.box[1] - 1] }
            let moved = Self.regressed(c.box, Array(reg.value.scalars[(i * 4)..<(i * 4 + 4)]))
            faces.append((Candidate(box: moved, score: prob.value.scalars[i * 2 + 1], regression: [0, 0, 0, 0]), points))
        }
        let keep = Self.suppressByMinimum(faces.map(\.0), threshold: 0.7)
        return keep.map { i in
            let (c, points) = faces[i]
            return Face(box: [c.box[0] - 1, c.box[1] - 1, c.box[2], c.box[3]], score: c.score, landmarks: points)
        }
    }

    /// Greedy NMS by IoU (the detection module's), kept in score order.
    func suppress(_ c: [Candidate], threshold: Double) -> [Candidate] {
        guard c.count > 1 else { return c }
        let boxes = BoxSet(c.flatMap { [$0.box[0] - 1, $0.box[1] - 1, $0.box[2], $0.box[3]] })
        return NMS.greedy(boxes, scores: c.map(\.score), iouThreshold: threshold).map { c[$0] }
    }

    /// Greedy NMS by intersection over the smaller area (the reference's "Min" mode); indices in score order.
    static func suppressByMinimum(_ c: [Candidate], threshold: Float) -> [Int] {
        let order = c.indices.sorted { c[$0].score > c[$1].score }
        func area(_ b: [Float]) -> Float { (b[2] - b[0] + 1) * (b[3] - b[1] + 1) }
        var kept = [Int]()
        for i in order {
            let a = c[i].box
            let overlaps = kept.contains { j in
                let b = c[j].box
                let iw = max(0, min(a[2], b[2]) - max(a[0], b[0]) + 1), ih = max(0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
                return iw * ih / min(area(a), area(b)) > threshold
            }
            if !overlaps { kept.append(i) }
        }
        return kept
    }

    /// box + Δ·[w, h, w, h] with the inclusive width w = x2 − x1 + 1.
    static func regressed(_ b: [Float], _ d: [Float]) -> [Float] {
        let w = b[2] - b[0] + 1, h = b[3] - b[1] + 1
        return [b[0] + d[0] * w, b[1] + d[1] * h, b[2] + d[2] * w, b[3] + d[3] * h]
    }

    /// The square of side max(w, h) with the same center (w = x2 − x1).
    static func squared(_ b: [Float]) -> [Float] {
        let w = b[2] - b[0], h = b[3] - b[1], l = max(w, h)
        let x1 = b[0] + w * 0.5 - l * 0.5, y1 = b[1] + h * 0.5 - l * 0.5
        return [x1, y1, x1 + l, y1 + l]
    }

    /// The box's pixels (1-based inclusive, truncated to integers) as a `[3, size, size]` area-resized crop;
    /// pixels outside the image are zero.
    static func crop(_ image: Tensor, _ box: [Float], size: Int) -> Tensor {
        let (h, w) = (image.shape[1], image.shape[2])
        // A box from a non-finite image (NaN pixels passed to the API) must not reach Int(·), which traps.
        guard box.allSatisfy({ $0.isFinite && Swift.abs($0) < 1e7 }) else { return .zeros([3, size, size]) }
        let x1 = Int(box[0]), y1 = Int(box[1]), x2 = Int(box[2]), y2 = Int(box[3])
        let cw = max(1, x2 - x1 + 1), ch = max(1, y2 - y1 + 1)
        guard cw <= 8 * 4096, ch <= 8 * 4096 else { return .zeros([3, size, size]) }
        var patch = Tensor.zeros([3, ch, cw])
        patch.withUnsafeMutableBufferPointer { dst in image.withUnsafeBufferPointer { src in
            for c in 0..<3 {
                for py in 0..<ch {
                    let iy = y1 - 1 + py
                    guard iy >= 0, iy < h else { continue }
                    let lo = max(0, 1 - x1), hi = min(cw, w - x1 + 1)
                    guard lo < hi else { continue }
                    for px in lo..<hi { dst[(c * ch + py) * cw + px] = src[(c * h + iy) * w + (x1 - 1 + px)] }
                }
            }
        } }
        return Preprocessing.resizeArea(patch, to: (size, size))
    }
}
