import ConvKit
import ConvKitData
import Foundation

/// A segmentation split: images in `DIR/SPLIT/images`, index masks (gray or palette PNG, one class per pixel) of the
/// same stem in `DIR/SPLIT/masks`. Mask value 0 is background and k + 1 is class k of `classes.txt` (the generated
/// digits set writes exactly this: 11 classes); 255 marks pixels to ignore.
public enum SegmentationFolder {
    public static let ignoreIndex: Int32 = 255

    public struct Sample { public var image: Tensor; public var mask: [Int32]; public var name: String }

    /// Reads a split; every mask is checked: its size must be the image's and its values below `classes` (or 255).
    public static func load(_ dir: String, split: String, classes: Int, maxImages: Int? = nil) throws -> [Sample] {
        let imageDir = "\(dir)/\(split)/images", maskDir = "\(dir)/\(split)/masks"
        guard FileManager.default.fileExists(atPath: imageDir) else { throw ConvKitError.io(path: imageDir, reason: "no such folder (a segmentation split has images/ and masks/)") }
        let files = try FileManager.default.contentsOfDirectory(atPath: imageDir).filter { ImageFile.isImage($0) }.sorted()
        guard !files.isEmpty else { throw ConvKitError.io(path: imageDir, reason: "no PNG, JPEG, PGM or PPM images") }
        return try files.prefix(maxImages ?? files.count).map { f in
            let image = try ImageFile.load("\(imageDir)/\(f)")
            let maskPath = "\(maskDir)/\((f as NSString).deletingPathExtension).png"
            guard FileManager.default.fileExists(atPath: maskPath) else { throw ConvKitError.io(path: maskPath, reason: "no mask for image \(f)") }
            let m = try PNG.load(maskPath)
            guard m.width == image.shape[2], m.height == image.shape[1], m.channels == 1 else {
                throw ConvKitError.shapeMismatch(expected: "\(maskPath): a one-channel mask of \(image.shape[2])×\(image.shape[1]) (the image's size)",
                                                 found: "\(m.width)×\(m.height) with \(m.channels) channels")
            }
            let mask = m.samples.map { Int32($0) }
            if let bad = mask.first(where: { $0 >= Int32(classes) && $0 != ignoreIndex }) {
                throw ConvKitError.corruptFile(path: maskPath, offset: nil, expected: "class values 0…\(classes - 1) (or 255 to ignore)", found: "\(bad)")
            }
            return Sample(image: image, mask: mask, name: f)
        }
    }

    /// Classes of a folder: "background" then the names of `classes.txt`.
    public static func classNames(_ dir: String) throws -> [String] {
        let p = "\(dir)/classes.txt"
        guard FileManager.default.fileExists(atPath: p) else { throw ConvKitError.io(path: p, reason: "no such file (a segmentation folder names its classes there)") }
        return ["background"] + (try String(contentsOfFile: p, encoding: .utf8)).split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
    }

    /// A color per class (background black) and the mask drawn in it, [3, H, W].
    public static func colorized(_ mask: [Int32], height: Int, width: Int) -> Tensor {
        Tensor(shape: [3, height, width]) { o in
            for i in 0..<mask.count {
                let c: Drawing.Color = mask[i] == 0 || mask[i] == ignoreIndex ? (0, 0, 0) : Drawing.color(Int(mask[i]) - 1)
                o[i] = c.r; o[height * width + i] = c.g; o[2 * height * width + i] = c.b
            }
        }
    }
}
