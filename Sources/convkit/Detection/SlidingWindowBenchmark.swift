import ConvKit
import ConvKitVision
import Foundation

/// `convkit bench --pipeline sliding-windows`: the notes' 14×14×3 classifier run crop by crop over every window
/// (stride 2) of a 3×SIZE×SIZE image, against the same classifier convolutionalized (one pass).
struct SlidingWindowBenchmark: Encodable {
    let pipeline: String
    let image: Int, windows: Int
    let crops_ms: Double, convolutional_ms: Double, speedup: Double

    static func run(size: Int, seconds: Double) throws -> SlidingWindowBenchmark {
        ConvKitRandom.seed(7)
        let classifier = Sequential(Conv2D(3, 16, kernel: 5, activation: .relu), MaxPool(kernel: [2]), Flatten(),
                                    Dense(16 * 5 * 5, 400, activation: .relu), Dense(400, 400, activation: .relu), Dense(400, 4), Softmax())
        classifier.eval()
        let (fcn, _) = try Convolutionalize.convert(classifier, inputShape: [3, 14, 14])
        var rng = SeededGenerator(seed: 0)
        let image = Tensor.normal([3, size, size], rng: &rng)
        var count = 0
        let crops = medianMilliseconds(seconds: seconds) { count = SlidingWindows.crops(classifier, image: image, inputSize: (14, 14), sizes: [(14, 2)]).count }
        let conv = medianMilliseconds(seconds: seconds) { _ = fcn.predict(image.unsqueezed(axis: 0)) }
        return SlidingWindowBenchmark(pipeline: "sliding-windows", image: size, windows: count, crops_ms: crops, convolutional_ms: conv, speedup: crops / conv)
    }
}
