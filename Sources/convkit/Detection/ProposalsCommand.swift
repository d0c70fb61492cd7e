import ArgumentParser
import ConvKit
import ConvKitData
import ConvKitVision
import Foundation

/// `convkit proposals`: selective-search region proposals for images, or their recall on a detection set.
struct ProposalsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "proposals",
        abstract: "Selective-search region proposals (Felzenszwalb–Huttenlocher segments grouped hierarchically); recall@N on a YOLO folder.")

    @Argument(help: "Images to propose regions for (with --out, drawn; otherwise the box count).") var images: [String] = []
    @Option(help: "YOLO folder whose test split measures recall@N (default: the generated digits set) when no image is given.") var data: String?
    @Option(help: "How many test images to measure on (1…100000).") var count = 100
    @Option(help: "Comma-separated N for recall@N.") var top = "10,50,100,300,1000"
    @Option(help: "Folder for IMAGE_proposals.png with the first 50 proposals drawn.") var out: String?
    @Option(help: "Seed of the ranking.") var seed: UInt64 = 0
    @Flag(help: "End with one JSON line.") var json = false

    func run() throws {
        var options = SelectiveSearch.Options()
        options.seed = seed
        if !images.isEmpty {
            if let out { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
            for path in images {
                let img = try ImageFile.load(path)
                // The segmentation graph holds 4 edges per pixel: refuse what would need gigabytes.
                guard img.shape[1] * img.shape[2] <= 4096 * 4096 else {
                    throw ConvKitError.invalidArgument(name: "image \(path)", expected: "at most 4096×4096 pixels for proposals",
                                                       found: "\(img.shape[2])×\(img.shape[1])")
                }
                let p = SelectiveSearch.proposals(Preprocessing.matchChannels(img, img.shape[0] >= 3 ? 3 : 1), options)
                print("\(path): \(p.count) proposals")
                if let out {
                    let first = p.gathered(Array(0..<Swift.min(50, p.count)))
                    let drawn = Drawing.detections(on: img, boxes: first, labels: Array(repeating: "", count: first.count), classes: Array(0..<first.count))
                    let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
                    try PNG.save(PNG.Image(tensor: drawn), to: "\(out)/\(stem)_proposals.png")
                }
            }
            return
        }
        let ns = top.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !ns.isEmpty, ns.allSatisfy({ $0 > 0 }) else { throw ValidationError("--top must list positive counts, found \(top)") }
        guard (1...100_000).contains(count) else { throw ValidationError("--count must be in 1…100000, found \(count)") }
        let dir = try data ?? DigitsDetectionDefaults.folder()
        let set = try DetectionFolder.load(dir, split: "test", maxImages: count)
        let start = Date()
        var proposals = [BoxSet](repeating: .empty(), count: set.count)
        Parallel.forEach(set.count) { i in proposals[i] = SelectiveSearch.proposals(set.samples[i].image, options) }
        let seconds = Date().timeIntervalSince(start)
        let gt = set.samples.map(\.boxes)
        var result: [String: Any] = ["images": set.count, "seconds_per_image": seconds / Double(set.count),
                                     "mean_proposals": Double(proposals.reduce(0) { $0 + $1.count }) / Double(set.count)]
        for n in ns {
            let r = SelectiveSearch.recall(proposals: proposals, groundTruth: gt, n: n)
            result["recall@\(n)"] = r
            if !json { print(String(format: "recall@%d (IoU ≥ 0.5): %.4f", n, r)) }
        }
        FileHandle.standardError.write(String(format: "%d images, %.1f proposals per image, %.1f ms per image\n", set.count,
                                              result["mean_proposals"] as! Double, seconds / Double(set.count) * 1000).data(using: .utf8)!)
        if json { print(String(data: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), encoding: .utf8)!) }
    }
}
