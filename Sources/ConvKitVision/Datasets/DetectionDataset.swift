import ConvKit
import ConvKitData
import Foundation

/// One labelled image of a detection set: pixels [C, H, W] in 0…255, boxes in pixels (xyxy), a class per box.
public struct DetectionSample {
    public var image: Tensor
    public var boxes: BoxSet
    public var classes: [Int]
    /// Where it came from (file name, or a generated id).
    public var name: String
    public init(image: Tensor, boxes: BoxSet, classes: [Int], name: String) {
        precondition(boxes.count == classes.count, "\(boxes.count) boxes with \(classes.count) classes")
        self.image = image; self.boxes = boxes.xyxy; self.classes = classes; self.name = name
    }
    public var width: Int { image.shape[2] }
    public var height: Int { image.shape[1] }
}

/// A detection split: samples and the class names their class indices refer to.
public struct DetectionDataset {
    public var samples: [DetectionSample]
    public var classNames: [String]
    public init(samples: [DetectionSample], classNames: [String]) { self.samples = samples; self.classNames = classNames }
    public var count: Int { samples.count }

    /// The ground truth as a COCO instances file: image ids 1…N in sample order, category ids = class index + 1.
    public func cocoGroundTruth() -> COCODataset {
        var anns = [COCODataset.Annotation]()
        for (i, s) in samples.enumerated() {
            let b = s.boxes.converted(to: .xywh)
            for j in 0..<b.count {
                let (x, y, w, h) = b[j]
                anns.append(.init(id: anns.count + 1, imageId: i + 1, categoryId: s.classes[j] + 1, bbox: [Double(x), Double(y), Double(w), Double(h)]))
            }
        }
        return COCODataset(images: samples.enumerated().map { .init(id: $0 + 1, fileName: $1.name, width: $1.width, height: $1.height) },
                           categories: classNames.enumerated().map { .init(id: $0 + 1, name: $1) }, annotations: anns)
    }
}

/// Detection sets in a folder: YOLO's layout (`images/` with `labels/*.txt`, one `class cx cy w h` line per
/// box, normalized to the image), either `DIR/SPLIT/images` (Roboflow) or `DIR/images/SPLIT` (ultralytics);
/// class names from `classes.txt` (one per line) when present.
public enum YOLOFolder {
    /// The images and labels folders of a split, in either layout.
    public static func splitFolders(_ dir: String, split: String) -> (images: String, labels: String)? {
        let fm = FileManager.default
        for (i, l) in [("\(dir)/\(split)/images", "\(dir)/\(split)/labels"), ("\(dir)/images/\(split)", "\(dir)/labels/\(split)")]
            where fm.fileExists(atPath: i) { return (i, l) }
        return nil
    }

    /// Reads one split. Every label line is checked (five numbers, a class in range when names are known,
    /// coordinates finite and w, h > 0 in (0, 1] give or take rounding); a missing label file means no objects.
    public static func load(_ dir: String, split: String, maxImages: Int? = nil) throws -> DetectionDataset {
        guard let (imageDir, labelDir) = splitFolders(dir, split: split) else {
            throw ConvKitError.io(path: "\(dir)/\(split)/images", reason: "no such folder (a YOLO folder has SPLIT/images and SPLIT/labels, or images/SPLIT and labels/SPLIT)")
        }
        let names = try classNames(dir)
        let files = try FileManager.default.contentsOfDirectory(atPath: imageDir).filter { ImageFile.isImage($0) }.sorted()
        guard !files.isEmpty else { throw ConvKitError.io(path: imageDir, reason: "no PNG, JPEG, PGM or PPM images") }
        var samples = [DetectionSample]()
        var maxClass = -1
        for f in files.prefix(maxImages ?? files.count) {
            let image = try ImageFile.load("\(imageDir)/\(f)")
            let labelPath = "\(labelDir)/\((f as NSString).deletingPathExtension).txt"
            let (boxes, classes) = try FileManager.default.fileExists(atPath: labelPath)
                ? parseLabels(try String(contentsOfFile: labelPath, encoding: .utf8), path: labelPath, classCount: names?.count,
                              width: image.shape[2], height: image.shape[1])
                : (BoxSet.empty(), [])
            maxClass = Swift.max(maxClass, classes.max() ?? -1)
            samples.append(DetectionSample(image: image, boxes: boxes, classes: classes, name: f))
        }
        return DetectionDataset(samples: samples, classNames: names ?? (0...Swift.max(0, maxClass)).map(String.init))
    }

    static func classNames(_ dir: String) throws -> [String]? {
        let p = "\(dir)/classes.txt"
        guard FileManager.default.fileExists(atPath: p) else { return nil }
        let names = try String(contentsOfFile: p, encoding: .utf8).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty, names.count <= 10_000 else { throw ConvKitError.corruptFile(path: p, offset: nil, expected: "1…10000 class names, one per line", found: "\(names.count)") }
        return names
    }

    /// Parses a YOLO label file into pixel boxes (xyxy) and class indices.
    public static func parseLabels(_ text: String, path: String, classCount: Int?, width: Int, height: Int) throws -> (BoxSet, [Int]) {
        var coords = [Float](), classes = [Int]()
        for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            func bad(_ expected: String) -> ConvKitError {
                .corruptFile(path: path, offset: nil, expected: "line \(n + 1): \(expected)", found: "\"\(line.prefix(80))\"")
            }
            guard fields.count == 5 else { throw bad("5 fields: class cx cy w h") }
            guard let c = Int(fields[0]), c >= 0 else { throw bad("a class index ≥ 0") }
            if let k = classCount, c >= k { throw bad("a class index below \(k) (classes.txt)") }
            let v = fields[1...].compactMap { Float($0) }
            guard v.count == 4, v.allSatisfy(\.isFinite) else { throw bad("four finite numbers cx cy w h") }
            guard v[2] > 0, v[3] > 0, v[2] <= 1.001, v[3] <= 1.001, (-0.001...1.001).contains(v[0]), (-0.001...1.001).contains(v[1]) else {
                throw bad("normalized cx, cy in [0, 1] and w, h in (0, 1]")
            }
            let (w, h) = (Float(width), Float(height))
            coords += [(v[0] - v[2] / 2) * w, (v[1] - v[3] / 2) * h, (v[0] + v[2] / 2) * w, (v[1] + v[3] / 2) * h]
            classes.append(c)
        }
        return (BoxSet(coords), classes)
    }

    /// YOLO label text for boxes (pixels, any format) on an image of `width × height`: `class cx cy w h`, normalized.
    public static func labelText(_ boxes: BoxSet, classes: [Int], width: Int, height: Int) -> String {
        let b = boxes.converted(to: .cxcywh).normalized(width: Float(width), height: Float(height))
        return (0..<b.count).map { i in
            let (cx, cy, w, h) = b[i]
            return String(format: "%d %.6f %.6f %.6f %.6f", classes[i], cx, cy, w, h)
        }.joined(separator: "\n") + (b.isEmpty ? "" : "\n")
    }

    /// Writes a split in the `DIR/SPLIT/images|labels` layout (PNG images), and `classes.txt`.
    public static func save(_ set: DetectionDataset, to dir: String, split: String) throws {
        let fm = FileManager.default
        for sub in ["images", "labels"] { try fm.createDirectory(atPath: "\(dir)/\(split)/\(sub)", withIntermediateDirectories: true) }
        for s in set.samples {
            let stem = (s.name as NSString).deletingPathExtension
            try PNG.save(PNG.Image(tensor: s.image), to: "\(dir)/\(split)/images/\(stem).png")
            try AtomicFile.write(Data(labelText(s.boxes, classes: s.classes, width: s.width, height: s.height).utf8), to: "\(dir)/\(split)/labels/\(stem).txt")
        }
        try AtomicFile.write(Data((set.classNames.joined(separator: "\n") + "\n").utf8), to: "\(dir)/classes.txt")
    }
}

/// Detection sets as COCO stores them: `DIR/SPLIT/annotations.json` (instances) with image `file_name`s relative
/// to `DIR/SPLIT`. Category ids are mapped to class indices in ascending id order; crowd annotations are skipped
/// for training. A missing or unreadable image is an error that names the image record.
public enum COCOFolder {
    public static func annotationsPath(_ dir: String, split: String) -> String? {
        let p = "\(dir)/\(split)/annotations.json"
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    public static func load(_ dir: String, split: String, maxImages: Int? = nil) throws -> DetectionDataset {
        guard let path = annotationsPath(dir, split: split) else {
            throw ConvKitError.io(path: "\(dir)/\(split)/annotations.json", reason: "no such file (a COCO folder has SPLIT/annotations.json)")
        }
        let coco = try COCODataset.load(path)
        let cats = coco.categories.sorted { $0.id < $1.id }
        let index = Dictionary(uniqueKeysWithValues: cats.enumerated().map { ($1.id, $0) })
        var byImage = [Int: [COCODataset.Annotation]]()
        for a in coco.annotations where !a.isCrowd { byImage[a.imageId, default: []].append(a) }
        var samples = [DetectionSample]()
        for (i, im) in coco.images.prefix(maxImages ?? coco.images.count).enumerated() {
            let file = "\(dir)/\(split)/\(im.fileName)"
            let image: Tensor
            do { image = try ImageFile.load(file) } catch {
                throw ConvKitError.corruptFile(path: path, offset: nil, expected: "images[\(i)] (id \(im.id)): a readable image \(im.fileName)", found: "\(error)")
            }
            let anns = byImage[im.id] ?? []
            let boxes = BoxSet(anns.flatMap { $0.bbox.map(Float.init) }, format: .xywh)
            samples.append(DetectionSample(image: image, boxes: boxes, classes: anns.map { index[$0.categoryId]! }, name: (im.fileName as NSString).lastPathComponent))
        }
        guard !samples.isEmpty else { throw ConvKitError.corruptFile(path: path, offset: nil, expected: "at least one image", found: "none") }
        return DetectionDataset(samples: samples, classNames: cats.map(\.name))
    }
}

/// A detection split from a folder in either format: YOLO (`images/` + `labels/`) when present, else COCO.
public enum DetectionFolder {
    public static func load(_ dir: String, split: String, maxImages: Int? = nil) throws -> DetectionDataset {
        if YOLOFolder.splitFolders(dir, split: split).map({ FileManager.default.fileExists(atPath: $0.labels) }) == true || COCOFolder.annotationsPath(dir, split: split) == nil {
            return try YOLOFolder.load(dir, split: split, maxImages: maxImages)
        }
        return try COCOFolder.load(dir, split: split, maxImages: maxImages)
    }

    /// The first of test, val, valid that the folder has (either format).
    public static func testSplit(_ dir: String) -> String {
        ["test", "val", "valid"].first { YOLOFolder.splitFolders(dir, split: $0) != nil || COCOFolder.annotationsPath(dir, split: $0) != nil } ?? "test"
    }
}
