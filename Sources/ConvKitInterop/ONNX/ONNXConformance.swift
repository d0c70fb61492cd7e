import ConvKit
import Foundation

/// Reading and writing single `TensorProto` files (the backend tests' `input_0.pb`).
public enum ONNXTensorFile {
    public static func read(_ url: URL, limits: ONNXLimits = .default) throws -> (name: String, value: ONNXValue) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw ONNXError.corruptFile(path: url.path, reason: "cannot be read") }
        let proto: Onnx_TensorProto
        do { proto = try Onnx_TensorProto(serializedBytes: data) } catch {
            throw ONNXError.corruptFile(path: url.path, reason: "not a TensorProto (\(error))")
        }
        return (proto.name, try ONNXTensorCoding.decode(proto, baseDirectory: url.deletingLastPathComponent(), limits: limits))
    }

    public static func write(_ value: ONNXValue, name: String, to url: URL) throws {
        try AtomicFile.write(try ONNXTensorCoding.encode(value, name: name).serializedData(), to: url.path)
    }
}

/// One case in ONNX's backend-test layout — `model.onnx` and `test_data_set_*/input_*.pb, output_*.pb` — run and
/// compared the way ONNX's runner compares (|actual − expected| ≤ atol + rtol·|expected|, NaN equal to NaN,
/// shapes and integer values exact).
public struct ONNXCaseResult: Equatable {
    public struct Output: Equatable { public var name: String; public var maxAbsError: Float }
    public var name: String
    public var passed: Bool
    public var outputs: [Output]
    public var error: String?

    public var json: [String: Any] {
        var d: [String: Any] = ["case": name, "passed": passed,
                                "outputs": outputs.map { ["name": $0.name, "max_abs_error": $0.maxAbsError.isFinite ? Double($0.maxAbsError) : -1] }]
        d["error"] = error ?? NSNull()
        return d
    }
}

public enum ONNXConformance {
    public static func check(caseDirectory dir: URL, rtol: Float = 1e-3, atol: Float = 1e-5) -> ONNXCaseResult {
        let name = dir.lastPathComponent
        var outputs = [ONNXCaseResult.Output]()
        do {
            let model = try ONNXModel(contentsOf: dir.appendingPathComponent("model.onnx"))
            let sets = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasPrefix("test_data_set_") }.sorted()
            guard !sets.isEmpty else { throw ONNXError.input("\(dir.path) has no test_data_set_* folder") }
            var passed = true, firstFailure: String?
            for set in sets {
                let folder = dir.appendingPathComponent(set)
                let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
                func numbered(_ prefix: String) -> [URL] {
                    files.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".pb") }
                        .sorted { (Int($0.dropFirst(prefix.count).dropLast(3)) ?? 0) < (Int($1.dropFirst(prefix.count).dropLast(3)) ?? 0) }
                        .map { folder.appendingPathComponent($0) }
                }
                var feeds = [String: ONNXValue]()
                let inputFiles = numbered("input_")
                for (i, f) in inputFiles.enumerated() {
                    let (n, v) = try ONNXTensorFile.read(f)
                    let key = model.inputs.contains(where: { $0.name == n }) ? n : (i < model.inputs.count ? model.inputs[i].name : n)
                    feeds[key] = v
                }
                let results = try Autograd.withoutGradients { try model.run(feeds) }
                for (i, f) in numbered("output_").enumerated() {
                    let (n, expected) = try ONNXTensorFile.read(f)
                    let outName = model.outputs.contains(where: { $0.name == n }) ? n : (i < model.outputs.count ? model.outputs[i].name : n)
                    guard let actual = results[outName] else { throw ONNXError.input("output '\(outName)' was not produced") }
                    let (ok, err, why) = compare(actual, expected, rtol: rtol, atol: atol)
                    outputs.append(.init(name: outName, maxAbsError: err))
                    if !ok { passed = false; firstFailure = firstFailure ?? "\(set)/\(outName): \(why)" }
                }
            }
            return ONNXCaseResult(name: name, passed: passed, outputs: outputs, error: firstFailure)
        } catch {
            return ONNXCaseResult(name: name, passed: false, outputs: outputs, error: "\(error)")
        }
    }

    /// Whether `actual` matches `expected`, the largest absolute error, and why not.
    static func compare(_ actual: ONNXValue, _ expected: ONNXValue, rtol: Float, atol: Float) -> (Bool, Float, String) {
        guard actual.shape == expected.shape else { return (false, .infinity, "shape \(actual.shape), expected \(expected.shape)") }
        if case .integer(let a) = actual, case .integer(let e) = expected {
            let bad = zip(a.values, e.values).filter { $0 != $1 }.count
            let err = zip(a.values, e.values).map { Float(Swift.abs($0 &- $1)) }.max() ?? 0
            return (bad == 0, err, "\(bad) of \(a.count) integers differ")
        }
        let a = actual.floatTensor.scalars, e = expected.floatTensor.scalars
        var err: Float = 0, bad = 0
        for (x, y) in zip(a, e) {
            if x.isNaN && y.isNaN { continue }
            if x == y { continue }
            let d = Swift.abs(x - y)
            if !(d <= atol + rtol * Swift.abs(y)) { bad += 1 }
            err = Swift.max(err, d.isNaN ? .infinity : d)
        }
        return (bad == 0, err, "\(bad) of \(a.count) values outside atol \(atol) + rtol \(rtol)·|expected| (max abs error \(err))")
    }
}
