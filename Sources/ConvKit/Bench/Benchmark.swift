import Foundation

/// The cases `convkit bench` measures; the JSON form of shared/anchors/shapes.json.
public struct BenchShapes: Codable, Equatable {
    public struct Gemm: Codable, Equatable { public var m, n, k: Int }
    public struct Conv2D: Codable, Equatable {
        public var name: String
        public var n, cin, h, w, cout, k, stride, pad: Int
        public var dilation: Int?
        public var groups: Int?
    }
    public struct MaxPool2D: Codable, Equatable { public var n, c, h, w, k, stride: Int }
    /// Non-max suppression of `boxes` random boxes (torch_nms.py's distribution) at `iou`, with `classes` for batched NMS.
    public struct NMSCase: Codable, Equatable {
        public var boxes: Int, iou: Double, classes: Int?
        public init(boxes: Int, iou: Double, classes: Int?) { self.boxes = boxes; self.iou = iou; self.classes = classes }
    }
    public var gemm: [Gemm]?
    public var conv2d: [Conv2D]?
    public var maxpool2d: [MaxPool2D]?
    public var nms: [NMSCase]?

    /// Parses a shapes file, throwing an error that names the file and what is wrong.
    public static func load(path: String) throws -> BenchShapes {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConvKitError.io(path: path, reason: "cannot read file")
        }
        let s: BenchShapes
        do { s = try JSONDecoder().decode(BenchShapes.self, from: data) } catch let DecodingError.keyNotFound(key, ctx) {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "key \"\(key.stringValue)\"",
                                           found: "none at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch let DecodingError.typeMismatch(type, ctx) {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "\(type)",
                                           found: "something else at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "a JSON object with gemm/conv2d/maxpool2d lists",
                                           found: "\(error)")
        }
        try s.validate(path: path)
        return s
    }

    func validate(path: String) throws {
        func positive(_ v: Int, _ name: String) throws {
            guard v > 0 && v <= 1 << 20 else {
                throw ConvKitError.invalidArgument(name: "\(name) in \(path)", expected: "1…1048576", found: "\(v)")
            }
        }
        for g in gemm ?? [] { try positive(g.m, "m"); try positive(g.n, "n"); try positive(g.k, "k") }
        for c in conv2d ?? [] {
            for (v, n) in [(c.n, "n"), (c.cin, "cin"), (c.h, "h"), (c.w, "w"), (c.cout, "cout"), (c.k, "k"), (c.stride, "stride")] {
                try positive(v, "\(c.name).\(n)")
            }
            let groups = c.groups ?? 1
            guard groups > 0, c.cin % groups == 0, c.cout % groups == 0 else {
                throw ConvKitError.invalidArgument(name: "\(c.name).groups in \(path)", expected: "a divisor of cin and cout", found: "\(groups)")
            }
            guard c.pad >= 0, convOutputSize(c.h, kernel: c.k, stride: c.stride, padBefore: c.pad, padAfter: c.pad, dilation: c.dilation ?? 1) > 0 else {
                throw ConvKitError.invalidArgument(name: "\(c.name) geometry in \(path)", expected: "a non-empty output", found: "h \(c.h), k \(c.k), pad \(c.pad)")
            }
        }
        for c in nms ?? [] {
            try positive(c.boxes, "nms.boxes")
            if let k = c.classes { try positive(k, "nms.classes") }
            guard c.iou.isFinite, (0...1).contains(c.iou) else {
                throw ConvKitError.invalidArgument(name: "nms.iou in \(path)", expected: "a threshold in [0, 1]", found: "\(c.iou)")
            }
        }
        for p in maxpool2d ?? [] {
            for (v, n) in [(p.n, "n"), (p.c, "c"), (p.h, "h"), (p.w, "w"), (p.k, "k"), (p.stride, "stride")] { try positive(v, "maxpool.\(n)") }
        }
    }

    /// The cases of shared/anchors/shapes.json (also in Benchmarks/shapes.json).
    public static let standard = BenchShapes(
        gemm: [Gemm(m: 1024, n: 1024, k: 1024), Gemm(m: 2048, n: 2048, k: 2048)],
        conv2d: [
            Conv2D(name: "resnet_conv1_7x7s2", n: 1, cin: 3, h: 224, w: 224, cout: 64, k: 7, stride: 2, pad: 3, dilation: 1, groups: 1),
            Conv2D(name: "c64_56_3x3", n: 1, cin: 64, h: 56, w: 56, cout: 64, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1),
            Conv2D(name: "c128_28_3x3", n: 1, cin: 128, h: 28, w: 28, cout: 128, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1),
            Conv2D(name: "c256_14_3x3", n: 1, cin: 256, h: 14, w: 14, cout: 256, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1),
            Conv2D(name: "c512_7_3x3", n: 1, cin: 512, h: 7, w: 7, cout: 512, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1),
            Conv2D(name: "c64_56_3x3_n32", n: 32, cin: 64, h: 56, w: 56, cout: 64, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1),
            Conv2D(name: "lenet_conv1_n64", n: 64, cin: 1, h: 28, w: 28, cout: 6, k: 5, stride: 1, pad: 2, dilation: 1, groups: 1),
            Conv2D(name: "depthwise_c32_112_3x3", n: 1, cin: 32, h: 112, w: 112, cout: 32, k: 3, stride: 1, pad: 1, dilation: 1, groups: 32),
            Conv2D(name: "pointwise_c32to64_112_1x1", n: 1, cin: 32, h: 112, w: 112, cout: 64, k: 1, stride: 1, pad: 0, dilation: 1, groups: 1),
        ],
        maxpool2d: [MaxPool2D(n: 32, c: 64, h: 56, w: 56, k: 2, stride: 2)],
        nms: [NMSCase(boxes: 1000, iou: 0.5, classes: 80), NMSCase(boxes: 10000, iou: 0.5, classes: 80)])
}

/// Median wall time in milliseconds of `body`, after 3 warm-up runs, over at least 7 runs and `seconds`.
public func medianMilliseconds(seconds: Double = 0.6, _ body: () -> Void) -> Double {
    for _ in 0..<3 { body() }
    var times = [Double]()
    let end = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
    while DispatchTime.now().uptimeNanoseconds < end || times.count < 7 {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
    }
    times.sort()
    return times[times.count / 2]
}
