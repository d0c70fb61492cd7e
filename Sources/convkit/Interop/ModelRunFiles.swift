import ArgumentParser
import ConvKit
import Foundation

/// The NumPy files `onnx run` and `tflite run` read and write.
enum ModelRunFiles {
    /// `--input NAME=FILE.npy` specs (or a bare FILE.npy for a single-input model) → tensors by input name.
    static func feeds(_ specs: [String], inputNames: [String]) throws -> [String: Tensor] {
        var feeds = [String: Tensor]()
        for spec in specs {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            let (name, path): (String, String)
            if parts.count == 2 { (name, path) = (parts[0], parts[1]) } else {
                guard inputNames.count == 1 else {
                    throw ValidationError("--input \(spec): the model has \(inputNames.count) inputs; write NAME=FILE.npy (inputs: \(inputNames.joined(separator: ", ")))")
                }
                (name, path) = (inputNames[0], spec)
            }
            feeds[name] = try NumPy.load(path)
        }
        return feeds
    }

    /// Writes each output as DIR/NAME.npy (in `names` order); prints a line each unless `json`, or the JSON line
    /// `{"model","outputs":[{"name","shape","file"}],"run_ms"}`.
    static func write(_ outputs: [String: Tensor], names: [String], to dir: String, model: String, ms: Double, json: Bool) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var report = [[String: Any]]()
        for name in names {
            guard let v = outputs[name] else { continue }
            let file = (dir as NSString).appendingPathComponent(name.replacingOccurrences(of: "/", with: "_") + ".npy")
            try NumPy.save(v, to: file)
            report.append(["name": name, "shape": v.shape, "file": file])
            if !json { print("\(name) \(v.shape) → \(file)") }
        }
        if json {
            print(String(data: try JSONSerialization.data(withJSONObject: ["model": model, "outputs": report, "run_ms": ms], options: [.sortedKeys]), encoding: .utf8)!)
        }
    }
}
