import ArgumentParser
import ConvKit
import ConvKitData
import ConvKitModels
import ConvKitVision
import Foundation

/// `convkit volume segment`: a 3-D U-Net from `convkit train --task volume-segment` over a large volume in
/// overlapping windows (`VolumeSlidingWindow`), or in one pass with `--whole` to compare the memory either needs.
struct VolumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "volume", abstract: "Volumes: segment a large volume with a 3-D U-Net in sliding windows.",
                                                    subcommands: [VolumeSegmentCommand.self])
}

struct VolumeSegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "segment", abstract: "Segment a volume (a generated phantom, or --volume FILE.npy) with a 3-D U-Net in overlapping windows.")

    @Option(help: "3-D U-Net checkpoint (unet3d.safetensors from convkit train --task volume-segment).") var weights: String
    @Option(help: "A volume [D, H, W] or [1, D, H, W] as float32 .npy; default: a generated phantom of --size³ voxels.") var volume: String?
    @Option(help: "Side of the generated phantom (16…512).") var size = 192
    @Option(help: "Seed of the generated phantom.") var seed: UInt64 = 7
    @Option(help: "Window side in voxels (divisible by 4, the U-Net's downsampling).") var window = 64
    @Option(help: "Fraction of a window its neighbours share (0 ≤ overlap < 1).") var overlap = 0.25
    @Flag(help: "Run the network on the whole volume in one pass instead (for comparing peak memory).") var whole = false
    @Option(help: "Output folder for labels.npy and slices.png.") var out = "runs/volume"
    @Flag(help: "Print one JSON line with the scores, windows, memory and time.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        threadOptions.apply()
        let start = Date()
        let meta = try Safetensors.load(weights).metadata
        guard meta["task"] == "volume-segment", let names = meta["classes"]?.split(separator: ",").map(String.init), names.count >= 2 else {
            throw ConvKitError.corruptFile(path: weights, offset: nil, expected: "a 3-D U-Net checkpoint written by convkit train --task volume-segment",
                                           found: "task \(meta["task"] ?? "none")")
        }
        let net = UNet(classes: names.count, inputChannels: 1, depth: 2, width: 8, spatialDimensions: 3)
        try Checkpoint.load(weights, into: net)
        net.eval()
        guard window % 4 == 0, (4...512).contains(window) else {
            throw ConvKitError.invalidArgument(name: "--window", expected: "a side of 4…512 divisible by 4", found: "\(window)")
        }
        var truth: [Int32]? = nil
        let input: Tensor
        if let path = volume {
            let v = try NumPy.load(path)
            guard v.rank == 3 || (v.rank == 4 && v.shape[0] == 1) else {
                throw ConvKitError.shapeMismatch(expected: "\(path): a volume [D, H, W] or [1, D, H, W]", found: "\(v.shape)")
            }
            input = v.rank == 3 ? v.unsqueezed(axis: 0) : v
        } else {
            let p = try VolumePhantoms(size: [size, size, size], seed: seed).phantom(index: 0)
            input = p.volume; truth = p.voxelLabels
        }
        let dims = Array(input.shape[1...])
        let mark = Date()
        var labels: [UInt8]
        let mode = whole ? "whole" : "sliding-window"
        var report: [String: Any] = ["volume": dims, "classes": names, "mode": mode]
        if whole {
            guard dims.allSatisfy({ $0 % 4 == 0 }) else {
                throw ConvKitError.shapeMismatch(expected: "sides divisible by 4 for --whole", found: dims.map(String.init).joined(separator: "×"))
            }
            let y = net.predict(input.unsqueezed(axis: 0))
            labels = VolumeLabels.argmax(y, sample: 0, classes: names.count, positions: dims.reduce(1, *)).map { UInt8($0) }
        } else {
            let sw = try VolumeSlidingWindow(window: [window, window, window], overlap: overlap)
            let (l, usage) = try sw.segment(input, classes: names.count) { net.predict($0) }
            labels = l
            report["window"] = window; report["overlap"] = overlap; report["windows"] = usage.windows
            report["accumulator_mb"] = Double(usage.accumulatorBytes) / 1e6
            report["whole_volume_accumulator_mb"] = Double(usage.wholeVolumeAccumulatorBytes) / 1e6
        }
        let inferenceSeconds = Date().timeIntervalSince(mark), peak = PeakMemory.residentMegabytes()
        report["inference_seconds"] = inferenceSeconds
        report["peak_rss_mb"] = peak
        let log = FileHandle.standardError
        if let truth {
            var m = SegmentationMetrics(classes: names.count)
            m.add(predicted: labels.map { Int32($0) }, truth: truth)
            report["mean_dice"] = m.meanDice
            report["class_dice"] = SegmentationMetrics.dice(m.confusion).map { $0 ?? -1 }
            log.write(String(format: "mean Dice %.4f (%@)\n", m.meanDice, zip(names, SegmentationMetrics.dice(m.confusion)).map { "\($0) \(String(format: "%.3f", $1 ?? -1))" }.joined(separator: ", ")).data(using: .utf8)!)
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try NumPy.save(Tensor(shape: dims, scalars: labels.map(Float.init)), to: out + "/labels.npy")
        try saveSlices(input, labels: labels, truth: truth, dims: dims, to: out + "/slices.png")
        report["wall_seconds"] = Date().timeIntervalSince(start)
        log.write(String(format: "%@ over %@: %.1f s, peak memory %.0f MB\n", mode, dims.map(String.init).joined(separator: "×"),
                         inferenceSeconds, peak).data(using: .utf8)!)
        if json { print(String(data: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), encoding: .utf8)!) }
    }

    /// The middle slice along each axis: input, prediction (and truth) side by side.
    func saveSlices(_ v: Tensor, labels: [UInt8], truth: [Int32]?, dims: [Int], to path: String) throws {
        let (d, h, w) = (dims[0], dims[1], dims[2])
        var tiles = [Tensor]()
        for axis in 0..<3 {
            let (rows, cols) = axis == 0 ? (h, w) : axis == 1 ? (d, w) : (d, h)
            func index(_ r: Int, _ c: Int) -> Int {
                switch axis {
                case 0: return (d / 2 * h + r) * w + c
                case 1: return (r * h + h / 2) * w + c
                default: return (r * h + c) * w + w / 2
                }
            }
            let gray = Tensor(shape: [1, rows, cols], scalars: (0..<(rows * cols)).map { Swift.min(255, Swift.max(0, v.scalars[index($0 / cols, $0 % cols)] * 255)) })
            tiles.append(Drawing.rgb(gray))
            tiles.append(SegmentationFolder.colorized((0..<(rows * cols)).map { Int32(labels[index($0 / cols, $0 % cols)]) }, height: rows, width: cols))
            if let truth { tiles.append(SegmentationFolder.colorized((0..<(rows * cols)).map { truth[index($0 / cols, $0 % cols)] }, height: rows, width: cols)) }
        }
        try PNG.save(PNG.Image(tensor: UnitVisualization.grid(tiles, columns: truth == nil ? 2 : 3)), to: path)
    }
}
