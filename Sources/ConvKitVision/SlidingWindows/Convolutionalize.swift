import ConvKit
import Foundation

/// The convolutional implementation of sliding windows (the notes' §3.4, OverFeat): a classifier that ends in
/// Flatten → Dense … becomes a fully convolutional network — the first Dense turns into a convolution as large as
/// the feature map it reads (weights [out, C·h·w] reshaped to [out, C, h, w]), every later Dense into a 1×1
/// convolution — so that one pass over a larger image computes the classifier on every window at once.
///
/// Output cell (i, j) of the converted network is the classifier applied to the window of the classifier's input
/// size whose top-left corner is (j·jump + offset_x, i·jump + offset_y) in input pixels, jump the feature
/// extractor's total stride (from the receptive field the summary traces). The equality is exact when the layers
/// before Flatten pad nothing (padding inside a crop is zeros, around a window it is the image).
public enum Convolutionalize {
    /// Where output cells sit in the input.
    public struct WindowGeometry: Equatable {
        /// Window size (the classifier's input H, W).
        public var window: (h: Int, w: Int)
        /// Pixels between neighbouring windows (the features' total stride), per axis.
        public var jump: (y: Int, x: Int)
        /// Top-left corner of window (0, 0): minus the padding before the first layers, 0 without padding.
        public var offset: (y: Int, x: Int)

        public static func == (a: WindowGeometry, b: WindowGeometry) -> Bool {
            a.window == b.window && a.jump == b.jump && a.offset == b.offset
        }

        /// The window (xyxy, input pixels) of output cell (row, col).
        public func window(row: Int, col: Int) -> (x1: Int, y1: Int, x2: Int, y2: Int) {
            let y = row * jump.y + offset.y, x = col * jump.x + offset.x
            return (x, y, x + window.w, y + window.h)
        }
    }

    /// Converts `classifier` (layers, possibly nested Sequentials, ending in Flatten then Dense/activation/dropout
    /// layers) for inputs of `inputShape` [C, H, W]. Throws when there is no Flatten → Dense tail.
    public static func convert(_ classifier: Sequential, inputShape: [Int]) throws -> (network: Sequential, geometry: WindowGeometry) {
        let layers = flatten(classifier)
        guard let f = layers.firstIndex(where: { $0 is Flatten }), layers[(f + 1)...].contains(where: { $0 is Dense }) else {
            throw ConvKitError.invalidArgument(name: "classifier", expected: "layers ending in Flatten → Dense…", found: layers.map { "\(type(of: $0))" }.joined(separator: " → "))
        }
        guard inputShape.count == 3 else { throw ConvKitError.shapeMismatch(expected: "an input shape [C, H, W]", found: "\(inputShape)") }
        let features = Sequential(Array(layers[..<f]))
        let map = features.predict(Tensor.zeros([1] + inputShape)).shape
        guard map.count == 4 else { throw ConvKitError.shapeMismatch(expected: "a feature map [1, C, h, w] before Flatten", found: "\(map)") }
        var converted: [any UnaryLayer] = Array(layers[..<f])
        var first = true
        for layer in layers[(f + 1)...] {
            if let d = layer as? Dense {
                let (out, inp) = (d.weight.shape[0], d.weight.shape[1])
                let kernel = first ? [map[2], map[3]] : [1, 1], cin = first ? map[1] : inp
                guard cin * kernel[0] * kernel[1] == inp else {
                    throw ConvKitError.shapeMismatch(expected: "a Dense layer of \(cin * kernel[0] * kernel[1]) inputs", found: "\(inp)")
                }
                let c = Conv(inputChannels: cin, outputChannels: out, kernelSize: kernel, bias: d.bias != nil, activation: d.activation)
                c.weight.value = d.weight.value.reshaped([out, cin] + kernel)
                if let b = d.bias { c.bias?.value = b.value }
                converted.append(c)
                first = false
            } else if let s = layer as? Softmax {
                converted.append(Softmax(axis: s.axis == -1 || s.axis == 1 ? 1 : s.axis))
            } else if layer is ActivationLayer || layer is Dropout {
                converted.append(layer)
            } else {
                throw ConvKitError.invalidArgument(name: "classifier layer after Flatten", expected: "Dense, an activation, Dropout or Softmax", found: "\(type(of: layer))")
            }
        }
        let rf = ModelSummary.of(features, name: "features", inputShape: inputShape).layers.last { $0.jump != nil }
        let jump = rf?.jump ?? [1, 1]
        let start = rf?.center ?? [0, 0], size = rf?.receptiveField ?? [1, 1]
        // The first output pixel's field starts at start − (size − 1)/2; without padding that is 0.
        let oy = Int((start[0] - Double(size[0] - 1) / 2).rounded()), ox = Int((start[1] - Double(size[1] - 1) / 2).rounded())
        return (Sequential(converted), WindowGeometry(window: (inputShape[1], inputShape[2]), jump: (jump[0], jump[1]), offset: (oy, ox)))
    }

    static func flatten(_ s: Sequential) -> [any UnaryLayer] {
        s.layers.flatMap { l -> [any UnaryLayer] in (l as? Sequential).map(flatten) ?? [l] }
    }
}

/// The naive detector of the notes' §3.3: crop every window (several sizes, a stride each), resize it to the
/// classifier's input, classify. Returns one row per window: its box (xyxy pixels) and the classifier's output.
public enum SlidingWindows {
    public struct Window { public var box: (x1: Int, y1: Int, x2: Int, y2: Int); public var scores: [Float] }

    /// - Parameters:
    ///   - image: [C, H, W] (already prepared as the classifier expects).
    ///   - sizes: window sides (square windows) with the stride of each.
    public static func crops(_ classifier: any UnaryLayer, image: Tensor, inputSize: (Int, Int), sizes: [(size: Int, stride: Int)],
                             batchSize: Int = 256) -> [Window] {
        let (h, w) = (image.shape[1], image.shape[2])
        var boxes = [(Int, Int, Int, Int)]()
        for (size, step) in sizes where size <= h && size <= w && step > 0 {
            for y in stride(from: 0, through: h - size, by: step) { for x in stride(from: 0, through: w - size, by: step) { boxes.append((x, y, x + size, y + size)) } }
        }
        var out = [Window]()
        for start in stride(from: 0, to: boxes.count, by: batchSize) {
            let chunk = boxes[start..<Swift.min(boxes.count, start + batchSize)]
            let crops = chunk.map { b -> Tensor in
                let c = image.slice(axis: 1, b.1..<b.3).slice(axis: 2, b.0..<b.2)
                return c.shape[1] == inputSize.0 && c.shape[2] == inputSize.1 ? c : resize(c, inputSize)
            }
            let y = classifier.predict(Tensor.stack(crops, axis: 0))
            let k = y.count / chunk.count
            for (i, b) in chunk.enumerated() { out.append(Window(box: b, scores: Array(y.scalars[i * k..<(i + 1) * k]))) }
        }
        return out
    }

    static func resize(_ c: Tensor, _ size: (Int, Int)) -> Tensor {
        let shrinking = c.shape[1] > size.0
        return shrinking ? adaptiveAvgPool2D(c.unsqueezed(axis: 0), outputSize: size).squeezed(axis: 0)
                         : resizeBilinear(c.unsqueezed(axis: 0), to: size).squeezed(axis: 0)
    }
}
