/// Options of a transposed convolution (PyTorch `ConvTranspose{1,2,3}d`): weights [Cin, Cout/groups, k…].
/// Output extent per axis: (n − 1)·s − p_before − p_after + d·(k − 1) + outputPadding + 1.
/// `.same` gives n·s (Keras); `.valid` no padding.
public struct ConvTransposeOptions: Equatable {
    public var stride: [Int]
    public var padding: Padding
    public var outputPadding: [Int]
    public var dilation: [Int]
    public var groups: Int

    public init(stride: [Int] = [1], padding: Padding = .valid, outputPadding: [Int] = [0], dilation: [Int] = [1], groups: Int = 1) {
        self.stride = stride; self.padding = padding; self.outputPadding = outputPadding
        self.dilation = dilation; self.groups = groups
    }

    /// The output spatial shape for input `spatial` and kernel `kernel`, and the equivalent forward
    /// convolution options (the transposed convolution is that convolution's input gradient).
    public func resolve(spatial: [Int], kernel: [Int]) -> (output: [Int], conv: ConvOptions) {
        let r = resolveWithTrailingZeros(spatial: spatial, kernel: kernel)
        return (r.output, r.conv)
    }

    /// As `resolve`, plus the positions at the end of each axis that no input reaches: when the output padding
    /// exceeds the padding after (PyTorch allows output_padding > padding; Keras 'same' with k < s needs it),
    /// the forward convolution covers output[0 ..< output − trailing] and the last `trailing` positions are zero.
    /// Per spatial axis: the padding cropped before and after, the output padding, stride and dilation, with
    /// `.same` resolved (output = input·stride: pads ⌊t/2⌋ and ⌈t/2⌉ of t = d(k−1)+1−s, or output padding −t).
    public func resolvedPadding(spatial: [Int], kernel: [Int]) -> (before: [Int], after: [Int], outputPadding: [Int], stride: [Int], dilation: [Int]) {
        let r = spatial.count
        func expand(_ v: [Int]) -> [Int] { v.count == 1 ? Array(repeating: v[0], count: r) : v }
        let s = expand(stride), d = expand(dilation)
        var op = expand(outputPadding), pb = [Int](repeating: 0, count: r), pa = pb
        switch padding {
        case .valid: break
        case .symmetric(let p): pb = Array(repeating: p, count: r); pa = pb
        case let .explicit(b, a): pb = expand(b); pa = expand(a)
        case .same:
            for i in 0..<r {
                let total = d[i] * (kernel[i] - 1) + 1 - s[i]
                if total >= 0 { pb[i] = total / 2; pa[i] = total - total / 2 } else { op[i] = -total }
            }
        }
        return (pb, pa, op, s, d)
    }

    func resolveWithTrailingZeros(spatial: [Int], kernel: [Int]) -> (output: [Int], conv: ConvOptions, trailing: [Int]) {
        let r = spatial.count
        let (pb, pa, op, s, d) = resolvedPadding(spatial: spatial, kernel: kernel)
        var out = [Int]()
        for i in 0..<r {
            let span: Int = (spatial[i] - 1) * s[i] - pb[i] - pa[i]
            out.append(span + d[i] * (kernel[i] - 1) + op[i] + 1)
        }
        precondition(out.allSatisfy { $0 > 0 }, "transposed convolution output \(out) would be empty")
        precondition((0..<r).allSatisfy { op[$0] < Swift.max(s[$0], d[$0]) }, "output padding \(op) must be smaller than stride or dilation")
        // The forward convolution from the output back to the input; output padding is extra space after, first
        // taken from the padding after, the rest as trailing zero positions.
        let trailing = (0..<r).map { Swift.max(0, op[$0] - pa[$0]) }
        let conv = ConvOptions(stride: s, padding: .explicit(before: pb, after: (0..<r).map { Swift.max(0, pa[$0] - op[$0]) }),
                               dilation: d, groups: groups)
        return (out, conv, trailing)
    }
}

/// Transposed convolution: y = convᵀ(x), the adjoint of `conv` with the same weights.
/// - Shapes: x [N, Cin, *S], weight [Cin, Cout/G, *K], bias [Cout] → [N, Cout, *O].
public func convTranspose(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, options: ConvTransposeOptions = ConvTransposeOptions()) -> Tensor {
    precondition(x.rank == weight.rank && x.shape[1] == weight.shape[0],
                 "transposed convolution input \(x.shape) and weight \(weight.shape) disagree")
    let (out, convOpts, trailing) = options.resolveWithTrailingZeros(spatial: Array(x.shape[2...]), kernel: Array(weight.shape[2...]))
    let cout = weight.shape[1] * options.groups
    let shape = [x.shape[0], cout] + out
    let reached = [x.shape[0], cout] + zip(out, trailing).map { $0 - $1 }
    // The forward conv maps y-shaped [N, Cout, O] → x-shaped [N, Cin, S] with these same weights.
    var y = convInputGradient(inputShape: reached, weight: weight, gradOutput: x, options: convOpts)
    if trailing.contains(where: { $0 > 0 }) { y = y.padded([(0, 0), (0, 0)] + trailing.map { (0, $0) }) }
    if let bias {
        precondition(bias.shape == [cout], "bias \(bias.shape) for \(cout) output channels")
        y += bias.reshaped([1, cout] + out.map { _ in 1 }).broadcast(to: shape)
    }
    return y
}

/// Gradients of `convTranspose`: ∂L/∂x = conv(g, W); ∂L/∂W from the forward convolution's weight gradient
/// with the roles of input and output swapped; ∂L/∂b = Σ g.
public func convTransposeBackward(_ x: Tensor, weight: Tensor, gradOutput g: Tensor, options: ConvTransposeOptions = ConvTransposeOptions())
    -> (input: Tensor, weight: Tensor, bias: Tensor) {
    let (_, convOpts, trailing) = options.resolveWithTrailingZeros(spatial: Array(x.shape[2...]), kernel: Array(weight.shape[2...]))
    // The trailing positions receive nothing from x: their gradient does not flow back.
    var reached = g
    for (axis, t) in trailing.enumerated() where t > 0 { reached = reached.slice(axis: axis + 2, 0..<(reached.shape[axis + 2] - t)) }
    let gx = conv(reached, weight: weight, options: convOpts)
    let gw = convBackward(reached, weight: weight, gradOutput: x, options: convOpts, needInput: false, needBias: false).weight
    let layout = ChannelLayout(g.shape)
    let gb = Tensor(shape: [layout.c]) { o in     // Σ over samples and positions, by vector row sums
        g.withUnsafeBufferPointer { p in
            for c in 0..<layout.c {
                var s: Float = 0
                for n in 0..<layout.n { s += rowSum(p.baseAddress! + (n * layout.c + c) * layout.s, layout.s) }
                o[c] = s
            }
        }
    }
    return (gx, gw, gb)
}

/// ∂L/∂x of `conv` alone, for an input of `inputShape` (the transposed convolution's forward pass).
public func convInputGradient(inputShape: [Int], weight: Tensor, gradOutput gy: Tensor, options: ConvOptions) -> Tensor {
    // The weight gradient is not requested, so x is only consulted for its shape.
    convBackward(Tensor.zeros(inputShape), weight: weight, gradOutput: gy, options: options, needBias: false, needWeight: false).input!
}
