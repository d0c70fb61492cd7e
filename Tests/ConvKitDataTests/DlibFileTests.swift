import XCTest
import ConvKit
import ConvKitData

/// dlib's serialization on hand-made files: the primitives, a small network layer by layer (including a batch
/// norm converted to affine as dlib converts it), and every truncation of it failing with a located error.
final class DlibFileTests: XCTestCase {
    /// Writes dlib's encoding (dlib/serialize.h), independently of the reader.
    struct Writer {
        var bytes = [UInt8]()
        mutating func int(_ v: Int64) {
            var m = v.magnitude, payload = [UInt8]()
            while m > 0 { payload.append(UInt8(m & 0xFF)); m >>= 8 }
            if payload.isEmpty { payload = [0] }
            bytes.append(UInt8(payload.count) | (v < 0 ? 0x80 : 0)); bytes += payload
        }
        mutating func float(_ x: Float) {
            // m·2^e with a 24-bit mantissa: x = significand·2^exponent, significand in [1, 2).
            if x == 0 { int(0); int(0); return }
            let e = Int64(x.exponent) - 23
            int(Int64((x * Float(sign: .plus, exponent: Int(-e), significand: 1)).rounded())); int(e)
        }
        mutating func string(_ s: String) { int(Int64(s.utf8.count)); bytes += Array(s.utf8) }
        mutating func bool(_ b: Bool) { bytes.append(b ? UInt8(ascii: "1") : UInt8(ascii: "0")) }
        mutating func tensor(_ dims: [Int], _ values: [Float]) {
            int(2); for d in dims { int(Int64(d)) }
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        }
        mutating func alias(_ dims: [Int]) { int(1); for d in dims { int(Int64(d)) } }
        mutating func bookkeeping(inputLayer: Bool) {
            bool(true); bool(false); bool(false)
            for _ in 0..<3 { tensor([0, 0, 0, 0], []) }
            if inputLayer { int(1) }
        }
    }

    /// loss_metric<fc<2, relu<tag1<bn_con<con<2,3,3,1,1, input_rgb_image_sized<4>>>>>>>: wrappers, input, details.
    func tinyNetwork() -> (bytes: [UInt8], filters: [Float]) {
        var w = Writer()
        w.int(1); w.string("loss_metric_2"); w.float(0.04); w.float(0.6)
        for v: Int64 in [2, 2, 1, 2, 3] { w.int(v) }                       // fc, relu, tag, bn, con (on the input)
        w.string("input_rgb_image_sized"); w.float(122.5); w.float(117); w.float(104.25); w.int(4); w.int(4)
        let filters = (0..<(2 * 3 * 9)).map { Float($0) / 64 - 0.4 }
        w.string("con_4"); w.tensor([filters.count + 2, 1, 1, 1], filters + [0.5, -0.25])
        w.int(2); w.int(3); w.int(3); w.int(1); w.int(1); w.int(1); w.int(1)
        w.alias([2, 3, 3, 3]); w.alias([1, 2, 1, 1]); for _ in 0..<4 { w.float(1) }
        w.bookkeeping(inputLayer: true)
        w.string("bn_con2"); w.tensor([4, 1, 1, 1], [2, 4, 1, -1])            // γ = (2, 4), β = (1, −1)
        w.alias([1, 2, 1, 1]); w.alias([1, 2, 1, 1])
        w.tensor([0, 0, 0, 0], []); w.tensor([0, 0, 0, 0], [])
        w.tensor([1, 2, 1, 1], [0.5, -1]); w.tensor([1, 2, 1, 1], [3, 15])   // running mean, variance
        w.int(10); w.int(100); for _ in 0..<4 { w.float(1) }; w.float(1)      // ε = 1
        w.bookkeeping(inputLayer: false)
        w.string("relu_"); w.bookkeeping(inputLayer: false)
        w.string("fc_2"); w.int(2); w.int(32); w.tensor([32, 2, 1, 1], (0..<64).map { Float($0) })
        w.alias([32, 2, 1, 1]); w.alias([0, 0, 0, 0]); w.int(1); for _ in 0..<4 { w.float(1) }
        w.bookkeeping(inputLayer: false)
        return (w.bytes, filters)
    }

    func testPrimitivesDecodeAsDlibWritesThem() throws {
        var w = Writer()
        w.int(0); w.int(-300); w.int(Int64.max); w.float(0.6); w.float(-122.782); w.string("con_4"); w.bool(true)
        var r = DlibReader(bytes: w.bytes, path: "mem")
        XCTAssertEqual(try r.int("a"), 0)
        XCTAssertEqual(try r.int("b"), -300)
        XCTAssertEqual(try r.int("c"), Int64.max)
        XCTAssertEqual(try r.float("d"), 0.6, accuracy: 1e-7)
        XCTAssertEqual(try r.float("e"), -122.782, accuracy: 1e-4)
        XCTAssertEqual(try r.string("f"), "con_4")
        XCTAssertEqual(try r.bool("g"), true)
        XCTAssertEqual(r.remaining, 0)
        // dlib's special exponents.
        var s = Writer(); s.int(1); s.int(32000); s.int(1); s.int(32002)
        var r2 = DlibReader(bytes: s.bytes, path: "mem")
        XCTAssertEqual(try r2.double("inf"), .infinity)
        XCTAssertTrue(try r2.double("nan").isNaN)
        XCTAssertThrowsError(try { var r3 = DlibReader(bytes: s.bytes, path: "mem"); _ = try r3.finiteFloat("weight") }())
    }

    func testASmallNetworkReadsLayerByLayer() throws {
        let (bytes, filters) = tinyNetwork()
        let f = try DlibNetworkFile.parse(bytes, path: "tiny.dat")
        XCTAssertEqual(f.loss, .metric(margin: 0.04, distanceThreshold: 0.6))
        XCTAssertEqual(f.input, .rgb(average: [122.5, 117, 104.25], rows: 4, columns: 4))
        XCTAssertEqual(f.wrappers, [.layer, .layer, .tagOrSkip, .layer, .layer])
        XCTAssertEqual(f.layers.map(\.name), ["con", "affine", "relu", "fc"])
        guard case let .conv(w, b, stride, padding) = f.layers[0] else { return XCTFail() }
        XCTAssertEqual(w.shape, [2, 3, 3, 3]); XCTAssertEqual(w.scalars, filters)
        XCTAssertEqual(b?.scalars, [0.5, -0.25]); XCTAssertEqual(stride, [1, 1]); XCTAssertEqual(padding, [1, 1])
        // γ′ = γ/√(σ² + ε), β′ = β − μ·γ′: (2/2, 4/4) and (1 − 0.5, −1 + 1).
        XCTAssertEqual(f.layers[1], .affine(gamma: Tensor([1, 1]), beta: Tensor([0.5, 0])))
        guard case let .fullyConnected(fw, fb) = f.layers[3] else { return XCTFail() }
        XCTAssertEqual(fw.shape, [32, 2]); XCTAssertNil(fb)
        XCTAssertEqual(fw.scalars[3], 3)
    }

    func testEveryTruncationAndTrailingBytesThrowALocatedError() throws {
        let (bytes, _) = tinyNetwork()
        for n in stride(from: 0, to: bytes.count, by: 7) {
            XCTAssertThrowsError(try DlibNetworkFile.parse(Array(bytes[0..<n]), path: "cut.dat"), "cut at \(n)") { e in
                XCTAssertTrue("\(e)".contains("cut.dat at byte"), "\(e)")
            }
        }
        XCTAssertThrowsError(try DlibNetworkFile.parse(bytes + [0], path: "long.dat")) { e in XCTAssertTrue("\(e)".contains("end of the file"), "\(e)") }
        // A tensor whose sizes claim more floats than the file holds is refused before allocating.
        var w = Writer(); w.tensor([1 << 30, 1 << 30, 1, 1], [])
        var r = DlibReader(bytes: w.bytes, path: "huge.dat")
        XCTAssertThrowsError(try r.tensor("params")) { e in XCTAssertTrue("\(e)".contains("bytes left"), "\(e)") }
    }
}
