import Foundation

/// Segmentation scores from confusion matrices, with the choices that differ between libraries made explicit.
public struct SegmentationMetrics {
    /// How a class that appears neither in the ground truth nor in the prediction counts in a mean.
    public enum EmptyClass: Equatable { case excluded, countsAsOne }
    /// Whether mIoU / mean Dice average over one confusion matrix of the whole dataset or over images.
    public enum Reduction: Equatable { case dataset, perImage }

    public let classes: Int
    public var ignoreIndex: Int32?
    public var includeBackground = true
    public var emptyClass = EmptyClass.excluded
    public var reduction = Reduction.dataset
    /// The dataset's confusion matrix, [true][predicted].
    public private(set) var confusion: [[Int]]
    var perImage: [[[Int]]] = []

    public init(classes: Int, ignoreIndex: Int32? = nil) {
        self.classes = classes; self.ignoreIndex = ignoreIndex
        confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
    }

    /// Adds one image: predicted and true class per pixel (same length); ignored pixels skipped.
    public mutating func add(predicted: [Int32], truth: [Int32]) {
        precondition(predicted.count == truth.count, "\(predicted.count) predictions for \(truth.count) pixels")
        var m = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (p, t) in zip(predicted, truth) {
            if let ig = ignoreIndex, t == ig { continue }
            m[Int(t)][Int(p)] += 1
        }
        for i in 0..<classes { for j in 0..<classes { confusion[i][j] += m[i][j] } }
        perImage.append(m)
    }

    /// Correct pixels over counted pixels.
    public var pixelAccuracy: Double {
        let total = confusion.joined().reduce(0, +)
        return total == 0 ? 0 : Double((0..<classes).reduce(0) { $0 + confusion[$1][$1] }) / Double(total)
    }

    /// IoU_c = TP / (TP + FP + FN); nil for a class absent from truth and prediction.
    public static func iou(_ m: [[Int]]) -> [Double?] {
        (0..<m.count).map { c in
            let tp = m[c][c], fn = m[c].reduce(0, +) - tp, fp = m.reduce(0) { $0 + $1[c] } - tp
            return tp + fp + fn == 0 ? nil : Double(tp) / Double(tp + fp + fn)
        }
    }

    /// Dice_c = 2TP / (2TP + FP + FN); nil for an empty class.
    public static func dice(_ m: [[Int]]) -> [Double?] {
        (0..<m.count).map { c in
            let tp = m[c][c], fn = m[c].reduce(0, +) - tp, fp = m.reduce(0) { $0 + $1[c] } - tp
            return 2 * tp + fp + fn == 0 ? nil : 2 * Double(tp) / Double(2 * tp + fp + fn)
        }
    }

    /// Per-class IoU over the dataset.
    public var classIoU: [Double?] { Self.iou(confusion) }

    func mean(_ values: [Double?]) -> Double {
        let v = values.enumerated().filter { includeBackground || $0.offset != 0 }.compactMap { $0.element ?? (emptyClass == .countsAsOne ? 1 : nil) }
        return v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count)
    }

    /// Mean IoU under the chosen background, empty-class and reduction policies.
    public var meanIoU: Double { reduction == .dataset ? mean(classIoU) : perImage.map { mean(Self.iou($0)) }.reduce(0, +) / Double(Swift.max(1, perImage.count)) }

    /// Mean Dice under the same policies.
    public var meanDice: Double { reduction == .dataset ? mean(Self.dice(confusion)) : perImage.map { mean(Self.dice($0)) }.reduce(0, +) / Double(Swift.max(1, perImage.count)) }
}
