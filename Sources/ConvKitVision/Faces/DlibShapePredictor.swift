import ConvKit
import ConvKitData
import Foundation

/// dlib's face-landmark predictor (`shape_predictor_5_face_landmarks.dat`): a cascade of ensembles of regression
/// trees (Kazemi and Sullivan 2014, "One Millisecond Face Alignment with an Ensemble of Regression Trees").
///
/// The shape s (P points in box-normalized coordinates, (0, 0) the box's top-left and (1, 1) its bottom-right
/// corner) starts at the mean shape s₀. Each cascade level t reads F pixel intensities at points fixed relative to
/// the current shape: pixel i sits at anchor landmark a_i plus offset δ_i, the offset carried by the 2×2 part M of
/// the least-squares similarity s₀ → s, p_i = M·δ_i + s[a_i], mapped into the image through the box and rounded to
/// a pixel (0 outside the image). Then every tree of the level adds a leaf vector: a tree is complete and binary,
/// node n going to child 2n + 1 when I[u_n] − I[v_n] > θ_n and to 2n + 2 otherwise. The result is mapped through
/// the box and rounded, as dlib returns integer points. Intensity is dlib's grayscale, ⌊(R + G + B)/3⌋ of 8-bit
/// values.
///
/// The file: version 1, the mean shape (a 2P×1 float matrix), the forests (per level, per tree: splits (u, v, θ)
/// and 2^d leaf vectors of 2P floats), then per level the F anchor indices and F offsets (x, y).
public struct DlibShapePredictor {
    struct Tree {
        /// Per split: u, v (feature indices) and θ.
        var u: [Int32], v: [Int32], threshold: [Float]
        /// Leaf vectors, leaf-major, 2P floats each.
        var leaves: [Float]
    }

    /// The mean shape, x₀ y₀ x₁ y₁ …, box-normalized.
    public let meanShape: [Float]
    let levels: [[Tree]]
    let anchors: [[Int]]
    let offsets: [[(Float, Float)]]

    public var partCount: Int { meanShape.count / 2 }
    public var levelCount: Int { levels.count }
    public var treeCount: Int { levels.reduce(0) { $0 + $1.count } }

    public init(contentsOf path: String) throws {
        try self.init(bytes: [UInt8](AtomicFile.read(path)), path: path)
    }

    /// The bundled 5-point model, `Data/models/dlib/shape_predictor_5_face_landmarks.dat`.
    public static func bundled() throws -> DlibShapePredictor {
        try DlibShapePredictor(contentsOf: try DlibFaceRecognitionNetwork.bundledModel("shape_predictor_5_face_landmarks.dat"))
    }

    public init(bytes: [UInt8], path: String) throws {
        var r = DlibReader(bytes: bytes, path: path)
        r.context = "the shape predictor"
        _ = try r.version("version", allowed: [1])
        let initial = try r.matrix("initial shape", maxElements: 2 * 10_000)
        guard initial.columns == 1, initial.rows >= 2, initial.rows % 2 == 0 else {
            throw r.error(expected: "a mean shape of 2P × 1 values", found: "\(initial.rows) × \(initial.columns)")
        }
        meanShape = initial.values
        let dims = initial.rows
        let levelCount = try r.count("cascade levels", in: 1...10_000)
        var levels = [[Tree]]()
        for t in 0..<levelCount {
            let trees = try r.count("trees of level \(t)", in: 0...100_000)
            var forest = [Tree]()
            forest.reserveCapacity(trees)
            for k in 0..<trees {
                r.context = "tree \(k) of cascade level \(t)"
                let splits = try r.count("splits", in: 0...(1 << 20))
                var tree = Tree(u: [], v: [], threshold: [], leaves: [])
                for _ in 0..<splits {
                    tree.u.append(Int32(try r.count("split feature u", in: 0...Int(Int32.max))))
                    tree.v.append(Int32(try r.count("split feature v", in: 0...Int(Int32.max))))
                    tree.threshold.append(try r.finiteFloat("split threshold"))
                }
                let leafCount = try r.count("leaves", in: 1...(1 << 21))
                guard leafCount == splits + 1, leafCount & (leafCount - 1) == 0 else {
                    throw r.error(expected: "a complete binary tree: \(splits + 1) leaves, a power of 2", found: "\(leafCount) leaves")
                }
                tree.leaves.reserveCapacity(leafCount * dims)
                for _ in 0..<leafCount {
                    let leaf = try r.matrix("leaf value", maxElements: dims)
                    guard leaf.values.count == dims else { throw r.error(expected: "leaf vectors of \(dims) values", found: "\(leaf.values.count)") }
                    tree.leaves += leaf.values
                }
                forest.append(tree)
            }
            levels.append(forest)
        }
        r.context = "the feature anchors"
        guard try r.count("anchor lists", in: 0...10_000) == levelCount else { throw r.error(expected: "\(levelCount) anchor lists", found: "another count") }
        var anchors = [[Int]]()
        for t in 0..<levelCount {
            let n = try r.count("anchors of level \(t)", in: 0...(1 << 20))
            anchors.append(try (0..<n).map { _ in try r.count("anchor index", in: 0...(dims / 2 - 1)) })
        }
        r.context = "the feature offsets"
        guard try r.count("offset lists", in: 0...10_000) == levelCount else { throw r.error(expected: "\(levelCount) offset lists", found: "another count") }
        var offsets = [[(Float, Float)]]()
        for t in 0..<levelCount {
            let n = try r.count("offsets of level \(t)", in: 0...(1 << 20))
            guard n == anchors[t].count else { throw r.error(expected: "\(anchors[t].count) offsets at level \(t)", found: "\(n)") }
            offsets.append(try (0..<n).map { _ in (try r.finiteFloat("offset x"), try r.finiteFloat("offset y")) })
            for tree in levels[t] where !(tree.u + tree.v).allSatisfy({ Int($0) < n }) {
                throw r.error(expected: "split features below the \(n) features of level \(t)", found: "\(max(tree.u.max() ?? 0, tree.v.max() ?? 0))")
            }
        }
        guard r.remaining == 0 else { throw r.error(expected: "the end of the file", found: "\(r.remaining) more bytes") }
        self.levels = levels; self.anchors = anchors; self.offsets = offsets
    }

    /// dlib's grayscale of a `[C, H, W]` image, values 0…255: ⌊(R + G + B)/3⌋ of the 8-bit values (the value itself
    /// for one channel).
    public static func intensity(_ image: Tensor) -> [Float] {
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        let plane = h * w
        func byte(_ v: Float) -> Int { v.isNaN ? 0 : Int(Swift.min(Swift.max(v, 0), 255).rounded()) }
        return image.withUnsafeBufferPointer { p in
            (0..<plane).map { i in
                c >= 3 ? Float((byte(p[i]) + byte(p[plane + i]) + byte(p[2 * plane + i])) / 3) : Float(byte(p[i]))
            }
        }
    }

    /// The P landmarks `[[x, y], …]` (integer pixels, as dlib) of the face in `box` = [left, top, right, bottom]
    /// (dlib's inclusive pixel rectangle) of a `[C, H, W]` image, values 0…255.
    public func landmarks(in image: Tensor, box: [Float]) throws -> [[Float]] {
        guard image.rank == 3, [1, 3, 4].contains(image.shape[0]), image.shape[1] > 0, image.shape[2] > 0 else {
            throw ConvKitError.shapeMismatch(expected: "an image [1 or 3, H, W]", found: "\(image.shape)")
        }
        guard box.count == 4, box.allSatisfy({ $0.isFinite && abs($0) < 1e7 }) else {
            throw ConvKitError.invalidArgument(name: "face box", expected: "[left, top, right, bottom] finite pixels", found: "\(box)")
        }
        return landmarks(intensity: DlibShapePredictor.intensity(image), width: image.shape[2], height: image.shape[1],
                         box: box.map { $0.rounded() })
    }

    func landmarks(intensity: [Float], width: Int, height: Int, box: [Float]) -> [[Float]] {
        let (left, top) = (Double(box[0]), Double(box[1]))
        let (sx, sy) = (Double(box[2]) - left, Double(box[3]) - top)
        var shape = meanShape
        let mean = (0..<partCount).map { [meanShape[2 * $0], meanShape[2 * $0 + 1]] }
        var features = [Float]()
        for (t, forest) in levels.enumerated() {
            let current = (0..<partCount).map { [shape[2 * $0], shape[2 * $0 + 1]] }
            let m = (try? SimilarityTransform.estimate(from: mean, to: current)) ?? .identity
            features = zip(anchors[t], offsets[t]).map { a, d in
                let px = m.a * d.0 - m.b * d.1 + shape[2 * a], py = m.b * d.0 + m.a * d.1 + shape[2 * a + 1]
                let x = (left + Double(px) * sx).rounded(.toNearestOrAwayFromZero), y = (top + Double(py) * sy).rounded(.toNearestOrAwayFromZero)
                guard x >= 0, y >= 0, x < Double(width), y < Double(height) else { return 0 }
                return intensity[Int(y) * width + Int(x)]
            }
            for tree in forest {
                var node = 0
                while node < tree.u.count {
                    node = features[Int(tree.u[node])] - features[Int(tree.v[node])] > tree.threshold[node] ? 2 * node + 1 : 2 * node + 2
                }
                let leaf = (node - tree.u.count) * shape.count
                for j in 0..<shape.count { shape[j] += tree.leaves[leaf + j] }
            }
        }
        return (0..<partCount).map { i in
            [Float((left + Double(shape[2 * i]) * sx).rounded(.toNearestOrAwayFromZero)),
             Float((top + Double(shape[2 * i + 1]) * sy).rounded(.toNearestOrAwayFromZero))]
        }
    }
}
