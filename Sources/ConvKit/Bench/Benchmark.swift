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
    /// A temporal convolution [n, cin, l] → [n, cout, l′] (kernel k, symmetric padding `pad`).
    public struct Conv1D: Codable, Equatable {
        public var name: String
        public var n, cin, l, cout, k, stride, pad: Int
        public var dilation: Int?
        public var groups: Int?
    }
    /// A volumetric convolution [n, cin, d, h, w] → [n, cout, d′, h′, w′] (cubic kernel k, symmetric padding `pad`).
    public struct Conv3D: Codable, Equatable {
        public var name: String
        public var n, cin, d, h, w, cout, k, stride, pad: Int
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
    public var conv1d: [Conv1D]?
    public var conv3d: [Conv3D]?
    public var maxpool2d: [MaxPool2D]?
    public var nms: [NMSCase]?

    /// Parses a shapes file, throwing an error that names the file and what is wrong.
    public static func load(path: String) throws -> BenchShapes {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConvKitError.io(path: path, reason: "cannot read file")
        }
        return try decode(data, path: path)
    }

    /// Parses and validates the JSON of a shapes file; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws -> BenchShapes {
        let s: BenchShapes
        do { s = try JSONDecoder().decode(BenchShapes.self, from: data) } catch let DecodingError.keyNotFound(key, ctx) {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "key \"\(key.stringValue)\"",
                                           found: "none at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch let DecodingError.typeMismatch(type, ctx) {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "\(type)",
                                           found: "something else at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch let DecodingError.dataCorrupted(ctx) where !ctx.codingPath.isEmpty {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "a whole number at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))",
                                           found: "another value")
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
        /// A tensor of `dims` must have at most 2³⁰ floats (4 GiB); the product is checked for overflow first.
        func fits(_ dims: [Int], _ what: String) throws {
            guard let count = Extents.product(dims), count <= 1 << 30 else {
                throw ConvKitError.invalidArgument(name: "\(what) in \(path)", expected: "at most 2^30 elements (4 GiB)",
                                                   found: dims.map(String.init).joined(separator: "×"))
            }
        }
        for g in gemm ?? [] {
            try positive(g.m, "m"); try positive(g.n, "n"); try positive(g.k, "k")
            try fits([g.m, g.k], "gemm A"); try fits([g.k, g.n], "gemm B"); try fits([g.m, g.n], "gemm C")
        }
        /// Sizes positive, groups dividing both channel counts, every spatial axis giving a non-empty output, and
        /// input, weight and output tensors of a size that can be allocated.
        func checkConv(_ name: String, sizes: [(Int, String)], cin: Int, cout: Int, groups: Int?, spatial: [Int],
                       k: Int, stride: Int, pad: Int, dilation: Int?) throws {
            for (v, n) in sizes { try positive(v, "\(name).\(n)") }
            let groups = groups ?? 1
            guard groups > 0, cin % groups == 0, cout % groups == 0 else {
                throw ConvKitError.invalidArgument(name: "\(name).groups in \(path)", expected: "a divisor of cin and cout", found: "\(groups)")
            }
            let d = dilation ?? 1
            guard d > 0 && d <= 1 << 10 else {
                throw ConvKitError.invalidArgument(name: "\(name).dilation in \(path)", expected: "1…1024", found: "\(d)")
            }
            guard pad >= 0 && pad <= 1 << 12,
                  spatial.allSatisfy({ convOutputSize($0, kernel: k, stride: stride, padBefore: pad, padAfter: pad, dilation: d) > 0 }) else {
                throw ConvKitError.invalidArgument(name: "\(name) geometry in \(path)", expected: "a non-empty output",
                                                   found: "size \(spatial.map(String.init).joined(separator: "×")), k \(k), pad \(pad), dilation \(d)")
            }
            let n = sizes[0].0
            try fits([n, cin] + spatial.map { $0 + 2 * pad }, "\(name) input")
            try fits([cout, cin / groups] + spatial.map { _ in k }, "\(name) weight")
            try fits([n, cout] + spatial.map { convOutputSize($0, kernel: k, stride: stride, padBefore: pad, padAfter: pad, dilation: d) }, "\(name) output")
        }
        for c in conv2d ?? [] {
            try checkConv(c.name, sizes: [(c.n, "n"), (c.cin, "cin"), (c.h, "h"), (c.w, "w"), (c.cout, "cout"), (c.k, "k"), (c.stride, "stride")],
                          cin: c.cin, cout: c.cout, groups: c.groups, spatial: [c.h, c.w], k: c.k, stride: c.stride, pad: c.pad, dilation: c.dilation)
        }
        for c in conv1d ?? [] {
            try checkConv(c.name, sizes: [(c.n, "n"), (c.cin, "cin"), (c.l, "l"), (c.cout, "cout"), (c.k, "k"), (c.stride, "stride")],
                          cin: c.cin, cout: c.cout, groups: c.groups, spatial: [c.l], k: c.k, stride: c.stride, pad: c.pad, dilation: c.dilation)
        }
        for c in conv3d ?? [] {
            try checkConv(c.name, sizes: [(c.n, "n"), (c.cin, "cin"), (c.d, "d"), (c.h, "h"), (c.w, "w"), (c.cout, "cout"), (c.k, "k"), (c.stride, "stride")],
                          cin: c.cin, cout: c.cout, groups: c.groups, spatial: [c.d, c.h, c.w], k: c.k, stride: c.stride, pad: c.pad, dilation: c.dilation)
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
            guard p.k <= p.h, p.k <= p.w else {
                throw ConvKitError.invalidArgument(name: "maxpool geometry in \(path)", expected: "a window k no larger than the map", found: "k \(p.k) on \(p.h)×\(p.w)")
            }
            try fits([p.n, p.c, p.h, p.w], "maxpool input")
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
