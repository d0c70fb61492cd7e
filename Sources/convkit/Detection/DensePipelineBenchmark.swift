import ConvKit
import ConvKitModels
import ConvKitVision
import Foundation

/// `convkit bench --pipeline unet-step|style-step`: the two dense-prediction workloads of the notes, timed as
/// Benchmarks/torch_dense_steps.py times them in PyTorch (same architectures, same shapes).
///  - unet-step: one U-Net training step at [B, 3, S, S] (--batch) (depth 4, width `width`, 11 classes): forward in train
///    mode, pixel-wise cross-entropy against a fixed random mask, backward, SGD-momentum update.
///  - style-step: one style-transfer evaluation at [1, 3, S, S]: VGG-16 features to relu5_1, content cost at
///    relu4_2, Gram style costs at relu1_1…relu5_1, backward to the image (what L-BFGS calls per evaluation).
struct DensePipelineBenchmark: Encodable {
    let pipeline: String
    let size: Int
    let width: Int?
    let batch: Int
    let ms: Double

    static func run(_ pipeline: String, size: Int, width: Int, batch: Int, seconds: Double) throws -> DensePipelineBenchmark {
        ConvKitRandom.seed(3)
        var rng = SeededGenerator(seed: 5)
        switch pipeline {
        case "unet-step":
            guard size % 16 == 0 else { throw ConvKitError.invalidArgument(name: "--size", expected: "a multiple of 16 for a depth-4 U-Net", found: "\(size)") }
            let net = UNet(classes: 11, inputChannels: 3, depth: 4, width: width)
            net.train()
            let optimizer = Optimizer(.sgd(momentum: 0.9), module: net, learningRate: 0.01)
            let x = Tensor.uniform([batch, 3, size, size], rng: &rng)
            let labels = (0..<(batch * size * size)).map { _ in Int32.random(in: 0..<11, using: &rng) }
            let ms = medianMilliseconds(seconds: seconds) {
                optimizer.zeroGrad()
                let loss = SegmentationLoss.crossEntropy(net(Variable(x)), labels: labels)
                loss.backward()
                optimizer.step()
            }
            return DensePipelineBenchmark(pipeline: pipeline, size: size, width: width, batch: batch, ms: ms)
        case "style-step":
            let vgg = VGGStyleFeatures(depth: 16)
            let transfer = StyleTransfer(network: vgg, contentWeight: 1, styleWeight: 1e6)
            let content = Tensor.uniform([1, 3, size, size], rng: &rng), style = Tensor.uniform([1, 3, size, size], rng: &rng)
            let image = Tensor.uniform([1, 3, size, size], rng: &rng)
            let targets = try transfer.prepare(content: content, style: style)
            let ms = medianMilliseconds(seconds: seconds) { _ = transfer.evaluate(image, targets: targets) }
            return DensePipelineBenchmark(pipeline: pipeline, size: size, width: nil, batch: 1, ms: ms)
        default:
            throw ConvKitError.invalidArgument(name: "--pipeline", expected: "sliding-windows, unet-step or style-step", found: pipeline)
        }
    }
}
