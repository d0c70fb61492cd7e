import XCTest
import ConvKit
import ConvKitModels

final class AnalysisTests: XCTestCase {
    /// The notes' worked examples of cost arithmetic.
    func testNotesWorkedExamples() {
        // 5×5 convolution, 32 filters, on 28×28×192 ('same'): ≈ 120 M multiplies.
        XCTAssertEqual(CostModel.convMultiplies(outputHeight: 28, outputWidth: 28, filters: 32, size: 5, channels: 192), 120_422_400)
        // With a 1×1 bottleneck to 16 channels first: 2.4 M + 10.0 M = 12.4 M.
        let reduce = CostModel.convMultiplies(outputHeight: 28, outputWidth: 28, filters: 16, size: 1, channels: 192)
        let wide = CostModel.convMultiplies(outputHeight: 28, outputWidth: 28, filters: 32, size: 5, channels: 16)
        XCTAssertEqual(reduce, 2_408_448); XCTAssertEqual(wide, 10_035_200)
        XCTAssertEqual(Double(reduce + wide) / 1e6, 12.4, accuracy: 0.05)
        // Two stacked 3×3 convolutions see what one 5×5 sees; three see a 7×7.
        XCTAssertEqual(CostModel.receptiveField([(3, 1, 1), (3, 1, 1)]), CostModel.receptiveField([(5, 1, 1)]))
        XCTAssertEqual(CostModel.receptiveField([(3, 1, 1), (3, 1, 1), (3, 1, 1)]), 7)
        XCTAssertEqual(CostModel.receptiveField([(3, 1, 2)]), 5)   // dilation 2
        XCTAssertEqual(CostModel.receptiveField([(2, 2, 1), (3, 1, 1)]), 6)
        // K(F²C + 1) parameters: 10 filters of 3×3×3 → 280.
        XCTAssertEqual(CostModel.convParameters(filters: 10, size: 3, channels: 3), 280)
    }

    /// The summary's receptive fields follow the same arithmetic as the recursion, layer by layer.
    func testSummaryOfAUserDefinedModel() {
        let m = Sequential(Conv2D(3, 8, kernel: 3, padding: .same), Conv2D(8, 8, kernel: 3, padding: .same), MaxPool(2),
                           Conv2D(8, 4, kernel: 3, dilation: 2), GlobalAvgPool(), Dense(4, 2))
        let s = ModelSummary.of(m, name: "custom", inputShape: [3, 32, 32])
        XCTAssertEqual(s.layers.map(\.type), ["Conv2D", "Conv2D", "MaxPool", "Conv2D", "GlobalAvgPool", "Dense"])
        XCTAssertEqual(s.layers.map(\.name), ["0", "1", "MaxPool_1", "3", "GlobalAvgPool_1", "5"])
        XCTAssertEqual(s.layers.map { $0.receptiveField?[0] }, [3, 5, 6, 6 + 2 * 2 * 2, nil, nil])
        XCTAssertEqual(s.layers[3].jump, [2, 2])
        XCTAssertEqual(s.layers.map(\.output), [[1, 8, 32, 32], [1, 8, 32, 32], [1, 8, 16, 16], [1, 4, 12, 12], [1, 4], [1, 2]])
        XCTAssertEqual(s.params, m.parameterCount)
        XCTAssertEqual(s.layers[0].macs, 32 * 32 * 8 * 27)
        XCTAssertEqual(s.macs, 32 * 32 * 8 * 27 + 32 * 32 * 8 * 72 + 12 * 12 * 4 * 72 + 8)
        m.freeze(["0"])
        XCTAssertEqual(ModelSummary.of(m, name: "custom", inputShape: [3, 32, 32]).trainableParams, m.parameterCount - 224)
    }

    /// Multiply-accumulates at 3×224×224 within 1 % of torchvision's published figures.
    func testMACsMatchPublishedFigures() throws {
        let published: [(String, Double)] = [("alexnet", 0.71), ("vgg16", 15.47), ("resnet18", 1.81), ("resnet50", 4.09), ("googlenet", 1.50), ("mobilenet_v2", 0.30)]
        for (name, gmacs) in published {
            let (m, e) = try ModelZoo.make(name)
            let s = ModelSummary.of(m, name: name, inputShape: e.inputShape)
            XCTAssertEqual(Double(s.macs) / 1e9, gmacs, accuracy: gmacs * 0.01, name)
        }
    }
}
