import ConvKit
import ConvKitModels
import Foundation

/// `convkit train --task adding --length T`: the adding problem (Hochreiter and Schmidhuber 1997; the TCN paper's
/// long-memory test). Each input is 2 × T: uniform values in [0, 1) and a marker row with two 1s, one in each half;
/// the target is the sum of the two marked values. Predicting the mean sum (1) scores an MSE of about 0.167; the task
/// counts as solved below 0.01. A TCN with a receptive field ≥ T (levels of 24 channels, k = 8) regresses from its
/// last step; Adam, MSE, batches of 32; a fixed test set of 1,000 sequences.
struct AddingProblem {
    let length: Int
    let epochs: Int
    let trainSize: Int
    let lr: Float
    let seed: UInt64
    let json: Bool

    /// `count` sequences `[count, 2, T]` and their targets.
    static func make(count: Int, length: Int, rng: inout SeededGenerator) -> (Tensor, [Float]) {
        var x = [Float](repeating: 0, count: count * 2 * length), y = [Float](repeating: 0, count: count)
        let half = length / 2
        for n in 0..<count {
            for t in 0..<length { x[n * 2 * length + t] = rng.nextUniform() }
            let a = Int(rng.nextUniform() * Float(half)) % half, b = half + Int(rng.nextUniform() * Float(length - half)) % (length - half)
            x[n * 2 * length + length + a] = 1; x[n * 2 * length + length + b] = 1
            y[n] = x[n * 2 * length + a] + x[n * 2 * length + b]
        }
        return (Tensor(shape: [count, 2, length], scalars: x), y)
    }

    func run() throws {
        guard (10...100_000).contains(length) else {
            throw ConvKitError.invalidArgument(name: "--length", expected: "10…100000 steps", found: "\(length)")
        }
        ConvKitRandom.seed(seed)
        var levels = 1
        while 1 + 2 * 7 * ((1 << levels) - 1) < length { levels += 1 }
        let net = TCN(inputChannels: 2, classes: 1, levels: levels, channels: 24, kernel: 8, dropout: 0, readout: .last)
        var rng = SeededGenerator(seed: seed)
        let (x, y) = Self.make(count: trainSize, length: length, rng: &rng)
        var testRng = SeededGenerator(seed: seed &+ 1_000_003)
        let (xt, yt) = Self.make(count: 1000, length: length, rng: &testRng)
        let optimizer = Optimizer(.adam(), groups: [ParameterGroup(net.namedParameters(), learningRate: lr)])
        let log = FileHandle.standardError, start = Date(), batch = 32
        func testMSE() -> Double {
            net.eval()
            var sum = 0.0
            for s in stride(from: 0, to: 1000, by: 250) {
                let p = net.predict(xt.slice(axis: 0, s..<s + 250))
                for i in 0..<250 { let d = Double(p.scalars[i] - yt[s + i]); sum += d * d }
            }
            net.train()
            return sum / 1000
        }
        var mse = testMSE()
        for epoch in 0..<epochs {
            net.train()
            let order = (0..<trainSize).shuffled(using: &rng)
            for (k, s) in stride(from: 0, to: trainSize - batch + 1, by: batch).enumerated() {
                let idx = Array(order[s..<s + batch])
                optimizer.zeroGrad()
                let xb = Tensor.stack(idx.map { x.slice(axis: 0, $0..<$0 + 1).reshaped([2, length]) })
                let l = Loss.mse(net(Variable(xb)), Tensor(shape: [batch, 1], scalars: idx.map { y[$0] }))
                l.backward()
                optimizer.step()
                if (k + 1) % 200 == 0 {
                    log.write(String(format: "epoch %d step %d  loss %.5f  %.1fs\n", epoch + 1, k + 1, l.value.scalar, Date().timeIntervalSince(start)).data(using: .utf8)!)
                }
            }
            mse = testMSE()
            log.write(String(format: "epoch %d/%d  test MSE %.5f  %.1fs\n", epoch + 1, epochs, mse, Date().timeIntervalSince(start)).data(using: .utf8)!)
        }
        let wall = Date().timeIntervalSince(start)
        log.write(String(format: "adding problem, T = %d (TCN %d levels × 24, k = 8, receptive field %d): test MSE %.5f (solved below 0.01), %.1f s\n",
                         length, levels, net.receptiveField, mse, wall).data(using: .utf8)!)
        if json {
            let obj: [String: Any] = ["task": "adding", "length": length, "test_mse": mse, "solved": mse < 0.01, "epochs": epochs,
                                      "train": trainSize, "levels": levels, "wall_seconds": wall]
            print(String(data: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), encoding: .utf8)!)
        }
    }
}
