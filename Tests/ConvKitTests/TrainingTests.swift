import Foundation
import XCTest
import ConvKit

final class OptimizerTests: XCTestCase {
    static let golden: [String: Tensor] = {
        try! NumPy.loadArchive(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/optim.npz").path)
    }()

    /// Five steps of each rule on fixed gradients against PyTorch's optimizers (Golden/make_optim_golden.py).
    /// A parameter unfrozen after two steps: Adam's bias correction counts its own steps, as PyTorch's does
    /// (one global counter would start it at t = 3 and mis-scale its first updates).
    func testAdamCountsStepsPerParameter() {
        let g = Self.golden
        for (name, rule) in [("late_adam", OptimizerRule.adam()), ("late_adamw", OptimizerRule.adamW())] {
            let a = Parameter(g["p0"]!, requiresGrad: true), b = Parameter(g["late_b0"]!, requiresGrad: true)
            let opt = Optimizer(rule, groups: [ParameterGroup([("a", a), ("b", b)], learningRate: 0.01, weightDecay: name == "late_adamw" ? 0.1 : 0)])
            for step in 0..<5 {
                a.grad = g["grads"]!.slice(axis: 0, step..<step + 1).reshaped([6])
                b.grad = step >= 2 ? g["late_b_grads"]!.slice(axis: 0, step..<step + 1).reshaped([4]) : nil
                opt.step()
                XCTAssertLessThan(a.value.maxAbsDifference(g[name + "_a"]!.slice(axis: 0, step..<step + 1).reshaped([6])), 2e-6, "\(name) a step \(step + 1)")
                XCTAssertLessThan(b.value.maxAbsDifference(g[name + "_b"]!.slice(axis: 0, step..<step + 1).reshaped([4])), 2e-6, "\(name) b step \(step + 1)")
            }
            XCTAssertEqual(opt.stateDict().tensors["b.step"]?.scalar, 3)
        }
    }

    /// A checkpoint that does not fit — a misshaped weight, or optimizer state of the wrong shape or rule — is
    /// refused before anything is set: the model and the optimizer keep what they had.
    func testFailedLoadsLeaveModelAndOptimizerUntouched() throws {
        let net = Sequential(Dense(3, 4), ReLU(), Dense(4, 2))
        let opt = Optimizer.adam(net, lr: 0.01)
        for p in net.parameters() { p.grad = .ones(p.shape) }
        opt.step()
        let path = NSTemporaryDirectory() + "convkit-load-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint.save(net, optimizer: opt, to: path)
        var (tensors, meta) = try Safetensors.load(path)
        let before = net.parameters().map(\.value.scalars), stateBefore = opt.stateDict().tensors
        let other = Sequential(Dense(3, 4), ReLU(), Dense(4, 2))
        let otherOpt = Optimizer.adam(other, lr: 0.01)
        for p in other.parameters() { p.grad = .ones(p.shape) }
        otherOpt.step(); otherOpt.step()
        let otherBefore = other.parameters().map(\.value.scalars)
        var broken = tensors
        broken["2.weight"] = .zeros([2, 5])
        try Safetensors.save(broken, metadata: meta, to: path)
        XCTAssertThrowsError(try Checkpoint.load(path, into: other, optimizer: otherOpt)) { XCTAssertTrue("\($0)".contains("2.weight")) }
        XCTAssertEqual(other.parameters().map(\.value.scalars), otherBefore, "the model is untouched")
        tensors["optimizer.0.weight.exp_avg"] = .zeros([9])
        try Safetensors.save(tensors, metadata: meta, to: path)
        XCTAssertThrowsError(try Checkpoint.load(path, into: other, optimizer: otherOpt)) { XCTAssertTrue("\($0)".contains("0.weight.exp_avg")) }
        XCTAssertEqual(other.parameters().map(\.value.scalars), otherBefore, "the model is untouched by a bad optimizer state")
        XCTAssertEqual(otherOpt.stepCount, 2)
        let sgd = Optimizer.sgd(other, lr: 0.1, momentum: 0.9)
        meta["optimizer_step"] = "1"
        tensors["optimizer.0.weight.exp_avg"] = stateBefore["0.weight.exp_avg"]
        try Safetensors.save(tensors, metadata: meta, to: path)
        XCTAssertThrowsError(try Checkpoint.load(path, into: other, optimizer: sgd)) { XCTAssertTrue("\($0)".contains("momentum_buffer"), "\($0)") }
        try Checkpoint.load(path, into: other, optimizer: otherOpt)
        XCTAssertEqual(other.parameters().map(\.value.scalars), before)
    }

    func testUpdateRulesMatchPyTorch() {
        let g = Self.golden
        let rules: [(String, OptimizerRule, Float, Float)] = [
            ("sgd", .sgd(), 0.1, 0), ("sgd_momentum", .sgd(momentum: 0.9), 0.1, 0),
            ("sgd_nesterov_wd", .sgd(momentum: 0.8, nesterov: true), 0.05, 0.01),
            ("adagrad", .adagrad(), 0.1, 0), ("rmsprop", .rmsprop(), 0.01, 0),
            ("adam", .adam(), 0.01, 0), ("adam_wd", .adam(), 0.01, 0.1), ("adamw", .adamW(), 0.01, 0.1),
        ]
        for (name, rule, lr, wd) in rules {
            let p = Parameter(g["p0"]!, requiresGrad: true)
            let opt = Optimizer(rule, groups: [ParameterGroup([("p", p)], learningRate: lr, weightDecay: wd)])
            let expected = g[name]!
            for step in 0..<5 {
                p.grad = g["grads"]!.slice(axis: 0, step..<step + 1).reshaped([6])
                opt.step()
                let want = expected.slice(axis: 0, step..<step + 1).reshaped([6])
                XCTAssertLessThan(p.value.maxAbsDifference(want), 2e-6, "\(name) step \(step + 1)")
            }
        }
    }

    func testFrozenParametersDoNotMove() {
        let a = Parameter(Tensor([1]), requiresGrad: true), b = Parameter(Tensor([1]), requiresGrad: false)
        a.grad = Tensor([1]); b.grad = Tensor([1])
        let opt = Optimizer(.sgd(), groups: [ParameterGroup([("a", a), ("b", b)], learningRate: 0.5)])
        opt.step()
        XCTAssertEqual(a.value.scalars, [0.5]); XCTAssertEqual(b.value.scalars, [1])
    }

    func testParameterGroupsHaveTheirOwnRates() {
        let a = Parameter(Tensor([1]), requiresGrad: true), b = Parameter(Tensor([1]), requiresGrad: true)
        a.grad = Tensor([1]); b.grad = Tensor([1])
        let opt = Optimizer(.sgd(), groups: [ParameterGroup([("a", a)], learningRate: 0.1), ParameterGroup([("b", b)], learningRate: 0.01)])
        opt.step()
        XCTAssertEqual(a.value.scalars[0], 0.9, accuracy: 1e-7); XCTAssertEqual(b.value.scalars[0], 0.99, accuracy: 1e-7)
    }

    func testClippingAndSchedules() {
        let p = Parameter(Tensor([0, 0]), requiresGrad: true)
        p.grad = Tensor([3, 4])
        XCTAssertEqual(GradientClipping.clipNorm([p], maxNorm: 1), 5)
        XCTAssertEqual(p.grad!.scalars[0], 0.6, accuracy: 1e-5)
        p.grad = Tensor([3, -4]); GradientClipping.clipValue([p], 2)
        XCTAssertEqual(p.grad!.scalars, [2, -2])
        XCTAssertEqual(LearningRateSchedule.step(size: 2, gamma: 0.5).rate(at: 5, base: 1), 0.25)
        XCTAssertEqual(LearningRateSchedule.exponential(gamma: 0.9).rate(at: 2, base: 1), 0.81, accuracy: 1e-6)
        XCTAssertEqual(LearningRateSchedule.cosine(period: 10).rate(at: 5, base: 1), 0.5, accuracy: 1e-6)
        XCTAssertEqual(LearningRateSchedule.cosine(period: 10).rate(at: 10, base: 1), 0, accuracy: 1e-6)
        XCTAssertEqual(LearningRateSchedule.warmup(4, then: .constant).rate(at: 1, base: 1), 0.5)
        XCTAssertEqual(LearningRateSchedule.warmup(4, then: .constant).rate(at: 7, base: 1), 1)
    }
}

/// A small CNN for the convergence and checkpoint tests.
final class TinyNet: Module, UnaryLayer {
    var features = Sequential(Conv2D(1, 4, kernel: 3, padding: .same, activation: .relu), MaxPool(2), BatchNorm(4))
    var head = Sequential(Flatten(), Dense(4 * 4 * 4, 2))
    func callAsFunction(_ x: Variable) -> Variable { head(features(x)) }
}

final class TrainingLoopTests: XCTestCase {
    /// Images with a bright vertical bar (class 0) or horizontal bar (class 1), plus noise.
    static func bars(_ n: Int, seed: UInt64) -> (Tensor, [Int]) {
        var rng = SeededGenerator(seed: seed)
        var x = Tensor.normal([n, 1, 8, 8], std: 0.3, rng: &rng)
        var labels = [Int]()
        for i in 0..<n {
            let label = i % 2, pos = Int(rng.next() % 8)
            for t in 0..<8 { if label == 0 { x[i, 0, t, pos] += 2 } else { x[i, 0, pos, t] += 2 } }
            labels.append(label)
        }
        return (x, labels)
    }

    func trainSteps(_ net: TinyNet, _ opt: Optimizer, _ x: Tensor, _ y: [Int], steps: Range<Int>) -> Float {
        var last: Float = 0
        for s in steps {
            let lo = (s * 16) % x.shape[0]
            let xb = Variable(x.slice(axis: 0, lo..<lo + 16)), yb = Array(y[lo..<lo + 16])
            opt.zeroGrad()
            let loss = Loss.crossEntropy(net(xb), labels: yb)
            loss.backward()
            opt.step()
            last = loss.value.scalar
        }
        return last
    }

    func testSmallCNNConvergesToStatedLoss() {
        ConvKitRandom.seed(11)
        let net = TinyNet()
        let (x, y) = Self.bars(128, seed: 1)
        let opt = Optimizer.adam(net, lr: 0.01)
        _ = trainSteps(net, opt, x, y, steps: 0..<80)
        net.eval()
        let logits = net.predict(x)
        let loss = Loss.crossEntropy(Variable(logits), labels: y).value.scalar
        XCTAssertLessThan(loss, 0.05, "training loss after 80 Adam steps")
        let acc = zip(logits.argmax(axis: 1), y).filter { $0 == $1 }.count
        XCTAssertEqual(acc, 128)
        XCTAssertEqual(net.namedParameters().map(\.0), ["features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias",
                                                        "head.1.weight", "head.1.bias"])
        XCTAssertEqual(net.namedBuffers().map(\.0), ["features.2.running_mean", "features.2.running_var", "features.2.num_batches_tracked"])
    }

    /// Training 20 steps straight equals training 10, saving, loading into fresh objects, and training 10 more.
    func testResumeFromCheckpointIsExact() throws {
        let (x, y) = Self.bars(64, seed: 2)
        ConvKitRandom.seed(12)
        let straight = TinyNet()
        let optA = Optimizer.adam(straight, lr: 0.01)
        _ = trainSteps(straight, optA, x, y, steps: 0..<20)

        ConvKitRandom.seed(12)
        let first = TinyNet()
        let optB = Optimizer.adam(first, lr: 0.01)
        _ = trainSteps(first, optB, x, y, steps: 0..<10)
        let path = NSTemporaryDirectory() + "convkit-resume-\(getpid()).safetensors"
        try Checkpoint.save(first, optimizer: optB, epoch: 1, to: path)

        ConvKitRandom.seed(999)   // different initial weights: all must come from the checkpoint
        let resumed = TinyNet()
        let optC = Optimizer.adam(resumed, lr: 0.01)
        let meta = try Checkpoint.load(path, into: resumed, optimizer: optC)
        XCTAssertEqual(meta["epoch"], "1")
        XCTAssertEqual(optC.stepCount, 10)
        _ = trainSteps(resumed, optC, x, y, steps: 10..<20)
        for ((n, a), (_, b)) in zip(straight.namedParameters(), resumed.namedParameters()) { XCTAssertEqual(a.value, b.value, n) }
        for ((n, a), (_, b)) in zip(straight.namedBuffers(), resumed.namedBuffers()) { XCTAssertEqual(a.value, b.value, n) }
    }
}

final class CheckpointTests: XCTestCase {
    func tmp(_ n: String) -> String { NSTemporaryDirectory() + "convkit-\(getpid())-\(n)" }

    /// The byte layout of the safetensors specification, checked byte for byte.
    func testSafetensorsBytesFollowTheSpecification() throws {
        let bytes = Safetensors.encode(["b": Tensor([1, 2]), "a": Tensor(shape: [1, 1], scalars: [0.5])], metadata: ["k": "v"])
        let header = #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        var padded = Array(header.utf8)
        while padded.count % 8 != 0 { padded.append(0x20) }
        var expected = [UInt8](repeating: 0, count: 8)
        expected[0] = UInt8(padded.count)
        expected += padded
        for v: Float in [0.5, 1, 2] { withUnsafeBytes(of: v.bitPattern.littleEndian) { expected += $0 } }
        XCTAssertEqual(bytes, expected)
        let (t, m) = try Safetensors.decode(bytes, path: "mem")
        XCTAssertEqual(t["b"], Tensor([1, 2])); XCTAssertEqual(m["k"], "v")
    }

    func testMismatchedAndCorruptCheckpointsRaiseClearErrors() throws {
        ConvKitRandom.seed(1)
        let net = TinyNet()
        let path = tmp("ck.safetensors")
        try Checkpoint.save(net, to: path)
        // Missing and misshaped tensors are each named.
        var tensors = try Safetensors.load(path).tensors
        tensors["head.1.weight"] = Tensor.zeros([3, 3])
        tensors["features.0.bias"] = nil
        try Safetensors.save(tensors, to: path)
        XCTAssertThrowsError(try Checkpoint.load(path, into: TinyNet())) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("head.1.weight: expected shape [2, 64], found [3, 3]") && s.contains("missing features.0.bias"), s)
        }
        // Truncated file.
        try Checkpoint.save(net, to: path)
        let full = try AtomicFile.read(path)
        XCTAssertThrowsError(try Safetensors.decode([UInt8](full.prefix(full.count - 10)), path: "t.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("t.safetensors") && "\(e)".contains("truncated"), "\(e)")
        }
        XCTAssertThrowsError(try Safetensors.decode([1, 2, 3], path: "short"))
        XCTAssertThrowsError(try Safetensors.decode([255, 255, 0, 0, 0, 0, 0, 0, 1], path: "huge-header"))
        XCTAssertThrowsError(try Safetensors.decode([2, 0, 0, 0, 0, 0, 0, 0] + Array("[]".utf8), path: "not-object"))
    }

    /// Python's `safetensors` reads our file with the expected names and shapes. `.ci/run` installs it in a venv
    /// and passes its interpreter as CONVKIT_PYTHON; under CI a missing interpreter or package fails the test.
    func testPythonSafetensorsReadsOurCheckpoint() throws {
        let env = ProcessInfo.processInfo.environment
        func unavailable(_ why: String) throws {
            if env["CI"] != nil { XCTFail("\(why) (CI must install it: see .ci/run)") } else { throw XCTSkip(why) }
        }
        let python = env["CONVKIT_PYTHON"] ?? ["/usr/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let python else { try unavailable("no Python here"); return }
        ConvKitRandom.seed(2)
        let net = TinyNet()
        let path = tmp("py.safetensors")
        try Checkpoint.save(net, to: path)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", "import sys; from safetensors.numpy import load_file; d = load_file(sys.argv[1]); print(';'.join(f'{k}={list(v.shape)}' for k, v in sorted(d.items())))", path]
        let out = Pipe(); p.standardOutput = out; p.standardError = Pipe()
        try p.run(); p.waitUntilExit()
        guard p.terminationStatus == 0 else { try unavailable("python safetensors not installed for \(python)"); return }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(text, "features.0.bias=[4];features.0.weight=[4, 1, 3, 3];features.2.bias=[4];features.2.num_batches_tracked=[];features.2.running_mean=[4];features.2.running_var=[4];features.2.weight=[4];head.1.bias=[2];head.1.weight=[2, 64]")
    }
}
