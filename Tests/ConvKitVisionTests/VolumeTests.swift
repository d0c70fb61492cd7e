import ConvKit
import ConvKitModels
@testable import ConvKitVision
import XCTest

/// Volumetric CNNs: the notes' 3-D example, receptive fields in 3-D, the phantoms, the 3-D U-Net and classifier,
/// sliding-window inference against one pass.
final class VolumeTests: XCTestCase {
    func testTheNotesCTExampleGivesTenCubedBySixteen() {
        // 004 "example: CT": 14×14×14×1 * 5×5×5 with 16 filters = 10×10×10×16.
        ConvKitRandom.seed(1)
        let conv = Conv3D(1, 16, kernel: 5)
        var rng = SeededGenerator(seed: 2)
        let x = Tensor.normal([1, 1, 14, 14, 14], rng: &rng)
        let y = conv(Variable(x)).value
        XCTAssertEqual(y.shape, [1, 16, 10, 10, 10])
        XCTAssertEqual(conv.parameterCount, 16 * (5 * 5 * 5 + 1))
        // Against the definition, y[f, z, r, c] = b[f] + Σ_{i,j,k} w[f, i, j, k]·x[z+i, r+j, c+k], at scattered outputs.
        let w = conv.weight.value, b = conv.bias!.value
        for (f, z, r, c) in [(0, 0, 0, 0), (15, 9, 9, 9), (7, 3, 8, 1), (3, 5, 0, 9)] {
            var s = Double(b.scalars[f])
            for i in 0..<5 { for j in 0..<5 { for k in 0..<5 {
                s += Double(w.scalars[((f * 5 + i) * 5 + j) * 5 + k]) * Double(x.scalars[((z + i) * 14 + r + j) * 14 + c + k])
            } } }
            XCTAssertEqual(Double(y.scalars[((f * 10 + z) * 10 + r) * 10 + c]), s, accuracy: 1e-4)
        }
    }

    func testThreeDimensionalReceptiveFieldBySummaryAndPerturbation() {
        ConvKitRandom.seed(3)
        let net = Sequential(Conv3D(1, 2, kernel: 3, padding: .symmetric(1)), ActivationLayer(.tanh), Conv3D(2, 1, kernel: 3, padding: .symmetric(2), dilation: 2))
        let s = ModelSummary.of(net, name: "3d", inputShape: [1, 12, 12, 12])
        XCTAssertEqual(s.layers.last?.receptiveField, [7, 7, 7], "3 + (3 − 1)·2 = 7 per axis")
        var rng = SeededGenerator(seed: 4)
        let x = Tensor.normal([1, 1, 12, 12, 12], rng: &rng)
        var x2 = x
        x2.scalars[(6 * 12 + 6) * 12 + 6] += 1
        let a = net(Variable(x)).value, b = net(Variable(x2)).value
        var changed = Set<[Int]>()
        for i in 0..<a.count where abs(a.scalars[i] - b.scalars[i]) > 1e-7 { changed.insert([i / 144, (i / 12) % 12, i % 12]) }
        // Offsets the two layers reach: {−1, 0, 1} + {−2, 0, 2} = −3…3 per axis, every one of them (7³ outputs).
        let reach = Set((-3...3).flatMap { dz in (-3...3).flatMap { dy in (-3...3).map { dx in [6 + dz, 6 + dy, 6 + dx] } } })
        XCTAssertEqual(changed, reach)
    }

    func testPhantomsAreDeterministicLabelledAndCheckTheirSize() throws {
        let gen = try VolumePhantoms(size: [24, 32, 40], seed: 11)
        let a = gen.phantom(index: 5), b = gen.phantom(index: 5), c = gen.phantom(index: 6)
        XCTAssertEqual(a.volume.scalars, b.volume.scalars)
        XCTAssertEqual(a.voxelLabels, b.voxelLabels)
        XCTAssertNotEqual(a.voxelLabels, c.voxelLabels)
        XCTAssertEqual(a.volume.shape, [1, 24, 32, 40])
        XCTAssertEqual([0, 1, 2, 3, 4, 5].map { gen.phantom(index: $0).lesionShape }, [0, 1, 2, 0, 1, 2])
        // Every class present; mean intensity rises air < body < organ < lesion.
        var sums = [Double](repeating: 0, count: 4), counts = [Int](repeating: 0, count: 4)
        for (i, l) in a.voxelLabels.enumerated() { sums[Int(l)] += Double(a.volume.scalars[i]); counts[Int(l)] += 1 }
        XCTAssertTrue(counts.allSatisfy { $0 > 0 }, "\(counts)")
        let means = zip(sums, counts).map { $0 / Double($1) }
        XCTAssertEqual(means, means.sorted(), "\(means)")
        XCTAssertThrowsError(try VolumePhantoms(size: [8, 32, 32], seed: 0))
        XCTAssertThrowsError(try VolumePhantoms(size: [32, 32], seed: 0))
    }

    func testGaussianBlurKeepsMassAndSmooths() {
        var v = Tensor.zeros([1, 9, 9, 9])
        v.scalars[(4 * 9 + 4) * 9 + 4] = 1
        let b = VolumePhantoms.gaussianBlur(v, sigma: 1)
        XCTAssertEqual(b.scalars.reduce(0, +), 1, accuracy: 1e-5, "an interior impulse keeps its mass")
        XCTAssertEqual(b.scalars[(4 * 9 + 4) * 9 + 4], b.scalars.max()!)
        XCTAssertEqual(b.scalars[(4 * 9 + 4) * 9 + 3], b.scalars[(3 * 9 + 4) * 9 + 4], accuracy: 1e-7, "isotropic")
    }

    func testTheThreeDimensionalUNetAndClassifierShapesAndTraining() {
        ConvKitRandom.seed(5)
        let unet = UNet(classes: 4, inputChannels: 1, depth: 2, width: 4, spatialDimensions: 3)
        let p = try! VolumePhantoms(size: [16, 16, 16], seed: 1).phantom(index: 0)
        let x = Variable(p.volume.unsqueezed(axis: 0))
        XCTAssertEqual(unet(x).shape, [1, 4, 16, 16, 16])
        let opt = Optimizer(.adam(), module: unet, learningRate: 0.01)
        var losses = [Float]()
        for _ in 0..<6 {
            opt.zeroGrad()
            let l = SegmentationLoss.crossEntropy(unet(x), labels: p.voxelLabels)
            l.backward(); opt.step(); losses.append(l.value.scalar)
        }
        XCTAssertLessThan(losses.last!, losses.first! * 0.8, "\(losses)")
        let cls = VolumeClassifier(inputChannels: 1, classes: 3, widths: [4, 8])
        XCTAssertEqual(cls(Variable(Tensor.zeros([2, 1, 16, 16, 16]))).shape, [2, 3])
    }

    func testVolumetricSegmentationLossesEqualTheFlattenedOnes() {
        var rng = SeededGenerator(seed: 9)
        let z = Tensor.normal([2, 3, 4, 5, 6], rng: &rng)
        let labels = (0..<(2 * 120)).map { Int32($0 * 7 % 3) }
        let flat = Variable(z.reshaped([2, 3, 120, 1]))
        XCTAssertEqual(SegmentationLoss.crossEntropy(Variable(z), labels: labels).value.scalar,
                       SegmentationLoss.crossEntropy(flat, labels: labels).value.scalar, accuracy: 1e-6)
        XCTAssertEqual(SegmentationLoss.dice(Variable(z), labels: labels).value.scalar,
                       SegmentationLoss.dice(flat, labels: labels).value.scalar, accuracy: 1e-6)
    }

    func testWindowStartsCoverTheAxisAndEndFlush() {
        XCTAssertEqual(VolumeSlidingWindow.starts(size: 192, side: 64, overlap: 0.25), [0, 48, 96, 128])
        XCTAssertEqual(VolumeSlidingWindow.starts(size: 64, side: 64, overlap: 0.5), [0])
        XCTAssertEqual(VolumeSlidingWindow.starts(size: 100, side: 32, overlap: 0), [0, 32, 64, 68])
    }

    func testSlidingWindowEqualsOnePassForAPointwiseNetworkAndBoundsItsMemory() throws {
        // A per-voxel "network" (class = intensity band): every window agrees with every other, so any blend
        // must give exactly the one-pass labels, including at window seams.
        let p = try VolumePhantoms(size: [40, 36, 44], seed: 3).phantom(index: 1)
        func bands(_ t: Tensor) -> Tensor {
            let n = t.count
            return Tensor(shape: [1, 4] + Array(t.shape[2...]), scalars: (0..<4).flatMap { k in
                (0..<n).map { i -> Float in
                    let v = t.scalars[i]
                    let centre: Float = [0, 0.3, 0.57, 0.92][k]
                    return -abs(v - centre) * 10
                }
            })
        }
        let sw = try VolumeSlidingWindow(window: [16, 16, 16], overlap: 0.25)
        let (labels, usage) = try sw.segment(p.volume, classes: 4, network: bands)
        let whole = bands(p.volume.unsqueezed(axis: 0))
        let n = p.volume.count
        let expected = (0..<n).map { i in UInt8((0..<4).max { whole.scalars[$0 * n + i] < whole.scalars[$1 * n + i] }!) }
        XCTAssertEqual(labels, expected)
        let counts = [40, 36, 44].map { VolumeSlidingWindow.starts(size: $0, side: 16, overlap: 0.25).count }
        XCTAssertEqual(usage.windows, counts.reduce(1, *))
        XCTAssertEqual(usage.accumulatorBytes, 4 * 16 * 36 * 44 * 4, "classes × window depth × H × W floats")
        XCTAssertLessThan(usage.accumulatorBytes * 2, usage.wholeVolumeAccumulatorBytes)
    }

    func testSlidingWindowOfTheWholeVolumeIsOnePassOfAUNet() throws {
        ConvKitRandom.seed(8)
        let unet = UNet(classes: 3, inputChannels: 1, depth: 2, width: 4, spatialDimensions: 3)
        unet.eval()
        let p = try VolumePhantoms(size: [16, 16, 16], seed: 2).phantom(index: 2)
        let sw = try VolumeSlidingWindow(window: [16, 16, 16], overlap: 0.5)
        let (labels, usage) = try sw.segment(p.volume, classes: 3) { unet.predict($0) }
        XCTAssertEqual(usage.windows, 1)
        let y = unet.predict(p.volume.unsqueezed(axis: 0)), n = p.volume.count
        XCTAssertEqual(labels, (0..<n).map { i in UInt8((0..<3).max { y.scalars[$0 * n + i] < y.scalars[$1 * n + i] }!) })
    }

    func testSlidingWindowRejectsWhatDoesNotFit() throws {
        let sw = try VolumeSlidingWindow(window: [16, 16, 16])
        XCTAssertThrowsError(try sw.segment(Tensor.zeros([1, 8, 32, 32]), classes: 2) { _ in Tensor.zeros([1, 2, 16, 16, 16]) }) { e in
            XCTAssertTrue("\(e)".contains("at least the window"), "\(e)")
        }
        XCTAssertThrowsError(try sw.segment(Tensor.zeros([1, 16, 16, 16]), classes: 2) { _ in Tensor.zeros([1, 3, 16, 16, 16]) })
        XCTAssertThrowsError(try sw.segment(Tensor.zeros([16, 16, 16]), classes: 2) { _ in Tensor.zeros([1, 2, 16, 16, 16]) })
        XCTAssertThrowsError(try VolumeSlidingWindow(window: [16, 16, 16], overlap: 1))
        XCTAssertThrowsError(try VolumeSlidingWindow(window: [0, 16, 16]))
        XCTAssertThrowsError(try VolumeSlidingWindow(window: [16, 16, 16], overlap: .nan))
    }
}
