import ConvKit
import ConvKitData
import Foundation

/// R-CNN (Girshick et al. 2014) in its plain form, as the notes' §3.10 sketches it: selective-search proposals,
/// each warped to the classifier's input and classified into the C classes or background (label C), then
/// per-class NMS. Training crops are proposals (and the ground-truth boxes themselves) labelled with the class of
/// the object they overlap with IoU ≥ `positiveIoU`, background below `negativeIoU`; others are not used.
public struct RCNN {
    public var inputSize = (h: 28, w: 28)
    public var positiveIoU: Float = 0.5, negativeIoU: Float = 0.3
    public var proposalsPerImage = 300
    public var backgroundPerImage = 12
    public init() {}

    /// The crop of `box` (pixels, clamped to the image, at least 1×1) warped to the classifier's input.
    public func warp(_ image: Tensor, _ box: (Float, Float, Float, Float)) -> Tensor {
        let (h, w) = (image.shape[1], image.shape[2])
        let x1 = Swift.min(w - 1, Swift.max(0, Int(box.0.rounded(.down)))), y1 = Swift.min(h - 1, Swift.max(0, Int(box.1.rounded(.down))))
        let x2 = Swift.max(x1 + 1, Swift.min(w, Int(box.2.rounded(.up)))), y2 = Swift.max(y1 + 1, Swift.min(h, Int(box.3.rounded(.up))))
        return SlidingWindows.resize(image.slice(axis: 1, y1..<y2).slice(axis: 2, x1..<x2), (inputSize.h, inputSize.w))
    }

    /// Labelled, warped training crops (pixels 0…255) of a set with its proposals; labels 0…C−1, background C.
    public func trainingCrops(_ set: DetectionDataset, proposals: [BoxSet], seed: UInt64) throws -> LabeledImages {
        let classes = set.classNames.count
        var rng = SeededGenerator(seed: seed)
        var crops = [Tensor](), labels = [Int]()
        for (s, p) in zip(set.samples, proposals) {
            let candidates = s.boxes.appending(p.gathered(Array(0..<Swift.min(proposalsPerImage, p.count))))
            let iou = s.boxes.isEmpty ? Tensor.zeros([0, candidates.count]) : BoxOverlap.iou(candidates, s.boxes)
            var background = [Int]()
            for i in 0..<candidates.count {
                var best: Float = 0, bj = -1
                for j in 0..<s.boxes.count where iou.scalars[i * s.boxes.count + j] > best { best = iou.scalars[i * s.boxes.count + j]; bj = j }
                if best >= positiveIoU { crops.append(warp(s.image, candidates[i])); labels.append(s.classes[bj]) }
                else if best < negativeIoU { background.append(i) }
            }
            for _ in 0..<Swift.min(backgroundPerImage, background.count) {
                let k = Int(rng.next() % UInt64(background.count))
                crops.append(warp(s.image, candidates[background.remove(at: k)])); labels.append(classes)
            }
        }
        guard !crops.isEmpty else {
            throw ConvKitError.invalidArgument(name: "R-CNN training set", expected: "objects or proposals to cut crops from", found: "none in \(set.count) images")
        }
        return try LabeledImages(images: Tensor.stack(crops, axis: 0), labels: labels, classNames: set.classNames + ["background"])
    }

    /// Detections of one image: every proposal classified, score = the best non-background probability,
    /// per-class NMS at `iouThreshold`. `prepare` maps a warped crop (0…255) to the classifier's input.
    public func detect(_ classifier: any UnaryLayer, image: Tensor, proposals: BoxSet, classes: Int, prepare: (Tensor) -> Tensor,
                       iouThreshold: Double = 0.3, maxDetections: Int = 100) -> YOLOCodec.Detections {
        let top = proposals.gathered(Array(0..<Swift.min(proposalsPerImage, proposals.count)))
        guard !top.isEmpty else { return YOLOCodec.Detections(boxes: .empty(), scores: [], classes: []) }
        let logits = classifier.predict(Tensor.stack((0..<top.count).map { prepare(warp(image, top[$0])) }, axis: 0))
        let p = logits.softmax(axis: 1)
        var scores = [Float](), cls = [Int]()
        for i in 0..<top.count {
            var best = 0
            for c in 1..<classes where p[i, c] > p[i, best] { best = c }
            scores.append(p[i, best]); cls.append(best)
        }
        let keep = NMS.batched(top, scores: scores, classes: cls, iouThreshold: iouThreshold, maxOutputs: maxDetections)
        return YOLOCodec.Detections(boxes: top.gathered(keep), scores: keep.map { scores[$0] }, classes: keep.map { cls[$0] })
    }
}
