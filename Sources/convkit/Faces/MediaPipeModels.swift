import ConvKit
import ConvKitData
import ConvKitInterop
import ConvKitVision
import Foundation

/// MediaPipe's bundled TFLite face models (Data/models/mediapipe), imported through ConvKitInterop and wrapped in
/// the ConvKitVision pipelines that decode them.
enum MediaPipeModels {
    static func bundled(_ file: String) throws -> String {
        guard let data = Datasets.bundledDataDirectory() else {
            throw ConvKitError.io(path: "Data/models/mediapipe/\(file)", reason: "bundled data not found; run from the repository or pass --weights")
        }
        return data + "/models/mediapipe/" + file
    }

    /// BlazeFace short range (`face_detection_short_range.tflite`, or the file at `path`).
    static func blazeFace(path: String? = nil) throws -> BlazeFace {
        let model = try TFLiteModel(contentsOf: URL(fileURLWithPath: try path ?? bundled("face_detection_short_range.tflite")))
        guard model.inputs.count == 1, model.inputs[0].shape == [1, 128, 128, 3], model.outputs.count == 2 else {
            throw ConvKitError.invalidArgument(name: "BlazeFace model", expected: "one [1, 128, 128, 3] input and two outputs (regressors, classificators)",
                                               found: "inputs \(model.inputs.map(\.description)), outputs \(model.outputs.map(\.description))")
        }
        let input = model.inputs[0].name
        let regressors = model.outputs.first { $0.shape.last == 16 }?.name ?? model.outputs[0].name
        let scores = model.outputs.first { $0.name != regressors }!.name
        return BlazeFace { x in
            let out = try model.run([input: x])
            return (out[regressors]!, out[scores]!)
        }
    }

    /// The 468-point face mesh (`face_landmark.tflite`).
    static func faceMesh(path: String? = nil) throws -> FaceMesh {
        let model = try TFLiteModel(contentsOf: URL(fileURLWithPath: try path ?? bundled("face_landmark.tflite")))
        guard model.inputs.count == 1, model.inputs[0].shape == [1, 192, 192, 3], model.outputs.count == 2 else {
            throw ConvKitError.invalidArgument(name: "face mesh model", expected: "one [1, 192, 192, 3] input and two outputs (landmarks, score)",
                                               found: "inputs \(model.inputs.map(\.description)), outputs \(model.outputs.map(\.description))")
        }
        let input = model.inputs[0].name
        let landmarks = model.outputs.first { $0.shape.last == 1404 }?.name ?? model.outputs[0].name
        let score = model.outputs.first { $0.name != landmarks }!.name
        return FaceMesh { x in
            let out = try model.run([input: x])
            return (out[landmarks]!, out[score]!)
        }
    }
}
