import CConvKernels
import Foundation

/// The forward algorithms of a convolution. Each has a support test (the geometries its kernel handles) and a
/// rule of thumb (where it was measured to win); `ConvTuner` takes the rules, or, when tuning is on and the call
/// runs without gradient recording (inference), times every supported algorithm once per shape and keeps the
/// fastest, the way oneDNN and cuDNN pick primitives.
public enum ConvAlgorithm: String, CaseIterable, Sendable, Codable {
    /// Winograd F(2×2, 3×3): 3×3, stride 1, dilation 1, ungrouped 2-D convolutions with zero padding.
    case winograd
    /// Depthwise over the unpadded input with masked loads (`ck_depthwise_rows_forward`, AVX-512).
    case depthwiseRows
    /// Direct register-blocked kernel over output rows (`ck_direct_rows_forward`): first layers, long rows.
    case directRows
    /// Output channels in vector lanes (`ck_conv_cl_forward`): small maps with many channels.
    case channelsInLanes
    /// 3-D convolutions on the blocked 2-D kernel over a depth-major blocked copy (`BlockedVolumeConvolution`).
    case blockedVolume
    /// The general path: im2col packed into the GEMM's panels, a plain GEMM for 1×1, the few-filter direct
    /// kernel, or the generic depthwise kernel.
    case gemm

    /// Measured choice for inference calls (on by default; `convkit bench --no-tune` and tests that need one
    /// fixed path turn it off). Training always takes the rules, so a run and its resumption compute alike.
    nonisolated(unsafe) public static var tuning = true

    /// Algorithms whose kernels handle a convolution of input shape `input` by weights `weight`, `gemm` last.
    public static func supported(input: [Int], weight: [Int], options: ConvOptions) -> [ConvAlgorithm] {
        supported(ConvPlan(input: input, weight: weight, options: options))
    }

    /// Algorithms whose kernels handle this convolution, `gemm` last.
    static func supported(_ plan: ConvPlan) -> [ConvAlgorithm] {
        var out: [ConvAlgorithm] = []
        if Winograd.isEnabled && Winograd.supports(plan) { out.append(.winograd) }
        if depthwiseRowsSupported(plan) { out.append(.depthwiseRows) }
        if directRowsSupported(plan) { out.append(.directRows) }
        if channelsInLanesSupported(plan) { out.append(.channelsInLanes) }
        if BlockedVolumeConvolution.supports(plan) { out.append(.blockedVolume) }
        out.append(.gemm)
        return out
    }

    /// The rules of thumb (each measured where it was added; see the paths' doc comments).
    static func rule(_ plan: ConvPlan) -> ConvAlgorithm {
        if Winograd.isEnabled && Winograd.applies(plan) { return .winograd }
        if depthwiseRowsSupported(plan) { return .depthwiseRows }
        if directRowsSupported(plan) && directRowsPreferred(plan) { return .directRows }
        if channelsInLanesSupported(plan) && channelsInLanesPreferred(plan) { return .channelsInLanes }
        if BlockedVolumeConvolution.supports(plan) && BlockedVolumeConvolution.preferred(plan) { return .blockedVolume }
        return .gemm
    }
}

/// A convolution as the choice sees it: input [N, C, spatial…], weight [Cout, Cin/groups, kernel…] and the window.
public struct ConvShape: Hashable, Codable, Sendable {
    public var input: [Int], weight: [Int], stride: [Int], padBefore: [Int], padAfter: [Int], dilation: [Int], groups: Int

    init(_ plan: ConvPlan) {
        let g = plan.geometry
        input = [plan.batch, plan.inChannels] + g.input
        weight = [plan.outChannels, plan.inChannels / plan.groups] + g.kernel
        stride = g.stride; padBefore = g.padBefore; padAfter = g.padAfter; dilation = g.dilation; groups = plan.groups
    }
}

/// One decision: the convolution, the algorithm taken and, when measured, each candidate's time.
public struct ConvDecision: Codable, Sendable {
    public var shape: ConvShape
    public var algorithm: ConvAlgorithm
    /// Milliseconds per candidate (best of the timed runs); empty when the rules chose.
    public var measured: [String: Double]

    public var line: String {
        let times = measured.sorted { $0.value < $1.value }.map { String(format: "%@ %.3f ms", $0.key, $0.value) }
        let c = shape
        return "conv \(c.input) * \(c.weight) stride \(c.stride) pad \(c.padBefore)/\(c.padAfter) dilation \(c.dilation) groups \(c.groups)"
            + " → \(algorithm.rawValue)" + (times.isEmpty ? " (rule)" : " (" + times.joined(separator: ", ") + ")")
    }
}

/// The per-process table of decisions, keyed by everything the choice depends on (shapes, geometry, fused
/// residual, threads, instruction set, whether it was measured). Thread-safe.
public enum ConvTuner {
    struct Key: Hashable {
        var shape: ConvShape, residual: Bool, threads: Int, isa: UInt32, tuned: Bool
    }
    nonisolated(unsafe) private static var table: [Key: ConvDecision] = [:]
    nonisolated(unsafe) private static var order: [Key] = []
    private static let lock = NSLock()

    /// Every decision made so far, in the order first met.
    public static var decisions: [ConvDecision] {
        lock.lock(); defer { lock.unlock() }
        return order.compactMap { table[$0] }
    }

    /// The algorithm for this call: the cached decision, else the rule, else (tuning, inference) the fastest of the
    /// supported algorithms over a few runs of `run` (whose result for the winner is returned too, so the first
    /// call costs the timing runs but no extra pass).
    static func algorithm(for plan: ConvPlan, residual: Bool, run: (ConvAlgorithm) -> Tensor) -> (ConvAlgorithm, Tensor?) {
        let tune = ConvAlgorithm.tuning && ck_no_grad_depth() > 0
        let key = Key(shape: ConvShape(plan), residual: residual, threads: Parallel.threads, isa: ck_active_isa().rawValue, tuned: tune)
        lock.lock()
        if let d = table[key] { lock.unlock(); return (d.algorithm, nil) }
        lock.unlock()
        let candidates = ConvAlgorithm.supported(plan)
        var decision = ConvDecision(shape: key.shape, algorithm: ConvAlgorithm.rule(plan), measured: [:])
        var result: Tensor? = nil
        if tune && candidates.count > 1 {
            var best = Double.infinity
            for a in candidates {
                var fastest = Double.infinity, y: Tensor? = nil
                // Up to three runs, best kept (the first warms caches and workspaces); a run over 5 ms is timed once,
                // so tuning a large layer costs about one extra pass per candidate.
                for _ in 0..<3 {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    y = run(a)
                    fastest = Swift.min(fastest, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                    if fastest > 5 { break }
                }
                decision.measured[a.rawValue] = fastest
                if fastest < best { best = fastest; decision.algorithm = a; result = y }
            }
        }
        lock.lock()
        if table[key] == nil { table[key] = decision; order.append(key) }
        lock.unlock()
        return (decision.algorithm, result)
    }
}
