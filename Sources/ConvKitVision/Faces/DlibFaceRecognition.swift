import ConvKit
import ConvKitData
import Foundation

/// dlib's face-recognition ResNet (`dlib_face_recognition_resnet_model_v1.dat`, Davis King, public domain):
/// a 150×150 RGB face chip → a 128-D embedding; two chips show the same person when the Euclidean distance
/// of their embeddings is below 0.6 (the file's own `loss_metric` threshold).
///
/// The network (dlib's `dnn_face_recognition_ex.cpp`), read layer by layer from the file:
///
///     con 32 7×7/2 → affine → relu → max_pool 3×3/2                       150 → 72 → 35
///     3 × unit(32) | unit↓(64) 3 × unit(64) | unit↓(128) 2 × unit(128)
///     unit↓(256) 2 × unit(256) | unit↓(256)                                35 → 17 → 8 → 4 → 2
///     avg_pool over everything → fc 128 (no bias)
///     unit(x)  = relu(affine(con(relu(affine(con(x))))) + x)
///     unit↓(x) = relu(add_prev(affine(con(relu(affine(con/2(x))))), avg_pool 2×2/2 (x)))
///
/// dlib's padding rule: k/2 at stride 1, none at stride 2 (so 8 → 3 by the stride-2 3×3 but 8 → 4 by the
/// pool), and `add_prev` zero-extends the smaller operand in channels, rows and columns (a top-left aligned
/// sum). The `affine` layers (frozen batch norm) are `BatchNorm`s with mean 0, variance 1 and ε = 0, so
/// evaluation folds them into the convolutions like any ResNet; training mode would use batch statistics.
public final class DlibFaceRecognitionNetwork: Module {
    public var stem: Conv, stemNorm: BatchNorm
    public var units: [DlibResidualUnit]
    public var fc: Dense
    let pool: MaxPool
    /// The per-channel averages subtracted from 0…255 pixels before the division by 256.
    public let average: [Float]
    /// The chip size the network was trained on (150).
    public let inputSize: Int
    /// The distance under which two embeddings are the same person (0.6 for dlib's model).
    public let distanceThreshold: Float

    /// Builds the network from a parsed `.dat` file; throws naming the first layer that does not fit.
    public init(file: DlibNetworkFile) throws {
        var c = LayerCursor(layers: file.layers)
        guard case let .metric(_, threshold) = file.loss, case let .rgb(average, rows, columns) = file.input else {
            throw c.error(expected: "a metric-loss network on an RGB input", found: "\(file.loss), \(file.input)")
        }
        guard let rows, rows == columns else { throw c.error(expected: "a square sized input (input_rgb_image_sized)", found: "\(file.input)") }
        self.average = average; self.inputSize = rows; self.distanceThreshold = threshold
        (stem, stemNorm) = try c.convAffine()
        try c.expect(.relu)
        guard case let .maxPool(window, stride, padding) = try c.next("max_pool"), window.allSatisfy({ $0 >= 1 }),
              zip(window, padding).allSatisfy({ $1 < $0 }) else { throw c.mismatch("max_pool with a window of at least 1×1") }
        pool = MaxPool(kernel: window, stride: stride, padding: .symmetricPerAxis(padding))
        var units = [DlibResidualUnit]()
        while case .conv = c.peek { units.append(try DlibResidualUnit(&c)) }
        guard units.count >= 1 else { throw c.mismatch("a residual unit") }
        self.units = units
        guard case let .avgPool(window2, _, _) = try c.next("avg_pool (everything)"), window2 == [0, 0] else { throw c.mismatch("avg_pool over the whole map") }
        guard case let .fullyConnected(weight, bias) = try c.next("fc") else { throw c.mismatch("fc") }
        fc = Dense(weight.shape[0], weight.shape[1], bias: bias != nil)
        fc.weight.value = weight.transposed()
        if let bias { fc.bias?.value = bias }
        guard c.isAtEnd else { throw c.error(expected: "the end of the network after fc", found: "\(file.layers.count - c.index) more layers") }
        let lastChannels = units.last!.conv2.outputChannels
        guard fc.weight.shape[1] == lastChannels else {
            throw c.error(expected: "fc over \(lastChannels) channels", found: "\(fc.weight.shape[1]) inputs")
        }
        super.init()
        eval()
    }

    /// Loads `dlib_face_recognition_resnet_model_v1.dat` (or a file of the same architecture).
    public convenience init(contentsOf path: String) throws {
        try self.init(file: DlibNetworkFile.load(path))
    }

    /// The bundled model, `Data/models/dlib/dlib_face_recognition_resnet_model_v1.dat`.
    public static func bundled() throws -> DlibFaceRecognitionNetwork {
        try DlibFaceRecognitionNetwork(contentsOf: try DlibFaceRecognitionNetwork.bundledModel("dlib_face_recognition_resnet_model_v1.dat"))
    }

    /// The path of a bundled dlib model file, found as the other bundled data are.
    static func bundledModel(_ name: String) throws -> String {
        guard let data = Datasets.bundledDataDirectory() else {
            throw ConvKitError.io(path: "Data/models/dlib/" + name, reason: "bundled data not found; run from the repository or pass the model file")
        }
        return data + "/models/dlib/" + name
    }

    /// A name for the model that made an embedding (databases refuse to mix models): the architecture, the
    /// parameter count and a 64-bit FNV-1a hash of every weight's bits, so other weights give another name.
    public private(set) lazy var identity: String = {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for p in parameters() { for v in p.value.scalars { hash = (hash ^ UInt64(v.bitPattern)) &* 0x100_0000_01b3 } }
        return "dlib-resnet-metric/\(parameterCount)/" + String(hash, radix: 16)
    }()

    /// `[N, 3, S, S]` RGB chips, values 0…255 (as `ImageFile.load` gives them) → `[N, 128]` embeddings.
    public func callAsFunction(_ x: Variable) -> Variable {
        let shift = Tensor(shape: [1, 3, 1, 1], scalars: average.map { -$0 / 256 })
        var h = x * (1 / 256) + Variable(shift)
        h = pool(stem.fused(h, norm: stemNorm, activation: .relu))
        for u in units { h = u(h) }
        return fc(Functional.globalAvgPool(h))
    }

    /// Embeddings of `[N, 3, S, S]` (or `[3, S, S]`) RGB chips, values 0…255; throws when the shape is not the network's.
    public func embed(_ chips: Tensor) throws -> Tensor {
        let x = chips.rank == 3 ? chips.reshaped([1] + chips.shape) : chips
        guard x.rank == 4, x.shape[1] == 3, x.shape[2] == inputSize, x.shape[3] == inputSize else {
            throw ConvKitError.shapeMismatch(expected: "face chips [N, 3, \(inputSize), \(inputSize)]", found: "\(chips.shape)")
        }
        return Autograd.withoutGradients { self(Variable(x)).value }
    }
}

/// One residual unit of dlib's ResNet; `downsample` when the first convolution has stride 2 and the skip is
/// average-pooled 2×2/2 (then the sum zero-extends, see `DlibFaceRecognitionNetwork`).
public final class DlibResidualUnit: Module {
    public var conv1: Conv, norm1: BatchNorm, conv2: Conv, norm2: BatchNorm
    let skipPool: AvgPool?

    init(_ c: inout LayerCursor) throws {
        (conv1, norm1) = try c.convAffine()
        try c.expect(.relu)
        (conv2, norm2) = try c.convAffine()
        if case let .avgPool(window, stride, padding) = c.peek {
            guard window.allSatisfy({ $0 >= 1 }), zip(window, padding).allSatisfy({ $1 < $0 }) else { throw c.mismatch("avg_pool with a window of at least 1×1") }
            _ = try c.next("avg_pool")
            skipPool = AvgPool(kernel: window, stride: stride, padding: .symmetricPerAxis(padding))
        } else { skipPool = nil }
        try c.expect(.addPrevious)
        try c.expect(.relu)
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        let h = conv1.fused(x, norm: norm1, activation: .relu)
        let skip = skipPool?(x) ?? x
        let plan = ConvPlan(input: h.shape, weight: conv2.weight.shape, options: conv2.options)
        if plan.outputShape == skip.shape { return conv2.fused(h, norm: norm2, adding: skip, activation: .relu) }
        return DlibResidualUnit.zeroExtendedSum(conv2.fused(h, norm: norm2), skip).relu()
    }

    /// dlib's `add_prev`: the sum over the larger extent of each axis, the smaller operand read as 0 outside
    /// its own extent (top-left aligned).
    static func zeroExtendedSum(_ a: Variable, _ b: Variable) -> Variable {
        let shape = zip(a.shape, b.shape).map { Swift.max($0, $1) }
        func extend(_ v: Variable) -> Variable {
            v.shape == shape ? v : v.padded(zip(v.shape, shape).map { (0, $1 - $0) })
        }
        return extend(a) + extend(b)
    }
}

/// Walks `DlibNetworkFile.layers` in order, with errors naming the layer index and what was expected.
struct LayerCursor {
    let layers: [DlibLayer]
    var index = 0

    var peek: DlibLayer? { index < layers.count ? layers[index] : nil }
    var isAtEnd: Bool { index == layers.count }

    func error(expected: String, found: String) -> ConvKitError {
        .shapeMismatch(expected: "dlib network layer \(index): \(expected)", found: found)
    }
    func mismatch(_ expected: String) -> ConvKitError {
        error(expected: expected, found: peek.map { $0.name } ?? (index > 0 ? layers[index - 1].name : "the end of the file"))
    }

    mutating func next(_ expected: String) throws -> DlibLayer {
        guard let l = peek else { throw error(expected: expected, found: "the end of the network") }
        index += 1
        return l
    }

    mutating func expect(_ layer: DlibLayer) throws {
        guard peek == layer else { throw mismatch(layer.name) }
        index += 1
    }

    /// A convolution followed by its affine layer, as a `Conv` and an ε = 0 `BatchNorm` holding γ and β.
    mutating func convAffine() throws -> (Conv, BatchNorm) {
        guard case let .conv(filters, bias, stride, padding) = peek else { throw mismatch("con") }
        index += 1
        let s = filters.shape
        let conv = Conv(inputChannels: s[1], outputChannels: s[0], kernelSize: [s[2], s[3]], stride: stride,
                        padding: .symmetricPerAxis(padding), bias: bias != nil)
        conv.weight.value = filters
        if let bias { conv.bias?.value = bias }
        guard case let .affine(gamma, beta) = peek else { throw mismatch("affine after con") }
        guard gamma.count == s[0] else { throw error(expected: "affine over \(s[0]) channels", found: "\(gamma.count)") }
        index += 1
        let norm = BatchNorm(s[0], epsilon: 0)
        norm.weight.value = gamma
        norm.bias.value = beta
        return (conv, norm)
    }
}

extension Padding {
    /// The same amount before and after, per axis.
    static func symmetricPerAxis(_ p: [Int]) -> Padding {
        p.allSatisfy { $0 == p[0] } ? .symmetric(p[0]) : .explicit(before: p, after: p)
    }
}
