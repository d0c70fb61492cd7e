import ConvKit
import ConvKitData
import ConvKitVision
import XCTest

final class EdgeFilterTests: XCTestCase {
    /// The notes' example: a 6×6 image, bright (10) left half, dark (0) right half, * the vertical filter = a 4×4
    /// map whose two middle columns are 30 (the edge) and the others 0.
    func testNotesSixBySixVerticalEdge() {
        let image = Tensor(shape: [1, 6, 6], scalars: (0..<36).map { $0 % 6 < 3 ? 10 : 0 })
        let out = EdgeFilter.vertical.apply(image, valid: true)
        XCTAssertEqual(out.shape, [1, 4, 4])
        XCTAssertEqual(out.scalars, (0..<16).map { [0, 30, 30, 0][$0 % 4] })
        // Dark-to-bright gives −30: the sign tells the transition's direction.
        XCTAssertEqual(EdgeFilter.vertical.apply(image.map { 10 - $0 }, valid: true).scalars[1], -30)
        XCTAssertEqual(EdgeFilter.horizontal.apply(image, valid: true).scalars, [Float](repeating: 0, count: 16))
    }

    func testSobelScharrAndDiagonals() {
        let image = Tensor(shape: [1, 5, 5], scalars: (0..<25).map { Float($0 / 5) })   // brightness grows downwards
        XCTAssertEqual(EdgeFilter.sobel.apply(image, valid: true).scalars, [Float](repeating: 8, count: 9))   // |g_y| = 4·2
        XCTAssertEqual(EdgeFilter.scharr.apply(image, valid: true).scalars, [Float](repeating: 32, count: 9))
        XCTAssertEqual(EdgeFilter.sobelX.apply(image, valid: true).scalars, [Float](repeating: 0, count: 9))
        XCTAssertEqual(EdgeFilter.diagonal45.apply(image, valid: true).scalars[0], -6)   // 3r − 3(r + 2)
        XCTAssertEqual(EdgeFilter.sobel.apply(image).shape, [1, 5, 5], "same padding keeps the size")
    }

    func testA3x3ConvolutionLearnsSobel() throws {
        let coins = try ImageFile.load(DatasetTests.repo + "/Data/images/coins.png")
        let (k, mse) = EdgeFilter.learn(toReproduce: .sobelX, from: coins, steps: 400, seed: 1)
        for (a, b) in zip(k, EdgeFilter.sobelX.kernel!) { XCTAssertEqual(a, b, accuracy: 0.02) }
        XCTAssertLessThan(mse, 1e-4)
    }
}
