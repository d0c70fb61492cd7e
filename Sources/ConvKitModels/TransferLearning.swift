import ConvKit

/// Transfer learning, ensembling and multi-crop evaluation, as the notes describe them.
public enum TransferLearning {
    /// What `loadPretrained` did.
    public struct LoadReport {
        public var loaded: [String] = []
        /// Names in the model with no tensor of the same name and shape in the file (e.g. a new head).
        public var missing: [String] = []
        /// Names in the file the model does not have, or has with another shape.
        public var unused: [String] = []
    }

    /// Loads every parameter and buffer whose name and shape match a tensor of the safetensors file — the
    /// names torchvision uses, so weights exported from PyTorch (`save_file(model.state_dict(), …)`) load
    /// directly — and reports the rest instead of failing (a replaced classifier is expected to differ).
    @discardableResult
    public static func loadPretrained(_ module: Module, from path: String) throws -> LoadReport {
        let r = Checkpoint.assign(try Safetensors.load(path).tensors, to: module)
        let report = LoadReport(loaded: r.loaded, missing: r.missing, unused: r.unused)
        return report
    }

    /// Freezes every parameter except those under `trainable` prefixes ("freeze the earlier layers, train
    /// the softmax"). Batch-norm statistics of frozen layers keep updating in training mode unless the
    /// model is put in evaluation mode.
    public static func freezeAll(_ module: Module, except trainable: [String]) {
        module.freeze()
        module.unfreeze(trainable)
    }

    /// Replaces the final classifier of a zoo model with a fresh one for `classes` outputs and returns the
    /// prefix of its parameters (for `freezeAll(_:except:)`).
    @discardableResult
    public static func replaceClassifier(_ model: any UnaryLayer, classes: Int) throws -> String {
        switch model {
        case let m as ResNet: m.fc = Dense(m.fc.weight.shape[1], classes); return "fc"
        case let m as GoogLeNet: m.fc = Dense(m.fc.weight.shape[1], classes); return "fc"
        case let m as MobileNetV1: m.fc = Dense(m.fc.weight.shape[1], classes); return "fc"
        case let m as LeNet5: return replaceLast(m.classifier, classes, prefix: "classifier")
        case let m as AlexNet: return replaceLast(m.classifier, classes, prefix: "classifier")
        case let m as VGG: return replaceLast(m.classifier, classes, prefix: "classifier")
        case let m as MobileNetV2: return replaceLast(m.classifier, classes, prefix: "classifier")
        default:
            throw ConvKitError.invalidArgument(name: "model", expected: "a zoo model with a known classifier", found: "\(type(of: model))")
        }
    }

    private static func replaceLast(_ s: Sequential, _ classes: Int, prefix: String) -> String {
        let i = s.layers.lastIndex { $0 is Dense }!
        s.replace(at: i, with: Dense((s.layers[i] as! Dense).weight.shape[1], classes))
        return "\(prefix).\(i)"
    }
}

/// Several models voting: the average of their softmax probabilities.
public struct Ensemble {
    public let models: [any UnaryLayer]
    public init(_ models: [any UnaryLayer]) { precondition(!models.isEmpty, "an ensemble needs models"); self.models = models }

    /// [N, …] → [N, classes] averaged probabilities (evaluation mode, no gradients).
    public func probabilities(_ x: Tensor) -> Tensor {
        var sum: Tensor? = nil
        for m in models {
            let was = m.isTraining
            m.eval()
            let p = m.predict(x).softmax(axis: 1)
            m.train(was)
            sum = sum.map { $0 + p } ?? p
        }
        return sum! / Float(models.count)
    }
}

/// Multi-crop evaluation at test time.
public enum MultiCrop {
    /// The ten crops of an image [C, H, W]: four corners and the centre, and their mirror images.
    public static func tenCrop(_ image: Tensor, size: (Int, Int)) -> [Tensor] {
        let (h, w) = (image.shape[1], image.shape[2])
        precondition(size.0 <= h && size.1 <= w, "crop \(size) larger than the image \(h)×\(w)")
        let origins = [(0, 0), (0, w - size.1), (h - size.0, 0), (h - size.0, w - size.1), ((h - size.0) / 2, (w - size.1) / 2)]
        let crops = origins.map { image.slice(axis: 1, $0.0..<$0.0 + size.0).slice(axis: 2, $0.1..<$0.1 + size.1) }
        return crops + crops.map(mirror)
    }

    static func mirror(_ x: Tensor) -> Tensor {
        let w = x.shape[2]
        return Tensor(shape: x.shape) { o in for i in 0..<(x.count / w) { for j in 0..<w { o[i * w + j] = x.scalars[i * w + (w - 1 - j)] } } }
    }

    /// Class probabilities of one image averaged over its ten crops.
    public static func predict(_ model: any UnaryLayer, image: Tensor, cropSize: (Int, Int)) -> Tensor {
        Ensemble([model]).probabilities(Tensor.stack(tenCrop(image, size: cropSize))).mean(axes: [0])
    }
}
