import ConvKit
import ConvKitData
import Foundation

/// The generated detection (and segmentation) set of this project: MNIST digits placed on gray canvases.
///
/// Each canvas (default 128×128) gets 1…6 digits drawn from one MNIST split (train digits for the train split,
/// test digits for the test split), each cropped to its ink, resized so that its longer side is 12…64 px, and
/// placed where its box keeps a 2-px gap from every other box; then background clutter (faint strokes and
/// specks) and Gaussian noise. A digit's box is the tight box of its ink (pixels ≥ `inkThreshold` after
/// resizing); its mask pixels (class = digit + 1, background 0) are the same ink pixels. Deterministic: canvas i
/// of a split depends only on (seed, split, i).
public struct DigitsCanvas {
    public var size = 128
    public var digitsPerImage = 1...6
    public var digitSize = 12...64
    public var inkThreshold: Float = 64
    public var noiseStd: Float = 6
    public init() {}

    public struct Canvas {
        public var sample: DetectionSample
        /// [H·W] class per pixel: 0 background, 1 + digit.
        public var mask: [UInt8]
    }

    /// Generates `count` canvases from `digits` (images [N, 1, 28, 28] in 0…255 with labels 0…9).
    public func generate(from digits: LabeledImages, count: Int, seed: UInt64, split: String) -> [Canvas] {
        let salt: UInt64 = split == "train" ? 0x7261696E : 0x74657374
        // Each MNIST digit cropped to its ink once.
        let crops = (0..<digits.count).map { Self.inkCrop(digits.image($0)) }
        var out = [Canvas?](repeating: nil, count: count)
        Parallel.forEach(count) { i in
            var rng = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ salt ^ (UInt64(i) &* 0xD1B5_4A32_D192_ED03))
            out[i] = canvas(i, digits: digits, crops: crops, rng: &rng, split: split)
        }
        return out.map { $0! }
    }

    static func inkCrop(_ d: Tensor) -> Tensor {
        let h = d.shape[1], w = d.shape[2]
        var r0 = h, r1 = -1, c0 = w, c1 = -1
        for y in 0..<h { for x in 0..<w where d.scalars[y * w + x] > 0 { r0 = min(r0, y); r1 = max(r1, y); c0 = min(c0, x); c1 = max(c1, x) } }
        if r1 < 0 { return d }
        return d.slice(axis: 1, r0..<r1 + 1).slice(axis: 2, c0..<c1 + 1)
    }

    func canvas(_ index: Int, digits: LabeledImages, crops: [Tensor], rng: inout SeededGenerator, split: String) -> Canvas {
        let n = size
        var img = [Float](repeating: 0, count: n * n), mask = [UInt8](repeating: 0, count: n * n)
        drawClutter(&img, rng: &rng)
        let k = digitsPerImage.lowerBound + Int(rng.next() % UInt64(digitsPerImage.count))
        var boxes = [Float](), classes = [Int]()
        var placed = [(Int, Int, Int, Int)]()   // x0, y0, x1, y1 (exclusive) of the pasted patch's ink box
        for _ in 0..<k {
            let pick = Int(rng.next() % UInt64(digits.count))
            let crop = crops[pick]
            let ch = crop.shape[1], cw = crop.shape[2]
            let longer = digitSize.lowerBound + Int(rng.next() % UInt64(digitSize.count))
            let scale = Float(longer) / Float(max(ch, cw))
            let th = max(1, Int((Float(ch) * scale).rounded())), tw = max(1, Int((Float(cw) * scale).rounded()))
            let patch = th < ch || tw < cw ? Preprocessing.resizeArea(crop, to: (th, tw)) : Preprocessing.resize(crop, to: (th, tw))
            // Ink box of the resized patch.
            var r0 = th, r1 = -1, c0 = tw, c1 = -1
            for y in 0..<th { for x in 0..<tw where patch.scalars[y * tw + x] >= inkThreshold { r0 = min(r0, y); r1 = max(r1, y); c0 = min(c0, x); c1 = max(c1, x) } }
            if r1 < 0 || tw > n || th > n { continue }
            var spot: (Int, Int)?
            for _ in 0..<60 {
                let ox = Int(rng.next() % UInt64(n - tw + 1)), oy = Int(rng.next() % UInt64(n - th + 1))
                let box = (ox + c0, oy + r0, ox + c1 + 1, oy + r1 + 1)
                if placed.allSatisfy({ box.0 >= $0.2 + 2 || box.2 + 2 <= $0.0 || box.1 >= $0.3 + 2 || box.3 + 2 <= $0.1 }) { spot = (ox, oy); placed.append(box); break }
            }
            guard let (ox, oy) = spot else { continue }
            let label = digits.labels[pick]
            for y in 0..<th {
                for x in 0..<tw {
                    let v = patch.scalars[y * tw + x], p = (oy + y) * n + ox + x
                    img[p] = max(img[p], v)
                    if v >= inkThreshold { mask[p] = UInt8(label + 1) }
                }
            }
            let b = placed[placed.count - 1]
            boxes += [Float(b.0), Float(b.1), Float(b.2), Float(b.3)]
            classes.append(label)
        }
        for i in 0..<img.count { img[i] = min(255, max(0, img[i] + noiseStd * rng.nextNormal())).rounded() }
        let sample = DetectionSample(image: Tensor(shape: [1, n, n], scalars: img), boxes: BoxSet(boxes), classes: classes,
                                     name: String(format: "%@_%06d", split, index))
        return Canvas(sample: sample, mask: mask)
    }

    /// Faint strokes (random line segments, 1–2 px, gray 30…110) and specks.
    func drawClutter(_ img: inout [Float], rng: inout SeededGenerator) {
        let n = size
        let strokes = 2 + Int(rng.next() % 5)
        for _ in 0..<strokes {
            let x0 = rng.nextUniform() * Float(n), y0 = rng.nextUniform() * Float(n)
            let angle = rng.nextUniform() * 2 * Float.pi, length = 8 + rng.nextUniform() * 40
            let gray = 30 + rng.nextUniform() * 80, width = 1 + Int(rng.next() % 2)
            let steps = Int(length * 2)
            for s in 0...steps {
                let t = Float(s) / Float(steps) * length
                let x = Int(x0 + t * cosf(angle)), y = Int(y0 + t * sinf(angle))
                for dy in 0..<width { for dx in 0..<width {
                    let xx = x + dx, yy = y + dy
                    if xx >= 0 && xx < n && yy >= 0 && yy < n { img[yy * n + xx] = max(img[yy * n + xx], gray) }
                } }
            }
        }
        for _ in 0..<(10 + Int(rng.next() % 20)) {
            let p = Int(rng.next() % UInt64(n * n))
            img[p] = max(img[p], 40 + rng.nextUniform() * 100)
        }
    }

    /// Writes a generated set: `DIR/{train,test}/images/*.png`, YOLO `labels/*.txt`, `masks/*.png` (class per pixel),
    /// `annotations.json` (COCO) per split, and `classes.txt` (the digits 0…9).
    public func write(to dir: String, digits: DatasetSplits, trainCount: Int, testCount: Int, seed: UInt64) throws {
        let names = (0..<10).map(String.init)
        for (split, source, count) in [("train", digits.train, trainCount), ("test", digits.test, testCount)] {
            let canvases = generate(from: source, count: count, seed: seed, split: split)
            let set = DetectionDataset(samples: canvases.map(\.sample), classNames: names)
            try YOLOFolder.save(set, to: dir, split: split)
            try FileManager.default.createDirectory(atPath: "\(dir)/\(split)/masks", withIntermediateDirectories: true)
            for c in canvases {
                let m = PNG.Image(width: size, height: size, channels: 1, samples: c.mask.map { UInt16($0) })
                try PNG.save(m, to: "\(dir)/\(split)/masks/\(c.sample.name).png")
            }
            var coco = set.cocoGroundTruth()
            coco.images = coco.images.map { var i = $0; i.fileName = "images/\(i.fileName).png"; return i }
            try coco.save(to: "\(dir)/\(split)/annotations.json")
        }
    }
}
