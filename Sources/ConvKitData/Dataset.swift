import ConvKit
import Foundation

/// An in-memory labelled image set: images [N, C, H, W] (as stored: 0…255 for 8-bit data) and class indices.
public struct LabeledImages {
    public var images: Tensor
    public var labels: [Int]
    public var classNames: [String]

    public init(images: Tensor, labels: [Int], classNames: [String]) throws {
        guard images.rank == 4 else { throw ConvKitError.shapeMismatch(expected: "images [N, C, H, W]", found: "\(images.shape)") }
        guard labels.count == images.shape[0] else {
            throw ConvKitError.shapeMismatch(expected: "\(images.shape[0]) labels", found: "\(labels.count)")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classNames.count }) {
            throw ConvKitError.invalidArgument(name: "label", expected: "0..<\(classNames.count)", found: "\(bad)")
        }
        self.images = images; self.labels = labels; self.classNames = classNames
    }

    public var count: Int { labels.count }
    /// [C, H, W] of one image.
    public var imageShape: [Int] { Array(images.shape[1...]) }

    /// One image [C, H, W].
    public func image(_ i: Int) -> Tensor { images.slice(axis: 0, i..<i + 1).reshaped(imageShape) }

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int]) -> LabeledImages {
        let per = imageShape.reduce(1, *)
        let imgs = Tensor(shape: [indices.count] + imageShape) { o in
            images.withUnsafeBufferPointer { p in
                for (j, i) in indices.enumerated() { for k in 0..<per { o[j * per + k] = p[i * per + k] } }
            }
        }
        return try! LabeledImages(images: imgs, labels: indices.map { labels[$0] }, classNames: classNames)
    }

    /// Per-channel mean and standard deviation over all images (for standardization).
    public func channelStatistics() -> (mean: [Float], std: [Float]) {
        let c = imageShape[0]
        let planes = images.reshaped([count, c, -1]).permuted([1, 0, 2]).reshaped([c, -1])
        let mean = planes.mean(axes: [1]).scalars
        let std = planes.variance(axes: [1]).scalars.map { $0.squareRoot() }
        return (mean, std)
    }
}

/// A train/test pair.
public struct DatasetSplits {
    public var train: LabeledImages
    public var test: LabeledImages
    public var name: String
}

public enum Datasets {
    /// Reads a folder in MNIST's layout: train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
    /// t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]. Class names are "0"…"K−1".
    public static func idxFolder(_ dir: String) throws -> DatasetSplits {
        func find(_ stem: String) throws -> String {
            for candidate in ["\(dir)/\(stem).gz", "\(dir)/\(stem)"] where FileManager.default.fileExists(atPath: candidate) { return candidate }
            throw ConvKitError.io(path: "\(dir)/\(stem)[.gz]", reason: "no such file (an IDX folder needs train-/t10k- images and labels)")
        }
        func split(_ prefix: String) throws -> (Tensor, [Int], String) {
            let ip = try find("\(prefix)-images-idx3-ubyte"), lp = try find("\(prefix)-labels-idx1-ubyte")
            let imgs = try IDX.load(ip), labs = try IDX.load(lp)
            guard imgs.shape.count == 3 else { throw ConvKitError.corruptFile(path: ip, offset: 3, expected: "3 dimensions (N, rows, cols)", found: "\(imgs.shape.count)") }
            guard labs.shape == [imgs.shape[0]] else {
                throw ConvKitError.corruptFile(path: lp, offset: 4, expected: "\(imgs.shape[0]) labels (one per image in \(ip))", found: "shape \(labs.shape)")
            }
            let t = Tensor(shape: [imgs.shape[0], 1, imgs.shape[1], imgs.shape[2]], scalars: imgs.values)
            return (t, labs.values.map { Int($0) }, lp)
        }
        let (xtr, ytr, lp) = try split("train"), (xte, yte, _) = try split("t10k")
        let k = (ytr + yte).max().map { $0 + 1 } ?? 0
        guard k <= 1000, (ytr + yte).allSatisfy({ $0 >= 0 }) else {
            throw ConvKitError.corruptFile(path: lp, offset: 8, expected: "labels 0…999", found: "\(k - 1)")
        }
        // Classes are 0…K−1 with K = largest label + 1: each must have training examples, or a stray label (77 in a
        // 10-class file) would silently make a model with 78 outputs.
        let present = Set(ytr)
        if let gap = (0..<k).first(where: { !present.contains($0) }) {
            let record = ytr.firstIndex { $0 > gap } ?? yte.firstIndex { $0 > gap } ?? 0
            let label = ytr.first { $0 > gap } ?? yte.first { $0 > gap } ?? gap
            throw ConvKitError.corruptFile(path: lp, offset: nil, expected: "contiguous labels 0…\(k - 1), each with training examples",
                                           found: "no example of class \(gap), but label \(label) at record \(record)")
        }
        let names = (0..<k).map(String.init)
        return DatasetSplits(train: try LabeledImages(images: xtr, labels: ytr, classNames: names),
                             test: try LabeledImages(images: xte, labels: yte, classNames: names),
                             name: URL(fileURLWithPath: dir).lastPathComponent)
    }

    /// The repository's Data/ folder: found relative to the working directory or the executable.
    public static func bundledDataDirectory() -> String? {
        var candidates = [FileManager.default.currentDirectoryPath + "/Data"]
        var exe = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 { candidates.append(exe.path + "/Data"); exe.deleteLastPathComponent() }
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/mnist5k") }
    }
}
