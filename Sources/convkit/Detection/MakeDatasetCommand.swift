import ArgumentParser
import ConvKit
import ConvKitData
import ConvKitVision
import Foundation

/// `convkit make-dataset digits-detection`: the generated detection/segmentation set, from the bundled MNIST.
struct MakeDatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-dataset",
        abstract: "Generate a dataset: digits-detection places 1–6 MNIST digits on 128×128 canvases (PNG, YOLO labels, COCO JSON, masks).")

    enum Kind: String, ExpressibleByArgument, CaseIterable { case digitsDetection = "digits-detection" }

    @Argument(help: "What to generate: digits-detection.") var kind: Kind
    @Option(help: "Output folder.") var out: String
    @Option(help: "Seed: the same seed gives the same files.") var seed: UInt64 = 1
    @Option(help: "Training canvases (1…200000).") var images = DigitsDetectionDefaults.trainImages
    @Option(name: .customLong("test-images"), help: "Test canvases (1…200000).") var testImages = DigitsDetectionDefaults.testImages
    @Option(help: "MNIST folder in IDX layout the digits come from (default: the bundled Data/mnist5k).") var digits: String?

    func validate() throws {
        for (v, n) in [(images, "--images"), (testImages, "--test-images")] where !(1...200_000).contains(v) {
            throw ValidationError("\(n) must be in 1…200000, found \(v)")
        }
    }

    func run() throws {
        let source = try DigitsDetectionDefaults.mnist(digits)
        try DigitsCanvas().write(to: out, digits: source, trainCount: images, testCount: testImages, seed: seed)
        FileHandle.standardError.write("wrote \(images) train and \(testImages) test canvases to \(out)\n".data(using: .utf8)!)
    }
}

/// The default generated detection set: its sizes, its MNIST source, and where `train --task detect` keeps it.
enum DigitsDetectionDefaults {
    static let trainImages = 4000, testImages = 500

    static func mnist(_ dir: String?) throws -> DatasetSplits {
        guard let d = dir ?? Datasets.bundledDataDirectory().map({ $0 + "/mnist5k" }) else {
            throw ConvKitError.io(path: "Data/mnist5k", reason: "bundled data not found; run from the repository or pass --digits DIR")
        }
        return try Datasets.idxFolder(d)
    }

    /// The default set, generated on first use into `runs/datasets/digits-detection-s1` (a marker file written
    /// last says it is complete).
    static func folder() throws -> String {
        let dir = "runs/datasets/digits-detection-s1-\(trainImages)-\(testImages)"
        let marker = dir + "/.complete"
        if !FileManager.default.fileExists(atPath: marker) {
            FileHandle.standardError.write("generating the digits-detection set in \(dir) (first use)…\n".data(using: .utf8)!)
            try DigitsCanvas().write(to: dir, digits: try mnist(nil), trainCount: trainImages, testCount: testImages, seed: 1)
            try AtomicFile.write(Data("seed 1\n".utf8), to: marker)
        }
        return dir
    }
}
