import CConvKernels

/// Options of an N-d convolution (N = 1, 2, 3 spatial axes), PyTorch's conventions: NCHW layout,
/// weights [Cout, Cin/groups, k…], output channel o belongs to group o / (Cout/groups).
public struct ConvOptions: Equatable {
    public var stride: [Int]
    public var padding: Padding
    public var dilation: [Int]
    public var groups: Int
    /// What padding positions hold; non-zero fills pad the input explicitly first.
    public var paddingFill: PaddingFill

    public init(stride: [Int] = [1], padding: Padding = .valid, dilation: [Int] = [1], groups: Int = 1,
                paddingFill: PaddingFill = .zeros) {
        self.stride = stride; self.padding = padding; self.dilation = dilation
        self.groups = groups; self.paddingFill = paddingFill
    }
}

/// A convolution resolved for one input shape: geometry plus channel bookkeeping.
public struct ConvPlan {
    public let batch: Int, inChannels: Int, outChannels: Int, groups: Int
    public let geometry: WindowGeometry
    /// Set when `paddingFill` is not zeros: the input is padded by these per-axis amounts first.
    public let prePad: PaddingFill?

    public init(input: [Int], weight: [Int], options o: ConvOptions) {
        precondition(input.count >= 3 && input.count <= 5 && weight.count == input.count,
                     "convolution needs input [N, C, spatial…] and weight [Cout, Cin/g, k…] of equal rank (1–3 spatial axes); got \(input) and \(weight)")
        batch = input[0]; inChannels = input[1]; outChannels = weight[0]; groups = o.groups
        precondition(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                     "groups \(groups) must divide input channels \(inChannels) and output channels \(outChannels)")
        precondition(weight[1] * groups == inChannels,
                     "weight \(weight) expects \(weight[1] * groups) input channels, input \(input) has \(inChannels)")
        let spatial = Array(input[2...]), k = Array(weight[2...])
        let g = WindowGeometry(input: spatial, kernel: k, stride: o.stride, padding: o.padding, dilation: o.dilation)
        if o.paddingFill != .zeros && (g.padBefore.contains { $0 > 0 } || g.padAfter.contains { $0 > 0 }) {
            prePad = o.paddingFill
        } else {
            prePad = nil
        }
        precondition(g.output.allSatisfy { $0 > 0 }, "convolution output would be empty: input \(spatial), kernel \(k), geometry \(g)")
        geometry = g
    }

    public var outputShape: [Int] { [batch, outChannels] + geometry.output }
    /// At most 16 filters per group over a real window (not depthwise, not 1×1): a direct kernel can beat
    /// im2col + GEMM, whose packing dominates at this size.
    var hasFewFilters: Bool { outChannels / groups <= 16 && !isDepthwise && !geometry.isPointwise }
    /// The direct kernel (no im2col) for few filters: register-blocked at width stride 1, scalar passes over the
    /// output otherwise, which lose to the GEMM unless the taps are few (96→16 4×4/2 dilation 4 at 35²: 25× PyTorch's
    /// forward time on the direct kernel).
    var usesDirectKernel: Bool {
        hasFewFilters && (geometry.stride.last == 1 || inChannels / groups * geometry.kernelVolume <= 32)
    }
    var isDepthwise: Bool { groups == inChannels && groups == outChannels && groups > 1 }
    /// Whether `conv` runs a GEMM (im2col or pointwise) rather than a direct or depthwise kernel.
    var usesGEMM: Bool { !usesDirectKernel && !isDepthwise }

    /// The geometry `prepare(_:explicitZeros: true)` convolves over: zero padding made part of the input.
    var zeroPaddedGeometry: WindowGeometry { geometry.paddingAbsorbed }

    /// Applies reflect/replicate padding (and zero padding too when `explicitZeros`); returns the input to
    /// convolve and its geometry. Padding the input once is cheaper than bounds checks on every tap.
    func prepare(_ x: Tensor, explicitZeros: Bool = false) -> (Tensor, WindowGeometry) {
        guard let fill = prePad else {
            if explicitZeros && (geometry.padBefore.contains { $0 > 0 } || geometry.padAfter.contains { $0 > 0 }) {
                return zeroPadded(x, geometry)
            }
            return (x, geometry)
        }
        let pairs = [(0, 0), (0, 0)] + Swift.zip(geometry.padBefore, geometry.padAfter).map { ($0, $1) }
        let xp = x.padded(pairs, mode: fill == .reflect ? .reflect : .replicate)
        return (xp, geometry.paddingAbsorbed)
    }
}

/// N-d convolution (cross-correlation, as every framework computes it).
/// - Shapes: x [N, Cin, *S], weight [Cout, Cin/groups, *K], bias [Cout] → [N, Cout, *O] with
///   O_i = ⌊(S_i + p_before + p_after − d_i·(K_i−1) − 1)/s_i⌋ + 1.
/// - Paths: the entries of `ConvAlgorithm` (Winograd, depthwise rows, direct rows, channels in lanes, blocked
///   volumes, and the general im2col GEMM), chosen per shape by `ConvTuner`.
public func conv(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, options: ConvOptions = ConvOptions()) -> Tensor {
    convForward(x, weight: weight, options: options, epilogue: ConvEpilogue(bias: bias))
}

/// The convolution by one algorithm of `ConvAlgorithm.supported(input:weight:options:)`, bypassing the choice
/// (tests of every algorithm against the definition; comparing algorithms).
public func conv(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, options: ConvOptions = ConvOptions(), algorithm: ConvAlgorithm) -> Tensor {
    let plan = ConvPlan(input: x.shape, weight: weight.shape, options: options)
    precondition(ConvAlgorithm.supported(plan).contains(algorithm), "\(algorithm) does not support \(x.shape) * \(weight.shape) with \(options)")
    return convForward(x, weight: weight, plan: plan, algorithm: algorithm, epilogue: ConvEpilogue(bias: bias))
}

/// The convolution with a fused tail (`epilogue`: bias, residual, clamp) and, for the Winograd path,
/// optionally weights already transformed (`winogradWeights`, from `Winograd.transformWeights`). The algorithm
/// comes from `ConvTuner` (rules, or a measured choice for inference).
func convForward(_ x: Tensor, weight: Tensor, options: ConvOptions, epilogue: ConvEpilogue,
                 winogradWeights: WinogradWeights? = nil) -> Tensor {
    let plan = ConvPlan(input: x.shape, weight: weight.shape, options: options)
    epilogue.check(outputShape: plan.outputShape)
    let (algorithm, measured) = ConvTuner.algorithm(for: plan, residual: epilogue.residual != nil) { a in
        convForward(x, weight: weight, plan: plan, algorithm: a, epilogue: epilogue, winogradWeights: winogradWeights)
    }
    if let y = measured { return y }
    return convForward(x, weight: weight, plan: plan, algorithm: algorithm, epilogue: epilogue, winogradWeights: winogradWeights)
}

/// The convolution by one algorithm, which must be in `ConvAlgorithm.supported(plan)`.
func convForward(_ x: Tensor, weight: Tensor, plan: ConvPlan, algorithm: ConvAlgorithm, epilogue: ConvEpilogue,
                 winogradWeights: WinogradWeights? = nil) -> Tensor {
    switch algorithm {
    case .winograd:
        return Winograd.forward(x, weight: weight, transformed: winogradWeights, plan: plan, epilogue: epilogue)
    case .depthwiseRows:
        return depthwiseRowsForward(x, weight: weight, plan: plan, epilogue: epilogue)
    case .directRows:
        let (xin, geo) = plan.prepare(x, explicitZeros: true)
        return directRowsForward(xin, weight: weight, plan: plan, geometry: geo.cGeometry(channels: plan.inChannels), epilogue: epilogue)
    case .channelsInLanes:
        let (xin, geo) = plan.prepare(x, explicitZeros: !plan.geometry.isPointwise)
        return channelsInLanesForward(xin, weight: weight, plan: plan, geometry: geo.cGeometry(channels: plan.inChannels), epilogue: epilogue)
    case .blockedVolume:
        return BlockedVolumeConvolution.forward(x, weight: weight, plan: plan, epilogue: epilogue)
    case .gemm:
        return gemmForward(x, weight: weight, plan: plan, epilogue: epilogue)
    }
}

/// The general path: im2col packed into the GEMM panels, a plain GEMM for 1×1, the few-filter direct kernel,
/// or the generic depthwise kernel over a padded copy.
func gemmForward(_ x: Tensor, weight: Tensor, plan: ConvPlan, epilogue: ConvEpilogue) -> Tensor {
    // Padding the input once is cheaper than bounds checks on every tap (1×1 convolutions have none).
    let (xin, geo) = plan.prepare(x, explicitZeros: !plan.geometry.isPointwise)
    let N = plan.batch, G = plan.groups, cin = plan.inChannels, cout = plan.outChannels
    let cg = cin / G, mg = cout / G, P = geo.outputVolume, S = geo.inputVolume
    let K = cg * geo.kernelVolume
    let cgeo = geo.cGeometry(channels: cg)
    return Tensor(shape: plan.outputShape) { out in
        let o = out.baseAddress!
        xin.withUnsafeBufferPointer { xb in weight.withUnsafeBufferPointer { wb in epilogue.withPointers { tail in
            let xp = xb.baseAddress!, wp = wb.baseAddress!
            if plan.isDepthwise {
                // Tasks over (sample, channel block); each writes disjoint output planes.
                let blocks = Swift.max(1, Swift.min(cin, Parallel.threads * 4 / Swift.max(N, 1)))
                let per = (cin + blocks - 1) / blocks
                Parallel.forEach(N * blocks) { t in
                    let n = t / blocks, c0 = (t % blocks) * per, c1 = Swift.min(cin, c0 + per)
                    if c0 >= c1 { return }
                    withUnsafePointer(to: cgeo) { gp in
                        ck_depthwise_forward(gp, xp + n * cin * S, wp, nil, Int32(c0), Int32(c1), o + n * cout * P)
                    }
                    tail.apply(o, sample: n, channels: c0..<c1, positions: 0..<P, planeSize: P, outChannels: cout)
                }
                return
            }
            // Tasks: (n, g) pairs; with fewer pairs than threads, split the columns (output positions) when
            // there are many, else the rows (output channels).
            let pairs = N * G, T = Parallel.threads
            let nr = Int(ck_gemm_nr())
            var pChunk = P, mChunk = mg
            if pairs < T && !plan.usesDirectKernel {
                let want = (T + pairs - 1) / pairs
                if P >= want * 4 * nr {
                    pChunk = ((P + want - 1) / want + nr - 1) / nr * nr
                } else if mg >= want * 24 {
                    mChunk = ((mg + want - 1) / want + 23) / 24 * 24
                }
            }
            let pParts = (P + pChunk - 1) / pChunk, mParts = (mg + mChunk - 1) / mChunk
            Parallel.forEach(pairs * pParts * mParts) { t in
                let pair = t / (pParts * mParts), n = pair / G, g = pair % G
                let pi = (t / mParts) % pParts, mi = t % mParts
                let p0 = pi * pChunk, p1 = Swift.min(P, p0 + pChunk)
                let m0 = mi * mChunk, m1 = Swift.min(mg, m0 + mChunk), mc = m1 - m0
                let dst = o + (n * cout + g * mg + m0) * P
                let xs = xp + (n * cin + g * cg) * S
                let ws = wp + (g * mg + m0) * K
                if plan.usesDirectKernel {
                    for i in 0..<(mc * P) { dst[i] = 0 }
                    withUnsafePointer(to: cgeo) { ck_direct_conv_forward($0, Int32(mc), ws, xs, dst) }
                } else if geo.isPointwise {
                    ck_sgemm(Int32(mc), Int32(p1 - p0), Int32(K), 1, ws, K, 1, xs + p0, S, 1, 0, dst + p0, P)
                } else {
                    withUnsafePointer(to: cgeo) { gp in
                        ck_conv_gemm(gp, Int32(mc), ws, K, xs, Int32(p0), Int32(p1), 1, 0, dst + p0, P)
                    }
                }
                let c0 = g * mg + m0
                tail.apply(o, sample: n, channels: c0..<(c0 + mc), positions: p0..<p1, planeSize: P, outChannels: cout)
            }
        } } }
    }
}

/// Zero-pads the spatial axes of x by the geometry's amounts; returns the padded input and a geometry
/// without padding over it.
func zeroPadded(_ x: Tensor, _ geo: WindowGeometry) -> (Tensor, WindowGeometry) {
    let g = geo.paddingAbsorbed
    let c = geo.cGeometry(channels: 1), planes = x.shape[0] * x.shape[1]
    let pb = geo.cGeometry(channels: 1).padsAfter(geo)
    let out = Tensor(shape: Array(x.shape[..<2]) + g.input) { o in
        x.withUnsafeBufferPointer { xb in
            let inVol = geo.inputVolume, outVol = g.inputVolume
            Parallel.forRanges(planes, minChunk: 16) { r in
                ck_pad_planes(xb.baseAddress! + r.lowerBound * inVol, Int32(r.count), c.id, c.ih, c.iw,
                              c.pd, pb.0, c.ph, pb.1, c.pw, pb.2, o.baseAddress! + r.lowerBound * outVol)
            }
        }
    }
    return (out, g)
}

extension WindowGeometry {
    /// The same windows over an input that already holds the padding: input + before + after, no padding.
    var paddingAbsorbed: WindowGeometry {
        var g = self
        g.input = (0..<rank).map { input[$0] + padBefore[$0] + padAfter[$0] }
        g.padBefore = padBefore.map { _ in 0 }; g.padAfter = g.padBefore
        return g
    }
}

extension ck_conv_geom {
    /// The after-padding amounts of `geo` in the C kernels' (depth, height, width) order.
    func padsAfter(_ geo: WindowGeometry) -> (Int32, Int32, Int32) {
        let a = [Int](repeating: 0, count: 3 - geo.rank) + geo.padAfter
        return (Int32(a[0]), Int32(a[1]), Int32(a[2]))
    }
}
