import XCTest
import ConvKit
import ConvKitModels

/// A TCN run on a stream, one step or one chunk at a time, equals the full-sequence pass.
final class StreamingTCNTests: XCTestCase {
    func testStreamingEqualsTheFullPassForChunksOf1_7And64() throws {
        ConvKitRandom.seed(11)
        let tcn = TCN(inputChannels: 3, classes: 4, levels: 3, channels: 8, kernel: 3, dropout: 0.2)
        tcn.eval()
        var rng = SeededGenerator(seed: 12)
        let x = Tensor.normal([2, 3, 150], rng: &rng)
        let full = tcn.features(Variable(x)).value
        for chunk in [1, 7, 64] {
            let stream = StreamingTCN(tcn, batch: 2)
            var parts = [Tensor]()
            for s in stride(from: 0, to: 150, by: chunk) { parts.append(try stream.features(x.slice(axis: 2, s..<min(s + chunk, 150)))) }
            let streamed = Tensor.concatenate(parts, axis: 2)
            XCTAssertEqual(streamed.shape, full.shape)
            XCTAssertLessThan(streamed.maxAbsDifference(full), 1e-5, "chunks of \(chunk)")
            XCTAssertEqual(stream.stepsSeen, 150)
        }
        // Per-step logits are the last-step readout of every prefix; reset starts a new stream.
        let stream = StreamingTCN(tcn, batch: 2)
        _ = try stream.features(x.slice(axis: 2, 0..<10))
        stream.reset()
        let logits = try stream.logits(x.slice(axis: 2, 0..<40))
        let prefix = tcn.predict(x.slice(axis: 2, 0..<40))
        XCTAssertLessThan(logits.slice(axis: 2, 39..<40).reshaped([2, 4]).maxAbsDifference(prefix), 1e-5)
        XCTAssertThrowsError(try stream.features(Tensor.zeros([2, 5, 4])), "wrong channel count")
        XCTAssertThrowsError(try stream.features(Tensor.zeros([1, 3, 4])), "wrong batch")
    }
}
