import ConvKit
import ConvKitModels
import Foundation

/// `convkit bench --model NAME`: median inference time and (optionally) training-step time of a zoo model
/// at its own input size.
struct ModelBenchmark: Encodable {
    var model: String
    var batch: Int
    var threads: Int
    var infer_ms: Double
    var train_step_ms: Double?
    /// The process's peak resident memory after the runs (weights, activations, workspaces), MB.
    var peak_rss_mb: Double
    /// What ran the inference: "plan" (the model compiled, `InferencePlan`) or "eager" (the module's own forward).
    var engine: String
    /// Why the model could not be compiled, when it could not.
    var plan_error: String?

    /// Times inference through an `InferencePlan` (the module itself with `eager`, or when the graph has an
    /// operation the plan cannot run); `explain` receives the plan's steps, `profile` each step's median time.
    static func run(_ name: String, batch: Int, train: Bool, seconds: Double, eager: Bool = false,
                    explain: ((String) -> Void)? = nil, profile: ((String) -> Void)? = nil) throws -> ModelBenchmark {
        let (net, entry) = try ModelZoo.make(name, classes: name.hasPrefix("lenet") || name.hasPrefix("yolo") ? 10 : 1000)
        var rng = SeededGenerator(seed: 0)
        let x = Tensor.normal([batch] + entry.inputShape, rng: &rng)
        net.eval()
        var plan: InferencePlan? = nil, planError: String? = nil
        if !eager {
            do { plan = try InferencePlan(net, inputShape: x.shape) } catch { planError = "\(error)" }
        }
        if let plan, let explain {
            explain((plan.explanation + [String(format: "arena %.1f MB", Double(plan.arenaBytes) / 1_048_576)]).joined(separator: "\n"))
        }
        let infer = medianMilliseconds(seconds: seconds) {
            if let plan { _ = plan(x) } else { _ = net.predict(x) }
        }
        if let plan, let profile {
            let steps = plan.profile(x)
            let total = steps.reduce(0) { $0 + $1.ms }
            profile(steps.map { String(format: "%8.3f ms %5.1f%%  %@", $0.ms, 100 * $0.ms / total, $0.step) }.joined(separator: "\n"))
        }
        var step: Double? = nil
        if train {
            net.train()
            let opt = Optimizer.sgd(net, lr: 1e-4, momentum: 0.9)
            let labels = (0..<batch).map { $0 % 10 }
            step = medianMilliseconds(seconds: seconds) {
                opt.zeroGrad()
                let y = net(Variable(x))
                // Classifiers: cross-entropy; dense outputs (a detector's grid): the mean square, same backward work.
                (y.shape.count == 2 ? Loss.crossEntropy(y, labels: labels) : y.squared().mean()).backward()
                opt.step()
            }
        }
        return ModelBenchmark(model: entry.name, batch: batch, threads: Parallel.threads, infer_ms: infer, train_step_ms: step,
                              peak_rss_mb: PeakMemory.residentMegabytes(), engine: plan != nil ? "plan" : "eager",
                              plan_error: planError)
    }

    var line: String {
        String(format: "%@ batch %d, %d threads: inference %.2f ms (%@)", model, batch, threads, infer_ms, engine) +
            (train_step_ms.map { String(format: ", training step %.1f ms", $0) } ?? "") + String(format: ", peak RSS %.0f MB", peak_rss_mb)
    }

    func jsonString() -> String {
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        return String(data: try! enc.encode(self), encoding: .utf8)!
    }
}
