import ArgumentParser
import ConvKit
import ConvKitData
import Foundation

/// `convkit evaluate`: accuracy, loss, top-5 and the confusion matrix of a trained model on a dataset.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate", abstract: "Evaluate a trained model on a dataset folder.")

    @Option(help: "Model name (checked against the checkpoint).") var model: String?
    @Option(help: "Checkpoint written by `convkit train`.") var weights: String
    @Option(help: "Dataset folder: MNIST IDX layout (its test split is used) or one sub-folder per class.") var data: String
    @OptionGroup var threadOptions: ThreadOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        threadOptions.apply()
        let input = try ModelInput(checkpoint: weights)
        let net = try input.loadModel(weights: weights, expectedName: model)
        let set = try loadEvaluationSet(data, input: input)
        if let bad = set.labels.first(where: { $0 >= input.classes.count }) {
            throw ConvKitError.invalidArgument(name: "label in \(data)", expected: "0..<\(input.classes.count) (the model's classes)", found: "\(bad)")
        }
        let loader = DataLoader(set, batchSize: 256, shuffle: false) { x, _ in input.prepare(x) }
        let r = Trainer.evaluate(net, loader)
        if json {
            let obj: [String: Any] = ["model": input.model, "images": r.count, "accuracy": Double(r.accuracy), "loss": Double(r.loss),
                                      "top5_accuracy": Double(r.topK[5] ?? r.accuracy), "confusion": r.confusion]
            print(String(data: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), encoding: .utf8)!)
        } else {
            print(String(format: "%@ on %d images: accuracy %.2f%%, top-5 %.2f%%, loss %.4f", input.model, r.count, r.accuracy * 100, (r.topK[5] ?? r.accuracy) * 100, r.loss))
            print("confusion matrix (rows: true, columns: predicted):")
            for row in r.confusion { print(row.map { String(format: "%5d", $0) }.joined()) }
        }
    }
}
