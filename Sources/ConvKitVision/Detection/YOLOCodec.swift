import ConvKit
import Foundation

/// YOLO v2 target encoding and output decoding for an S_h × S_w grid with B anchors and C classes.
///
/// Output layout of one image: `[B·(5+C), S_h, S_w]`, anchor-major: channels a·(5+C) + (t_x, t_y, t_w, t_h, t_o,
/// c_1…c_C). With σ the logistic function and (col, row) the cell:
///   b_x = (col + σ(t_x)) / S_w,  b_y = (row + σ(t_y)) / S_h,  b_w = a_w·e^{t_w},  b_h = a_h·e^{t_h}
/// (fractions of the image; b_w, b_h may exceed 1), objectness σ(t_o), class probabilities softmax(c).
public struct YOLOCodec: Equatable {
    public let rows: Int, cols: Int
    /// (w, h) of each anchor as fractions of the image.
    public let anchors: [(w: Float, h: Float)]
    public let classes: Int
    public var channelsPerAnchor: Int { 5 + classes }
    public var channels: Int { anchors.count * channelsPerAnchor }

    public init(rows: Int, cols: Int, anchors: [(w: Float, h: Float)], classes: Int) {
        precondition(rows > 0 && cols > 0 && !anchors.isEmpty && classes > 0, "a YOLO grid needs cells, anchors and classes")
        self.rows = rows; self.cols = cols; self.anchors = anchors; self.classes = classes
    }

    public static func == (a: YOLOCodec, b: YOLOCodec) -> Bool {
        a.rows == b.rows && a.cols == b.cols && a.classes == b.classes && a.anchors.map(\.w) == b.anchors.map(\.w) && a.anchors.map(\.h) == b.anchors.map(\.h)
    }

    /// One object given to one (cell, anchor): the regression targets t* and the class.
    public struct Assignment: Equatable {
        public var row: Int, col: Int, anchor: Int
        /// Index of the object in the image's box list.
        public var object: Int
        /// t*_x, t*_y ∈ [0, 1): the midpoint's offset inside the cell; t*_w = log(b_w / a_w), t*_h = log(b_h / a_h).
        public var tx: Float, ty: Float, tw: Float, th: Float
        public var classIndex: Int
    }

    /// The encoded ground truth of one image.
    public struct Targets: Equatable {
        public var assignments: [Assignment]
        /// The image's boxes, normalized xyxy (for the no-object ignore test).
        public var boxes: BoxSet
        /// Objects that found their best anchor taken and went to the next free anchor of their cell.
        public var reassigned: Int
        /// Objects whose cell had no free anchor left: not trained on.
        public var dropped: Int
    }

    /// Encodes one image's objects (boxes normalized to the image, any format).
    ///
    /// Each object goes to the cell holding its midpoint and to the anchor of highest shape IoU with it (ties:
    /// the lower anchor index). Collisions are settled deterministically: objects are placed largest first (ties:
    /// the lower object index); an object whose anchor is taken takes the next-best free anchor of the same cell
    /// (`reassigned`), and an object that finds every anchor of its cell taken is `dropped`.
    public func encode(boxes: BoxSet, classes objectClasses: [Int]) -> Targets {
        precondition(boxes.units == .normalized, "YOLO targets take normalized boxes")
        precondition(boxes.count == objectClasses.count, "\(boxes.count) boxes with \(objectClasses.count) classes")
        let c = boxes.converted(to: .cxcywh)
        let order = (0..<c.count).sorted { a, b in
            let (aa, ab) = (c[a].2 * c[a].3, c[b].2 * c[b].3)
            return aa > ab || (aa == ab && a < b)
        }
        var taken = Set<Int>(), out = [Assignment](), reassigned = 0, dropped = 0
        for i in order {
            let (cx, cy, w, h) = c[i]
            guard w > 0, h > 0 else { dropped += 1; continue }
            let col = Swift.min(cols - 1, Swift.max(0, Int((cx * Float(cols)).rounded(.down))))
            let row = Swift.min(rows - 1, Swift.max(0, Int((cy * Float(rows)).rounded(.down))))
            let ranked = anchors.indices.sorted { a, b in
                let (ia, ib) = (BoxOverlap.shapeIoU(w, h, anchors[a].w, anchors[a].h), BoxOverlap.shapeIoU(w, h, anchors[b].w, anchors[b].h))
                return ia > ib || (ia == ib && a < b)
            }
            guard let a = ranked.first(where: { !taken.contains((row * cols + col) * anchors.count + $0) }) else { dropped += 1; continue }
            if a != ranked[0] { reassigned += 1 }
            taken.insert((row * cols + col) * anchors.count + a)
            out.append(Assignment(row: row, col: col, anchor: a, object: i, tx: cx * Float(cols) - Float(col), ty: cy * Float(rows) - Float(row),
                                  tw: Foundation.log(w / anchors[a].w), th: Foundation.log(h / anchors[a].h), classIndex: objectClasses[i]))
        }
        return Targets(assignments: out, boxes: boxes.xyxy, reassigned: reassigned, dropped: dropped)
    }

    /// Detections of one image: boxes normalized xyxy, score = objectness · class probability, class index.
    public struct Detections {
        public var boxes: BoxSet
        public var scores: [Float]
        public var classes: [Int]
        public var count: Int { scores.count }
    }

    /// The predicted box of (anchor a, row, col) from the raw output of one image, normalized xyxy.
    @inline(__always) func box(_ o: UnsafeBufferPointer<Float>, a: Int, row: Int, col: Int) -> (Float, Float, Float, Float) {
        let plane = rows * cols, base = a * channelsPerAnchor * plane + row * cols + col
        let cx = (Float(col) + sigmoid(o[base])) / Float(cols), cy = (Float(row) + sigmoid(o[base + plane])) / Float(rows)
        let w = anchors[a].w * Foundation.exp(Swift.min(o[base + 2 * plane], 20)), h = anchors[a].h * Foundation.exp(Swift.min(o[base + 3 * plane], 20))
        return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    }

    /// Decodes one image's output `[B·(5+C), S_h, S_w]`: every (cell, anchor) whose best score is above
    /// `scoreThreshold`, then per-class NMS, at most `maxDetections`, in score order.
    public func decode(_ output: Tensor, scoreThreshold: Float = 0.01, iouThreshold: Double = 0.5, maxDetections: Int = 100) -> Detections {
        precondition(output.shape == [channels, rows, cols], "YOLO output \(output.shape), expected \([channels, rows, cols])")
        var coords = [Float](), scores = [Float](), cls = [Int]()
        let plane = rows * cols
        output.withUnsafeBufferPointer { o in
            for a in anchors.indices {
                for row in 0..<rows {
                    for col in 0..<cols {
                        let base = a * channelsPerAnchor * plane + row * cols + col
                        let obj = sigmoid(o[base + 4 * plane])
                        if obj <= scoreThreshold { continue }
                        var best = 0, maxLogit = -Float.infinity
                        for k in 0..<classes where o[base + (5 + k) * plane] > maxLogit { maxLogit = o[base + (5 + k) * plane]; best = k }
                        var denom: Float = 0
                        for k in 0..<classes { denom += Foundation.exp(o[base + (5 + k) * plane] - maxLogit) }
                        let score = obj / denom
                        if score <= scoreThreshold { continue }
                        let b = box(o, a: a, row: row, col: col)
                        coords += [b.0, b.1, b.2, b.3]; scores.append(score); cls.append(best)
                    }
                }
            }
        }
        let all = BoxSet(coords, format: .xyxy, units: .normalized)
        let keep = NMS.batched(all, scores: scores, classes: cls, iouThreshold: iouThreshold, maxOutputs: maxDetections)
        return Detections(boxes: all.gathered(keep), scores: keep.map { scores[$0] }, classes: keep.map { cls[$0] })
    }
}

@inline(__always) func sigmoid(_ x: Float) -> Float { x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x)) }

/// log(1 + e^x) without overflow.
@inline(__always) func softplus(_ x: Float) -> Float { Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x))) }
