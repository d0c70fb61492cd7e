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
        let (model, input, first, second) = try load(path ?? bundled("face_detection_short_range.tflite"), what: "BlazeFace model",
                                                      inputShape: [1, 128, 128, 3], firstOutput: "regressors", lastExtent: 16)
        return BlazeFace { x in let out = try model.run([input: x]); return (out[first] ?? Tensor.zeros([0]), out[second] ?? Tensor.zeros([0])) }
    }

    /// The 468-point face mesh (`face_landmark.tflite`, or the file at `path`).
    static func faceMesh(path: String? = nil) throws -> FaceMesh {
        let (model, input, first, second) = try load(path ?? bundled("face_landmark.tflite"), what: "face mesh model",
                                                      inputShape: [1, 192, 192, 3], firstOutput: "landmarks", lastExtent: 1404)
        return FaceMesh { x in let out = try model.run([input: x]); return (out[first] ?? Tensor.zeros([0]), out[second] ?? Tensor.zeros([0])) }
    }

    /// A model with one input of `inputShape` and two distinct outputs; the first is the one whose last extent is
    /// `lastExtent` (else the file's first). Returns the model and the input and output names. (A missing output
    /// reaches the decoders as an empty tensor, which they refuse with an error.)
    private static func load(_ path: String, what: String, inputShape: [Int], firstOutput: String, lastExtent: Int)
        throws -> (TFLiteModel, String, String, String) {
        let model = try TFLiteModel(contentsOf: URL(fileURLWithPath: path))
        let names = Set(model.outputs.map(\.name))
        guard model.inputs.count == 1, model.inputs[0].shape == inputShape, model.outputs.count == 2, names.count == 2 else {
            throw ConvKitError.invalidArgument(name: what, expected: "one \(inputShape) input and two distinct outputs (\(firstOutput) first)",
                                               found: "inputs \(model.inputs.map(\.description)), outputs \(model.outputs.map(\.description))")
        }
        let first = model.outputs.first { $0.shape.last == lastExtent }?.name ?? model.outputs[0].name
        let second = model.outputs.first { $0.name != first }?.name ?? model.outputs[1].name
        return (model, model.inputs[0].name, first, second)
    }
}
