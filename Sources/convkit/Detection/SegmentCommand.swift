import ArgumentParser
import ConvKit
import ConvKitData
import ConvKitModels
import ConvKitVision
import Foundation

/// `convkit segment`: runs a U-Net trained by `convkit train --task segment` on images and writes, per image,
/// the colorized mask and an overlay on the image.
struct SegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "segment", abstract: "Segment images with a U-Net trained by `convkit train --task segment`.")

    @Option(help: "U-Net checkpoint (unet.safetensors).") var weights: String
    @Argument(help: "Images (PNG, JPEG, PGM, PPM) of the size the network was trained on, or divisible by 16.") var images: [String]
    @Option(help: "Output folder for IMAGE_mask.png and IMAGE_overlay.png.") var out = "runs/segment"
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws { guard !images.isEmpty else { throw ValidationError("give at least one image") } }

    func run() throws {
        threadOptions.apply()
        let meta = try Safetensors.load(weights).metadata
        guard meta["task"] == "segment", let names = meta["classes"]?.split(separator: ",").map(String.init), names.count >= 2 else {
            throw ConvKitError.corruptFile(path: weights, offset: nil, expected: "a U-Net checkpoint written by convkit train --task segment",
                                           found: "task \(meta["task"] ?? "none")")
        }
        guard let channels = Int(meta["input_channels"] ?? "1"), (1...4).contains(channels) else {
            throw ConvKitError.corruptFile(path: weights, offset: nil, expected: "metadata \"input_channels\" of 1…4", found: meta["input_channels"] ?? "none")
        }
        let net = UNet(classes: names.count, inputChannels: channels, depth: 4, width: 8)
        try Checkpoint.load(weights, into: net)
        net.eval()
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for path in images {
            let raw = try ImageFile.load(path)
            let (h, w) = (raw.shape[1], raw.shape[2])
            guard h % 16 == 0, w % 16 == 0 else {
                throw ConvKitError.shapeMismatch(expected: "\(path): height and width divisible by 16", found: "\(w)×\(h)")
            }
            let y = net.predict((Preprocessing.matchChannels(raw, channels) * (1 / 255)).unsqueezed(axis: 0))
            let k = names.count, plane = h * w
            var mask = [Int32](repeating: 0, count: plane)
            for p in 0..<plane {
                var best = 0
                for c in 1..<k where y.scalars[c * plane + p] > y.scalars[best * plane + p] { best = c }
                mask[p] = Int32(best)
            }
            let colors = SegmentationFolder.colorized(mask, height: h, width: w)
            let rgb = Drawing.rgb(raw)
            let overlay = Tensor(shape: [3, h, w]) { o in
                for i in 0..<3 * plane { o[i] = mask[i % plane] == 0 ? rgb.scalars[i] : 0.45 * rgb.scalars[i] + 0.55 * colors.scalars[i] }
            }
            let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            try PNG.save(PNG.Image(tensor: colors), to: "\(out)/\(stem)_mask.png")
            try PNG.save(PNG.Image(tensor: overlay), to: "\(out)/\(stem)_overlay.png")
            var counts = [Int](repeating: 0, count: k)
            for m in mask { counts[Int(m)] += 1 }
            let present = (1..<k).filter { counts[$0] > 0 }.map { "\(names[$0]) \(counts[$0]) px" }
            print("\(path): " + (present.isEmpty ? "background only" : present.joined(separator: ", ")))
        }
    }
}
