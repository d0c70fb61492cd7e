import ConvKit

/// How the four numbers of a box are laid out.
public enum BoxFormat: String, Equatable, CaseIterable, Sendable {
    /// Corners: (x1, y1, x2, y2), x to the right, y down. What IoU, NMS and drawing use.
    case xyxy
    /// Top-left corner and size: (x, y, w, h), as COCO stores boxes.
    case xywh
    /// Center and size: (cx, cy, w, h), as YOLO label files store them (normalized to the image).
    case cxcywh
}

/// Whether coordinates are in pixels or fractions of the image size (YOLO labels are normalized).
public enum BoxUnits: Equatable, Sendable { case pixels, normalized }

/// A set of N boxes, `[N, 4]` row-major, that carries its format and units (detectron2's `Boxes` idea: the
/// format is in the type, conversions are explicit).
public struct BoxSet: Equatable, Sendable {
    /// N·4 numbers, box after box, in `format`.
    public private(set) var coordinates: [Float]
    public let format: BoxFormat
    public let units: BoxUnits

    /// Boxes from a flat `[N·4]` array. Precondition: the count is a multiple of 4 (use `init(validating:)`
    /// for data from outside).
    public init(_ coordinates: [Float], format: BoxFormat = .xyxy, units: BoxUnits = .pixels) {
        precondition(coordinates.count % 4 == 0, "box coordinates come in fours, found \(coordinates.count)")
        self.coordinates = coordinates; self.format = format; self.units = units
    }

    /// Boxes from rows of four.
    public init(rows: [[Float]], format: BoxFormat = .xyxy, units: BoxUnits = .pixels) {
        precondition(rows.allSatisfy { $0.count == 4 }, "every box needs 4 numbers")
        self.init(rows.flatMap { $0 }, format: format, units: units)
    }

    /// Boxes from a `[N, 4]` tensor.
    public init(validating t: Tensor, format: BoxFormat = .xyxy, units: BoxUnits = .pixels) throws {
        guard t.rank == 2, t.shape[1] == 4 else { throw ConvKitError.shapeMismatch(expected: "boxes [N, 4]", found: "\(t.shape)") }
        self.init(t.scalars, format: format, units: units)
    }

    public static func empty(format: BoxFormat = .xyxy, units: BoxUnits = .pixels) -> BoxSet { BoxSet([], format: format, units: units) }

    /// Number of boxes.
    public var count: Int { coordinates.count / 4 }
    public var isEmpty: Bool { coordinates.isEmpty }

    /// The four numbers of box i, in this set's format.
    public subscript(i: Int) -> (Float, Float, Float, Float) {
        (coordinates[4 * i], coordinates[4 * i + 1], coordinates[4 * i + 2], coordinates[4 * i + 3])
    }

    /// The boxes as a `[N, 4]` tensor.
    public var tensor: Tensor { Tensor(shape: [count, 4], scalars: coordinates) }

    /// The same boxes in another format (units unchanged). x2 = x + w, cx = x + w/2, and back.
    public func converted(to target: BoxFormat) -> BoxSet {
        if target == format { return self }
        var out = [Float](repeating: 0, count: coordinates.count)
        for i in 0..<count {
            let (a, b, c, d) = self[i]
            var x1: Float, y1: Float, x2: Float, y2: Float
            switch format {
            case .xyxy: (x1, y1, x2, y2) = (a, b, c, d)
            case .xywh: (x1, y1, x2, y2) = (a, b, a + c, b + d)
            case .cxcywh: (x1, y1, x2, y2) = (a - c / 2, b - d / 2, a + c / 2, b + d / 2)
            }
            switch target {
            case .xyxy: (out[4 * i], out[4 * i + 1], out[4 * i + 2], out[4 * i + 3]) = (x1, y1, x2, y2)
            case .xywh: (out[4 * i], out[4 * i + 1], out[4 * i + 2], out[4 * i + 3]) = (x1, y1, x2 - x1, y2 - y1)
            case .cxcywh: (out[4 * i], out[4 * i + 1], out[4 * i + 2], out[4 * i + 3]) = ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)
            }
        }
        return BoxSet(out, format: target, units: units)
    }

    /// Corner form; what the IoU and NMS kernels take.
    public var xyxy: BoxSet { converted(to: .xyxy) }

    /// Areas w·h (negative extents give 0), `[N]`.
    public var areas: [Float] {
        let b = xyxy
        return (0..<count).map { i in let (x1, y1, x2, y2) = b[i]; return Swift.max(0, x2 - x1) * Swift.max(0, y2 - y1) }
    }

    /// Corners clipped to the image `[0, width] × [0, height]` (in this set's units); format kept.
    public func clipped(width: Float, height: Float) -> BoxSet {
        var b = xyxy
        for i in 0..<count {
            for (k, limit) in [(0, width), (1, height), (2, width), (3, height)] {
                b.coordinates[4 * i + k] = Swift.min(Swift.max(b.coordinates[4 * i + k], 0), limit)
            }
        }
        return b.converted(to: format)
    }

    /// Every x multiplied by sx and every y by sy (sizes too); format and units kept.
    public func scaled(x sx: Float, y sy: Float) -> BoxSet { mapped(units) { $0 * sx } y: { $0 * sy } }

    /// Pixels → fractions of an image of `width × height` (x / width, y / height).
    public func normalized(width: Float, height: Float) -> BoxSet {
        precondition(units == .pixels, "boxes are already normalized")
        return mapped(.normalized) { $0 / width } y: { $0 / height }
    }

    private func mapped(_ newUnits: BoxUnits, x fx: (Float) -> Float, y fy: (Float) -> Float) -> BoxSet {
        var out = coordinates
        for i in 0..<count { out[4 * i] = fx(out[4 * i]); out[4 * i + 1] = fy(out[4 * i + 1]); out[4 * i + 2] = fx(out[4 * i + 2]); out[4 * i + 3] = fy(out[4 * i + 3]) }
        return BoxSet(out, format: format, units: newUnits)
    }

    /// Fractions → pixels of an image of `width × height`.
    public func inPixels(width: Float, height: Float) -> BoxSet {
        precondition(units == .normalized, "boxes are already in pixels")
        return mapped(.pixels) { $0 * width } y: { $0 * height }
    }

    /// The boxes at `indices`, in that order.
    public func gathered(_ indices: [Int]) -> BoxSet {
        var out = [Float](); out.reserveCapacity(indices.count * 4)
        for i in indices { out.append(contentsOf: coordinates[4 * i..<4 * i + 4]) }
        return BoxSet(out, format: format, units: units)
    }

    /// This set followed by `other` (same format and units).
    public func appending(_ other: BoxSet) -> BoxSet {
        precondition(other.format == format && other.units == units, "appending boxes of another format or units")
        return BoxSet(coordinates + other.coordinates, format: format, units: units)
    }

    /// The corners as planes x1, y1, x2, y2 and areas (x2 − x1)(y2 − y1) computed as torchvision does (no clamp):
    /// the layout the IoU and NMS kernels read.
    func planes() -> (x1: [Float], y1: [Float], x2: [Float], y2: [Float], area: [Float]) {
        let b = xyxy.coordinates, n = count
        var x1 = [Float](repeating: 0, count: n), y1 = x1, x2 = x1, y2 = x1, area = x1
        for i in 0..<n {
            x1[i] = b[4 * i]; y1[i] = b[4 * i + 1]; x2[i] = b[4 * i + 2]; y2[i] = b[4 * i + 3]
            area[i] = (x2[i] - x1[i]) * (y2[i] - y1[i])
        }
        return (x1, y1, x2, y2, area)
    }
}
