import XCTest
import ConvKit
import ConvKitModels

final class LeNetTests: XCTestCase {
    func testParameterCountsAndShapes() throws {
        let m = LeNet5()
        XCTAssertEqual(m.parameterCount, 61_706)
        var rng = SeededGenerator(seed: 1)
        let x = Variable(.normal([3, 1, 28, 28], rng: &rng))
        let y = m(x)
        XCTAssertEqual(y.shape, [3, 10])
        Loss.crossEntropy(y, labels: [1, 2, 3]).backward()
        XCTAssertTrue(m.parameters().allSatisfy { $0.grad?.shape == $0.shape })
        XCTAssertEqual(LeNet5(classes: 5, classic: true)(x).shape, [3, 5])
        XCTAssertThrowsError(try ModelZoo.make("nosuch")) { e in XCTAssertTrue("\(e)".contains("lenet5"), "\(e)") }
    }
}
