import ConvKit
import Foundation

/// PNG read and write (through zlib). Reads every standard form: gray, gray+alpha, RGB, RGBA and palette
/// images at bit depths 1–16, Adam7-interlaced or not, with every chunk's CRC checked. Writes 8- or 16-bit
/// gray, gray+alpha, RGB or RGBA.
public enum PNG {
    /// Decoded pixels: `samples` holds height·width·channels values in 0…maxValue, row-major, interleaved.
    public struct Image: Equatable {
        public var width: Int, height: Int, channels: Int
        public var bitDepth: Int
        public var samples: [UInt16]
        public var maxValue: Int { (1 << bitDepth) - 1 }

        public init(width: Int, height: Int, channels: Int, bitDepth: Int = 8, samples: [UInt16]) {
            precondition(samples.count == width * height * channels, "sample count does not match \(width)×\(height)×\(channels)")
            self.width = width; self.height = height; self.channels = channels; self.bitDepth = bitDepth; self.samples = samples
        }

        /// From a tensor [C, H, W] whose values run 0…maxValue (clamped, rounded), as 8-bit.
        public init(tensor t: Tensor, maxValue: Float = 255) {
            precondition(t.rank == 3 && (1...4).contains(t.shape[0]), "PNG needs [C, H, W] with 1–4 channels, got \(t.shape)")
            let (c, h, w) = (t.shape[0], t.shape[1], t.shape[2])
            var s = [UInt16](repeating: 0, count: c * h * w)
            for ch in 0..<c { for i in 0..<(h * w) {
                s[i * c + ch] = UInt16(Swift.max(0, Swift.min(255, (t.scalars[ch * h * w + i] / maxValue * 255).rounded())))
            } }
            self.init(width: w, height: h, channels: c, samples: s)
        }

        /// [C, H, W] with values 0…maxValue as Float (0…255 for 8-bit).
        public var tensor: Tensor {
            Tensor(shape: [channels, height, width]) { o in
                let plane = height * width
                for i in 0..<plane { for ch in 0..<channels { o[ch * plane + i] = Float(samples[i * channels + ch]) } }
            }
        }
    }

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    public static func load(_ path: String) throws -> Image { try decode([UInt8](AtomicFile.read(path)), path: path) }

    public static func save(_ image: Image, to path: String) throws { try AtomicFile.write(Data(encode(image)), to: path) }

    public static func decode(_ bytes: [UInt8], path: String) throws -> Image {
        var r = ByteReader(bytes: bytes, path: path)
        guard Array(try r.take(8, "PNG signature")) == signature else {
            throw ConvKitError.corruptFile(path: path, offset: 0, expected: "the PNG signature 89 50 4E 47 0D 0A 1A 0A", found: "other bytes")
        }
        var width = 0, height = 0, depth = 0, colorType = 0, interlace = 0
        var palette = [[UInt16]](), transparency = [UInt8]()
        var idat = [UInt8]()
        var sawHeader = false, sawEnd = false
        while !sawEnd {
            let start = r.offset
            let length = try r.u32be("chunk length")
            guard length <= r.remaining else {
                throw ConvKitError.corruptFile(path: path, offset: start, expected: "a chunk of \(length) bytes", found: "\(r.remaining) bytes left (truncated?)")
            }
            let typeBytes = try r.take(4, "chunk type")
            let type = String(decoding: typeBytes, as: UTF8.self)
            let body = try r.take(length, "\(type) data")
            let crc = UInt32(try r.u32be("\(type) CRC"))
            let actual = Zip.crc32(Array(typeBytes) + Array(body))
            guard crc == actual else {
                throw ConvKitError.corruptFile(path: path, offset: start, expected: "\(type) chunk CRC \(String(actual, radix: 16))", found: String(crc, radix: 16))
            }
            let b = Array(body)
            switch type {
            case "IHDR":
                guard b.count == 13 else { throw ConvKitError.corruptFile(path: path, offset: start, expected: "13-byte IHDR", found: "\(b.count) bytes") }
                width = Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
                height = Int(b[4]) << 24 | Int(b[5]) << 16 | Int(b[6]) << 8 | Int(b[7])
                depth = Int(b[8]); colorType = Int(b[9]); interlace = Int(b[12])
                let allowed: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
                guard allowed[colorType]?.contains(depth) == true, b[10] == 0, b[11] == 0, interlace <= 1,
                      width > 0, height > 0, width <= 1 << 16, height <= 1 << 16 else {
                    throw ConvKitError.corruptFile(path: path, offset: start + 8, expected: "a valid IHDR (size ≤ 65536, known colour type/depth)",
                                                   found: "\(width)×\(height), colour type \(colorType), depth \(depth), interlace \(interlace)")
                }
                sawHeader = true
            case "PLTE":
                palette = stride(from: 0, to: b.count - 2, by: 3).map { [UInt16(b[$0]), UInt16(b[$0 + 1]), UInt16(b[$0 + 2])] }
            case "tRNS": transparency = b
            case "IDAT": idat += b
            case "IEND": sawEnd = true
            default: break   // ancillary chunks are skipped
            }
        }
        guard sawHeader else { throw ConvKitError.corruptFile(path: path, offset: 8, expected: "an IHDR chunk", found: "none") }
        try ImageLimits.check(width: width, height: height, path: path)   // before the sample buffers are allocated
        guard !idat.isEmpty else { throw ConvKitError.corruptFile(path: path, offset: nil, expected: "image data (IDAT)", found: "none") }
        if colorType == 3 && palette.isEmpty { throw ConvKitError.corruptFile(path: path, offset: nil, expected: "a PLTE chunk for a palette image", found: "none") }
        let samplesPerPixel = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]!
        let bitsPerPixel = samplesPerPixel * depth
        // Adam7 passes (x0, y0, dx, dy); a non-interlaced image is one pass.
        let passes = interlace == 1 ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)] : [(0, 0, 1, 1)]
        let needed = passes.reduce(0) { n, p in
            let pw = (width - p.0 + p.2 - 1) / p.2, ph = (height - p.1 + p.3 - 1) / p.3
            return pw <= 0 || ph <= 0 ? n : n + ((pw * bitsPerPixel + 7) / 8 + 1) * ph
        }
        let raw = try Zip.inflate(idat[...], expectedSize: needed, raw: false, path: path)
        guard raw.count >= needed else {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "\(needed) bytes of scanlines for \(width)×\(height)",
                                           found: "\(raw.count) (truncated image data)")
        }
        var values = [UInt16](repeating: 0, count: width * height * samplesPerPixel)
        var pos = 0
        for (x0, y0, dx, dy) in passes {
            let pw = (width - x0 + dx - 1) / dx, ph = (height - y0 + dy - 1) / dy
            if pw <= 0 || ph <= 0 { continue }
            let stride = (pw * bitsPerPixel + 7) / 8, bpp = Swift.max(1, bitsPerPixel / 8)
            var prev = [UInt8](repeating: 0, count: stride)
            for row in 0..<ph {
                guard pos + 1 + stride <= raw.count else {
                    throw ConvKitError.corruptFile(path: path, offset: nil, expected: "\(ph) scanlines of \(stride + 1) bytes", found: "image data ends at row \(row) (truncated)")
                }
                let filter = raw[pos]
                var line = Array(raw[(pos + 1)..<(pos + 1 + stride)])
                pos += 1 + stride
                try unfilter(&line, prev: prev, filter: filter, bpp: bpp, path: path)
                for col in 0..<pw {
                    let dst = ((y0 + row * dy) * width + x0 + col * dx) * samplesPerPixel
                    for s in 0..<samplesPerPixel { values[dst + s] = sample(line, index: col * samplesPerPixel + s, depth: depth) }
                }
                prev = line
            }
        }
        if colorType == 3 {
            let alpha = !transparency.isEmpty
            let ch = alpha ? 4 : 3
            var out = [UInt16](repeating: 0, count: width * height * ch)
            for i in 0..<(width * height) {
                let idx = Int(values[i])
                guard idx < palette.count else {
                    throw ConvKitError.corruptFile(path: path, offset: nil, expected: "palette indices below \(palette.count)", found: "\(idx)")
                }
                for c in 0..<3 { out[i * ch + c] = palette[idx][c] }
                if alpha { out[i * ch + 3] = idx < transparency.count ? UInt16(transparency[idx]) : 255 }
            }
            return Image(width: width, height: height, channels: ch, bitDepth: 8, samples: out)
        }
        return Image(width: width, height: height, channels: samplesPerPixel, bitDepth: depth, samples: values)
    }

    static func sample(_ line: [UInt8], index: Int, depth: Int) -> UInt16 {
        switch depth {
        case 16: return UInt16(line[2 * index]) << 8 | UInt16(line[2 * index + 1])
        case 8: return UInt16(line[index])
        default:
            let bit = index * depth
            return UInt16(line[bit / 8] >> (8 - depth - bit % 8)) & UInt16((1 << depth) - 1)
        }
    }

    static func unfilter(_ line: inout [UInt8], prev: [UInt8], filter: UInt8, bpp: Int, path: String) throws {
        switch filter {
        case 0: break
        case 1: for i in bpp..<line.count { line[i] &+= line[i - bpp] }
        case 2: for i in 0..<line.count { line[i] &+= prev[i] }
        case 3: for i in 0..<line.count { line[i] &+= UInt8((Int(i >= bpp ? line[i - bpp] : 0) + Int(prev[i])) / 2) }
        case 4:
            for i in 0..<line.count {
                let a = Int(i >= bpp ? line[i - bpp] : 0), b = Int(prev[i]), c = Int(i >= bpp ? prev[i - bpp] : 0)
                let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                line[i] &+= UInt8(pa <= pb && pa <= pc ? a : (pb <= pc ? b : c))
            }
        default: throw ConvKitError.corruptFile(path: path, offset: nil, expected: "scanline filter 0–4", found: "\(filter)")
        }
    }

    /// PNG bytes (colour type from the channel count: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; depth 8 or 16).
    public static func encode(_ img: Image) -> [UInt8] {
        precondition((1...4).contains(img.channels) && (img.bitDepth == 8 || img.bitDepth == 16), "PNG writes 1–4 channels at depth 8 or 16")
        let colorType: UInt8 = [1: 0, 2: 4, 3: 2, 4: 6][img.channels]!
        var out = signature
        func chunk(_ type: String, _ body: [UInt8]) {
            let n = body.count
            out += [UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
            let tb = Array(type.utf8)
            out += tb + body
            let crc = Zip.crc32(tb + body)
            out += [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
        }
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        chunk("IHDR", be32(img.width) + be32(img.height) + [UInt8(img.bitDepth), colorType, 0, 0, 0])
        let bytesPerSample = img.bitDepth / 8
        let stride = img.width * img.channels * bytesPerSample
        var raw = [UInt8]()
        raw.reserveCapacity((stride + 1) * img.height)
        var prev = [UInt8](repeating: 0, count: stride)
        for y in 0..<img.height {
            var line = [UInt8](repeating: 0, count: stride)
            for i in 0..<(img.width * img.channels) {
                let v = img.samples[y * img.width * img.channels + i]
                if bytesPerSample == 2 { line[2 * i] = UInt8(v >> 8); line[2 * i + 1] = UInt8(v & 0xFF) } else { line[i] = UInt8(v) }
            }
            // Up filter when it helps (smooth images), else none: a cheap adaptive choice.
            let up = zip(line, prev).map { $0 &- $1 }
            let useUp = y > 0 && up.reduce(0) { $0 + Int(Int8(bitPattern: $1).magnitude) } < line.reduce(0) { $0 + Int(Int8(bitPattern: $1).magnitude) }
            raw.append(useUp ? 2 : 0)
            raw += useUp ? up : line
            prev = line
        }
        chunk("IDAT", Zip.deflate(raw, raw: false))
        chunk("IEND", [])
        return out
    }
}
