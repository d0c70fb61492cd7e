import XCTest
import CConvKernels
@testable import ConvKit

final class ConvTests: XCTestCase {
    /// The notes' worked example: 6×6 image, left half 10, right half 0, vertical edge filter → 30s in the middle.
    func testVerticalEdgeDetectionExample() {
        var img = Tensor.zeros([1, 1, 6, 6])
        for r in 0..<6 { for c in 0..<3 { img[0, 0, r, c] = 10 } }
        let filt = Tensor(shape: [1, 1, 3, 3], scalars: [1, 0, -1, 1, 0, -1, 1, 0, -1])
        let y = conv(img, weight: filt)
        XCTAssertEqual(y.shape, [1, 1, 4, 4])
        for r in 0..<4 { XCTAssertEqual([y[0, 0, r, 0], y[0, 0, r, 1], y[0, 0, r, 2], y[0, 0, r, 3]], [0, 30, 30, 0]) }
    }

    func testOutputSizeFormula() {
        // ⌊(n + 2p − f)/s⌋ + 1
        XCTAssertEqual(convOutputSize(6, kernel: 3), 4)
        XCTAssertEqual(convOutputSize(7, kernel: 3, stride: 2, padBefore: 0, padAfter: 0), 3)
        XCTAssertEqual(convOutputSize(7, kernel: 3, stride: 2, padBefore: 1, padAfter: 1), 4)
        XCTAssertEqual(convOutputSize(32, kernel: 5, stride: 1, padBefore: 0, padAfter: 0), 28)
        // 'same' at stride 1 with odd f: p = (f − 1)/2 each side.
        for f in [1, 3, 5, 7] {
            let g = WindowGeometry(input: [10, 11], kernel: [f], padding: .same)
            XCTAssertEqual(g.padBefore, [(f - 1) / 2, (f - 1) / 2]); XCTAssertEqual(g.output, [10, 11])
        }
        // TensorFlow 'same' at stride 2: out = ⌈n/s⌉, the odd pixel goes after.
        let g = WindowGeometry(input: [224], kernel: [7], stride: [2], padding: .same)
        XCTAssertEqual(g.output, [112]); XCTAssertEqual(g.padBefore, [2]); XCTAssertEqual(g.padAfter, [3])
        let h = WindowGeometry(input: [5], kernel: [2], stride: [2], padding: .same)
        XCTAssertEqual(h.output, [3]); XCTAssertEqual(h.padBefore, [0]); XCTAssertEqual(h.padAfter, [1])
    }

    struct Case { var n, cin, cout, groups: Int; var spatial, k, stride, pb, pa, dil: [Int] }

    static let cases: [Case] = [
        Case(n: 2, cin: 3, cout: 5, groups: 1, spatial: [9, 7], k: [3, 3], stride: [1, 1], pb: [1, 1], pa: [1, 1], dil: [1, 1]),
        Case(n: 1, cin: 4, cout: 6, groups: 2, spatial: [11, 10], k: [3, 2], stride: [2, 3], pb: [0, 1], pa: [2, 0], dil: [1, 2]),
        Case(n: 3, cin: 6, cout: 6, groups: 6, spatial: [8, 9], k: [3, 3], stride: [1, 1], pb: [1, 1], pa: [1, 1], dil: [1, 1]),
        Case(n: 2, cin: 5, cout: 5, groups: 5, spatial: [10, 7], k: [3, 5], stride: [2, 1], pb: [2, 0], pa: [1, 3], dil: [2, 1]),
        Case(n: 2, cin: 7, cout: 9, groups: 1, spatial: [6, 5], k: [1, 1], stride: [1, 1], pb: [0, 0], pa: [0, 0], dil: [1, 1]),
        Case(n: 1, cin: 3, cout: 40, groups: 1, spatial: [13, 37], k: [5, 5], stride: [1, 1], pb: [2, 2], pa: [2, 2], dil: [1, 1]),
        Case(n: 2, cin: 3, cout: 4, groups: 1, spatial: [19], k: [4], stride: [3], pb: [2], pa: [1], dil: [2]),
        Case(n: 2, cin: 4, cout: 2, groups: 2, spatial: [5, 6, 7], k: [2, 3, 3], stride: [1, 2, 1], pb: [1, 0, 1], pa: [0, 1, 1], dil: [2, 1, 1]),
        Case(n: 1, cin: 2, cout: 4, groups: 2, spatial: [9, 9], k: [3, 3], stride: [1, 1], pb: [1, 1], pa: [1, 1], dil: [1, 1]),
        Case(n: 1, cin: 16, cout: 24, groups: 1, spatial: [1, 33], k: [1, 1], stride: [1, 2], pb: [0, 0], pa: [0, 0], dil: [1, 1]),
        // Stride 2 along rows of 35 outputs: the packing's stride-2 runs span two vectors.
        Case(n: 1, cin: 3, cout: 20, groups: 1, spatial: [9, 70], k: [3, 3], stride: [2, 2], pb: [1, 1], pa: [1, 1], dil: [1, 1]),
        // Stride 2 in width with rows split into even and odd columns: odd widths, a 7-wide kernel, 1-D.
        Case(n: 2, cin: 3, cout: 33, groups: 1, spatial: [11, 45], k: [7, 7], stride: [2, 2], pb: [3, 2], pa: [2, 3], dil: [1, 1]),
        Case(n: 1, cin: 4, cout: 24, groups: 1, spatial: [31], k: [4], stride: [2], pb: [1], pa: [2], dil: [1]),
        // First-layer direct kernel: output rows of 75, 104 and 90 (tiles of 4+1, 4+3 and 4+2 vectors),
        // filters not a multiple of its 6-filter blocks, height dilation.
        Case(n: 2, cin: 3, cout: 20, groups: 1, spatial: [5, 150], k: [3, 3], stride: [1, 2], pb: [1, 1], pa: [1, 1], dil: [1, 1]),
        Case(n: 1, cin: 2, cout: 17, groups: 1, spatial: [6, 104], k: [2, 5], stride: [1, 1], pb: [0, 2], pa: [1, 2], dil: [2, 1]),
        // One sample, ≤ 16 filters: the direct weight gradient split over filter and channel ranges, taps taken
        // three along the width (a 5-wide dilated kernel: a block of 3 and one of 2).
        Case(n: 1, cin: 5, cout: 11, groups: 1, spatial: [6, 40], k: [3, 5], stride: [1, 1], pb: [1, 4], pa: [1, 4], dil: [1, 2]),
        Case(n: 1, cin: 1, cout: 30, groups: 1, spatial: [7, 181], k: [4, 3], stride: [2, 2], pb: [1, 0], pa: [2, 1], dil: [1, 1]),
        // Small maps with channels in vector lanes: 7×7 outputs at strides 1, 2 and 3, a 2×14 map, a 14×14 map
        // (the largest handled), filters not a multiple of 32 (a task with 6 of them).
        Case(n: 2, cin: 64, cout: 70, groups: 1, spatial: [7, 7], k: [3, 3], stride: [1, 1], pb: [1, 1], pa: [1, 1], dil: [1, 1]),
        Case(n: 1, cin: 60, cout: 64, groups: 1, spatial: [13, 14], k: [3, 3], stride: [2, 2], pb: [1, 1], pa: [1, 1], dil: [1, 1]),
        Case(n: 1, cin: 64, cout: 96, groups: 1, spatial: [9, 21], k: [3, 3], stride: [1, 3], pb: [0, 0], pa: [0, 0], dil: [1, 1]),
        Case(n: 1, cin: 130, cout: 64, groups: 1, spatial: [2, 14], k: [2, 2], stride: [1, 1], pb: [0, 1], pa: [1, 0], dil: [1, 1]),
        Case(n: 1, cin: 64, cout: 72, groups: 1, spatial: [27, 28], k: [3, 3], stride: [2, 2], pb: [1, 1], pa: [1, 0], dil: [1, 1]),
        // ≤ 16 filters over a map of ≥ 4,096 outputs goes to the row-parallel first-layer kernel (dlib's MMOD first
        // layer, 5×5/2 without padding); 10 filters: a partial block of 6.
        Case(n: 1, cin: 3, cout: 10, groups: 1, spatial: [133, 131], k: [5, 5], stride: [2, 2], pb: [0, 0], pa: [0, 0], dil: [1, 1]),
        // Long output rows (≥ 32) with ≤ 64 filters also take the row kernel: 5×5 at stride 1 with padding, K = 300;
        // stride 2 with 16 channels (K = 400) and rows of 70 (a 64-wide tile and one of 6).
        Case(n: 2, cin: 12, cout: 20, groups: 1, spatial: [7, 40], k: [5, 5], stride: [1, 1], pb: [2, 2], pa: [2, 2], dil: [1, 1]),
        Case(n: 1, cin: 16, cout: 32, groups: 1, spatial: [9, 143], k: [5, 5], stride: [2, 2], pb: [0, 0], pa: [0, 0], dil: [1, 1]),
        // 12 filters: the direct kernel's second chunk of 8 is partial; rows of 19 span two vectors.
        Case(n: 3, cin: 2, cout: 12, groups: 1, spatial: [5, 19], k: [3, 2], stride: [1, 1], pb: [1, 0], pa: [1, 1], dil: [1, 2]),
    ]

    func testForwardMatchesReference() {
        var rng = SeededGenerator(seed: 10)
        defer { ck_force_isa(CK_ISA_AVX512) }
        for isa in availableISAs() {
        ck_force_isa(isa)
        for c in Self.cases {
            let x = Tensor.uniform([c.n, c.cin] + c.spatial, low: -1, high: 1, rng: &rng)
            let w = Tensor.uniform([c.cout, c.cin / c.groups] + c.k, low: -1, high: 1, rng: &rng)
            let b = Tensor.uniform([c.cout], low: -1, high: 1, rng: &rng)
            let opts = ConvOptions(stride: c.stride, padding: .explicit(before: c.pb, after: c.pa), dilation: c.dil, groups: c.groups)
            let y = conv(x, weight: w, bias: b, options: opts)
            let ref = Reference.conv(x, w, bias: b, stride: c.stride, padBefore: c.pb, padAfter: c.pa, dilation: c.dil, groups: c.groups)
            XCTAssertEqual(y.shape, ref.shape, "\(c)")
            XCTAssertLessThan(y.maxAbsDifference(ref), 1e-4, "isa \(isa) \(c)")
        }
        }
    }

    func testBackwardMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 11)
        for c in Self.cases where c.spatial.reduce(1, *) * c.cin * c.n < 1500 {
            let x = Tensor.uniform([c.n, c.cin] + c.spatial, low: -1, high: 1, rng: &rng)
            let w = Tensor.uniform([c.cout, c.cin / c.groups] + c.k, low: -1, high: 1, rng: &rng)
            let b = Tensor.uniform([c.cout], low: -1, high: 1, rng: &rng)
            let opts = ConvOptions(stride: c.stride, padding: .explicit(before: c.pb, after: c.pa), dilation: c.dil, groups: c.groups)
            let y = conv(x, weight: w, bias: b, options: opts)
            let r = Tensor.uniform(y.shape, low: -1, high: 1, rng: &rng)
            let (gx, gw, gb) = convBackward(x, weight: w, gradOutput: r, options: opts)
            let nx = numericGradient(x) { dot(conv($0, weight: w, bias: b, options: opts), r) }
            let nw = numericGradient(w) { dot(conv(x, weight: $0, bias: b, options: opts), r) }
            let nb = numericGradient(b) { dot(conv(x, weight: w, bias: $0, options: opts), r) }
            XCTAssertLessThan(relativeError(gx!, nx), 2e-3, "dx \(c)")
            XCTAssertLessThan(relativeError(gw, nw), 2e-3, "dw \(c)")
            XCTAssertLessThan(relativeError(gb!, nb), 2e-3, "db \(c)")
        }
    }

    /// Weight gradients on maps too large for finite differences, including those whose im2col is cut into
    /// cached chunks: conv is linear in its weights, so Σ dW ⊙ V = Σ dy ⊙ conv(x, V) for any V.
    func testWeightGradientsOfLargeMapsSatisfyTheAdjointIdentity() {
        var rng = SeededGenerator(seed: 21)
        let cases: [(n: Int, cin: Int, cout: Int, hw: [Int], k: [Int], stride: [Int], dil: [Int])] = [
            (1, 8, 20, [48, 48], [3, 3], [1, 1], [1, 1]), (3, 8, 24, [50, 47], [3, 3], [1, 1], [1, 1]),
            (1, 16, 32, [33, 50], [3, 3], [2, 2], [1, 1]), (2, 6, 18, [45, 41], [5, 3], [1, 1], [2, 1]),
        ]
        for c in cases {
            let x = Tensor.uniform([c.n, c.cin] + c.hw, low: -1, high: 1, rng: &rng)
            let w = Tensor.uniform([c.cout, c.cin] + c.k, low: -1, high: 1, rng: &rng)
            let opts = ConvOptions(stride: c.stride, padding: .same, dilation: c.dil)
            let dy = Tensor.uniform(conv(x, weight: w, options: opts).shape, low: -1, high: 1, rng: &rng)
            let v = Tensor.uniform(w.shape, low: -1, high: 1, rng: &rng)
            let gw = convBackward(x, weight: w, gradOutput: dy, options: opts, needInput: false).weight
            let lhs = dot(gw, v), rhs = dot(dy, conv(x, weight: v, options: opts))
            XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * Swift.max(1, Swift.abs(rhs)), "\(c)")
        }
    }

    /// Output padding beyond the padding (PyTorch allows output_padding < max(stride, dilation) whatever the
    /// padding) and Keras 'same' with a kernel smaller than the stride: the last positions receive no input, so
    /// they hold the bias alone. Shapes by PyTorch's formula; gradients by finite differences.
    func testTransposedConvolutionWithOutputPaddingBeyondThePadding() {
        var rng = SeededGenerator(seed: 31)
        let cases: [(spatial: [Int], k: [Int], o: ConvTransposeOptions, out: [Int])] = [
            ([4, 3], [3, 3], ConvTransposeOptions(stride: [2], padding: .valid, outputPadding: [1]), [10, 8]),
            ([3, 4], [3, 2], ConvTransposeOptions(stride: [3, 2], padding: .symmetric(0), outputPadding: [2, 1]), [11, 9]),
            ([5], [2], ConvTransposeOptions(stride: [4], padding: .same), [20]),
            ([3, 3], [1, 1], ConvTransposeOptions(stride: [3], padding: .same), [9, 9]),
        ]
        for c in cases {
            let x = Tensor.uniform([1, 2] + c.spatial, low: -1, high: 1, rng: &rng)
            let w = Tensor.uniform([2, 3] + c.k, low: -1, high: 1, rng: &rng)
            let b = Tensor([0.5, -1, 2])
            let y = convTranspose(x, weight: w, bias: b, options: c.o)
            XCTAssertEqual(y.shape, [1, 3] + c.out, "\(c.o)")
            let last = y.slice(axis: 2, (c.out[0] - 1)..<c.out[0])
            if c.o.outputPadding != [0] || c.o.padding == .same {
                XCTAssertEqual(last.slice(axis: 1, 0..<1).scalars.allSatisfy { $0 == 0.5 }, true, "the unreached last row holds the bias")
            }
            let r = Tensor.uniform(y.shape, low: -1, high: 1, rng: &rng)
            let grads = convTransposeBackward(x, weight: w, gradOutput: r, options: c.o)
            let nx = numericGradient(x) { dot(convTranspose($0, weight: w, bias: b, options: c.o), r) }
            let nw = numericGradient(w) { dot(convTranspose(x, weight: $0, bias: b, options: c.o), r) }
            XCTAssertLessThan(relativeError(grads.input, nx), 2e-3, "dx \(c.o)")
            XCTAssertLessThan(relativeError(grads.weight, nw), 2e-3, "dw \(c.o)")
            XCTAssertEqual(grads.bias.scalars[0], r.slice(axis: 1, 0..<1).sum().scalar, accuracy: 1e-4)
        }
    }

    func testBackwardSingleAndMultiThreadAgree() {
        var rng = SeededGenerator(seed: 12)
        for c in Self.cases {
            let x = Tensor.uniform([c.n, c.cin] + c.spatial, low: -1, high: 1, rng: &rng)
            let w = Tensor.uniform([c.cout, c.cin / c.groups] + c.k, low: -1, high: 1, rng: &rng)
            let opts = ConvOptions(stride: c.stride, padding: .explicit(before: c.pb, after: c.pa), dilation: c.dil, groups: c.groups)
            let y = conv(x, weight: w, options: opts)
            let r = Tensor.uniform(y.shape, low: -1, high: 1, rng: &rng)
            let saved = Parallel.threads
            Parallel.threads = 1
            let a = convBackward(x, weight: w, gradOutput: r, options: opts)
            Parallel.threads = 2
            let b = convBackward(x, weight: w, gradOutput: r, options: opts)
            Parallel.threads = saved
            XCTAssertLessThan(a.input!.maxAbsDifference(b.input!), 1e-4)
            XCTAssertLessThan(a.weight.maxAbsDifference(b.weight), 1e-4)
        }
    }

    func testReflectAndReplicatePadding() {
        var rng = SeededGenerator(seed: 13)
        let x = Tensor.uniform([1, 2, 5, 6], low: -1, high: 1, rng: &rng)
        let w = Tensor.uniform([3, 2, 3, 3], low: -1, high: 1, rng: &rng)
        for fill in [PaddingFill.reflect, .replicate] {
            let opts = ConvOptions(padding: .symmetric(1), paddingFill: fill)
            let y = conv(x, weight: w, options: opts)
            let xp = x.padded([(1, 1), (1, 1)], mode: fill == .reflect ? .reflect : .replicate)
            XCTAssertLessThan(y.maxAbsDifference(conv(xp, weight: w)), 1e-5)
            let r = Tensor.uniform(y.shape, low: -1, high: 1, rng: &rng)
            let gx = convBackward(x, weight: w, gradOutput: r, options: opts).input!
            let nx = numericGradient(x) { dot(conv($0, weight: w, options: opts), r) }
            XCTAssertLessThan(relativeError(gx, nx), 2e-3)
        }
    }

    /// The few-filter direct kernels (≤ 16 filters: register-blocked per ISA at width stride 1 — AVX-512 in chunks of
    /// 8 filters × 16 positions, AVX2 in chunks of 4 × 16 forward and 4 filters × 3 taps × 8 positions for the
    /// weight gradient) equal the definition on random 1-, 2- and 3-D geometries: partial filter chunks, rows
    /// shorter and longer than a vector, dilation, padding, depth and height strides.
    func testFewFilterDirectKernelsEqualTheDefinitionOnEveryISA() {
        let available = availableISAs()
        defer { ck_force_isa(available.last!) }
        var rng = SeededGenerator(seed: 8128)
        func pick(_ a: [Int]) -> Int { a[Int(rng.next() % UInt64(a.count))] }
        var checked = 0
        for trial in 0..<48 {
            let rank = trial % 3 + 1
            let cin = pick([1, 2, 3]), cout = pick([1, 3, 4, 5, 8, 11, 16]), n = pick([1, 2])
            let kernel = (0..<rank).map { _ in pick([1, 2, 3, 5]) }
            guard kernel.contains(where: { $0 > 1 }) else { continue }
            let stride = (0..<rank).map { i in i == rank - 1 ? 1 : pick([1, 1, 2]) }
            let dilation = kernel.map { $0 > 1 ? pick([1, 1, 2]) : 1 }
            let pb = kernel.map { pick(Array(0...($0 / 2))) }, pa = kernel.map { pick(Array(0...($0 / 2))) }
            let spatial = (0..<rank).map { i in
                max(1, dilation[i] * (kernel[i] - 1) + 1 - pb[i] - pa[i]) + pick(rank == 3 ? [0, 2, 5] : [0, 3, 9, 21])
            }
            let x = Tensor.uniform([n, cin] + spatial, low: -1, high: 1, rng: &rng)
            let w = Tensor.uniform([cout, cin] + kernel, low: -1, high: 1, rng: &rng)
            let options = ConvOptions(stride: stride, padding: .explicit(before: pb, after: pa), dilation: dilation)
            let plan = ConvPlan(input: x.shape, weight: w.shape, options: options)
            XCTAssertTrue(plan.usesDirectKernel)
            let ref = Reference.conv(x, w, bias: nil, stride: stride, padBefore: pb, padAfter: pa, dilation: dilation, groups: 1)
            let gy = Tensor.uniform(ref.shape, low: -1, high: 1, rng: &rng)
            let refW = Reference.convWeightGradient(x, gradOutput: gy, kernel: kernel, stride: stride, padBefore: pb, dilation: dilation)
            let label = "n \(n) \(cin)→\(cout) \(spatial) k \(kernel) s \(stride) d \(dilation) pad \(pb)/\(pa)"
            let tolerance = 2e-5 * Float(cin * kernel.reduce(1, *)).squareRoot() * 4
            let scaleW = max(1, refW.scalars.map(abs).max() ?? 0)
            for isa in available {
                ck_force_isa(isa)
                let y = conv(x, weight: w, options: options, algorithm: .gemm)
                XCTAssertLessThanOrEqual(y.maxAbsDifference(ref), tolerance, "forward, isa \(isa.rawValue): \(label)")
                let g = convBackward(x, weight: w, gradOutput: gy, options: options, needBias: false)
                XCTAssertLessThanOrEqual(g.weight.maxAbsDifference(refW), 1e-4 * scaleW, "weight gradient, isa \(isa.rawValue): \(label)")
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 30)
    }
}

final class WinogradTests: XCTestCase {
    /// The Winograd path against the definition, on odd sizes (partial edge tiles), asymmetric padding,
    /// bias, several samples, and every ISA.
    func testMatchesReference() {
        var rng = SeededGenerator(seed: 21)
        defer { ck_force_isa(CK_ISA_AVX512) }
        for isa in availableISAs() {
            ck_force_isa(isa)
            // Rows of 12, 10, 13, 7 and 33 tiles: partial and full 16-tile vectors of the input transform.
            for (n, c, m, h, w, pb, pa) in [(2, 16, 24, 27, 23, [1, 1], [1, 1]), (2, 32, 16, 34, 19, [0, 2], [1, 0]), (3, 16, 16, 28, 28, [0, 0], [0, 0]),
                                            (1, 16, 16, 14, 14, [1, 1], [1, 1]), (1, 16, 16, 12, 66, [1, 1], [1, 1])] {
                let x = Tensor.uniform([n, c, h, w], low: -1, high: 1, rng: &rng)
                let wt = Tensor.uniform([m, c, 3, 3], low: -1, high: 1, rng: &rng)
                let b = Tensor.uniform([m], low: -1, high: 1, rng: &rng)
                let o = ConvOptions(padding: .explicit(before: pb, after: pa))
                XCTAssertTrue(Winograd.applies(input: x.shape, weight: wt.shape, options: o))
                let y = conv(x, weight: wt, bias: b, options: o)
                let ref = Reference.conv(x, wt, bias: b, stride: [1, 1], padBefore: pb, padAfter: pa, dilation: [1, 1], groups: 1)
                XCTAssertEqual(y.shape, ref.shape)
                XCTAssertLessThan(y.maxAbsDifference(ref), 1e-3, "isa \(isa) \(n)×\(c)×\(h)×\(w)")
            }
        }
    }
}
