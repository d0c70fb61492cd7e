import ConvKit
import ConvKitVision
import XCTest

final class RoIOpsTests: XCTestCase {
    static let golden: [String: Tensor] = { (try? NumPy.loadArchive(Golden.path("roi.npz"))) ?? [:] }()
    func g(_ k: String) -> Tensor { Golden.array(Self.golden, k) }

    func check(_ name: String, _ op: (Variable, Tensor) -> Variable) {
        let x = Variable(g("x"), requiresGrad: true)
        let y = op(x, g("rois"))
        XCTAssertEqual(y.shape, g(name + ".out").shape, name)
        XCTAssertLessThan(y.value.maxAbsDifference(g(name + ".out")), 1e-5, "\(name) forward")
        (y * g(name + ".r")).sum().backward()
        XCTAssertLessThan(x.grad!.maxAbsDifference(g(name + ".grad")), 1e-5, "\(name) gradient")
    }

    func testRoIPoolMatchesTorchvision() {
        check("pool") { RoIOps.roiPool($0, rois: $1, outputSize: (3, 4), spatialScale: 0.5) }
    }

    func testRoIAlignMatchesTorchvision() {
        check("align_s025_adaptive") { RoIOps.roiAlign($0, rois: $1, outputSize: (4, 3), spatialScale: 0.25) }
        check("align_s05_aligned") { RoIOps.roiAlign($0, rois: $1, outputSize: (4, 3), spatialScale: 0.5, aligned: true) }
        check("align_s1_ratio2") { RoIOps.roiAlign($0, rois: $1, outputSize: (2, 5), spatialScale: 1, samplingRatio: 2) }
        check("align_s05_ratio2_aligned") { RoIOps.roiAlign($0, rois: $1, outputSize: (3, 3), spatialScale: 0.5, samplingRatio: 2, aligned: true) }
    }

    func testRoIAlignGradientByFiniteDifferences() {
        var rng = SeededGenerator(seed: 2)
        let x = Tensor.normal([1, 2, 6, 7], rng: &rng), rois = Tensor(shape: [2, 5], scalars: [0, 0.7, 1.2, 5.1, 4.9, 0, 2, 0, 6.5, 3.3])
        let r = Tensor.normal([2, 2, 2, 3], rng: &rng)
        let v = Variable(x, requiresGrad: true)
        (RoIOps.roiAlign(v, rois: rois, outputSize: (2, 3), spatialScale: 1, samplingRatio: 2) * r).sum().backward()
        for i in 0..<x.count {
            var p = x, m = x
            p.scalars[i] += 1e-2; m.scalars[i] -= 1e-2
            let f = { (t: Tensor) in (RoIOps.roiAlign(Variable(t), rois: rois, outputSize: (2, 3), spatialScale: 1, samplingRatio: 2).value * r).sum().scalar }
            XCTAssertEqual(v.grad!.scalars[i], (f(p) - f(m)) / 2e-2, accuracy: 1e-3)
        }
    }
}
