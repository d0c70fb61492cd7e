/// The notes' cost arithmetic for convolutional layers.
public enum CostModel {
    /// Parameters of a convolution with K filters of F×F over C channels: K·(F²·C + 1) (bias included).
    public static func convParameters(filters K: Int, size F: Int, channels C: Int, bias: Bool = true) -> Int {
        K * (F * F * C + (bias ? 1 : 0))
    }

    /// Multiplies of a convolution producing an H×W×K output with F×F×C filters: H·W·K·F²·C.
    public static func convMultiplies(outputHeight H: Int, outputWidth W: Int, filters K: Int, size F: Int, channels C: Int) -> Int {
        H * W * K * F * F * C
    }

    /// Receptive field (in input pixels) of a stack of layers given as (kernel, stride, dilation), first layer
    /// first. Backward recursion from one output unit: r ← (r − 1)·s + d·(k − 1) + 1, which for d = 1 is
    /// r ← r·s + (k − s).
    public static func receptiveField(_ layers: [(kernel: Int, stride: Int, dilation: Int)]) -> Int {
        layers.reversed().reduce(1) { r, l in (r - 1) * l.stride + l.dilation * (l.kernel - 1) + 1 }
    }
}

/// The receptive field of one unit of a feature map per spatial axis: its size in input pixels, the jump
/// (product of strides: input pixels between neighbouring units) and the input coordinate of the centre of
/// the first unit's field. Forward rules for a window (k, s, d, p):
/// size′ = size + d·(k − 1)·jump, jump′ = jump·s, start′ = start + (d·(k − 1)/2 − p)·jump.
public struct ReceptiveField: Equatable, Codable {
    public var size: [Int]
    public var jump: [Int]
    public var start: [Double]

    public static func input(rank: Int) -> ReceptiveField {
        ReceptiveField(size: Array(repeating: 1, count: rank), jump: Array(repeating: 1, count: rank), start: Array(repeating: 0, count: rank))
    }

    public func through(_ g: WindowGeometry) -> ReceptiveField {
        guard g.rank == size.count else { return self }
        var r = self
        for i in 0..<g.rank {
            r.size[i] = size[i] + g.dilation[i] * (g.kernel[i] - 1) * jump[i]
            r.start[i] = start[i] + (Double(g.dilation[i] * (g.kernel[i] - 1)) / 2 - Double(g.padBefore[i])) * Double(jump[i])
            r.jump[i] = jump[i] * g.stride[i]
        }
        return r
    }

    /// Where branches meet (addition, concatenation): the widest field.
    static func merge(_ fields: [ReceptiveField]) -> ReceptiveField? {
        guard var r = fields.first else { return nil }
        for f in fields.dropFirst() where f.size.count == r.size.count {
            for i in 0..<r.size.count where f.size[i] > r.size[i] { r.size[i] = f.size[i]; r.start[i] = f.start[i]; r.jump[i] = f.jump[i] }
        }
        return r
    }
}
