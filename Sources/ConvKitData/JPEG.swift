import ConvKit
import CImageCodecs
import Foundation

/// Limits on what an image file may ask the reader to allocate (checked from the header, before decoding).
public enum ImageLimits {
    /// Largest width·height accepted (default 100 megapixels, about 600 MB as 16-bit RGB samples).
    nonisolated(unsafe) public static var maxPixels = 100_000_000

    static func check(width: Int, height: Int, path: String) throws {
        guard width > 0, height > 0 else {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "an image of at least 1×1", found: "\(width)×\(height)")
        }
        let (area, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, area <= maxPixels else {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "at most \(maxPixels) pixels (ImageLimits.maxPixels)",
                                           found: "\(width)×\(height)")
        }
    }
}

/// JPEG (JFIF/EXIF) through libjpeg-turbo, the library Pillow and torchvision decode with: baseline and progressive,
/// any chroma subsampling, grayscale, restart markers, CMYK and YCCK (converted to RGB as Pillow converts them);
/// the EXIF orientation tag is applied so that pixels come out upright. Decoding uses the exact integer IDCT
/// and fancy upsampling (Pillow's defaults), so pixels equal Pillow's `Image.open(f).convert("RGB")`.
public enum JPEG {
    public static let signature: [UInt8] = [0xFF, 0xD8, 0xFF]

    public enum ColorSpace: Int, Sendable { case gray = 1, rgb = 3, cmyk = 4 }

    public struct Header: Equatable, Sendable {
        public var width: Int
        public var height: Int
        public var colorSpace: ColorSpace
        public var progressive: Bool
        /// Luma sampling factors: (2, 2) is 4:2:0, (2, 1) 4:2:2, (1, 1) 4:4:4.
        public var sampling: (horizontal: Int, vertical: Int)
        /// EXIF orientation 1…8 (1 when absent).
        public var orientation: Int

        public static func == (a: Header, b: Header) -> Bool {
            a.width == b.width && a.height == b.height && a.colorSpace == b.colorSpace && a.progressive == b.progressive
                && a.sampling == b.sampling && a.orientation == b.orientation
        }
    }

    public static func header(_ bytes: [UInt8], path: String) throws -> Header {
        guard bytes.starts(with: signature) else {
            throw ConvKitError.corruptFile(path: path, offset: 0, expected: "the JPEG signature FF D8 FF", found: "other bytes")
        }
        var info = ck_jpeg_info()
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { ck_jpeg_read_header($0.baseAddress, $0.count, &info, &message, message.count) }
        guard status == 0, let space = ColorSpace(rawValue: Int(info.color_space)) else {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "a JPEG header", found: String(cString: message))
        }
        return Header(width: Int(info.width), height: Int(info.height), colorSpace: space, progressive: info.progressive != 0,
                      sampling: (Int(info.h_sampling), Int(info.v_sampling)), orientation: exifOrientation(bytes))
    }

    public static func load(_ path: String, applyOrientation: Bool = true) throws -> PNG.Image {
        try decode([UInt8](AtomicFile.read(path)), path: path, applyOrientation: applyOrientation)
    }

    /// Pixels as an 8-bit `PNG.Image` with 1 (gray) or 3 (RGB) channels.
    public static func decode(_ bytes: [UInt8], path: String, applyOrientation: Bool = true) throws -> PNG.Image {
        let h = try header(bytes, path: path)
        try ImageLimits.check(width: h.width, height: h.height, path: path)
        let components = h.colorSpace.rawValue
        var raw = [UInt8](repeating: 0, count: h.width * h.height * components)
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { src in
            raw.withUnsafeMutableBufferPointer { ck_jpeg_decode(src.baseAddress, src.count, $0.baseAddress, $0.count, &message, message.count) }
        }
        guard status == 0 else {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "decodable JPEG data", found: String(cString: message))
        }
        var channels = components
        var samples: [UInt16]
        if h.colorSpace == .cmyk {
            samples = cmykToRGB(raw)
            channels = 3
        } else {
            samples = raw.map(UInt16.init)
        }
        var width = h.width, height = h.height
        if applyOrientation && h.orientation != 1 {
            (samples, width, height) = orient(samples, width: width, height: height, channels: channels, orientation: h.orientation)
        }
        return PNG.Image(width: width, height: height, channels: channels, samples: samples)
    }

    /// Baseline (or progressive) JPEG of an 8-bit gray or RGB image; alpha is dropped, 16-bit samples scaled.
    public static func encode(_ image: PNG.Image, quality: Int = 90, progressive: Bool = false) throws -> [UInt8] {
        guard (1...100).contains(quality) else {
            throw ConvKitError.invalidArgument(name: "JPEG quality", expected: "1…100", found: "\(quality)")
        }
        let colour = image.channels >= 3
        let components = colour ? 3 : 1
        var pixels = [UInt8](repeating: 0, count: image.width * image.height * components)
        let scale = image.bitDepth == 16 ? 257 : 1
        for i in 0..<(image.width * image.height) {
            for c in 0..<components { pixels[i * components + c] = UInt8(min(255, Int(image.samples[i * image.channels + c]) / scale)) }
        }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = pixels.withUnsafeBufferPointer {
            ck_jpeg_encode($0.baseAddress, Int32(image.width), Int32(image.height), Int32(components), Int32(quality),
                           progressive ? 1 : 0, &out, &size, &message, message.count)
        }
        defer { ck_jpeg_free(out) }
        guard status == 0, let out else {
            throw ConvKitError.invalidArgument(name: "image for JPEG", expected: "encodable pixels", found: String(cString: message))
        }
        return Array(UnsafeBufferPointer(start: out, count: Int(size)))
    }

    /// Writes atomically (a temporary file renamed over `path`).
    public static func save(_ image: PNG.Image, to path: String, quality: Int = 90) throws {
        try AtomicFile.write(Data(encode(image, quality: quality)), to: path)
    }

    /// Adobe-convention (inverted) CMYK to RGB exactly as Pillow does it: with stored values c, k,
    /// R = 255 − k′ − c′·(255 − k′)/255 rounded as its MULDIV255, where c′ = 255 − c and k′ = 255 − k.
    static func cmykToRGB(_ raw: [UInt8]) -> [UInt16] {
        let n = raw.count / 4
        var out = [UInt16](repeating: 0, count: n * 3)
        @inline(__always) func muldiv255(_ a: Int, _ b: Int) -> Int { let t = a * b + 128; return ((t >> 8) + t) >> 8 }
        for i in 0..<n {
            let nk = Int(raw[i * 4 + 3])         // 255 − K with K = 255 − stored
            for c in 0..<3 {
                let value = 255 - Int(raw[i * 4 + c])
                out[i * 3 + c] = UInt16(max(0, min(255, nk - muldiv255(value, nk))))
            }
        }
        return out
    }

    /// The EXIF orientation (tag 0x0112 of IFD0 in the APP1 "Exif" segment), 1 when absent or unreadable.
    static func exifOrientation(_ b: [UInt8]) -> Int {
        var i = 2
        while i + 4 <= b.count, b[i] == 0xFF {
            let marker = b[i + 1]
            if marker == 0xDA || marker == 0xD9 { break }           // start of scan: no more metadata
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 2, i + 2 + length <= b.count else { break }
            if marker == 0xE1, length >= 16, Array(b[(i + 4)..<(i + 10)]) == [0x45, 0x78, 0x69, 0x66, 0, 0] {
                return tiffOrientation(Array(b[(i + 10)..<(i + 2 + length)])) ?? 1
            }
            i += 2 + length
        }
        return 1
    }

    static func tiffOrientation(_ t: [UInt8]) -> Int? {
        guard t.count >= 8 else { return nil }
        let little: Bool
        switch (t[0], t[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ o: Int) -> Int? { o + 2 <= t.count ? (little ? Int(t[o]) | Int(t[o + 1]) << 8 : Int(t[o]) << 8 | Int(t[o + 1])) : nil }
        func u32(_ o: Int) -> Int? { guard let a = u16(o), let b = u16(o + 2) else { return nil }; return little ? a | b << 16 : a << 16 | b }
        guard let ifd = u32(4), let count = u16(ifd) else { return nil }
        for e in 0..<count {
            let entry = ifd + 2 + e * 12
            guard let tag = u16(entry) else { return nil }
            if tag == 0x0112, let type = u16(entry + 2), type == 3, let value = u16(entry + 8), (1...8).contains(value) { return value }
        }
        return nil
    }

    /// Applies EXIF orientation o (2 mirror, 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90° clockwise,
    /// 7 transverse, 8 rotate 90° counter-clockwise): the pixel shown at (x, y) after the transform.
    static func orient(_ s: [UInt16], width w: Int, height h: Int, channels c: Int, orientation o: Int) -> ([UInt16], Int, Int) {
        let swaps = o >= 5
        let (ow, oh) = swaps ? (h, w) : (w, h)
        var out = [UInt16](repeating: 0, count: s.count)
        for y in 0..<oh {
            for x in 0..<ow {
                let (sx, sy): (Int, Int)
                switch o {
                case 2: (sx, sy) = (w - 1 - x, y)
                case 3: (sx, sy) = (w - 1 - x, h - 1 - y)
                case 4: (sx, sy) = (x, h - 1 - y)
                case 5: (sx, sy) = (y, x)
                case 6: (sx, sy) = (y, h - 1 - x)
                case 7: (sx, sy) = (w - 1 - y, h - 1 - x)
                case 8: (sx, sy) = (w - 1 - y, x)
                default: (sx, sy) = (x, y)
                }
                for ch in 0..<c { out[(y * ow + x) * c + ch] = s[(sy * w + sx) * c + ch] }
            }
        }
        return (out, ow, oh)
    }
}
