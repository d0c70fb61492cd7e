import ConvKit
import ConvKitData
import ConvKitInterop
import ConvKitVision
import Foundation

/// One parser per fuzz target: bytes in, a value or a thrown error out. Anything else — a trap, a signal, a
/// leak of memory proportional to a header field — is a bug the fuzzer reports.
enum FuzzTargets {
    static let all: [String: ([UInt8]) throws -> Void] = [
        "png": { _ = try PNG.decode($0, path: "fuzz.png") },
        "jpeg": { _ = try JPEG.decode($0, path: "fuzz.jpg") },
        "netpbm": { _ = try Netpbm.decode($0, path: "fuzz.pgm") },
        "idx": { _ = try IDX.decode($0, path: "fuzz.idx") },
        "gzip": { _ = try Gzip.decompress($0, path: "fuzz.gz") },
        "npy": { _ = try NumPy.decode($0, path: "fuzz.npy") },
        "zip": { bytes in for entry in try Zip.read(Data(bytes), path: "fuzz.npz") { _ = try? NumPy.decode(entry.bytes, path: entry.name) } },
        "safetensors": { _ = try Safetensors.decode($0, path: "fuzz.safetensors") },
        "json": { _ = try JSON.parse($0, path: "fuzz.json") },
        "coco": { bytes in
            let json = try JSON.parse(bytes, path: "fuzz.json")
            if json.array != nil { _ = try COCODetection.parse(json, path: "fuzz.json") } else { _ = try COCODataset.parse(json, path: "fuzz.json") }
        },
        "shapes": { _ = try BenchShapes.decode(Data($0), path: "fuzz.json") },
        "ts": { _ = try TimeSeriesSet.parseTS(String(decoding: $0, as: UTF8.self), path: "fuzz.ts") },
        "tsv": { _ = try TimeSeriesSet.parseTSV(String(decoding: $0, as: UTF8.self), path: "fuzz.tsv") },
        "yolo": { _ = try YOLOFolder.parseLabels(String(decoding: $0, as: UTF8.self), path: "fuzz.txt", classCount: 10, width: 64, height: 48) },
        "augment": { bytes in
            for spec in String(decoding: bytes, as: UTF8.self).split(separator: ",") { _ = try Augmentation.parse(String(spec)) }
        },
        "onnx": { _ = try ONNXModel(serialized: Data($0), path: "fuzz.onnx") },
        "tflite": { _ = try TFLiteModel(serialized: Data($0), path: "fuzz.tflite", limits: ONNXLimits(maxElements: 1 << 24)) },
        "dlib": { _ = try DlibNetworkFile.parse($0, path: "fuzz.dat") },
        "dlib-shape": { _ = try DlibShapePredictor(bytes: $0, path: "fuzz.dat") },
    ]

    /// Runs `target` on `bytes`; errors are expected outcomes. Returns whether the input was accepted.
    @discardableResult
    static func run(_ target: ([UInt8]) throws -> Void, _ bytes: [UInt8]) -> Bool {
        do { try target(bytes); return true } catch { return false }
    }
}

/// libFuzzer's entry point. The target comes from CONVKIT_FUZZ_TARGET (see Scripts/fuzz.sh).
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzTargets.run(selectedTarget, bytes)
    return 0
}

/// The target named by CONVKIT_FUZZ_TARGET; an unknown name stops the run with the list of targets.
let selectedTarget: ([UInt8]) throws -> Void = {
    let name = ProcessInfo.processInfo.environment["CONVKIT_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTargets.all[name] else {
        FileHandle.standardError.write(Data("Error: CONVKIT_FUZZ_TARGET must be one of \(FuzzTargets.all.keys.sorted().joined(separator: ", ")), found \"\(name)\"\n".utf8))
        exit(2)
    }
    // Headers may declare any size up to the cap; decoding 100-megapixel garbage is slow and says nothing more
    // about the parser than 1 megapixel does (libjpeg-turbo's own fuzzers cap the size the same way).
    ImageLimits.maxPixels = 1 << 20
    return t
}()
