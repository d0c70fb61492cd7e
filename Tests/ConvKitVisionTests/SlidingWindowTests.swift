import ConvKit
import ConvKitVision
import XCTest

final class SlidingWindowTests: XCTestCase {
    /// The notes' §3.4 network: 14×14×3 → conv 5×5 ×16 → max-pool 2 → FC 400 → FC 400 → FC 4 (softmax).
    static func notesClassifier() -> Sequential {
        ConvKitRandom.seed(7)
        return Sequential(Conv2D(3, 16, kernel: 5, activation: .relu), MaxPool(kernel: [2]),
                          Sequential(Flatten(), Dense(16 * 5 * 5, 400, activation: .relu), Dense(400, 400, activation: .relu), Dense(400, 4), Softmax()))
    }

    func testEveryCellEqualsTheClassifierOnItsWindow() throws {
        let classifier = Self.notesClassifier()
        classifier.eval()
        let (fcn, geometry) = try Convolutionalize.convert(classifier, inputShape: [3, 14, 14])
        XCTAssertEqual(geometry.jump.y, 2); XCTAssertEqual(geometry.jump.x, 2)
        XCTAssertEqual(geometry.offset.y, 0); XCTAssertEqual(geometry.offset.x, 0)
        var rng = SeededGenerator(seed: 1)
        // The notes' sizes: 16×16×3 → 2×2×4, 28×28×3 → 8×8×4; and a non-square image.
        for (h, w, oh, ow) in [(16, 16, 2, 2), (28, 28, 8, 8), (19, 30, 3, 9)] {
            let image = Tensor.normal([3, h, w], rng: &rng)
            let out = fcn.predict(image.unsqueezed(axis: 0))
            XCTAssertEqual(out.shape, [1, 4, oh, ow])
            for i in 0..<oh {
                for j in 0..<ow {
                    let win = geometry.window(row: i, col: j)
                    let crop = image.slice(axis: 1, win.y1..<win.y2).slice(axis: 2, win.x1..<win.x2)
                    let expected = classifier.predict(crop.unsqueezed(axis: 0))
                    for k in 0..<4 { XCTAssertEqual(out[0, k, i, j], expected[0, k], accuracy: 1e-4, "cell (\(i), \(j)) class \(k) at \(h)×\(w)") }
                }
            }
        }
        // The naive detector's windows agree with the convolutional grid where they coincide.
        let image = Tensor.normal([3, 20, 20], rng: &rng)
        let windows = SlidingWindows.crops(classifier, image: image, inputSize: (14, 14), sizes: [(14, 2)])
        XCTAssertEqual(windows.count, 16)
        let grid = fcn.predict(image.unsqueezed(axis: 0))
        for wnd in windows {
            let (i, j) = (wnd.box.y1 / 2, wnd.box.x1 / 2)
            for k in 0..<4 { XCTAssertEqual(wnd.scores[k], grid[0, k, i, j], accuracy: 1e-4) }
        }
    }

    func testPaddingShiftsTheWindowsAndBadClassifiersThrow() throws {
        ConvKitRandom.seed(2)
        let padded = Sequential(Conv2D(1, 4, kernel: 3, padding: .symmetric(1)), MaxPool(kernel: [2]), Flatten(), Dense(4 * 4 * 4, 3))
        let (_, g) = try Convolutionalize.convert(padded, inputShape: [1, 8, 8])
        XCTAssertEqual(g.offset.y, -1); XCTAssertEqual(g.jump.x, 2)
        XCTAssertThrowsError(try Convolutionalize.convert(Sequential(Conv2D(1, 4, kernel: 3)), inputShape: [1, 8, 8]))
    }
}
