import CConvKernels
@testable import ConvKit
import XCTest

/// The kernels of the blocked layout (NCHW16c) against the definitions, on random geometries and every ISA the
/// machine has: channel counts on both sides of the 16-lane blocks, borders, strides, dilation, asymmetric
/// padding, grouped and plain (first-layer) inputs, and the fused epilogue.
final class BlockedKernelTests: XCTestCase {
    override func tearDown() { ck_force_isa(availableISAs().last!) }

    func testPackAndUnpackAreInverseAndZeroThePaddingLanes() {
        var rng = SeededGenerator(seed: 3)
        for c in [1, 5, 16, 17, 40] {
            let x = Tensor.uniform([2, c, 3, 7], low: -1, high: 1, rng: &rng)
            let b = BlockedLayout.pack(x)
            XCTAssertEqual(b.shape, [2, BlockedLayout.blocks(c), 3, 7, 16])
            // Channel 16·k + l of position p sits at ((k·P) + p)·16 + l; lanes past c are zero.
            for n in 0..<2 { for k in 0..<BlockedLayout.blocks(c) { for p in 0..<21 { for l in 0..<16 {
                let v = b.scalars[((n * BlockedLayout.blocks(c) + k) * 21 + p) * 16 + l]
                let ch = 16 * k + l
                XCTAssertEqual(v, ch < c ? x.scalars[(n * c + ch) * 21 + p] : 0)
            } } } }
            XCTAssertEqual(BlockedLayout.unpack(b, channels: c), x)
        }
    }

    func testConvolutionEqualsTheDefinition() {
        var rng = SeededGenerator(seed: 2027)
        func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
        for trial in 0..<120 {
            let plain = trial % 5 == 0
            let rank = pick(1...2)
            let groups = plain ? 1 : [1, 1, 1, 2][pick(0...3)]
            let cinG = plain ? pick(1...6) : (groups > 1 ? 16 * pick(1...2) : [1, 3, 16, 17, 33][pick(0...4)])
            let coutG = groups > 1 ? 16 * pick(1...2) : [1, 8, 16, 20, 48, 70][pick(0...5)]
            let k = (0..<rank).map { _ in [1, 1, 2, 3, 3, 5, 7][pick(0...6)] }
            let s = (0..<rank).map { _ in [1, 1, 2, 3][pick(0...3)] }
            let d = k.map { $0 > 1 ? [1, 1, 2][pick(0...2)] : 1 }
            let pb = k.map { pick(0...($0 / 2 + 1)) }, pa = k.map { pick(0...($0 / 2 + 1)) }
            let spatial = (0..<rank).map { i in Swift.max(1, d[i] * (k[i] - 1) + 1 - pb[i] - pa[i]) + pick(0...(rank == 1 ? 40 : 20)) }
            let n = pick(1...2)
            let x = Tensor.uniform([n, cinG * groups] + spatial, low: -1, high: 1, rng: &rng)
            let w = Tensor.uniform([coutG * groups, cinG] + k, low: -1, high: 1, rng: &rng)
            let b = Tensor.uniform([coutG * groups], low: -1, high: 1, rng: &rng)
            let options = ConvOptions(stride: s, padding: .explicit(before: pb, after: pa), dilation: d, groups: groups)
            let plan = ConvPlan(input: x.shape, weight: w.shape, options: options)
            var ref = Reference.conv(x, w, bias: b, stride: s, padBefore: pb, padAfter: pa, dilation: d, groups: groups)
            let residual = Tensor.uniform(ref.shape, low: -1, high: 1, rng: &rng)
            let useResidual = trial % 3 == 0
            let (lo, hi): (Float, Float) = [(-.infinity, .infinity), (0, .infinity), (0, 0.5)][trial % 3]
            if useResidual { ref = ref + residual }
            ref = ref.clamped(min: lo, max: hi)
            let bc = BlockedConvolution(weight: w, bias: b, plan: plan, plainInput: plain)
            let input = plain ? (bc.plainPadding.map { zeroPadded(x, $0).0 } ?? x) : BlockedLayout.pack(x)
            let res = useResidual ? BlockedLayout.pack(residual) : nil
            let where_ = "trial \(trial) plain \(plain) n \(n) cin \(cinG)×\(groups) cout \(coutG) \(spatial) k \(k) s \(s) d \(d) pad \(pb)/\(pa)"
            for isa in availableISAs() {
                ck_force_isa(isa)
                var out = [Float](repeating: .nan, count: n * bc.outputElements)
                input.withUnsafeBufferPointer { xb in out.withUnsafeMutableBufferPointer { ob in
                    withOptionalPointer(res?.scalars) { rp in
                        bc.run(xb.baseAddress!, batch: n, residual: rp, lower: lo, upper: hi, ob.baseAddress!)
                    }
                } }
                let blocked = Tensor(shape: [n, groups * bc.outBlocks] + ref.shape[2...] + [16], scalars: out)
                let y = BlockedLayout.unpack(blocked, channels: coutG * groups)
                XCTAssertEqual(y.shape, ref.shape, where_)
                let tol = 3e-6 * Float(cinG * k.reduce(1, *)).squareRoot() * 4
                XCTAssertLessThanOrEqual(y.maxAbsDifference(ref), tol, "isa \(isa.rawValue) \(where_)")
                // Lanes past the channels stay zero, so a following layer can read whole blocks.
                let plane = ref.shape[2...].reduce(1, *) * 16
                for (i, v) in out.enumerated() where (i / plane) % bc.outBlocks * 16 + i % 16 >= coutG {
                    XCTAssertEqual(v, 0, "padding lane \(i): \(where_)")
                }
            }
        }
    }

    /// The cut of a convolution's work shares it evenly where the old one (chunks of 4 blocks, rows split until
    /// every thread had 2 tasks) left a thread idle: MobileNet-v2's layers at batch 1 on 2 threads.
    func testPartitionSharesTheWorkEvenly() {
        XCTAssertEqual(BlockedPartition.finish([4, 4, 4, 2], threads: 2), 8)
        XCTAssertEqual(BlockedPartition.finish([3, 1, 1, 1], threads: 2), 3)
        let cases: [(Int, Int, BlockedPartition.Kind)] = [(4, 14, .convolution), (20, 7, .convolution), (36, 14, .convolution),
            (60, 7, .convolution), (6, 14, .convolution), (10, 7, .convolution), (1, 112, .convolution), (80, 7, .convolution),
            (13, 28, .convolution), (9, 56, .depthwise), (36, 14, .depthwise), (60, 7, .depthwise), (2, 112, .depthwise)]
        for (blocks, rows, kind) in cases {
            let cut = BlockedPartition.choose(outBlocks: blocks, rows: rows, units: 1, threads: 2, kind: kind)
            let rowChunk = (rows + cut.rowParts - 1) / cut.rowParts
            var covered = 0
            var sizes = [Double]()
            for b0 in stride(from: 0, to: blocks, by: cut.blockChunk) {
                for r0 in stride(from: 0, to: rows, by: rowChunk) {
                    let work = Swift.min(cut.blockChunk, blocks - b0) * Swift.min(rowChunk, rows - r0)
                    sizes.append(Double(work)); covered += work
                }
            }
            XCTAssertEqual(covered, blocks * rows, "every block and row once: \(blocks)×\(rows)")
            let finish = BlockedPartition.finish(sizes, threads: 2)
            XCTAssertLessThanOrEqual(finish, Double(blocks * rows) / 2 * 1.08 + 1, "\(kind) \(blocks) blocks × \(rows) rows: \(cut)")
        }
    }

    /// 3-D convolutions on the blocked 2-D kernel (depth-major, kd·⌈C/16⌉ input blocks) equal the definition on
    /// random geometries — depth padding, strides, height/width dilation, channels that do not fill a block, a
    /// residual and clamp in the epilogue — on every instruction set.
    func testBlockedVolumesEqualTheDefinition() {
        let available = availableISAs()
        defer { ck_force_isa(available.last!) }
        var rng = SeededGenerator(seed: 3303)
        func pick(_ a: [Int]) -> Int { a[Int(rng.next() % UInt64(a.count))] }
        for trial in 0..<40 {
            let cin = pick([1, 3, 8, 16, 20, 33]), cout = pick([1, 5, 16, 32, 40])
            // Depth dilation only at depth stride 1 (the phased copy).
            let (kernel, stride, dilation, pb, pa, spatial) = randomWindow(rank: 3, depthDilation: [1, 2, 3], &rng)
            let n = pick([1, 2])
            let x = Tensor.uniform([n, cin] + spatial, low: -1, high: 1, rng: &rng)
            let w = Tensor.uniform([cout, cin] + kernel, low: -1, high: 1, rng: &rng)
            let b = Tensor.uniform([cout], low: -1, high: 1, rng: &rng)
            let options = ConvOptions(stride: stride, padding: .explicit(before: pb, after: pa), dilation: dilation)
            var ref = Reference.conv(x, w, bias: b, stride: stride, padBefore: pb, padAfter: pa, dilation: dilation, groups: 1)
            let residual = Tensor.uniform(ref.shape, low: -1, high: 1, rng: &rng)
            let fused = trial % 2 == 0
            if fused { ref = (ref + residual).clamped(min: 0, max: .infinity) }
            let plan = ConvPlan(input: x.shape, weight: w.shape, options: options)
            XCTAssertTrue(ConvAlgorithm.supported(plan).contains(.blockedVolume))
            let scale = max(1, ref.scalars.map(abs).max() ?? 0)
            for isa in available {
                ck_force_isa(isa)
                let epilogue = ConvEpilogue(bias: b, residual: fused ? residual : nil, lower: fused ? 0 : -.infinity, upper: .infinity)
                let y = convForward(x, weight: w, plan: plan, algorithm: .blockedVolume, epilogue: epilogue)
                XCTAssertEqual(y.shape, ref.shape)
                XCTAssertLessThanOrEqual(y.maxAbsDifference(ref), 1e-4 * scale,
                        "isa \(isa.rawValue): n \(n) \(cin)→\(cout) \(spatial) k \(kernel) s \(stride) d \(dilation) pad \(pb)/\(pa) fused \(fused)")
            }
        }
    }

    /// The blocked weight gradient against the definition on random 2-D and 3-D geometries (partial channel blocks,
    /// padding on either side, strides, dilation) on every instruction set, and through `convBackward` for volumes.
    func testBlockedWeightGradientEqualsTheDefinition() {
        let available = availableISAs()
        defer { ck_force_isa(available.last!) }
        var rng = SeededGenerator(seed: 4407)
        func pick(_ a: [Int]) -> Int { a[Int(rng.next() % UInt64(a.count))] }
        for trial in 0..<30 {
            let rank = trial % 3 == 0 ? 2 : 3
            let cin = pick([1, 3, 16, 20, 33]), cout = pick([1, 5, 16, 32, 40])
            let (kernel, stride, dilation, pb, pa, spatial) = randomWindow(rank: rank, depthDilation: [1, 1, 2], &rng)
            guard kernel.contains(where: { $0 > 1 }) else { continue }
            let n = pick([1, 2, 3])
            let x = Tensor.uniform([n, cin] + spatial, low: -1, high: 1, rng: &rng)
            let options = ConvOptions(stride: stride, padding: .explicit(before: pb, after: pa), dilation: dilation)
            let plan = ConvPlan(input: x.shape, weight: [cout, cin] + kernel, options: options)
            let gy = Tensor.uniform(plan.outputShape, low: -1, high: 1, rng: &rng)
            let ref = Reference.convWeightGradient(x, gradOutput: gy, kernel: kernel, stride: stride, padBefore: pb, dilation: dilation)
            XCTAssertTrue(BlockedWeightGradient.supports(plan))
            let scale = max(1, ref.scalars.map(abs).max() ?? 0)
            let label = "n \(n) \(cin)→\(cout) \(spatial) k \(kernel) s \(stride) d \(dilation) pad \(pb)/\(pa)"
            for isa in available {
                ck_force_isa(isa)
                let gw = BlockedWeightGradient.weightGradient(x, gradOutput: gy, weightShape: [cout, cin] + kernel, plan: plan)
                XCTAssertEqual(gw.shape, ref.shape)
                XCTAssertLessThanOrEqual(gw.maxAbsDifference(ref), 1e-4 * scale, "isa \(isa.rawValue): \(label)")
            }
            if rank == 3 {
                let w = Tensor.uniform([cout, cin] + kernel, low: -1, high: 1, rng: &rng)
                let r = convBackward(x, weight: w, gradOutput: gy, options: options)
                XCTAssertLessThanOrEqual(r.weight.maxAbsDifference(ref), 1e-4 * scale, "convBackward: \(label)")
                XCTAssertNotNil(r.input); XCTAssertNotNil(r.bias)
            }
        }
    }

    /// A random window over `rank` axes: kernels 1–5, strides 1–2, dilation 1–2 where the kernel is wider than 1 (the
    /// first axis draws from `depthDilation`, at stride 1 only), padding up to half the kernel + 1 on either side,
    /// and extents from the smallest the window fits in to 6 more.
    private func randomWindow(rank: Int, depthDilation: [Int], _ rng: inout SeededGenerator)
        -> (kernel: [Int], stride: [Int], dilation: [Int], padBefore: [Int], padAfter: [Int], spatial: [Int]) {
        func pick(_ a: [Int]) -> Int { a[Int(rng.next() % UInt64(a.count))] }
        let kernel = (0..<rank).map { _ in pick([1, 2, 3, 3, 5]) }
        let stride = (0..<rank).map { _ in pick([1, 1, 2]) }
        let dilation = kernel.enumerated().map { i, k in
            k == 1 ? 1 : i == 0 && rank == 3 ? (stride[0] == 1 ? pick(depthDilation) : 1) : pick([1, 1, 2])
        }
        let pb = kernel.map { pick(Array(0...($0 / 2 + 1))) }, pa = kernel.map { pick(Array(0...($0 / 2 + 1))) }
        let spatial = (0..<rank).map { i in max(1, dilation[i] * (kernel[i] - 1) + 1 - pb[i] - pa[i]) + pick([0, 1, 3, 6]) }
        return (kernel, stride, dilation, pb, pa, spatial)
    }

    /// Runs `body` on the blocked form of x and unpacks its output of `channels` channels and `spatial` extents.
    private func blockedRun(_ x: Tensor, outChannels: Int, outSpatial: [Int], residual: Tensor? = nil,
                            _ body: (UnsafePointer<Float>, UnsafePointer<Float>?, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let xb = BlockedLayout.pack(x), rb = residual.map { BlockedLayout.pack($0) }
        let n = x.shape[0], cb = BlockedLayout.blocks(outChannels)
        var out = [Float](repeating: .nan, count: n * cb * outSpatial.reduce(1, *) * 16)
        xb.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { op in
            withOptionalPointer(rb?.scalars) { rp in body(xp.baseAddress!, rp, op.baseAddress!) }
        } }
        return BlockedLayout.unpack(Tensor(shape: [n, cb] + outSpatial + [16], scalars: out), channels: outChannels)
    }

    func testDepthwiseEqualsTheDefinition() {
        var rng = SeededGenerator(seed: 91)
        func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
        for trial in 0..<150 {
            let rank = pick(1...2), c = [1, 7, 16, 19, 40][pick(0...4)], n = pick(1...2)
            let k = (0..<rank).map { _ in [1, 3, 3, 5, 7][pick(0...4)] }
            let s = (0..<rank).map { _ in [1, 1, 2, 2, 3][pick(0...4)] }
            let d = k.map { $0 > 1 ? [1, 1, 2][pick(0...2)] : 1 }
            let pb = k.map { pick(0...($0 / 2 + 1)) }, pa = k.map { pick(0...($0 / 2 + 1)) }
            let spatial = (0..<rank).map { i in Swift.max(1, d[i] * (k[i] - 1) + 1 - pb[i] - pa[i]) + pick(0...(rank == 1 ? 50 : 24)) }
            let x = Tensor.uniform([n, c] + spatial, low: -1, high: 1, rng: &rng)
            let w = Tensor.uniform([c, 1] + k, low: -1, high: 1, rng: &rng)
            let b = Tensor.uniform([c], low: -1, high: 1, rng: &rng)
            let plan = ConvPlan(input: x.shape, weight: w.shape,
                                options: ConvOptions(stride: s, padding: .explicit(before: pb, after: pa), dilation: d, groups: c))
            var ref = Reference.conv(x, w, bias: b, stride: s, padBefore: pb, padAfter: pa, dilation: d, groups: c)
            let residual = trial % 2 == 0 ? Tensor.uniform(ref.shape, low: -1, high: 1, rng: &rng) : nil
            if let residual { ref = ref + residual }
            let (lo, hi): (Float, Float) = [(-.infinity, .infinity), (0, 6), (0, .infinity)][trial % 3]
            ref = ref.clamped(min: lo, max: hi)
            let dw = BlockedDepthwise(weight: w, bias: b, plan: plan)
            for isa in availableISAs() {
                ck_force_isa(isa)
                let y = blockedRun(x, outChannels: c, outSpatial: Array(ref.shape[2...]), residual: residual) { xp, rp, op in
                    dw.run(xp, batch: n, residual: rp, lower: lo, upper: hi, op)
                }
                XCTAssertLessThanOrEqual(y.maxAbsDifference(ref), 1e-5 * Float(k.reduce(1, *)),
                                         "isa \(isa.rawValue) trial \(trial) c \(c) \(spatial) k \(k) s \(s) d \(d) pad \(pb)/\(pa)")
            }
        }
    }

    func testPoolingEqualsTheNCHWKernels() {
        var rng = SeededGenerator(seed: 17)
        func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
        var checked = 0
        defer { XCTAssertGreaterThan(checked, 80) }
        for trial in 0..<120 {
            let rank = pick(1...2), c = [3, 16, 21][pick(0...2)], n = pick(1...2)
            let k = (0..<rank).map { _ in pick(1...4) }
            let s = (0..<rank).map { _ in pick(1...3) }
            let p = k.map { pick(0...($0 / 2)) }
            let mode: BlockedPooling.Mode = [.max, .averageCountingPadding, .average][trial % 3]
            let d = mode == .max ? k.map { $0 > 1 ? pick(1...2) : 1 } : k.map { _ in 1 }
            let spatial = (0..<rank).map { i in d[i] * (k[i] - 1) + 1 + pick(0...20) }
            var x = Tensor.uniform([n, c] + spatial, low: -1, high: 1, rng: &rng)
            if trial % 7 == 0 { x.scalars[pick(0...(x.count - 1))] = .nan }
            let options = PoolOptions(kernel: k, stride: s, padding: .symmetric(p[0]), dilation: d, ceilMode: trial % 2 == 0,
                                      countIncludePad: mode == .averageCountingPadding)
            // Symmetric padding per axis as the options give it (one amount for every axis).
            let geo = WindowGeometry(input: spatial, kernel: k, stride: s, padding: .symmetric(p[0]), dilation: d, ceilMode: trial % 2 == 0)
            guard geo.output.allSatisfy({ $0 > 0 }), geo.padBefore.enumerated().allSatisfy({ $0.element <= k[$0.offset] / 2 }) else { continue }
            let ref = mode == .max ? maxPool(x, options, returnIndices: false).output : avgPool(x, options)
            let pool = BlockedPooling(geo, channels: c, mode: mode)
            checked += 1
            for isa in availableISAs() {
                ck_force_isa(isa)
                let y = blockedRun(x, outChannels: c, outSpatial: geo.output) { xp, _, op in pool.run(xp, batch: n, op) }
                XCTAssertEqual(y.shape, ref.shape)
                for (a, b) in zip(y.scalars, ref.scalars) {
                    XCTAssert(a.isNaN == b.isNaN && (a.isNaN || abs(a - b) <= 1e-6), "isa \(isa.rawValue) trial \(trial) \(mode) \(spatial) k \(k) s \(s) d \(d) p \(p): \(a) vs \(b)")
                }
            }
        }
    }

    func testGlobalAverageAndResidualSum() {
        var rng = SeededGenerator(seed: 5)
        let x = Tensor.uniform([2, 21, 5, 3], low: -1, high: 1, rng: &rng)
        let ref = x.mean(axes: [2, 3], keepingDims: true)
        for isa in availableISAs() {
            ck_force_isa(isa)
            let y = blockedRun(x, outChannels: 21, outSpatial: [1, 1]) { xp, _, op in
                ck_blocked_global_average(xp, 15, 0, 4, op)   // two images × two blocks, one after the other
            }
            XCTAssertLessThanOrEqual(y.maxAbsDifference(ref), 1e-6)
            let a = BlockedLayout.pack(x), b = BlockedLayout.pack(x * 2)
            var out = [Float](repeating: 0, count: a.count)
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { op in
                ck_blocked_add(ap.baseAddress!, bp.baseAddress!, 0, 2, a.count / 16, op.baseAddress!)
            } } }
            let sum = BlockedLayout.unpack(Tensor(shape: a.shape, scalars: out), channels: 21)
            XCTAssertLessThanOrEqual(sum.maxAbsDifference((x * 3).clamped(min: 0, max: 2)), 1e-6)
        }
    }

    /// Winograd F(2×2) and F(4×4) against the definition: maps that are and are not multiples of the tile, one
    /// tile, padding 0–2 (asymmetric), channels on both sides of a block, residual and clamp. Stated tolerances
    /// relative to the largest output: F(2×2) 2e-6, F(4×4) 2e-5 (its transforms multiply by up to 8 and 1/24).
    func testWinogradEqualsTheDefinition() {
        var rng = SeededGenerator(seed: 4242)
        func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
        var worst: [Int: Float] = [2: 0, 4: 0]
        for trial in 0..<60 {
            let cin = [1, 5, 16, 23, 64][pick(0...4)], cout = [3, 16, 40][pick(0...2)], n = pick(1...2)
            let pb = [pick(0...2), pick(0...2)], pa = [pick(0...2), pick(0...2)]
            let spatial = [Swift.max(1, 3 - pb[0] - pa[0]) + pick(0...17), Swift.max(1, 3 - pb[1] - pa[1]) + pick(0...17)]
            let x = Tensor.uniform([n, cin] + spatial, low: -1, high: 1, rng: &rng)
            let w = Tensor.uniform([cout, cin, 3, 3], low: -1, high: 1, rng: &rng)
            let b = Tensor.uniform([cout], low: -1, high: 1, rng: &rng)
            let plan = ConvPlan(input: x.shape, weight: w.shape, options: ConvOptions(padding: .explicit(before: pb, after: pa)))
            var ref = Reference.conv(x, w, bias: b, stride: [1, 1], padBefore: pb, padAfter: pa, dilation: [1, 1], groups: 1)
            let residual = Tensor.uniform(ref.shape, low: -1, high: 1, rng: &rng)
            ref = (ref + residual).clamped(min: trial % 2 == 0 ? 0 : -.infinity, max: .infinity)
            let scale = Swift.max(1, ref.scalars.map(abs).max()!)
            for m in [2, 4] {
                let k = BlockedWinograd(weight: w, bias: b, plan: plan, m: m)
                var scratch = [Float](repeating: .nan, count: k.scratchElements)
                for isa in availableISAs() {
                    ck_force_isa(isa)
                    let y = blockedRun(x, outChannels: cout, outSpatial: Array(ref.shape[2...]), residual: residual) { xp, rp, op in
                        scratch.withUnsafeMutableBufferPointer { sp in
                            k.run(xp, inImageStride: BlockedLayout.blocks(cin) * spatial[0] * spatial[1] * 16, batch: n,
                                  residual: rp, residualImageStride: BlockedLayout.blocks(cout) * ref.shape[2...].reduce(1, *) * 16,
                                  lower: trial % 2 == 0 ? 0 : -.infinity, upper: .infinity, op,
                                  outImageStride: BlockedLayout.blocks(cout) * ref.shape[2...].reduce(1, *) * 16, scratch: sp.baseAddress!)
                        }
                    }
                    let err = y.maxAbsDifference(ref) / scale
                    worst[m] = Swift.max(worst[m]!, err)
                    XCTAssertLessThanOrEqual(err, m == 2 ? 2e-6 : 2e-5, "F(\(m)) isa \(isa.rawValue) trial \(trial) cin \(cin) cout \(cout) \(spatial) pad \(pb)/\(pa)")
                }
            }
        }
        print("Winograd worst relative error: F(2×2) \(worst[2]!), F(4×4) \(worst[4]!)")
    }
}
