import CConvKernels
import ConvKit
import XCTest

/// Every ISA the CPU has must give the portable C path's results on every kernel family — not only GEMM and
/// convolution forward: depthwise forward and backward, the direct weight gradient, ReLU/ReLU6 forward and
/// backward, the separable max-pool, batch norm, the fused-inference epilogues, batch-1 GEMV and the optimizer's
/// vectorized update. Forcing an ISA the CPU lacks is reported, never silently replaced.
final class ISAParityTests: XCTestCase {
    override func tearDown() { ck_force_isa(availableISAs().last!) }

    func testForcingAnISAActivatesItOrIsRefused() {
        let isas = availableISAs()
        XCTAssertEqual(isas.first, CK_ISA_GENERIC, "the portable path always exists")
        for isa in [CK_ISA_GENERIC, CK_ISA_AVX2, CK_ISA_AVX512] {
            ck_force_isa(isa)
            if isas.contains(isa) { XCTAssertEqual(ck_active_isa(), isa) } else { XCTAssertNotEqual(ck_active_isa(), isa) }
        }
        print("ISAs covered on this CPU: \(isas.map { ["generic", "avx2", "avx512"][Int($0.rawValue)] })")
    }

    /// One training step and one fused inference of a small network touching every kernel family; all outputs,
    /// gradients and updated parameters on each ISA against the generic ISA's.
    func testEveryKernelFamilyAgreesAcrossISAs() {
        let isas = availableISAs()
        let reference = workload(isa: CK_ISA_GENERIC)
        XCTAssertGreaterThan(reference.count, 20)
        for isa in isas.dropFirst() {
            let r = workload(isa: isa)
            XCTAssertEqual(Set(r.keys), Set(reference.keys))
            for (name, t) in reference {
                guard let u = r[name] else { continue }
                XCTAssertEqual(u.shape, t.shape, name)
                let scale = max(1, t.scalars.map(abs).max() ?? 1)
                XCTAssertLessThan(u.maxAbsDifference(t), 2e-4 * scale, "isa \(isa.rawValue): \(name)")
            }
        }
    }

    /// Named results of the workload on one ISA; every random draw is seeded, so ISAs see the same numbers.
    private func workload(isa: ck_isa) -> [String: Tensor] {
        ck_force_isa(isa)
        var rng = SeededGenerator(seed: 42)
        ConvKitRandom.generator = SeededGenerator(seed: 7)
        var out = [String: Tensor]()
        let net = Sequential(
            Conv2D(3, 16, kernel: 3, padding: .symmetric(1), bias: false),          // first layer / im2col (no bias before BN)
            BatchNorm(16), ActivationLayer(.relu6),
            DepthwiseConv2D(16, kernel: 3, stride: 1, padding: .symmetric(1)),       // depthwise fwd + bwd
            ActivationLayer(.relu),
            MaxPool(3, stride: 2, padding: 1),                                      // separable max-pool
            Conv2D(16, 6, kernel: 5, padding: .symmetric(2)),                       // direct (few filters)
            Conv2D(6, 24, kernel: 1), ActivationLayer(.relu),                       // pointwise
            Flatten(), Dense(24 * 8 * 8, 10))
        let x = Variable(.uniform([4, 3, 16, 16], low: -1, high: 1, rng: &rng), requiresGrad: true)
        let labels = [1, 7, 3, 3]
        let loss = Loss.crossEntropy(net(x), labels: labels)
        loss.backward()
        out["loss"] = loss.value
        out["input grad"] = x.grad
        for (name, p) in net.namedParameters() { out["grad " + name] = p.grad }
        // SGD with momentum: an update linear in the gradient (Adam's g/√v would amplify rounding in near-zero gradients).
        let opt = Optimizer.sgd(net, lr: 0.1, momentum: 0.9, weightDecay: 1e-2)
        opt.step()
        for (name, p) in net.namedParameters() { out["after step " + name] = p.value }
        // Inference: batch norm folded, epilogues fused, a batch-1 dense layer (GEMV).
        net.eval()
        let single = Variable(.uniform([1, 3, 16, 16], low: -1, high: 1, rng: &rng))
        out["inference batch 1"] = Autograd.withoutGradients { net(single).value }
        out["inference batch 4"] = Autograd.withoutGradients { net(x.detached()).value }
        let conv = Conv2D(16, 24, kernel: 3, padding: .symmetric(1), bias: false), bn = BatchNorm(16 + 8)
        let y = Variable(.uniform([2, 16, 12, 13], low: -1, high: 1, rng: &rng))
        let residual = Variable(.uniform([2, 24, 12, 13], low: -1, high: 1, rng: &rng))
        bn.eval()
        for a in [Activation.identity, .relu, .relu6] {
            out["fused \(a)"] = Autograd.withoutGradients { conv.fused(y, norm: bn, adding: residual, activation: a).value }
        }
        return out.compactMapValues { $0 }
    }
}

/// Out of memory in a kernel's scratch is an error, not abort().
final class KernelMemoryTests: XCTestCase {
    func testAFailedScratchAllocationIsReportedNotAborted() throws {
        XCTAssertNoThrow(try KernelMemory.check())
        XCTAssertNil(ck_scratch(5, Int.max / 4), "an impossible request returns NULL")
        XCTAssertThrowsError(try KernelMemory.check()) { e in XCTAssertTrue("\(e)".contains("out of memory"), "\(e)") }
        XCTAssertNoThrow(try KernelMemory.check(), "the record is cleared once reported")
        XCTAssertNotNil(ck_scratch(5, 1024), "the slot works again afterwards")
        // A checkpoint is not written after a failure.
        ck_record_allocation_failure(4096)
        let path = NSTemporaryDirectory() + "convkit-oom-\(getpid()).safetensors"
        XCTAssertThrowsError(try Checkpoint.save(Dense(2, 2), to: path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}
