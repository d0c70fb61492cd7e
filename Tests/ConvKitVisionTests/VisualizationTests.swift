import ConvKit
import ConvKitVision
import XCTest

final class VisualizationTests: XCTestCase {
    /// A unit that sums a 3×3 window, after a 2×2 max-pool: its top patch on an image with one bright pixel is the
    /// receptive field (4×4, jump 2) around that pixel, clipped at the border.
    func testTopPatchesCutTheReceptiveFieldAroundTheMaximum() {
        let conv = Conv2D(1, 1, kernel: 3, bias: false)
        conv.weight.value = .ones([1, 1, 3, 3])
        let layers = Sequential(conv, MaxPool(kernel: [2]))
        var images = Tensor.zeros([3, 1, 12, 12])
        images[0, 0, 5, 6] = 1; images[1, 0, 0, 0] = 3; images[2, 0, 9, 9] = 2
        let hits = UnitVisualization.topPatches(layers, images: images, k: 2)
        XCTAssertEqual(hits.count, 1)
        XCTAssertEqual(hits[0].map(\.image), [1, 2], "the two strongest images, strongest first")
        XCTAssertEqual(hits[0][0].value, 3)
        for h in hits[0] {
            let (x1, y1, x2, y2) = h.patch
            XCTAssertEqual(x2 - x1 <= 4 && y2 - y1 <= 4, true)
            let bright = h.image == 1 ? (0, 0) : (9, 9)
            XCTAssertTrue((y1..<y2).contains(bright.0) && (x1..<x2).contains(bright.1), "patch \(h.patch) holds the bright pixel")
        }
        XCTAssertEqual(hits[0][0].patch.x1, 0, "clipped at the border")
    }

    func testFiltersGridAndSaliency() {
        ConvKitRandom.seed(3)
        let conv = Conv2D(3, 6, kernel: 5)
        let grid = UnitVisualization.filters(conv, scale: 4, columns: 3)
        XCTAssertEqual(grid.shape, [3, 2 * 22, 3 * 22])
        // Saliency of a linear model is |its weights| for the class.
        let dense = Sequential(Flatten(), Dense(4, 2, bias: false))
        (dense.layers[1] as! Dense).weight.value = Tensor(shape: [2, 4], scalars: [1, -2, 3, -4, 0, 0, 0, 0])
        let s = UnitVisualization.saliency(dense, image: Tensor.zeros([1, 2, 2]), classIndex: 0)
        XCTAssertEqual(s.scalars, [1, 2, 3, 4])
    }
}
