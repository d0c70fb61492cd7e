import ConvKit
import Foundation

/// A COCO "instances" file (the ground truth of a detection set): images, categories and box annotations.
/// Boxes are `[x, y, w, h]` in pixels (`BoxFormat.xywh`), as COCO stores them.
public struct COCODataset: Equatable {
    public struct Image: Equatable {
        public var id: Int, fileName: String, width: Int, height: Int
        public init(id: Int, fileName: String, width: Int, height: Int) { self.id = id; self.fileName = fileName; self.width = width; self.height = height }
    }
    public struct Category: Equatable {
        public var id: Int, name: String
        public init(id: Int, name: String) { self.id = id; self.name = name }
    }
    public struct Annotation: Equatable {
        public var id: Int, imageId: Int, categoryId: Int
        /// [x, y, w, h] in pixels.
        public var bbox: [Double]
        /// The annotation's `area` field (pycocotools uses it, not w·h, for the small/medium/large ranges); w·h when absent.
        public var area: Double
        /// Crowd regions: matched by any number of detections, never counted as misses.
        public var isCrowd: Bool
        public init(id: Int, imageId: Int, categoryId: Int, bbox: [Double], area: Double? = nil, isCrowd: Bool = false) {
            self.id = id; self.imageId = imageId; self.categoryId = categoryId; self.bbox = bbox
            self.area = area ?? bbox[2] * bbox[3]; self.isCrowd = isCrowd
        }
    }

    public var images: [Image]
    public var categories: [Category]
    public var annotations: [Annotation]

    public init(images: [Image], categories: [Category], annotations: [Annotation]) {
        self.images = images; self.categories = categories; self.annotations = annotations
    }

    /// Reads and validates a COCO instances JSON file: every record's required fields, integer ids, boxes of four
    /// finite numbers with w, h ≥ 0, annotations that name a listed image and category. Errors name the record.
    public static func load(_ path: String) throws -> COCODataset { try parse(JSON.load(path), path: path) }

    /// Validates parsed JSON as a COCO instances file (as `load`); `path` names it in errors.
    public static func parse(_ json: JSONValue, path: String) throws -> COCODataset {
        let r = JSONRecords(path: path)
        let root = try r.root(json)
        let images = try r.list(root, "images").enumerated().map { i, v -> Image in
            let o = try r.object(v, "images[\(i)]")
            return Image(id: try r.int(o, "id", "images[\(i)]"), fileName: o["file_name"]?.string ?? "",
                         width: try r.optionalInt(o, "width", "images[\(i)]") ?? 0, height: try r.optionalInt(o, "height", "images[\(i)]") ?? 0)
        }
        let categories = try r.list(root, "categories").enumerated().map { i, v -> Category in
            let o = try r.object(v, "categories[\(i)]")
            return Category(id: try r.int(o, "id", "categories[\(i)]"), name: o["name"]?.string ?? "\(i)")
        }
        let imageIds = Set(images.map(\.id)), categoryIds = Set(categories.map(\.id))
        guard imageIds.count == images.count else { throw r.error("images", "unique image ids", "duplicates") }
        let annotations = try r.list(root, "annotations").enumerated().map { i, v -> Annotation in
            let at = "annotations[\(i)]"
            let o = try r.object(v, at)
            let a = Annotation(id: try r.int(o, "id", at), imageId: try r.int(o, "image_id", at), categoryId: try r.int(o, "category_id", at),
                               bbox: try r.box(o, at), area: try r.optionalDouble(o, "area", at), isCrowd: (try r.optionalInt(o, "iscrowd", at) ?? 0) != 0)
            guard imageIds.contains(a.imageId) else { throw r.error(at + ".image_id", "an id listed in images", "\(a.imageId)") }
            guard categoryIds.contains(a.categoryId) else { throw r.error(at + ".category_id", "an id listed in categories", "\(a.categoryId)") }
            guard a.area >= 0 else { throw r.error(at + ".area", "a finite area ≥ 0", "\(a.area)") }
            return a
        }
        return COCODataset(images: images, categories: categories, annotations: annotations)
    }

    /// The file as COCO writes it (keys sorted), written atomically.
    public func save(to path: String) throws {
        let obj: [String: Any] = [
            "images": images.map { ["id": $0.id, "file_name": $0.fileName, "width": $0.width, "height": $0.height] as [String: Any] },
            "categories": categories.map { ["id": $0.id, "name": $0.name] as [String: Any] },
            "annotations": annotations.map { ["id": $0.id, "image_id": $0.imageId, "category_id": $0.categoryId, "bbox": $0.bbox,
                                              "area": $0.area, "iscrowd": $0.isCrowd ? 1 : 0] as [String: Any] },
        ]
        try AtomicFile.write(JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), to: path)
    }
}

/// One detection of a COCO results file: `{"image_id", "category_id", "bbox": [x, y, w, h], "score"}`.
public struct COCODetection: Equatable {
    public var imageId: Int, categoryId: Int
    public var bbox: [Double]
    public var score: Double
    public init(imageId: Int, categoryId: Int, bbox: [Double], score: Double) {
        self.imageId = imageId; self.categoryId = categoryId; self.bbox = bbox; self.score = score
    }

    /// Reads a COCO results file (a JSON list of detections), each record checked.
    public static func load(_ path: String) throws -> [COCODetection] { try parse(JSON.load(path), path: path) }

    /// Validates parsed JSON as a COCO results list (as `load`).
    public static func parse(_ json: JSONValue, path: String) throws -> [COCODetection] {
        let r = JSONRecords(path: path)
        guard let list = json.array else { throw r.error("the file", "a JSON list of detections", "another JSON value") }
        return try list.enumerated().map { i, v in
            let at = "detection[\(i)]"
            let o = try r.object(v, at)
            let score = try r.double(o, "score", at)
            guard score.isFinite else { throw r.error(at + ".score", "a finite number", "\(score)") }
            return COCODetection(imageId: try r.int(o, "image_id", at), categoryId: try r.int(o, "category_id", at), bbox: try r.box(o, at), score: score)
        }
    }

    /// Writes a results file atomically.
    public static func save(_ detections: [COCODetection], to path: String) throws {
        let list = detections.map { ["image_id": $0.imageId, "category_id": $0.categoryId, "bbox": $0.bbox, "score": $0.score] as [String: Any] }
        try AtomicFile.write(JSONSerialization.data(withJSONObject: list, options: [.sortedKeys]), to: path)
    }
}

/// Reading JSON records with errors that name the file and the record.
struct JSONRecords {
    let path: String

    func error(_ at: String, _ expected: String, _ found: String) -> ConvKitError {
        .corruptFile(path: path, offset: nil, expected: "\(at): \(expected)", found: found)
    }

    func root(_ v: JSONValue) throws -> [String: JSONValue] {
        guard let o = v.object else { throw error("the file", "a JSON object", "another JSON value") }
        return o
    }

    func list(_ o: [String: JSONValue], _ key: String) throws -> [JSONValue] {
        guard let v = o[key] else { throw error("key \"\(key)\"", "a list", "no such key") }
        guard let l = v.array else { throw error("\"\(key)\"", "a list", "\(v)".prefix(60).description) }
        return l
    }

    func object(_ v: JSONValue, _ at: String) throws -> [String: JSONValue] {
        guard let o = v.object else { throw error(at, "an object", "\(v)".prefix(60).description) }
        return o
    }

    func double(_ o: [String: JSONValue], _ key: String, _ at: String) throws -> Double {
        guard let v = o[key] else { throw error(at, "key \"\(key)\"", "none") }
        if case .bool(let b) = v { return b ? 1 : 0 }
        guard let d = v.number else { throw error("\(at).\(key)", "a number", "\(v)".prefix(60).description) }
        return d
    }

    func optionalDouble(_ o: [String: JSONValue], _ key: String, _ at: String) throws -> Double? {
        guard let v = o[key], v != .null else { return nil }
        let d = try double(o, key, at)
        guard d.isFinite else { throw error("\(at).\(key)", "a finite number", "\(d)") }
        return d
    }

    func int(_ o: [String: JSONValue], _ key: String, _ at: String) throws -> Int {
        let d = try double(o, key, at)
        guard d.isFinite, d == d.rounded(), Swift.abs(d) < 9e15 else { throw error("\(at).\(key)", "an integer", "\(d)") }
        return Int(d)
    }

    func optionalInt(_ o: [String: JSONValue], _ key: String, _ at: String) throws -> Int? {
        guard let v = o[key], v != .null else { return nil }
        return try int(o, key, at)
    }

    /// `bbox`: four finite numbers, w and h ≥ 0.
    func box(_ o: [String: JSONValue], _ at: String) throws -> [Double] {
        guard let v = o["bbox"] else { throw error(at, "key \"bbox\"", "none") }
        guard let l = v.array, l.count == 4 else { throw error("\(at).bbox", "[x, y, w, h]", "\(v)".prefix(80).description) }
        let b = l.compactMap(\.number)
        guard b.count == 4, b.allSatisfy(\.isFinite), b[2] >= 0, b[3] >= 0 else {
            throw error("\(at).bbox", "four finite numbers with w, h ≥ 0", "\(b)")
        }
        return b
    }
}
