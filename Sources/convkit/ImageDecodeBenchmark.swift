import ConvKit
import ConvKitData
import Foundation

/// `convkit bench --pipeline decode --image FILE`: the median time to decode one image file held in memory
/// (JPEG through libjpeg-turbo, PNG through zlib), as Benchmarks/pillow_decode.py times Pillow.
struct ImageDecodeBenchmark: Encodable {
    let pipeline: String
    let image: String
    let width: Int, height: Int
    let ms: Double

    static func run(path: String, seconds: Double) throws -> ImageDecodeBenchmark {
        let bytes = [UInt8](try AtomicFile.read(path))
        let decode: () throws -> PNG.Image = {
            bytes.starts(with: JPEG.signature) ? try JPEG.decode(bytes, path: path) : try PNG.decode(bytes, path: path)
        }
        let first = try decode()
        let ms = medianMilliseconds(seconds: seconds) { _ = try? decode() }
        return ImageDecodeBenchmark(pipeline: "decode", image: path, width: first.width, height: first.height, ms: ms)
    }
}
