import ConvKit
import Foundation

/// Netpbm images: PBM (P1/P4), PGM (P2/P5) and PPM (P3/P6), ASCII or binary, 8- or 16-bit.
/// Pixels come back as a PNG.Image (1 channel for PBM/PGM, 3 for PPM); PBM's 1 (black) becomes 0.
public enum Netpbm {
    public static func load(_ path: String) throws -> PNG.Image { try decode([UInt8](AtomicFile.read(path)), path: path) }

    public static func decode(_ b: [UInt8], path: String) throws -> PNG.Image {
        var pos = 0
        func fail(_ expected: String, _ found: String) -> ConvKitError { .corruptFile(path: path, offset: pos, expected: expected, found: found) }
        func skipSpace() {
            while pos < b.count {
                if b[pos] == UInt8(ascii: "#") { while pos < b.count && b[pos] != 10 { pos += 1 } }
                else if [9, 10, 13, 32].contains(b[pos]) { pos += 1 } else { break }
            }
        }
        func number(_ what: String) throws -> Int {
            skipSpace()
            var v = 0, digits = 0
            while pos < b.count, b[pos] >= 48, b[pos] <= 57 {
                v = v * 10 + Int(b[pos] - 48); pos += 1; digits += 1
                if v > 1 << 24 { throw fail("\(what) below 2^24", "a larger number") }
            }
            guard digits > 0 else { throw fail("a decimal \(what)", pos < b.count ? "byte \(b[pos])" : "end of file") }
            return v
        }
        guard b.count >= 2, b[0] == UInt8(ascii: "P"), (49...54).contains(b[1]) else { throw fail("a Netpbm magic P1–P6", "other bytes") }
        let kind = Int(b[1] - 48)
        pos = 2
        let w = try number("width"), h = try number("height")
        try ImageLimits.check(width: w, height: h, path: path)   // w, h < 2^24 each: the product cannot overflow
        let maxv = kind == 1 || kind == 4 ? 1 : try number("maximum value")
        guard maxv > 0, maxv < 65_536 else { throw fail("a maximum value 1…65535", "\(maxv)") }
        let channels = kind == 3 || kind == 6 ? 3 : 1
        let n = w * h * channels
        // Every sample needs at least one byte (ASCII: a digit and a separator; PBM: 1 bit): check before allocating.
        guard (kind == 4 ? (n + 7) / 8 : (kind <= 3 ? n : n)) <= b.count - pos else {
            throw fail("\(n) samples for \(w)×\(h)", "only \(b.count - pos) bytes left (truncated?)")
        }
        var samples = [UInt16](repeating: 0, count: n)
        switch kind {
        case 1, 2, 3:
            for i in 0..<n {
                if kind == 1 { skipSpace(); guard pos < b.count else { throw fail("\(n) pixels", "\(i)") }; samples[i] = b[pos] == UInt8(ascii: "1") ? 0 : 1; pos += 1 }
                else { samples[i] = UInt16(Swift.min(try number("sample"), maxv)) }
            }
        case 4:
            pos += 1
            let stride = (w + 7) / 8
            guard b.count - pos >= stride * h else { throw fail("\(stride * h) bytes of bits", "\(b.count - pos) (truncated)") }
            for y in 0..<h { for x in 0..<w { samples[y * w + x] = (b[pos + y * stride + x / 8] >> (7 - x % 8)) & 1 == 1 ? 0 : 1 } }
        default:
            pos += 1   // the single whitespace after the header
            let size = maxv > 255 ? 2 : 1
            guard b.count - pos >= n * size else { throw fail("\(n * size) bytes of pixels", "\(b.count - pos) (truncated)") }
            for i in 0..<n { samples[i] = size == 2 ? UInt16(b[pos + 2 * i]) << 8 | UInt16(b[pos + 2 * i + 1]) : UInt16(b[pos + i]) }
        }
        let depth = maxv == 1 ? 1 : (maxv > 255 ? 16 : 8)
        if depth == 8 && maxv != 255 { for i in 0..<n { samples[i] = UInt16((Int(samples[i]) * 255 + maxv / 2) / maxv) } }
        return PNG.Image(width: w, height: h, channels: channels, bitDepth: depth == 1 ? 8 : depth, samples: depth == 1 ? samples.map { $0 * 255 } : samples)
    }

    /// Binary PGM (1 channel) or PPM (3 channels), 8-bit.
    public static func encode(_ img: PNG.Image) -> [UInt8] {
        precondition(img.channels == 1 || img.channels == 3, "PGM/PPM need 1 or 3 channels")
        var out = Array("P\(img.channels == 1 ? 5 : 6)\n\(img.width) \(img.height)\n255\n".utf8)
        out += img.samples.map { UInt8(Swift.min($0, 255)) }
        return out
    }
}

/// Reads any supported image file by its content (PNG, JPEG or Netpbm) into [C, H, W] with values 0…255.
public enum ImageFile {
    /// File name extensions of the formats `load` reads (lower case).
    public static let extensions: Set<String> = ["png", "jpg", "jpeg", "jpe", "jfif", "pgm", "ppm", "pbm", "pnm"]

    /// Whether `name` has one of `extensions` (any case).
    public static func isImage(_ name: String) -> Bool { extensions.contains((name as NSString).pathExtension.lowercased()) }

    /// Writes `image` in the format its extension names — .png, .jpg/.jpeg (at `quality`), .ppm/.pgm — atomically.
    public static func save(_ image: PNG.Image, to path: String, quality: Int = 90) throws {
        switch (path as NSString).pathExtension.lowercased() {
        case "png": try PNG.save(image, to: path)
        case "jpg", "jpeg", "jpe", "jfif": try JPEG.save(image, to: path, quality: quality)
        case "ppm", "pgm", "pnm":
            let channels = image.channels >= 3 ? 3 : 1
            var samples = [UInt16](repeating: 0, count: image.width * image.height * channels)
            let scale = image.bitDepth == 16 ? 257 : 1
            for i in 0..<(image.width * image.height) { for c in 0..<channels { samples[i * channels + c] = image.samples[i * image.channels + c] / UInt16(scale) } }
            try AtomicFile.write(Data(Netpbm.encode(PNG.Image(width: image.width, height: image.height, channels: channels, samples: samples))), to: path)
        default:
            throw ConvKitError.invalidArgument(name: "output file \(path)", expected: "a name ending in .png, .jpg, .jpeg, .ppm or .pgm",
                                               found: (path as NSString).pathExtension.isEmpty ? "no extension" : "." + (path as NSString).pathExtension)
        }
    }

    /// Decodes any supported image file into an image of 8- or 16-bit samples (JPEG: EXIF orientation applied).
    public static func loadImage(_ path: String) throws -> PNG.Image {
        let bytes = [UInt8](try AtomicFile.read(path))
        if bytes.starts(with: PNG.signature) { return try PNG.decode(bytes, path: path) }
        if bytes.starts(with: JPEG.signature) { return try JPEG.decode(bytes, path: path) }
        if bytes.first == UInt8(ascii: "P") { return try Netpbm.decode(bytes, path: path) }
        throw ConvKitError.corruptFile(path: path, offset: 0, expected: "a PNG, JPEG or Netpbm (PGM/PPM/PBM) image", found: "unknown bytes")
    }

    public static func load(_ path: String) throws -> Tensor {
        let img = try loadImage(path)
        let t = img.tensor
        return img.bitDepth == 16 ? t * (255 / 65_535) : t
    }

    /// A CSV of pixels: one image per line, `label,p0,p1,…` (the MNIST CSV form); `rows`×`cols` pixels.
    public static func loadCSV(_ path: String, rows: Int, cols: Int, hasHeader: Bool = false) throws -> (Tensor, [Int]) {
        let text = String(decoding: try AtomicFile.read(path), as: UTF8.self)
        var values = [Float](), labels = [Int]()
        for (n, line) in text.split(separator: "\n").enumerated() where !(hasHeader && n == 0) {
            let fields = line.split(separator: ",")
            guard fields.count == rows * cols + 1, let label = Int(fields[0].trimmingCharacters(in: .whitespaces)) else {
                throw ConvKitError.corruptFile(path: "\(path):\(n + 1)", offset: nil, expected: "a label and \(rows * cols) pixels", found: "\(fields.count) fields")
            }
            labels.append(label)
            for f in fields.dropFirst() {
                guard let v = Float(f.trimmingCharacters(in: .whitespaces)) else {
                    throw ConvKitError.corruptFile(path: "\(path):\(n + 1)", offset: nil, expected: "numeric pixels", found: String(f))
                }
                values.append(v)
            }
        }
        return (Tensor(shape: [labels.count, 1, rows, cols], scalars: values), labels)
    }
}

extension Datasets {
    /// A folder with one sub-folder per class (sorted names are the classes), each holding PNG/JPEG/PGM/PPM
    /// images (other files are skipped); every image is resized (bilinear) to `size` and given `channels`.
    public static func imageFolder(_ dir: String, size: (Int, Int), channels: Int) throws -> LabeledImages {
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: dir) else { throw ConvKitError.io(path: dir, reason: "cannot list folder") }
        let classes = entries.filter { var d: ObjCBool = false; return fm.fileExists(atPath: dir + "/" + $0, isDirectory: &d) && d.boolValue && !$0.hasPrefix(".") }.sorted()
        guard !classes.isEmpty else { throw ConvKitError.io(path: dir, reason: "no class sub-folders found") }
        var images = [Tensor](), labels = [Int]()
        for (k, cls) in classes.enumerated() {
            let files = (try? fm.contentsOfDirectory(atPath: dir + "/" + cls))?.filter { !$0.hasPrefix(".") && ImageFile.isImage($0) }.sorted() ?? []
            for f in files {
                var t = try ImageFile.load(dir + "/" + cls + "/" + f)
                t = Preprocessing.matchChannels(t, channels)
                if t.shape[1] != size.0 || t.shape[2] != size.1 { t = Preprocessing.resize(t, to: size) }
                images.append(t); labels.append(k)
            }
        }
        guard !images.isEmpty else { throw ConvKitError.io(path: dir, reason: "no images in the class folders") }
        return try LabeledImages(images: Tensor.stack(images), labels: labels, classNames: classes)
    }
}
