import CConvKernels
import Foundation

/// Runs the `convkit bench` kernel cases and formats the results.
public struct KernelBenchmark: Codable {
    public struct GemmResult: Codable { public var m, n, k: Int; public var ms, gflops: Double }
    public struct ConvResult: Codable {
        public var name: String
        public var n, cin, h, w, cout, k, stride, pad, dilation, groups: Int
        public var fwd_ms, fwdbwd_ms: Double
        /// Forward in the blocked layout of inference plans (input and output NCHW16c, conversions not counted).
        public var blocked_fwd_ms: Double?
    }
    /// A 1-D case (length `l`) or a 3-D one (`d`, `h`, `w`), the shapes file's fields echoed; the kernel cubic of side k.
    public struct ConvNDResult: Codable {
        public var name: String
        public var n, cin: Int
        public var l, d, h, w: Int?
        public var cout, k, stride, pad, dilation, groups: Int
        public var fwd_ms, fwdbwd_ms: Double
    }
    public struct PoolResult: Codable { public var n, c, h, w, k, stride: Int; public var ms: Double }
    /// NMS timings (filled in by the command line, where the detection library lives); `kept` is the class-agnostic count.
    public struct NMSResult: Codable {
        public var boxes: Int, iou: Double, classes: Int
        public var nms_ms, batched_ms, box_iou_ms: Double
        public var kept: Int
        public init(boxes: Int, iou: Double, classes: Int, nms_ms: Double, batched_ms: Double, box_iou_ms: Double, kept: Int) {
            self.boxes = boxes; self.iou = iou; self.classes = classes; self.nms_ms = nms_ms; self.batched_ms = batched_ms; self.box_iou_ms = box_iou_ms; self.kept = kept
        }
    }
    public var threads: Int
    public var isa: String
    public var gemm: [GemmResult] = []
    public var conv2d: [ConvResult] = []
    public var conv1d: [ConvNDResult] = []
    public var conv3d: [ConvNDResult] = []
    public var maxpool2d: [PoolResult] = []
    public var nms: [NMSResult] = []

    /// Times every case; `progress` receives one line per finished case.
    public static func run(_ s: BenchShapes, seconds: Double, forwardOnly: Bool = false, progress: (String) -> Void = { _ in }) -> KernelBenchmark {
        var r = KernelBenchmark(threads: Parallel.threads, isa: KernelInfo.isaName)
        var rng = SeededGenerator(seed: 0)
        for g in s.gemm ?? [] {
            let a = Tensor.normal([g.m, g.k], rng: &rng), b = Tensor.normal([g.k, g.n], rng: &rng)
            var c = Tensor.zeros([g.m, g.n])
            let ms = medianMilliseconds(seconds: seconds) {
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                    sgemm(m: g.m, n: g.n, k: g.k, a: pa.baseAddress!, rsa: g.k, csa: 1, b: pb.baseAddress!, rsb: g.n, csb: 1,
                          c: pc.baseAddress!, ldc: g.n)
                } } }
            }
            let res = GemmResult(m: g.m, n: g.n, k: g.k, ms: ms, gflops: 2.0 * Double(g.m * g.n * g.k) / ms / 1e6)
            r.gemm.append(res)
            progress(String(format: "gemm %dx%dx%d: %.3f ms, %.1f GFLOP/s", g.m, g.n, g.k, ms, res.gflops))
        }
        /// Median forward and forward+backward (input and weight gradients) times of one convolution.
        func timeConv(input: [Int], cout: Int, k: Int, stride: Int, pad: Int, dilation: Int, groups: Int) -> (Double, Double) {
            let spatial = input.count - 2
            let x = Tensor.normal(input, rng: &rng)
            let w = Tensor.normal([cout, input[1] / groups] + Array(repeating: k, count: spatial), rng: &rng)
            let o = ConvOptions(stride: [stride], padding: .symmetric(pad), dilation: [dilation], groups: groups)
            // Inference (no gradient recording): the tuned algorithm when tuning is on.
            let fwd = Autograd.withoutGradients { medianMilliseconds(seconds: seconds) { _ = conv(x, weight: w, options: o) } }
            let gy = Tensor.normal(conv(x, weight: w, options: o).shape, rng: &rng)
            let fb = forwardOnly ? 0 : medianMilliseconds(seconds: seconds) {
                _ = conv(x, weight: w, options: o)
                _ = convBackward(x, weight: w, gradOutput: gy, options: o, needBias: false)
            }
            return (fwd, fb)
        }
        for c in s.conv2d ?? [] {
            let groups = c.groups ?? 1, dil = c.dilation ?? 1
            let (fwd, fb) = timeConv(input: [c.n, c.cin, c.h, c.w], cout: c.cout, k: c.k, stride: c.stride, pad: c.pad,
                                     dilation: dil, groups: groups)
            let blocked = timeBlockedConv(input: [c.n, c.cin, c.h, c.w], cout: c.cout, k: c.k, stride: c.stride, pad: c.pad,
                                          dilation: dil, groups: groups, seconds: seconds, rng: &rng)
            r.conv2d.append(ConvResult(name: c.name, n: c.n, cin: c.cin, h: c.h, w: c.w, cout: c.cout, k: c.k, stride: c.stride,
                                       pad: c.pad, dilation: dil, groups: groups, fwd_ms: fwd, fwdbwd_ms: fb, blocked_fwd_ms: blocked))
            progress(String(format: "conv2d %@: fwd %.3f ms, fwd+bwd %.3f ms", c.name, fwd, fb)
                     + (blocked.map { String(format: ", blocked fwd %.3f ms", $0) } ?? ""))
        }
        for c in s.conv1d ?? [] {
            let groups = c.groups ?? 1, dil = c.dilation ?? 1
            let (fwd, fb) = timeConv(input: [c.n, c.cin, c.l], cout: c.cout, k: c.k, stride: c.stride, pad: c.pad,
                                     dilation: dil, groups: groups)
            r.conv1d.append(ConvNDResult(name: c.name, n: c.n, cin: c.cin, l: c.l, cout: c.cout, k: c.k, stride: c.stride,
                                         pad: c.pad, dilation: dil, groups: groups, fwd_ms: fwd, fwdbwd_ms: fb))
            progress(String(format: "conv1d %@: fwd %.3f ms, fwd+bwd %.3f ms", c.name, fwd, fb))
        }
        for c in s.conv3d ?? [] {
            let groups = c.groups ?? 1, dil = c.dilation ?? 1
            let (fwd, fb) = timeConv(input: [c.n, c.cin, c.d, c.h, c.w], cout: c.cout, k: c.k, stride: c.stride, pad: c.pad,
                                     dilation: dil, groups: groups)
            r.conv3d.append(ConvNDResult(name: c.name, n: c.n, cin: c.cin, d: c.d, h: c.h, w: c.w, cout: c.cout, k: c.k, stride: c.stride,
                                         pad: c.pad, dilation: dil, groups: groups, fwd_ms: fwd, fwdbwd_ms: fb))
            progress(String(format: "conv3d %@: fwd %.3f ms, fwd+bwd %.3f ms", c.name, fwd, fb))
        }
        for p in s.maxpool2d ?? [] {
            let x = Tensor.normal([p.n, p.c, p.h, p.w], rng: &rng)
            let o = PoolOptions(kernel: [p.k], stride: [p.stride])
            let ms = medianMilliseconds(seconds: seconds) { _ = maxPool(x, o, returnIndices: false) }
            r.maxpool2d.append(PoolResult(n: p.n, c: p.c, h: p.h, w: p.w, k: p.k, stride: p.stride, ms: ms))
            progress(String(format: "maxpool2d (%d,%d,%d,%d) k%d s%d: %.3f ms", p.n, p.c, p.h, p.w, p.k, p.stride, ms))
        }
        return r
    }

    /// Median forward time of the blocked kernel on this convolution, nil where a plan would not use it (depthwise,
    /// or groups that do not hold whole blocks). Inputs of at most 4 channels are read plain, as a plan reads them.
    static func timeBlockedConv(input: [Int], cout: Int, k: Int, stride: Int, pad: Int, dilation: Int, groups: Int,
                                seconds: Double, rng: inout SeededGenerator) -> Double? {
        let options = ConvOptions(stride: [stride], padding: .symmetric(pad), dilation: [dilation], groups: groups)
        let w = Tensor.normal([cout, input[1] / groups, k, k], rng: &rng)
        let plan = ConvPlan(input: input, weight: w.shape, options: options)
        let plain = input[1] <= 4
        guard !plan.isDepthwise, BlockedConvolution.supports(plan, plainInput: plain) else { return nil }
        let bc = BlockedConvolution(weight: w, bias: Tensor.normal([cout], rng: &rng), plan: plan, plainInput: plain)
        let x = Tensor.normal([input[0], bc.inputElements], rng: &rng)
        var out = [Float](repeating: 0, count: input[0] * bc.outputElements)
        return x.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer { ob in
                medianMilliseconds(seconds: seconds) {
                    bc.run(xb.baseAddress!, batch: input[0], residual: nil, lower: 0, upper: .infinity, ob.baseAddress!)
                }
            }
        }
    }

    public func jsonString() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(data: try! enc.encode(self), encoding: .utf8)!
    }

    /// A Markdown table of the results.
    public func table() -> String {
        var lines = ["threads: \(threads), kernels: \(isa)", "", "| case | forward ms | forward+backward ms |", "|---|---:|---:|"]
        for g in gemm { lines.append(String(format: "| sgemm %d×%d×%d | %.3f (%.0f GFLOP/s) | |", g.m, g.n, g.k, g.ms, g.gflops)) }
        for c in conv2d { lines.append(String(format: "| conv2d %@ | %.3f | %.3f |", c.name, c.fwd_ms, c.fwdbwd_ms)) }
        for c in conv1d { lines.append(String(format: "| conv1d %@ | %.3f | %.3f |", c.name, c.fwd_ms, c.fwdbwd_ms)) }
        for c in conv3d { lines.append(String(format: "| conv3d %@ | %.3f | %.3f |", c.name, c.fwd_ms, c.fwdbwd_ms)) }
        for p in maxpool2d { lines.append(String(format: "| maxpool2d (%d,%d,%d,%d) %d×%d/%d | %.3f | |", p.n, p.c, p.h, p.w, p.k, p.k, p.stride, p.ms)) }
        for c in nms {
            lines.append(String(format: "| nms %d boxes @%.2f (%d kept) | %.3f | |", c.boxes, c.iou, c.kept, c.nms_ms))
            lines.append(String(format: "| batched nms %d boxes, %d classes | %.3f | |", c.boxes, c.classes, c.batched_ms))
            lines.append(String(format: "| box_iou 1000 × %d | %.3f | |", c.boxes, c.box_iou_ms))
        }
        return lines.joined(separator: "\n")
    }
}

/// Which kernels run on this machine.
public enum KernelInfo {
    public static var isaName: String {
        switch ck_active_isa() {
        case CK_ISA_AVX512: return "avx512"
        case CK_ISA_AVX2: return "avx2+fma"
        default: return "generic"
        }
    }
}
