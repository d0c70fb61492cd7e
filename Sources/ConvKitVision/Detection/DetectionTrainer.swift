import ConvKit
import ConvKitData
import Foundation

/// Trains and runs a YOLO-style detector on a `DetectionDataset`: batching and normalization, optional random
/// translation, the YOLO loss, prediction in pixels, and COCO evaluation.
public final class DetectionTrainer {
    public let model: any UnaryLayer
    public let codec: YOLOCodec
    public var loss = YOLOLoss()
    /// Per-channel statistics applied after scaling pixels to [0, 1].
    public let mean: [Float], std: [Float]
    /// The input [C, H, W] images are resized to (boxes are normalized, so they follow).
    public let inputShape: [Int]

    public init(model: any UnaryLayer, codec: YOLOCodec, inputShape: [Int], mean: [Float], std: [Float]) {
        self.model = model; self.codec = codec; self.inputShape = inputShape; self.mean = mean; self.std = std
    }

    /// One raw image [C, H, W] (0…255) → the model's input.
    public func prepare(_ raw: Tensor) -> Tensor {
        var t = Preprocessing.matchChannels(raw, inputShape[0])
        if t.shape[1] != inputShape[1] || t.shape[2] != inputShape[2] { t = Preprocessing.resize(t, to: (inputShape[1], inputShape[2])) }
        return Preprocessing.standardize(Preprocessing.scaleToUnit(t), mean: mean, std: std)
    }

    func batchTensor(_ images: [Tensor]) -> Tensor {
        Tensor.stack(images, axis: 0)
    }

    /// Shifts the image by (dx, dy) pixels (zero fill) and its boxes with it; boxes that keep less than 60 % of
    /// their area inside the image are dropped.
    static func translate(_ s: DetectionSample, dx: Int, dy: Int) -> DetectionSample {
        let (c, h, w) = (s.image.shape[0], s.height, s.width)
        let img = Tensor(shape: s.image.shape) { o in
            for ch in 0..<c { for y in 0..<h { for x in 0..<w {
                let sx = x - dx, sy = y - dy
                o[(ch * h + y) * w + x] = sx >= 0 && sx < w && sy >= 0 && sy < h ? s.image.scalars[(ch * h + sy) * w + sx] : 0
            } } }
        }
        let moved = BoxSet(s.boxes.coordinates.enumerated().map { $0.element + Float($0.offset % 2 == 0 ? dx : dy) })
        let clipped = moved.clipped(width: Float(w), height: Float(h))
        let before = moved.areas, after = clipped.areas
        let keep = (0..<moved.count).filter { after[$0] >= 0.6 * before[$0] && after[$0] > 0 }
        return DetectionSample(image: img, boxes: clipped.gathered(keep), classes: keep.map { s.classes[$0] }, name: s.name)
    }

    /// Loss statistics of one epoch.
    public struct EpochStats { public var epoch: Int, loss: Double, parts: YOLOLoss.Parts, learningRate: Float, seconds: Double, reassigned: Int, dropped: Int }

    /// Trains for `epochs` over `train` (shuffled with `seed`); `translate` shifts each image by up to that many
    /// pixels in x and y with probability ½.
    public func fit(train: DetectionDataset, epochs: Int, batchSize: Int, optimizer: Optimizer, schedule: LearningRateSchedule, baseLR: Float,
                    seed: UInt64, translate maxShift: Int = 0,
                    progress: (_ epoch: Int, _ batch: Int, _ batches: Int, _ loss: Float) -> Void = { _, _, _, _ in },
                    epochEnd: (EpochStats) -> Void = { _ in }) {
        var rng = SeededGenerator(seed: seed)
        let batches = (train.count + batchSize - 1) / batchSize
        for epoch in 0..<epochs {
            let start = Date()
            let lr = schedule.rate(at: epoch, base: baseLR)
            optimizer.setLearningRate(lr)
            model.train()
            let order = Tensor.permutation(train.count, rng: &rng)
            var total = 0.0, parts = YOLOLoss.Parts(), reassigned = 0, dropped = 0
            for b in 0..<batches {
                let idx = Array(order[(b * batchSize)..<Swift.min(train.count, (b + 1) * batchSize)])
                var samples = idx.map { train.samples[$0] }
                if maxShift > 0 {
                    samples = samples.map { s in
                        guard rng.next() % 2 == 0 else { return s }
                        let dx = Int(rng.next() % UInt64(2 * maxShift + 1)) - maxShift, dy = Int(rng.next() % UInt64(2 * maxShift + 1)) - maxShift
                        return Self.translate(s, dx: dx, dy: dy)
                    }
                }
                let x = batchTensor(samples.map { prepare($0.image) })
                let targets = samples.map { codec.encode(boxes: $0.boxes.normalized(width: Float($0.width), height: Float($0.height)), classes: $0.classes) }
                reassigned += targets.reduce(0) { $0 + $1.reassigned }; dropped += targets.reduce(0) { $0 + $1.dropped }
                optimizer.zeroGrad()
                let (l, p) = loss(model(Variable(x)), targets: targets, codec: codec)
                l.backward()
                optimizer.step()
                total += Double(l.value.scalar)
                parts.coordinate += p.coordinate; parts.objectness += p.objectness; parts.noObject += p.noObject; parts.classification += p.classification
                progress(epoch, b + 1, batches, Float(total / Double(b + 1)))
            }
            let nb = Double(batches)
            parts = YOLOLoss.Parts(coordinate: parts.coordinate / nb, objectness: parts.objectness / nb, noObject: parts.noObject / nb, classification: parts.classification / nb)
            epochEnd(EpochStats(epoch: epoch, loss: total / nb, parts: parts, learningRate: lr, seconds: Date().timeIntervalSince(start),
                                reassigned: reassigned, dropped: dropped))
        }
    }

    /// Detections in pixels of each image's own size.
    public func predict(_ images: [Tensor], scoreThreshold: Float = 0.01, iouThreshold: Double = 0.5, maxDetections: Int = 100,
                        batchSize: Int = 64) -> [YOLOCodec.Detections] {
        model.eval()
        var out = [YOLOCodec.Detections]()
        for start in stride(from: 0, to: images.count, by: batchSize) {
            let chunk = Array(images[start..<Swift.min(images.count, start + batchSize)])
            let y = model.predict(batchTensor(chunk.map(prepare)))
            let per = y.count / chunk.count
            for (i, img) in chunk.enumerated() {
                let one = Tensor(shape: Array(y.shape[1...]), scalars: Array(y.scalars[i * per..<(i + 1) * per]))
                var d = codec.decode(one, scoreThreshold: scoreThreshold, iouThreshold: iouThreshold, maxDetections: maxDetections)
                d.boxes = d.boxes.inPixels(width: Float(img.shape[2]), height: Float(img.shape[1]))
                out.append(d)
            }
        }
        return out
    }

    /// COCO evaluation on a set: its ground truth against this model's detections (image ids 1…N, category = class + 1).
    public func evaluate(_ set: DetectionDataset) throws -> (result: COCOEvaluator.Result, detections: [YOLOCodec.Detections]) {
        let dets = predict(set.samples.map(\.image))
        let results = Self.cocoResults(dets)
        return (try COCOEvaluator().evaluate(groundTruth: set.cocoGroundTruth(), detections: results), dets)
    }

    /// Detections as COCO results (xywh pixels), image ids 1…N in order, category ids class + 1.
    public static func cocoResults(_ dets: [YOLOCodec.Detections]) -> [COCODetection] {
        var results = [COCODetection]()
        for (i, d) in dets.enumerated() {
            let b = d.boxes.converted(to: .xywh)
            for j in 0..<d.count {
                let (x, y, w, h) = b[j]
                results.append(COCODetection(imageId: i + 1, categoryId: d.classes[j] + 1, bbox: [Double(x), Double(y), Double(w), Double(h)], score: Double(d.scores[j])))
            }
        }
        return results
    }
}
