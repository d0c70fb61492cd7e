import Foundation
import XCTest
import ConvKit
@testable import ConvKitInterop

/// Bad TFLite files give one thrown error naming the offset or operator, never a trap or an allocation of what a
/// header claims.
final class TFLiteMalformedInputTests: XCTestCase {
    let malformed = TFLiteImportTests.golden.appendingPathComponent("malformed")
    let blazeFace = TFLiteImportTests.repository.appendingPathComponent("Data/models/mediapipe/face_detection_short_range.tflite")

    func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return "\(error)" }
    }

    func testGraphsTheImporterRefusesAreNamed() throws {
        let cases: [(String, [String])] = [
            ("two_unsupported", ["2 operators", "LSTM", "operator 0", "SKIP_GRAM", "operator 2"]),
            ("huge_shape", ["Tensor 'x'", "65536, 65536, 65536"]),
            ("short_buffer", ["'w'", "needs 24 bytes", "has 8"]),
            ("dangling_input", ["operator 0", "'ghost'", "before any operator writes it"]),
            ("tensor_index_out_of_range", ["operator 0", "tensor 7"]),
            // found by the tflite fuzz target: a graph output no operator writes, in a graph without operators
            ("fuzz_output_without_operators", ["graph output", "before any operator writes it"]),
            ("fuzz_conv_zero_channels", ["CONV_2D", "does not fit an input of 0 channels"]),
            ("fuzz_dequantize_reshapes", ["DEQUANTIZE", "dequantizes [4, 3, 3, 3] into a tensor of shape [1, 0, 3, 3]"]),
        ]
        for (name, fragments) in cases {
            let m = message { _ = try TFLiteModel(contentsOf: malformed.appendingPathComponent(name + ".tflite")) }
            let text = try XCTUnwrap(m, "\(name) was accepted")
            for f in fragments { XCTAssertTrue(text.contains(f), "\(name): \(text) lacks \(f)") }
            XCTAssertFalse(text.contains("\n"), "one line: \(text)")
        }
    }

    func testTruncatedAndForeignFilesNameTheOffset() throws {
        let bytes = try Data(contentsOf: blazeFace)
        XCTAssertTrue(message { _ = try TFLiteModel(serialized: Data(), path: "empty.tflite") }?.contains("at least 8 bytes") ?? false)
        XCTAssertTrue(message { _ = try TFLiteModel(serialized: Data("PK\u{3}\u{4}zip file".utf8), path: "x.tflite") }?.contains("\"TFL3\"") ?? false)
        let onnx = ONNXBuilder.golden.appendingPathComponent("node/test_averagepool_2d_ceil/model.onnx")
        XCTAssertTrue(FileManager.default.fileExists(atPath: onnx.path), "the committed ONNX case is missing")
        XCTAssertNotNil(message { _ = try TFLiteModel(contentsOf: onnx) }, "an ONNX file is not a TFLite model")
        for cut in [9, 64, 1000, bytes.count / 2, bytes.count - 1000] {
            let m = message { _ = try TFLiteModel(serialized: bytes.prefix(cut), path: "cut.tflite") }
            let text = try XCTUnwrap(m, "a file cut at \(cut) was accepted")
            XCTAssertTrue(text.hasPrefix("cut.tflite: not a valid TFLite model: at byte offset") || text.contains("invalid TFLite model"), text)
        }
        XCTAssertTrue(message { _ = try TFLiteModel(contentsOf: URL(fileURLWithPath: "/nonexistent/model.tflite")) }?.contains("cannot be read") ?? false)
    }

    /// Random byte corruptions of a real model: each load either succeeds or throws — a trap fails the whole run.
    func testRandomCorruptionsNeverTrap() throws {
        let bytes = [UInt8](try Data(contentsOf: blazeFace))
        var rng = SeededGenerator(seed: 0x7F1)
        var refused = 0
        for trial in 0..<300 {
            var b = bytes
            let flips = 1 + trial % 8
            for _ in 0..<flips {
                // corrupt the flatbuffer's tables (the first and last few KB hold offsets; the middle is weights)
                let region = Int.random(in: 0..<2, using: &rng) == 0 ? 0..<4096 : (b.count - 8192)..<b.count
                b[Int.random(in: region, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if (try? TFLiteModel(serialized: Data(b), path: "corrupt", limits: ONNXLimits(maxElements: 1 << 24))) == nil { refused += 1 }
        }
        XCTAssertGreaterThan(refused, 30, "most corruptions of the tables are detected")
    }

    func testInputsThatDoNotFitAreRefused() throws {
        let m = try TFLiteModel(contentsOf: blazeFace)
        XCTAssertTrue(message { _ = try m.run(["input": Tensor.zeros([1, 64, 64, 3])]) }?.contains("[1, 128, 128, 3]") ?? false)
        XCTAssertTrue(message { _ = try m.run(["image": Tensor.zeros([1, 128, 128, 3])]) }?.contains("unknown input 'image'") ?? false)
        XCTAssertTrue(message { _ = try m.run([:]) }?.contains("missing input 'input'") ?? false)
    }
}
