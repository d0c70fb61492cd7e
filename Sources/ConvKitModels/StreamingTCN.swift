import ConvKit

/// Causal inference on a live stream: a `TCN` fed one step or one chunk at a time, producing exactly what the
/// full-sequence pass produces at those steps.
///
/// Every causal convolution keeps the last (k − 1)·d input steps it has seen (its receptive field's history, zeros
/// before the stream starts, which is the full pass's left padding); a chunk of T steps is convolved with that
/// history prepended, without padding, giving its T outputs, and the history moves on. The 1×1 skip convolutions,
/// ReLUs and the residual sums are per step and need no state. Memory is Σ (k − 1)·d·channels floats whatever the
/// stream's length. Evaluation mode only (dropout off). Batches of streams are fine: state is kept per sample.
public final class StreamingTCN {
    public let model: TCN
    /// Per block, the history of conv1's and conv2's inputs: `[N, C, (k − 1)·d]`.
    var history: [(Tensor, Tensor)]
    public private(set) var stepsSeen = 0
    let batch: Int

    public init(_ model: TCN, batch: Int = 1) {
        precondition(batch >= 1, "a stream batch of at least one")
        self.model = model; self.batch = batch
        model.eval()
        history = model.blocks.map { b in
            (Tensor.zeros([batch, b.conv1.weightV.shape[1], b.conv1.causalPadding]),
             Tensor.zeros([batch, b.conv2.weightV.shape[1], b.conv2.causalPadding]))
        }
    }

    /// Forgets the stream (the next chunk starts a new sequence).
    public func reset() {
        history = history.map { (Tensor.zeros($0.0.shape), Tensor.zeros($0.1.shape)) }
        stepsSeen = 0
    }

    /// A causal convolution of a chunk `[N, C, T]` given its history; returns the output and the new history.
    static func convolve(_ conv: WeightNormConv, _ chunk: Tensor, history: Tensor) -> (Tensor, Tensor) {
        let p = conv.causalPadding
        let joined = p > 0 ? Tensor.concatenate([history, chunk], axis: 2) : chunk
        let y = Functional.conv(Variable(joined), weight: conv.weight, bias: conv.bias, options: conv.options).value
        let l = joined.shape[2]
        return (y, p > 0 ? joined.slice(axis: 2, (l - p)..<l) : history)
    }

    /// The features `[N, channels, T]` of the next T steps of the stream `[N, D, T]` (T ≥ 1).
    public func features(_ chunk: Tensor) throws -> Tensor {
        guard chunk.rank == 3, chunk.shape[0] == batch, chunk.shape[2] >= 1,
              chunk.shape[1] == model.blocks[0].conv1.weightV.shape[1] else {
            throw ConvKitError.shapeMismatch(expected: "a chunk [\(batch), \(model.blocks[0].conv1.weightV.shape[1]), T ≥ 1]", found: "\(chunk.shape)")
        }
        return Autograd.withoutGradients {
            var h = chunk
            for (i, b) in model.blocks.enumerated() {
                let (y1, h1) = Self.convolve(b.conv1, h, history: history[i].0)
                let (y2, h2) = Self.convolve(b.conv2, y1.map { Swift.max($0, 0) }, history: history[i].1)
                history[i] = (h1, h2)
                let skip = b.downsample.map { $0.predict(h) } ?? h
                h = (y2.map { Swift.max($0, 0) } + skip).map { Swift.max($0, 0) }
            }
            stepsSeen += chunk.shape[2]
            return h
        }
    }

    /// Per-step logits `[N, classes, T]` (the `.last` readout at every step: what the full pass would output if the
    /// sequence ended there).
    public func logits(_ chunk: Tensor) throws -> Tensor {
        let h = try features(chunk)
        let (n, c, t) = (h.shape[0], h.shape[1], h.shape[2])
        let rows = h.permuted([0, 2, 1]).reshaped([n * t, c])
        let y = model.fc.predict(rows)
        return y.reshaped([n, t, y.shape[1]]).permuted([0, 2, 1])
    }
}
