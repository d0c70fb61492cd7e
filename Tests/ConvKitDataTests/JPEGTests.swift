import XCTest
import ConvKit
import ConvKitData

/// JPEG decoding against Pillow's decodes of the same files (Fixtures/make_jpeg_fixtures.py), encoding, and
/// malformed files.
final class JPEGTests: XCTestCase {
    static var fixtures: String { ImageFormatTests.fixtures }
    static let expected: [String: Tensor] = { (try? NumPy.loadArchive(ImageFormatTests.fixtures + "/jpeg_pixels.npz")) ?? [:] }()
    func tmp(_ n: String) -> String { NSTemporaryDirectory() + "convkit-jpeg-\(getpid())-\(n)" }

    /// [C, H, W] ours against Pillow's [H, W(, C)].
    func assertClose(_ img: PNG.Image, _ want: Tensor, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        let hwc = want.rank == 2 ? want.unsqueezed(axis: 2) : want
        let ours = img.tensor.permuted([1, 2, 0])
        XCTAssertEqual(ours.shape, hwc.shape, name, file: file, line: line)
        guard ours.shape == hwc.shape else { return }
        XCTAssertLessThanOrEqual(ours.maxAbsDifference(hwc), 1, "\(name): more than 1 level from Pillow", file: file, line: line)
    }

    func testEveryFormDecodesToPillowsPixels() throws {
        let forms = ["baseline_420", "baseline_422", "baseline_444", "progressive", "gray", "restart", "cmyk", "exif_orientation6"]
        XCTAssertEqual(Set(forms + ["grace_hopper_mean"]), Set(Self.expected.keys))
        for name in forms {
            let img = try JPEG.load(Self.fixtures + "/jpeg/\(name).jpg")
            assertClose(img, Self.expected[name]!, name)
        }
    }

    func testHeadersDescribeTheForms() throws {
        func header(_ n: String) throws -> JPEG.Header {
            try JPEG.header([UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/jpeg/\(n).jpg"))), path: n)
        }
        XCTAssertTrue(try header("baseline_420").sampling == (2, 2))
        XCTAssertTrue(try header("baseline_422").sampling == (2, 1))
        XCTAssertTrue(try header("baseline_444").sampling == (1, 1))
        XCTAssertTrue(try header("progressive").progressive)
        XCTAssertFalse(try header("baseline_420").progressive)
        XCTAssertEqual(try header("gray").colorSpace, .gray)
        XCTAssertEqual(try header("cmyk").colorSpace, .cmyk)
        XCTAssertEqual(try header("exif_orientation6").orientation, 6)
        XCTAssertEqual(try header("baseline_420").orientation, 1)
        let h = try header("baseline_420")
        XCTAssertEqual([h.width, h.height], [71, 53])
        // Unrotated, the EXIF file is stored 71 wide; upright it is 53 wide.
        XCTAssertEqual(try JPEG.load(Self.fixtures + "/jpeg/exif_orientation6.jpg", applyOrientation: false).width, 71)
    }

    /// The bundled photo: a region and the whole image's mean against Pillow's decode; ImageFile reads JPEG too.
    func testARealPhotoDecodesLikePillow() throws {
        let img = try JPEG.load(ImageFormatTests.data + "/images/grace_hopper.jpg")
        XCTAssertEqual([img.width, img.height, img.channels], [512, 600, 3])
        let crop = try PNG.load(Self.fixtures + "/jpeg/grace_hopper_crop.png").tensor
        let ours = img.tensor.slice(axis: 1, 160..<288).slice(axis: 2, 192..<320)
        XCTAssertLessThanOrEqual(ours.maxAbsDifference(crop), 1)
        let mean = img.tensor.mean(axes: [1, 2])
        XCTAssertLessThan(mean.maxAbsDifference(Self.expected["grace_hopper_mean"]!), 0.05)
        let viaImageFile = try ImageFile.load(ImageFormatTests.data + "/images/grace_hopper.jpg")
        XCTAssertEqual(viaImageFile.shape, [3, 600, 512])
    }

    func testEncodeRoundTrips() throws {
        var rng = SeededGenerator(seed: 8)
        // A smooth image with some texture: JPEG's loss on it is small.
        let base = try JPEG.load(Self.fixtures + "/jpeg/baseline_444.jpg")
        for (quality, progressive, limit) in [(95, false, 3.0), (75, true, 6.0)] as [(Int, Bool, Double)] {
            let bytes = try JPEG.encode(base, quality: quality, progressive: progressive)
            let back = try JPEG.decode(bytes, path: "memory")
            XCTAssertEqual(try JPEG.header(bytes, path: "memory").progressive, progressive)
            let diff = (back.tensor - base.tensor).abs().mean().scalar
            XCTAssertLessThan(Double(diff), limit, "quality \(quality)")
            XCTAssertGreaterThan(diff, 0, "JPEG is lossy: an exact copy means nothing was encoded")
        }
        let gray = PNG.Image(width: 40, height: 30, channels: 1, samples: (0..<1200).map { _ in UInt16.random(in: 100...140, using: &rng) })
        let path = tmp("gray.jpg")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try JPEG.save(gray, to: path, quality: 90)
        let g = try JPEG.load(path)
        XCTAssertEqual([g.width, g.height, g.channels], [40, 30, 1])
        XCTAssertThrowsError(try JPEG.encode(gray, quality: 0))
    }

    func testMalformedFilesGiveErrors() throws {
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/jpeg/baseline_420.jpg")))
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("signature only", [0xFF, 0xD8, 0xFF]),
            ("truncated in the scan", Array(good.prefix(good.count * 2 / 3))),
            ("header only", Array(good.prefix(300))),
            ("garbage after the signature", [0xFF, 0xD8, 0xFF] + (0..<500).map { UInt8(truncatingIfNeeded: $0 * 37) }),
        ]
        for (name, bytes) in cases {
            XCTAssertThrowsError(try JPEG.decode(bytes, path: name), name) { e in
                XCTAssertTrue("\(e)".contains(name), "the error names the file: \(e)")
            }
        }
        // A frame header claiming 60,000 × 60,000 pixels (libjpeg's own limit is 65,500) is refused before any
        // allocation by ImageLimits.
        var huge = good
        guard let sof = (0..<(huge.count - 9)).first(where: { huge[$0] == 0xFF && huge[$0 + 1] == 0xC0 }) else { return XCTFail("no SOF0") }
        huge[sof + 5] = 0xEA; huge[sof + 6] = 0x60; huge[sof + 7] = 0xEA; huge[sof + 8] = 0x60
        XCTAssertThrowsError(try JPEG.decode(huge, path: "huge")) { e in XCTAssertTrue("\(e)".contains("60000×60000"), "\(e)") }
    }

    /// A PNG header claiming 60,000 × 60,000 pixels is refused before its buffers are allocated.
    func testHugePNGHeadersAreRefusedBeforeAllocating() throws {
        var bytes = PNG.encode(PNG.Image(width: 2, height: 2, channels: 1, samples: [0, 1, 2, 3]))
        // IHDR data starts at byte 16: width, height big-endian; the CRC (bytes 29…32) is recomputed.
        for (i, v) in [0x00, 0x00, 0xEA, 0x60, 0x00, 0x00, 0xEA, 0x60].enumerated() { bytes[16 + i] = UInt8(v) }
        let crc = Zip.crc32(Array(bytes[12..<29]))
        for i in 0..<4 { bytes[29 + i] = UInt8((crc >> (24 - 8 * UInt32(i))) & 0xFF) }
        XCTAssertThrowsError(try PNG.decode(bytes, path: "huge.png")) { XCTAssertTrue("\($0)".contains("60000×60000"), "\($0)") }
    }

    /// Each EXIF orientation on a 3×2 image whose pixels are their own indices.
    func testOrientationsMatchExifDefinitions() throws {
        // Stored: row 0 = 0 1 2, row 1 = 3 4 5. Upright views, row by row:
        let want: [Int: [UInt16]] = [1: [0, 1, 2, 3, 4, 5], 2: [2, 1, 0, 5, 4, 3], 3: [5, 4, 3, 2, 1, 0], 4: [3, 4, 5, 0, 1, 2],
                                     5: [0, 3, 1, 4, 2, 5], 6: [3, 0, 4, 1, 5, 2], 7: [5, 2, 4, 1, 3, 0], 8: [2, 5, 1, 4, 0, 3]]
        let base = try JPEG.load(Self.fixtures + "/jpeg/exif_orientation6.jpg", applyOrientation: false)
        let upright = try JPEG.load(Self.fixtures + "/jpeg/exif_orientation6.jpg")
        // Orientation 6 is a clockwise quarter turn: upright (x, y) is stored (y, h − 1 − x).
        XCTAssertEqual(upright.samples[0..<3], base.samples[((base.height - 1) * base.width) * 3..<((base.height - 1) * base.width) * 3 + 3])
        XCTAssertEqual(want.count, 8)
        for (o, w) in want {
            let bytes = try JPEGTests.exifJPEG(orientation: o)
            let img = try JPEG.decode(bytes, path: "o\(o)")
            XCTAssertEqual(img.channels, 1)
            // Each stored pixel is 40·(index + 1): far from its neighbours, so JPEG's loss cannot confuse them.
            let indices = img.samples.map { UInt16((Int($0) + 20) / 40 - 1) }
            XCTAssertEqual(indices, w, "orientation \(o)")
        }
    }

    /// A 3×2 gray JPEG, pixel i = 40·(i + 1), with an EXIF APP1 segment holding `orientation`.
    static func exifJPEG(orientation: Int) throws -> [UInt8] {
        let img = PNG.Image(width: 3, height: 2, channels: 1, samples: (0..<6).map { UInt16(40 * ($0 + 1)) })
        let plain = try JPEG.encode(img, quality: 100)
        // TIFF, little-endian: header, IFD0 with one entry (0x0112 SHORT 1 = orientation), no next IFD.
        let tiff: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x01, 0x03, 0x00,
                             0x01, 0x00, 0x00, 0x00, UInt8(orientation), 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
        let body: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0] + tiff
        let length = body.count + 2
        return [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + body + Array(plain.dropFirst(2))
    }
}
