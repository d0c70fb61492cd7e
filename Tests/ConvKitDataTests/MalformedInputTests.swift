import XCTest
import ConvKit
import ConvKitData

/// Mutated and truncated files must produce an error or a value, never a crash.
final class MalformedInputTests: XCTestCase {
    func mutations(of good: [UInt8], seed: UInt64, count: Int = 400) -> [[UInt8]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { i in
            var b = good
            if i % 4 == 0 { return Array(b.prefix(Int(rng.next() % UInt64(b.count)))) }
            for _ in 0..<(1 + Int(rng.next() % 4)) { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            return b
        }
    }

    func testReadersSurviveMutations() throws {
        let png = PNG.encode(PNG.Image(width: 9, height: 5, channels: 3, samples: (0..<135).map { UInt16($0 % 256) }))
        let interlaced = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ImageFormatTests.fixtures + "/rgb_interlaced.png")))
        let npy = NumPy.encode(Tensor(shape: [3, 4], scalars: (0..<12).map(Float.init)))
        let idx = IDX.encodeUInt8((0..<60).map(Float.init), shape: [3, 4, 5])
        let st = Safetensors.encode(["a": Tensor([1, 2, 3]), "b": Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])], metadata: ["k": "v"])
        let pgm = Netpbm.encode(PNG.Image(width: 4, height: 3, channels: 1, samples: Array(repeating: 9, count: 12)))
        let gz = Gzip.compress(idx)
        var outcomes = [0, 0]
        func run(_ body: () throws -> Void) { do { try body(); outcomes[0] += 1 } catch { outcomes[1] += 1 } }
        for b in mutations(of: png, seed: 1) { run { _ = try PNG.decode(b, path: "m.png") } }
        for b in mutations(of: interlaced, seed: 2) { run { _ = try PNG.decode(b, path: "i.png") } }
        for b in mutations(of: npy, seed: 3) { run { _ = try NumPy.decode(b, path: "m.npy") } }
        for b in mutations(of: idx, seed: 4) { run { _ = try IDX.decode(b, path: "m.idx") } }
        for b in mutations(of: st, seed: 5) { run { _ = try Safetensors.decode(b, path: "m.safetensors") } }
        for b in mutations(of: pgm, seed: 6) { run { _ = try Netpbm.decode(b, path: "m.pgm") } }
        for b in mutations(of: gz, seed: 7) { run { _ = try IDX.decode(try Gzip.decompress(b, path: "m.gz"), path: "m.gz") } }
        XCTAssertGreaterThan(outcomes[1], 1000, "most mutations should be rejected: \(outcomes)")
    }
}
