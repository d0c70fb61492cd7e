import CConvKernels
import ConvKit
import PropertyBased
import Testing

/// Property-based tests (swift-property-based) of the shape and geometry rules and of the convolution paths the
/// kernels choose among: random geometries, checked against definitions rather than against chosen examples.
/// A failure prints the input and a seed to reproduce it with `.fixedSeed(…)`.
@Suite(.serialized) struct GeometryPropertyTests {
    /// The notes' output-size rule is the number of window positions that fit, counted one by one.
    @Test func outputSizeCountsTheWindowsThatFit() async {
        await propertyCheck(count: 2000, input: Gen.int(in: 1...64), Gen.int(in: 1...9), Gen.int(in: 1...5), Gen.int(in: 0...6), Gen.int(in: 1...4)) { n, k, s, p, d in
            let padAfter = (p * 7 + k) % 5
            var windows = 0, start = -p
            while start + d * (k - 1) <= n - 1 + padAfter { windows += 1; start += s }
            #expect(convOutputSize(n, kernel: k, stride: s, padBefore: p, padAfter: padAfter, dilation: d) == windows)
            // Ceil mode adds a last partial window only when it starts inside the input or its left padding.
            let ceil = convOutputSize(n, kernel: k, stride: s, padBefore: p, padAfter: padAfter, dilation: d, ceilMode: true)
            #expect(ceil == windows || (ceil == windows + 1 && windows * s - p < n))
        }
    }

    /// 'same' keeps ⌈n/s⌉ at every kernel, stride and dilation, with the padding split extra-after.
    @Test func samePaddingGivesTheCeilingOfNOverS() async {
        await propertyCheck(count: 2000, input: Gen.int(in: 1...80), Gen.int(in: 1...9), Gen.int(in: 1...4), Gen.int(in: 1...3)) { n, k, s, d in
            let g = WindowGeometry(input: [n], kernel: [k], stride: [s], padding: .same, dilation: [d])
            #expect(g.output == [(n + s - 1) / s])
            #expect(g.padAfter[0] - g.padBefore[0] == 0 || g.padAfter[0] - g.padBefore[0] == 1)
        }
    }

    /// Extents.product is the exact product when it fits and nil exactly when it does not (or an extent is negative).
    @Test func checkedProductIsExactOrNil() async {
        await propertyCheck(count: 3000, input: Gen.int(in: -2...(1 << 34)).array(of: 0...5)) { dims in
            let exact = dims.reduce(1.0) { $0 * Double($1) }
            let p = Extents.product(dims)
            if dims.contains(where: { $0 < 0 }) { #expect(p == nil) }
            else if exact < 9.0e18 { #expect(p.map(Double.init) == exact) }
            else if exact > 9.3e18 { #expect(p == nil) }
        }
    }

    /// Every convolution path (direct, Winograd, depthwise, 1×1, im2col-GEMM, channels-in-lanes, per ISA) equals
    /// the definition on random 1-, 2- and 3-D geometries with groups, asymmetric padding, stride and dilation.
    @Test func convolutionEqualsTheDefinitionOnRandomGeometries() async {
        let available = availableISAs()
        defer { ck_force_isa(available.last!) }
        await propertyCheck(count: 60, input: Gen.int(in: 1...3), Gen.int(in: 0...Int(Int32.max))) { rank, seed in
            var rng = SeededGenerator(seed: UInt64(seed))
            let c = RandomConv(rank: rank, rng: &rng)
            let x = Tensor.uniform([c.n, c.cin] + c.spatial, low: -1, high: 1, rng: &rng)
            let w = Tensor.uniform([c.cout, c.cin / c.groups] + c.kernel, low: -1, high: 1, rng: &rng)
            let b = Tensor.uniform([c.cout], low: -1, high: 1, rng: &rng)
            let ref = Reference.conv(x, w, bias: b, stride: c.stride, padBefore: c.padBefore, padAfter: c.padAfter, dilation: c.dilation, groups: c.groups)
            for isa in available {
                ck_force_isa(isa)
                let y = conv(x, weight: w, bias: b, options: c.options)
                #expect(y.shape == ref.shape, "\(c)")
                let scale = Float(c.cin / c.groups * c.kernel.reduce(1, *)).squareRoot()
                #expect(y.maxAbsDifference(ref) <= 2e-5 * scale * 4, "isa \(isa.rawValue): \(c)")
            }
        }
    }

    /// The depthwise kernels (padding by load masks, stride 2 by permutes, two rows per vector on maps ≤ 8 wide, the
    /// padded fallback for other strides) equal the definition on every ISA: widths on both sides of 8, 16 and 32,
    /// strides 1–3, dilation, asymmetric padding, 1-, 2- and 3-D.
    @Test func depthwiseEqualsTheDefinitionOnRandomGeometries() async {
        await propertyCheck(count: 150, input: Gen.int(in: 1...3), Gen.int(in: 0...Int(Int32.max))) { rank, seed in
            var rng = SeededGenerator(seed: UInt64(seed))
            checkDepthwise(rank: rank, kernels: [1, 3, 3, 5, 7], strides: [1, 2, 2, 3], dilations: [1, 1, 2], rng: &rng)
        }
    }

    /// The stride-1, dilation-1 2-D case has its own kernel (input rows shared between output rows); random pads
    /// and sizes put groups of rows both inside the input and over its borders.
    @Test func depthwiseStrideOneEqualsTheDefinition() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            var rng = SeededGenerator(seed: UInt64(seed))
            checkDepthwise(rank: 2, kernels: [3, 5], strides: [1], dilations: [1], rng: &rng)
        }
    }

    /// Depthwise gradients are the adjoints of the definition: ⟨∂x, v⟩ = ⟨conv(v, w), r⟩ and ⟨∂w, u⟩ = ⟨conv(x, u), r⟩
    /// for ∂ = convBackward(gradOutput: r), on random geometries (strides 1–3 reach the stride-2 kernel).
    @Test func depthwiseGradientsAreTheAdjointsOfTheDefinition() async {
        await propertyCheck(count: 80, input: Gen.int(in: 1...3), Gen.int(in: 0...Int(Int32.max))) { rank, seed in
            var rng = SeededGenerator(seed: UInt64(seed))
            func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
            let c = pick(1...5), n = pick(1...2)
            let kernel = (0..<rank).map { _ in [1, 3, 3, 5][pick(0...3)] }
            let dilation = kernel.map { $0 > 1 ? [1, 1, 2][pick(0...2)] : 1 }
            let stride = (0..<rank).map { _ in [1, 2, 2, 3][pick(0...3)] }
            let pb = kernel.map { pick(0...($0 / 2)) }, pa = kernel.map { pick(0...($0 / 2)) }
            let maxSide = rank == 3 ? 8 : rank == 2 ? 40 : 70
            let spatial = (0..<rank).map { i in dilation[i] * (kernel[i] - 1) + 1 + pick(0...maxSide) }
            let x = Tensor.uniform([n, c] + spatial, low: -1, high: 1, rng: &rng)
            let w = Tensor.uniform([c, 1] + kernel, low: -1, high: 1, rng: &rng)
            let options = ConvOptions(stride: stride, padding: .explicit(before: pb, after: pa), dilation: dilation, groups: c)
            func ref(_ x: Tensor, _ w: Tensor) -> Tensor {
                Reference.conv(x, w, bias: nil, stride: stride, padBefore: pb, padAfter: pa, dilation: dilation, groups: c)
            }
            let r = Tensor.uniform(ref(x, w).shape, low: -1, high: 1, rng: &rng)
            let v = Tensor.uniform(x.shape, low: -1, high: 1, rng: &rng), u = Tensor.uniform(w.shape, low: -1, high: 1, rng: &rng)
            let g = convBackward(x, weight: w, gradOutput: r, options: options, needBias: false)
            let dxv = dot(g.input!, v), expectX = dot(ref(v, w), r)
            let dwu = dot(g.weight, u), expectW = dot(ref(x, u), r)
            let where_ = "c \(c) n \(n) \(spatial) k \(kernel) s \(stride) d \(dilation) pad \(pb)/\(pa)"
            #expect(abs(dxv - expectX) <= 1e-4 * max(1, abs(expectX)), "dx: \(where_)")
            #expect(abs(dwu - expectW) <= 1e-4 * max(1, abs(expectW)), "dw: \(where_)")
        }
    }

    /// Every algorithm of the table equals the definition wherever its kernel claims support, on random odd
    /// geometries (the tuner may pick any of them); each algorithm is met at least once on AVX-512.
    @Test func everySupportedAlgorithmEqualsTheDefinition() {
        var rng = SeededGenerator(seed: 2026)
        func pick(_ a: [Int]) -> Int { a[Int(rng.next() % UInt64(a.count))] }
        var seen = Set<ConvAlgorithm>()
        for _ in 0..<160 {
            let depthwise = pick([0, 0, 0, 1]) == 1
            let cin = depthwise ? pick([8, 16, 24]) : pick([1, 3, 4, 16, 24, 40])
            let cout = depthwise ? cin : pick([1, 6, 16, 32, 70])
            let k = pick([1, 3, 3, 5, 7]), s = pick([1, 1, 2]), d = k > 1 ? pick([1, 1, 2]) : 1
            let pb = [pick(Array(0...(k / 2))), pick(Array(0...(k / 2)))], pa = [pick(Array(0...(k / 2))), pick(Array(0...(k / 2)))]
            let ext = d * (k - 1) + 1
            let h = max(1, ext - pb[0] - pa[0]) + pick(Array(0...24)), w = max(1, ext - pb[1] - pa[1]) + pick([0, 3, 6, 13, 20, 27])
            let n = pick([1, 1, 2]), groups = depthwise ? cin : 1
            let x = Tensor.uniform([n, cin, h, w], low: -1, high: 1, rng: &rng)
            let wt = Tensor.uniform([cout, cin / groups, k, k], low: -1, high: 1, rng: &rng)
            let b = Tensor.uniform([cout], low: -1, high: 1, rng: &rng)
            let options = ConvOptions(stride: [s, s], padding: .explicit(before: pb, after: pa), dilation: [d, d], groups: groups)
            let ref = Reference.conv(x, wt, bias: b, stride: [s, s], padBefore: pb, padAfter: pa, dilation: [d, d], groups: groups)
            let scale = max(1, ref.scalars.map(abs).max() ?? 0)
            for a in ConvAlgorithm.supported(input: x.shape, weight: wt.shape, options: options) {
                seen.insert(a)
                let y = conv(x, weight: wt, bias: b, options: options, algorithm: a)
                #expect(y.shape == ref.shape)
                #expect(y.maxAbsDifference(ref) <= 1e-4 * scale, "\(a): \(x.shape) * \(wt.shape) s \(s) d \(d) pad \(pb)/\(pa)")
            }
        }
        let expected: Set<ConvAlgorithm> = ck_active_isa() == CK_ISA_AVX512 ? Set(ConvAlgorithm.allCases) : [.gemm, .winograd]
        #expect(expected.isSubset(of: seen), "algorithms never met: \(expected.subtracting(seen))")
    }

    private func checkDepthwise(rank: Int, kernels: [Int], strides: [Int], dilations: [Int], rng: inout SeededGenerator) {
        let available = availableISAs()
        defer { ck_force_isa(available.last!) }
        func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
        func pick(_ a: [Int]) -> Int { a[pick(0...(a.count - 1))] }
        let c = pick(1...5), n = pick(1...2)
        let kernel = (0..<rank).map { _ in pick(kernels) }
        let dilation = kernel.map { $0 > 1 ? pick(dilations) : 1 }
        let stride = (0..<rank).map { _ in pick(strides) }
        let pb = kernel.map { pick(0...($0 / 2 + 1)) }, pa = kernel.map { pick(0...($0 / 2 + 1)) }
        let maxSide = rank == 3 ? 9 : rank == 2 ? 40 : 70
        let spatial = (0..<rank).map { i in max(1, dilation[i] * (kernel[i] - 1) + 1 - pb[i] - pa[i]) + pick(0...maxSide) }
        let x = Tensor.uniform([n, c] + spatial, low: -1, high: 1, rng: &rng)
        let w = Tensor.uniform([c, 1] + kernel, low: -1, high: 1, rng: &rng)
        let b = Tensor.uniform([c], low: -1, high: 1, rng: &rng)
        let options = ConvOptions(stride: stride, padding: .explicit(before: pb, after: pa), dilation: dilation, groups: c)
        let ref = Reference.conv(x, w, bias: b, stride: stride, padBefore: pb, padAfter: pa, dilation: dilation, groups: c)
        for isa in available {
            ck_force_isa(isa)
            let y = conv(x, weight: w, bias: b, options: options)
            #expect(y.shape == ref.shape)
            #expect(y.maxAbsDifference(ref) <= 1e-4, "isa \(isa.rawValue): c \(c) n \(n) \(spatial) k \(kernel) s \(stride) d \(dilation) pad \(pb)/\(pa)")
        }
    }

    /// A transposed convolution is the adjoint of the convolution it undoes: ⟨convᵀ(x), y⟩ = ⟨x, conv(y)⟩ with the
    /// same weights, and its output size is (n − 1)·s − p_before − p_after + d·(k − 1) + output_padding + 1.
    @Test func transposedConvolutionIsTheAdjoint() async {
        var checked = 0
        defer { #expect(checked >= 30, "most random geometries should be valid, checked \(checked) of 60") }
        await propertyCheck(count: 60, input: Gen.int(in: 1...3), Gen.int(in: 0...Int(Int32.max))) { rank, seed in
            var rng = SeededGenerator(seed: UInt64(seed))
            func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
            let groups = [1, 1, 2][pick(0...2)]
            let cin = groups * pick(1...3), cout = groups * pick(1...3), n = pick(1...2)
            let spatial = (0..<rank).map { _ in pick(1...(rank == 3 ? 4 : 7)) }
            let kernel = (0..<rank).map { _ in pick(1...3) }, stride = (0..<rank).map { _ in pick(1...3) }
            let dilation = (0..<rank).map { _ in pick(1...2) }
            let pb = (0..<rank).map { kernel[$0] > 1 ? pick(0...(kernel[$0] - 1)) : 0 }
            let pa = (0..<rank).map { kernel[$0] > 1 ? pick(0...(kernel[$0] - 1)) : 0 }
            let op = (0..<rank).map { pick(0...(stride[$0] - 1)) }
            var expected = [Int]()
            for i in 0..<rank {
                let span: Int = (spatial[i] - 1) * stride[i] - pb[i] - pa[i]
                expected.append(span + dilation[i] * (kernel[i] - 1) + op[i] + 1)
            }
            guard expected.allSatisfy({ $0 > 0 }) else { return }
            let options = ConvTransposeOptions(stride: stride, padding: .explicit(before: pb, after: pa), outputPadding: op, dilation: dilation, groups: groups)
            let x = Tensor.uniform([n, cin] + spatial, low: -1, high: 1, rng: &rng)
            let w = Tensor.uniform([cin, cout / groups] + kernel, low: -1, high: 1, rng: &rng)
            let t = convTranspose(x, weight: w, options: options)
            #expect(Array(t.shape[2...]) == expected)
            let y = Tensor.uniform(t.shape, low: -1, high: 1, rng: &rng)
            let back = conv(y, weight: w, options: ConvOptions(stride: stride, padding: .explicit(before: pb, after: pa), dilation: dilation, groups: groups))
            #expect(back.shape == x.shape)
            let lhs = dot(t, y), rhs = dot(x, back)
            checked += 1
            #expect(abs(lhs - rhs) <= 1e-4 * max(1, abs(lhs)), "stride \(stride) pad \(pb)/\(pa) op \(op) dilation \(dilation) groups \(groups)")
        }
    }
}

/// The ISAs this CPU runs, each checked to be the one actually active once forced (never a silent fallback).
func availableISAs() -> [ck_isa] {
    var out = [ck_isa]()
    for isa in [CK_ISA_GENERIC, CK_ISA_AVX2, CK_ISA_AVX512] {
        ck_force_isa(isa)
        if ck_active_isa() == isa { out.append(isa) }
    }
    return out
}

/// A random valid convolution geometry: small extents so that the definition stays fast, but every parameter
/// free — groups (including depthwise), asymmetric padding, stride, dilation, kernels up to 7.
struct RandomConv: CustomStringConvertible {
    var n: Int, cin: Int, cout: Int, groups: Int
    var spatial: [Int], kernel: [Int], stride: [Int], dilation: [Int], padBefore: [Int], padAfter: [Int]
    var options: ConvOptions { ConvOptions(stride: stride, padding: .explicit(before: padBefore, after: padAfter), dilation: dilation, groups: groups) }
    var description: String {
        "n \(n) cin \(cin) cout \(cout) groups \(groups) spatial \(spatial) k \(kernel) s \(stride) d \(dilation) pad \(padBefore)/\(padAfter)"
    }

    init(rank: Int, rng: inout SeededGenerator) {
        var r = rng
        defer { rng = r }
        func pick(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(r.next() % UInt64(range.count)) }
        let kind = pick(0...3)   // 0: dense, 1: grouped, 2: depthwise, 3: 1×1 / pointwise-heavy
        var groups = kind == 1 ? pick(2...3) : 1
        let perGroupIn = pick(1...(kind == 3 ? 24 : 6))
        let cin = kind == 2 ? pick(1...12) : groups * perGroupIn
        if kind == 2 { groups = cin }
        let cout = kind == 2 ? cin * pick(1...2) : groups * pick(1...(kind == 3 ? 24 : 10))
        let maxSide = rank == 1 ? 40 : rank == 2 ? 18 : 7
        var kernel = [Int](), stride = [Int](), dilation = [Int](), pb = [Int](), pa = [Int](), spatial = [Int]()
        for _ in 0..<rank {
            let k = kind == 3 ? 1 : [1, 2, 3, 3, 3, 5, 7][pick(0...6)]
            let d = k > 1 ? [1, 1, 2, 3][pick(0...3)] : 1
            let before = pick(0...(k / 2 + 1)), after = pick(0...(k / 2 + 1))
            kernel.append(k); dilation.append(d); stride.append([1, 1, 1, 2, 3][pick(0...4)])
            pb.append(before); pa.append(after)
            let span = d * (k - 1) + 1
            spatial.append(max(1, span - before - after) + pick(0...maxSide))
        }
        self.n = pick(1...2)
        self.cin = cin; self.cout = cout; self.groups = groups
        self.spatial = spatial; self.kernel = kernel; self.stride = stride; self.dilation = dilation
        self.padBefore = pb; self.padAfter = pa
    }
}
