import XCTest
import ConvKit
import ConvKitData

final class ImageFormatTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static var fixtures: String { root.appendingPathComponent("Fixtures").path }
    static var data: String { root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Data").path }
    func tmp(_ n: String) -> String { NSTemporaryDirectory() + "convkit-data-\(getpid())-\(n)" }

    /// Pillow-written palette, interlaced, 1-bit, 16-bit and gray+alpha files decode to Pillow's pixels.
    func testDecodesEveryColorTypeLikePillow() throws {
        let expected = try NumPy.loadArchive(Self.fixtures + "/pixels.npz")
        XCTAssertEqual(expected.count, 7)
        for (name, want) in expected {
            let img = try PNG.load(Self.fixtures + "/\(name).png")
            // Pillow gives [H, W] or [H, W, C]; ours is [C, H, W].
            let t = img.tensor
            let hwc = want.rank == 2 ? want.unsqueezed(axis: 2) : want
            XCTAssertEqual(t.permuted([1, 2, 0]), hwc, name)
        }
    }

    func testRoundTripsOfEveryWritableForm() throws {
        var rng = SeededGenerator(seed: 3)
        for channels in 1...4 {
            for depth in [8, 16] {
                let n = 13 * 7 * channels
                let samples = (0..<n).map { _ in UInt16(rng.next() % UInt64(1 << depth)) }
                let img = PNG.Image(width: 13, height: 7, channels: channels, bitDepth: depth, samples: samples)
                XCTAssertEqual(try PNG.decode(PNG.encode(img), path: "mem"), img, "\(channels) channels, \(depth) bits")
            }
        }
        let p = tmp("rt.png")
        let img = PNG.Image(width: 2, height: 1, channels: 3, samples: [1, 2, 3, 4, 5, 6])
        try PNG.save(img, to: p)
        XCTAssertEqual(try PNG.load(p), img)
    }

    /// The bundled photos decode to exactly the pixels of their Netpbm twins.
    func testPhotosMatchTheirNetpbmTwins() throws {
        for (png, twin) in [("coins.png", "coins.pgm"), ("chelsea.png", "chelsea.ppm")] {
            let a = try PNG.load(Self.data + "/images/" + png), b = try Netpbm.load(Self.data + "/images/" + twin)
            XCTAssertEqual(a.width, b.width); XCTAssertEqual(a.channels, b.channels)
            XCTAssertEqual(a.samples, b.samples, png)
            XCTAssertEqual(try ImageFile.load(Self.data + "/images/" + png), try ImageFile.load(Self.data + "/images/" + twin))
        }
    }

    func testNetpbmAsciiAndBinaryForms() throws {
        let pgm = try Netpbm.decode(Array("P2\n# comment\n3 1\n15\n0 15 5\n".utf8), path: "a.pgm")
        XCTAssertEqual(pgm.samples, [0, 255, 85])
        let pbm = try Netpbm.decode(Array("P1\n4 1\n1 0 1 1\n".utf8), path: "a.pbm")
        XCTAssertEqual(pbm.samples, [0, 255, 0, 0])
        let p4 = try Netpbm.decode(Array("P4\n3 2\n".utf8) + [0b1010_0000, 0b0100_0000], path: "b.pbm")
        XCTAssertEqual(p4.samples, [0, 255, 0, 255, 0, 255])
        let ppm = PNG.Image(width: 2, height: 1, channels: 3, samples: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try Netpbm.decode(Netpbm.encode(ppm), path: "c.ppm"), ppm)
    }

    func testBadImagesThrowErrorsNamingFileAndOffset() throws {
        let good = PNG.encode(PNG.Image(width: 4, height: 4, channels: 1, samples: Array(repeating: 7, count: 16)))
        var badCRC = good; badCRC[30] ^= 0xFF   // inside IHDR's data
        XCTAssertThrowsError(try PNG.decode(badCRC, path: "bad.png")) { e in
            XCTAssertTrue("\(e)".contains("bad.png at byte 8") && "\(e)".contains("CRC"), "\(e)")
        }
        XCTAssertThrowsError(try PNG.decode(Array(good.prefix(good.count - 20)), path: "cut.png")) { e in
            XCTAssertTrue("\(e)".contains("cut.png"), "\(e)")
        }
        XCTAssertThrowsError(try PNG.decode(Array(good.prefix(5)), path: "tiny.png"))
        XCTAssertThrowsError(try Netpbm.decode(Array("P5\n10 10\n255\n".utf8) + [1, 2, 3], path: "short.pgm")) { e in
            XCTAssertTrue("\(e)".contains("short.pgm") && "\(e)".contains("truncated"), "\(e)")
        }
        XCTAssertThrowsError(try Netpbm.decode(Array("P5\nx 10\n".utf8), path: "garbled.pgm"))
        XCTAssertThrowsError(try ImageFile.load(Self.fixtures + "/make_png_fixtures.py")) { e in
            XCTAssertTrue("\(e)".contains("PNG, JPEG or Netpbm"), "\(e)")
        }
    }
}

final class IDXTests: XCTestCase {
    func tmp(_ n: String) -> String { NSTemporaryDirectory() + "convkit-idx-\(getpid())-\(n)" }

    func testBundledMNISTLoads() throws {
        let s = try Datasets.idxFolder(ImageFormatTests.data + "/mnist5k")
        XCTAssertEqual(s.train.images.shape, [4000, 1, 28, 28]); XCTAssertEqual(s.test.images.shape, [1000, 1, 28, 28])
        XCTAssertEqual(Array(s.train.labels.prefix(12)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])
        XCTAssertEqual(s.test.labels.filter { $0 == 3 }.count, 100)
        XCTAssertEqual(s.train.images.max().scalar, 255)
        let d = try Datasets.idxFolder(ImageFormatTests.data + "/digits8x8")
        XCTAssertEqual(d.train.count, 1437); XCTAssertEqual(d.test.count, 360); XCTAssertEqual(d.train.images.max().scalar, 16)
    }

    func testRoundTripPlainAndGzip() throws {
        let bytes = IDX.encodeUInt8([1, 2, 3, 4, 5, 6], shape: [2, 3])
        XCTAssertEqual(try IDX.decode(bytes, path: "m"), IDX.Array(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))
        let p = tmp("x.gz")
        try AtomicFile.write(Data(Gzip.compress(bytes)), to: p)
        XCTAssertEqual(try IDX.load(p).values, [1, 2, 3, 4, 5, 6])
    }

    func testTruncatedAndCorruptIDX() throws {
        let bytes = IDX.encodeUInt8(Array(repeating: 9, count: 100), shape: [4, 5, 5])
        XCTAssertThrowsError(try IDX.decode(Array(bytes.prefix(50)), path: "t.idx")) { e in
            XCTAssertEqual("\(e)", "t.idx at byte 16: expected 4×5×5 elements of 1 bytes, found 34 bytes (file truncated?)")
        }
        XCTAssertThrowsError(try IDX.decode([1, 2, 8, 3], path: "m.idx")) { e in XCTAssertTrue("\(e)".contains("IDX magic"), "\(e)") }
        XCTAssertThrowsError(try IDX.decode([0, 0, 7, 1, 0, 0, 0, 1, 0], path: "ty.idx")) { e in XCTAssertTrue("\(e)".contains("element type"), "\(e)") }
        // A gzip stream with a broken tail.
        let gz = Gzip.compress(bytes)
        let p = tmp("bad.gz")
        try AtomicFile.write(Data(gz.prefix(gz.count - 12)), to: p)
        XCTAssertThrowsError(try IDX.load(p)) { e in XCTAssertTrue("\(e)".contains(p), "\(e)") }
        var flipped = gz; flipped[flipped.count - 6] ^= 1   // CRC
        try AtomicFile.write(Data(flipped), to: p)
        XCTAssertThrowsError(try IDX.load(p)) { e in XCTAssertTrue("\(e)".contains("CRC"), "\(e)") }
    }

    func testImageFolderAndBadFiles() throws {
        let dir = tmp("folder")
        try? FileManager.default.removeItem(atPath: dir)
        for cls in ["cat", "dog"] { try FileManager.default.createDirectory(atPath: dir + "/" + cls, withIntermediateDirectories: true) }
        try PNG.save(PNG.Image(width: 4, height: 4, channels: 3, samples: Array(repeating: 100, count: 48)), to: dir + "/cat/a.png")
        try AtomicFile.write(Data(Netpbm.encode(PNG.Image(width: 6, height: 6, channels: 1, samples: Array(repeating: 50, count: 36)))), to: dir + "/dog/b.pgm")
        let set = try Datasets.imageFolder(dir, size: (4, 4), channels: 1)
        XCTAssertEqual(set.classNames, ["cat", "dog"]); XCTAssertEqual(set.labels, [0, 1]); XCTAssertEqual(set.images.shape, [2, 1, 4, 4])
        XCTAssertEqual(set.images[0, 0, 0, 0], 100, accuracy: 0.01)
        try AtomicFile.write(Data("not an image".utf8), to: dir + "/dog/c.png")
        XCTAssertThrowsError(try Datasets.imageFolder(dir, size: (4, 4), channels: 1)) { e in XCTAssertTrue("\(e)".contains("dog/c.png"), "\(e)") }
        XCTAssertThrowsError(try LabeledImages(images: .zeros([2, 1, 2, 2]), labels: [0, 5], classNames: ["a", "b"])) { e in
            XCTAssertEqual("\(e)", "invalid label: expected 0..<2, found 5")
        }
    }
}

final class PipelineTests: XCTestCase {
    func testLoaderIsSeededCompleteAndPrefetches() throws {
        let imgs = Tensor(shape: [10, 1, 1, 1], scalars: (0..<10).map(Float.init))
        let set = try LabeledImages(images: imgs, labels: Array(0..<10).map { $0 % 3 }, classNames: ["a", "b", "c"])
        func epoch(_ l: DataLoader) -> [[Float]] { l.map { $0.images.scalars } }
        let a = DataLoader(set, batchSize: 4, seed: 7), b = DataLoader(set, batchSize: 4, seed: 7)
        let e1 = epoch(a), e2 = epoch(a)
        XCTAssertEqual(e1, epoch(b)); XCTAssertNotEqual(e1, e2)
        XCTAssertEqual(e1.map(\.count), [4, 4, 2]); XCTAssertEqual(e1.flatMap { $0 }.sorted(), (0..<10).map(Float.init))
        XCTAssertEqual(DataLoader(set, batchSize: 4, dropLast: true).map { $0.labels.count }, [4, 4])
        let plain = DataLoader(set, batchSize: 3, shuffle: false)
        XCTAssertEqual(plain.map(\.labels).first, [0, 1, 2])
    }

    func testAugmentationsKeepShapeAreSeededAndChangePixels() throws {
        var rng = SeededGenerator(seed: 1)
        let x = Tensor.uniform([3, 12, 10], low: 0, high: 255, rng: &rng)
        let pca = Preprocessing.rgbPrincipalComponents(x.unsqueezed(axis: 0))
        let augs: [Augmentation] = [.mirror, .randomCrop(padding: 2), .rotation(degrees: 15), .shear(0.2), .shift(0.1), .zoom(0.2),
                                    .elastic(alpha: 5, sigma: 2), .colorShift(20), .pcaColor(sigma: 0.1, eigenvalues: pca.values, eigenvectors: pca.vectors)]
        for a in augs {
            var r1 = SeededGenerator(seed: 5), r2 = SeededGenerator(seed: 5)
            var changed = false
            for _ in 0..<4 {
                let y1 = a.apply(x, rng: &r1), y2 = a.apply(x, rng: &r2)
                XCTAssertEqual(y1.shape, x.shape, "\(a)"); XCTAssertEqual(y1, y2, "\(a)")
                if y1 != x { changed = true }
            }
            XCTAssertTrue(changed, "\(a) never changed the image")
        }
        // Mirroring twice is the identity; rotation by 0 is the identity.
        var r = SeededGenerator(seed: 0)
        XCTAssertEqual(Augmentation.rotation(degrees: 0).apply(x, rng: &r).maxAbsDifference(x), 0, accuracy: 1e-3)
        XCTAssertEqual(try Augmentation.parse("elastic=4:2"), .elastic(alpha: 4, sigma: 2))
        XCTAssertThrowsError(try Augmentation.parse("blur")) { e in XCTAssertTrue("\(e)".contains("mirror, crop"), "\(e)") }
        XCTAssertThrowsError(try Augmentation.parse("rotate=-3"))
        // PCA eigenvalues are sorted by the Jacobi sweep into some order, but are the covariance's.
        XCTAssertEqual(pca.values.reduce(0, +), x.reshaped([3, -1]).variance(axes: [1]).sum().scalar, accuracy: 1)
    }

    func testPreprocessing() throws {
        let x = Tensor(shape: [3, 2, 2], scalars: [0, 255, 0, 255, 10, 10, 10, 10, 0, 0, 0, 0])
        XCTAssertEqual(Preprocessing.scaleToUnit(x).max().scalar, 1)
        XCTAssertEqual(Preprocessing.scaleToSymmetric(x).min().scalar, -1)
        let s = Preprocessing.standardize(x, mean: [127.5, 10, 0], std: [127.5, 1, 1])
        XCTAssertEqual(Array(s.scalars.prefix(4)), [-1, 1, -1, 1])
        XCTAssertEqual(Preprocessing.grayscale(x).shape, [1, 2, 2])
        XCTAssertEqual(Preprocessing.grayscale(x).scalars[1], 0.299 * 255 + 0.587 * 10, accuracy: 1e-3)
        XCTAssertEqual(Preprocessing.centerCrop(Tensor.zeros([1, 5, 6]), to: (3, 2)).shape, [1, 3, 2])
        XCTAssertEqual(Preprocessing.resizeArea(Tensor.ones([1, 8, 8]), to: (2, 2)).scalars, [1, 1, 1, 1])
        let set = try LabeledImages(images: Tensor(shape: [2, 1, 1, 2], scalars: [0, 2, 4, 6]), labels: [0, 0], classNames: ["x"])
        let (m, sd) = set.channelStatistics()
        XCTAssertEqual(m, [3]); XCTAssertEqual(sd[0], 5.0.squareRoot().float, accuracy: 1e-5)
    }
}

extension Double { var float: Float { Float(self) } }
