import ConvKit
import Foundation

/// How files on disk become a labelled image set for training: which layouts are read, how images are sized,
/// what value range raw data has, and which classes exist.
public struct TrainingDataOptions: Codable, Equatable {
    /// How an image of another size is brought to `imageSize`.
    public enum ResizePolicy: String, Codable, CaseIterable {
        /// Resize to exactly H×W (bilinear), aspect ratio not kept.
        case stretch
        /// Resize so the image covers H×W with its aspect ratio kept, then crop the centre.
        case crop
    }

    /// H, W for class folders (default: the first image's size).
    public var imageSize: [Int]?
    public var resize: ResizePolicy
    /// C, H, W of a CSV row's pixels (default: inferred from the pixel count: n = s² is 1×s×s, n = 3s² is 3×s×s).
    public var csvShape: [Int]?
    /// The largest value the raw data can take (8-bit images: 255; the 8×8 digits: 16). Values outside 0…scale
    /// are an error; values are mapped to 0…255, the range the rest of the pipeline assumes.
    public var scale: Float?
    /// Declared classes: names (class folders, CSV labels) or, for integer labels, their count as one element
    /// "K". Without it, classes are what the data contains, and integer labels must be contiguous 0..<C.
    public var classes: [String]?

    public init(imageSize: [Int]? = nil, resize: ResizePolicy = .stretch, csvShape: [Int]? = nil, scale: Float? = nil, classes: [String]? = nil) {
        self.imageSize = imageSize; self.resize = resize; self.csvShape = csvShape; self.scale = scale; self.classes = classes
    }
}

/// A training set as read: the training images, the test images when the layout has them, and what was read.
public struct TrainingDataSource {
    public var train: LabeledImages
    public var test: LabeledImages?
    public var name: String
    /// "idx", "class folders" or "csv".
    public var layout: String
}

public enum TrainingData {
    /// Largest in-memory set (float32 images) a folder may become; larger requests are refused with the estimate.
    nonisolated(unsafe) public static var maxBytes = 8 << 30

    /// Reads `path` in whichever layout it has:
    /// - an MNIST IDX folder (train-/t10k- images and labels): train and test;
    /// - class folders: `DIR/train/<class>/…` and `DIR/test/<class>/…`, or `DIR/<class>/…` (train only);
    /// - CSV, `label,p0,p1,…` per row with an optional header: a file (train only) or `DIR/train.csv` and
    ///   `DIR/test.csv`.
    public static func load(_ path: String, options: TrainingDataOptions = TrainingDataOptions()) throws -> TrainingDataSource {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw ConvKitError.io(path: path, reason: "no such file or folder (expected a folder of IDX files or class folders, or a .csv file)") }
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        if !isDir.boolValue {
            guard path.lowercased().hasSuffix(".csv") else {
                throw ConvKitError.invalidArgument(name: "--data \(path)", expected: "a folder (IDX files or class folders) or a .csv file", found: "a file")
            }
            let train = try csv(path, options: options, classNames: nil)
            return TrainingDataSource(train: train, test: nil, name: name, layout: "csv")
        }
        if ["train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"].contains(where: { fm.fileExists(atPath: path + "/" + $0) }) {
            let s = try Datasets.idxFolder(path)
            let train = try declare(try rescale(s.train, options, path), options, path)
            let test = try rescale(s.test, options, path)
            return TrainingDataSource(train: train, test: try relabel(test, to: train.classNames, path: path), name: s.name, layout: "idx")
        }
        if fm.fileExists(atPath: path + "/train.csv") {
            let train = try csv(path + "/train.csv", options: options, classNames: nil)
            let test = fm.fileExists(atPath: path + "/test.csv") ? try csv(path + "/test.csv", options: options, classNames: train.classNames) : nil
            return TrainingDataSource(train: train, test: test, name: name, layout: "csv")
        }
        let hasSplits = directory(path + "/train") && directory(path + "/test")
        let train = try folders(hasSplits ? path + "/train" : path, options: options)
        var test: LabeledImages?
        if hasSplits {
            var o = options
            o.imageSize = [train.imageShape[1], train.imageShape[2]]
            test = try relabel(try folders(path + "/test", options: o, channels: train.imageShape[0]), to: train.classNames, path: path + "/test")
        }
        return TrainingDataSource(train: train, test: test, name: name, layout: "class folders")
    }

    static func directory(_ p: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: p, isDirectory: &d) && d.boolValue
    }

    /// Class folders sized by the options (default: the first image's size); channels: the most channels found
    /// (a gray image among colour ones is made colour) unless given.
    static func folders(_ dir: String, options: TrainingDataOptions, channels: Int? = nil) throws -> LabeledImages {
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: dir) else { throw ConvKitError.io(path: dir, reason: "cannot list folder") }
        var classes = entries.filter { !$0.hasPrefix(".") && directory(dir + "/" + $0) }.sorted()
        guard !classes.isEmpty else {
            throw ConvKitError.io(path: dir, reason: "no class sub-folders found (expected DIR/<class>/image files, DIR/train and DIR/test, IDX files or train.csv)")
        }
        if let declared = options.classes {
            let missing = classes.filter { !declared.contains($0) }
            guard missing.isEmpty else {
                throw ConvKitError.invalidArgument(name: "class folder in \(dir)", expected: "one of the declared classes \(declared.joined(separator: ", "))", found: missing.joined(separator: ", "))
            }
            classes = declared
        }
        var raw = [(Tensor, Int)]()
        for (k, cls) in classes.enumerated() where directory(dir + "/" + cls) {
            let files = (try? fm.contentsOfDirectory(atPath: dir + "/" + cls))?.filter { !$0.hasPrefix(".") && ImageFile.isImage($0) }.sorted() ?? []
            for f in files { raw.append((try ImageFile.load(dir + "/" + cls + "/" + f), k)) }
        }
        guard let first = raw.first else { throw ConvKitError.io(path: dir, reason: "expected PNG, JPEG or Netpbm images in the class folders, found none") }
        let size = options.imageSize ?? [first.0.shape[1], first.0.shape[2]]
        guard size.count == 2, size.allSatisfy({ (1...4096).contains($0) }) else {
            throw ConvKitError.invalidArgument(name: "--image-size", expected: "H,W each in 1…4096", found: "\(size)")
        }
        let c = channels ?? raw.map { $0.0.shape[0] }.max()!
        let bytes = Double(raw.count) * Double(c * size[0] * size[1]) * 4
        guard bytes <= Double(TrainingData.maxBytes) else {
            throw ConvKitError.invalidArgument(name: "--image-size for \(dir)", expected: "a set that fits in \(TrainingData.maxBytes >> 20) MB (TrainingData.maxBytes)",
                                               found: "\(raw.count) images of \(c)×\(size[0])×\(size[1]) needing \(Int(bytes / 1_048_576)) MB")
        }
        let images = raw.map { fit(Preprocessing.matchChannels($0.0, c), to: (size[0], size[1]), policy: options.resize) }
        return try declare(rescale(try LabeledImages(images: Tensor.stack(images), labels: raw.map(\.1), classNames: classes), options, dir), options, dir)
    }

    /// An image [C, H, W] brought to `size` by the policy.
    public static func fit(_ x: Tensor, to size: (Int, Int), policy: TrainingDataOptions.ResizePolicy) -> Tensor {
        let (h, w) = (x.shape[1], x.shape[2])
        if (h, w) == size { return x }
        switch policy {
        case .stretch: return Preprocessing.resize(x, to: size)
        case .crop:
            let s = Swift.max(Double(size.0) / Double(h), Double(size.1) / Double(w))
            let covering = (Swift.max(size.0, Int((Double(h) * s).rounded())), Swift.max(size.1, Int((Double(w) * s).rounded())))
            return Preprocessing.centerCrop(Preprocessing.resize(x, to: covering), to: size)
        }
    }

    /// A CSV of pixel rows. Labels are integers (contiguous 0..<C unless declared) or names (sorted, or declared).
    static func csv(_ path: String, options: TrainingDataOptions, classNames: [String]?) throws -> LabeledImages {
        let text = String(decoding: try AtomicFile.read(path), as: UTF8.self)
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }.filter { !$0.allSatisfy(\.isWhitespace) }
        guard let head = lines.first else { throw ConvKitError.corruptFile(path: path, offset: nil, expected: "rows of label,pixels…", found: "an empty file") }
        var firstLine = 1
        // A header: any field after the label that is not a number.
        if head.split(separator: ",").dropFirst().contains(where: { Float($0.trimmingCharacters(in: .whitespaces)) == nil }) { lines.removeFirst(); firstLine = 2 }
        guard let row = lines.first else { throw ConvKitError.corruptFile(path: path, offset: nil, expected: "rows after the header", found: "none") }
        let n = row.split(separator: ",", omittingEmptySubsequences: false).count - 1
        let shape = try options.csvShape ?? inferShape(n, path: path)
        guard shape.count == 3, shape.allSatisfy({ $0 > 0 }), Extents.product(shape) == n else {
            throw ConvKitError.invalidArgument(name: "--image-shape for \(path)", expected: "C,H,W with C·H·W = \(n) (the pixels per row)", found: shape.map(String.init).joined(separator: ","))
        }
        var values = [Float](), labelText = [String]()
        values.reserveCapacity(lines.count * n)
        for (i, line) in lines.enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == n + 1 else {
                throw ConvKitError.corruptFile(path: "\(path):\(i + firstLine)", offset: nil, expected: "a label and \(n) pixels", found: "\(fields.count) fields")
            }
            labelText.append(fields[0].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
            for f in fields.dropFirst() {
                guard let v = Float(f.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                    throw ConvKitError.corruptFile(path: "\(path):\(i + firstLine)", offset: nil, expected: "finite numeric pixels", found: "\"\(f)\"")
                }
                values.append(v)
            }
        }
        let (labels, names) = try labelIndices(labelText, declared: classNames ?? options.classes, path: path, firstLine: firstLine)
        let set = try LabeledImages(images: Tensor(shape: [labels.count] + shape, scalars: values), labels: labels, classNames: names)
        return try rescale(set, options, path)
    }

    static func inferShape(_ n: Int, path: String) throws -> [Int] {
        for c in [1, 3] where n % c == 0 {
            let s = Int(Double(n / c).squareRoot().rounded())
            if s * s * c == n { return [c, s, s] }
        }
        throw ConvKitError.invalidArgument(name: "--image-shape for \(path)", expected: "C,H,W (the \(n) pixels per row are not s² or 3·s²)", found: "none")
    }

    /// Label texts → indices. Integer labels: 0..<C contiguous (a gap is an error naming the row), or < K when K is
    /// declared. Names: sorted distinct names, or the declared list.
    static func labelIndices(_ text: [String], declared: [String]?, path: String, firstLine: Int) throws -> ([Int], [String]) {
        let ints = text.map { Int($0) }
        if let declared, !(declared.count == 1 && Int(declared[0]) != nil && ints.allSatisfy({ $0 != nil })) {
            let index = Dictionary(declared.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            return (try text.enumerated().map { i, t in
                guard let k = index[t] else {
                    throw ConvKitError.corruptFile(path: "\(path):\(i + firstLine)", offset: nil, expected: "a label among the declared classes \(declared.joined(separator: ", "))", found: "\"\(t)\"")
                }
                return k
            }, declared)
        }
        if ints.allSatisfy({ $0 != nil }) {
            let labels = ints.map { $0! }
            if let i = labels.firstIndex(where: { $0 < 0 }) {
                throw ConvKitError.corruptFile(path: "\(path):\(i + firstLine)", offset: nil, expected: "a label ≥ 0", found: "\(labels[i])")
            }
            let k: Int
            if let declared, let count = Int(declared[0]) {
                k = count
                if let i = labels.firstIndex(where: { $0 >= k }) {
                    throw ConvKitError.corruptFile(path: "\(path):\(i + firstLine)", offset: nil, expected: "a label in 0..<\(k) (--classes \(k))", found: "\(labels[i])")
                }
            } else {
                k = (labels.max() ?? -1) + 1
                guard k <= 100_000 else { throw ConvKitError.corruptFile(path: path, offset: nil, expected: "at most 100000 classes", found: "label \(k - 1)") }
                let present = Set(labels)
                if let gap = (0..<k).first(where: { !present.contains($0) }) {
                    let i = labels.firstIndex { $0 > gap }!
                    throw ConvKitError.corruptFile(path: "\(path):\(i + firstLine)", offset: nil,
                                                   expected: "contiguous labels 0…\(k - 1) (or --classes K)", found: "no example of class \(gap), but label \(labels[i])")
                }
            }
            return (labels, (0..<k).map(String.init))
        }
        let names = Array(Set(text)).sorted()
        let index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        return (text.map { index[$0]! }, names)
    }

    /// Checks values against the declared range 0…scale (default 255) and maps them to 0…255.
    static func rescale(_ set: LabeledImages, _ options: TrainingDataOptions, _ path: String) throws -> LabeledImages {
        let scale = options.scale ?? 255
        guard scale.isFinite, scale > 0 else { throw ConvKitError.invalidArgument(name: "--scale", expected: "a positive number", found: "\(scale)") }
        var lo = Float.infinity, hi = -Float.infinity
        set.images.withUnsafeBufferPointer { p in for v in p { lo = Swift.min(lo, v); hi = Swift.max(hi, v) } }
        guard lo.isFinite, hi.isFinite, lo >= 0, hi <= scale else {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "values in 0…\(scale) (declare the range with --scale MAX)",
                                           found: "values in \(lo)…\(hi)")
        }
        if scale == 255 { return set }
        var out = set
        out.images = set.images * (255 / scale)
        return out
    }

    /// With `--classes` declared for IDX data, the set's class list becomes the declared one (labels must fit).
    static func declare(_ set: LabeledImages, _ options: TrainingDataOptions, _ path: String) throws -> LabeledImages {
        guard let declared = options.classes else { return set }
        let names = declared.count == 1 && Int(declared[0]) != nil ? (0..<Int(declared[0])!).map(String.init) : declared
        if names == set.classNames { return set }
        if set.classNames.allSatisfy({ Int($0) != nil }) {   // integer labels: declared count or names in label order
            guard set.classNames.count <= names.count else {
                throw ConvKitError.corruptFile(path: path, offset: nil, expected: "labels in 0..<\(names.count) (--classes)", found: "label \(set.classNames.count - 1)")
            }
            return try LabeledImages(images: set.images, labels: set.labels, classNames: names)
        }
        return set
    }

    /// A test set whose class names must be among the training classes, re-indexed to them.
    static func relabel(_ set: LabeledImages, to classes: [String], path: String) throws -> LabeledImages {
        if set.classNames == classes { return set }
        let index = Dictionary(classes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let unknown = set.classNames.filter { index[$0] == nil }
        if !unknown.isEmpty, !(set.classNames.allSatisfy { Int($0) != nil } && set.classNames.count <= classes.count) {
            throw ConvKitError.invalidArgument(name: "test classes in \(path)", expected: "classes of the training data (\(classes.joined(separator: ", ")))", found: unknown.joined(separator: ", "))
        }
        return try LabeledImages(images: set.images, labels: set.labels.map { index[set.classNames[$0]] ?? $0 }, classNames: classes)
    }

    /// Splits off `fraction` of each class (at least one example of a class with two or more), seeded: returns
    /// (kept, held out). Deterministic for a seed; the held-out part keeps the set's class list.
    public static func stratifiedSplit(_ set: LabeledImages, fraction: Double, seed: UInt64) -> (kept: LabeledImages, heldOut: LabeledImages) {
        precondition(fraction > 0 && fraction < 1, "split fraction must be in (0, 1)")
        var rng = SeededGenerator(seed: seed)
        var kept = [Int](), held = [Int]()
        for k in 0..<set.classNames.count {
            let members = set.labels.indices.filter { set.labels[$0] == k }
            guard !members.isEmpty else { continue }
            let order = Tensor.permutation(members.count, rng: &rng).map { members[$0] }
            let n = members.count < 2 ? 0 : Swift.min(members.count - 1, Swift.max(1, Int((Double(members.count) * fraction).rounded())))
            held += order.prefix(n); kept += order.dropFirst(n)
        }
        return (set.subset(kept.sorted()), set.subset(held.sorted()))
    }
}
