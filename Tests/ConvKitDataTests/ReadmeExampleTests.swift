import XCTest
import ConvKit
import ConvKitData

/// The README's library example, verbatim but for the epoch count and a subset of the data, so the
/// example a newcomer copies is known to compile and learn.
final class ReadmeExampleTests: XCTestCase {
    final class SmallNet: Module, UnaryLayer {
        var features = Sequential(Conv2D(1, 16, kernel: 3, padding: .same, activation: .relu), MaxPool(2),
                                  Conv2D(16, 32, kernel: 3, padding: .same, activation: .relu), MaxPool(2))
        var head = Sequential(Flatten(), Dense(32 * 7 * 7, 10))
        func callAsFunction(_ x: Variable) -> Variable { head(features(x)) }
    }

    func testExampleTrainsAndSaves() throws {
        ConvKitRandom.seed(42)
        let mnist = try Datasets.idxFolder(ImageFormatTests.data + "/mnist5k")
        let train = DataLoader(mnist.train.subset(Array(0..<1000)), batchSize: 64, seed: 1) { x, _ in Preprocessing.scaleToUnit(x) }
        let net = SmallNet()
        let optimizer = Optimizer.adam(net, lr: 1e-3)
        var losses = [Float]()
        for _ in 0..<2 {
            for batch in train {
                optimizer.zeroGrad()
                let loss = Loss.crossEntropy(net(Variable(batch.images)), labels: batch.labels)
                loss.backward()
                optimizer.step()
                losses.append(loss.value.scalar)
            }
        }
        XCTAssertLessThan(losses.suffix(5).reduce(0, +) / 5, losses.prefix(5).reduce(0, +) / 5 * 0.6)
        let path = NSTemporaryDirectory() + "convkit-readme-\(getpid()).safetensors"
        try Checkpoint.save(net, optimizer: optimizer, to: path)
        XCTAssertEqual(net.namedParameters().map(\.0).first, "features.0.weight")
        XCTAssertEqual(net.namedParameters().map(\.0).last, "head.1.bias")
    }
}
