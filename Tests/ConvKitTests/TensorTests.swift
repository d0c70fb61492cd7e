import XCTest
import ConvKit

final class TensorTests: XCTestCase {
    func testBroadcastingArithmetic() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3], scalars: [10, 20, 30])
        XCTAssertEqual((a + b).scalars, [11, 22, 33, 14, 25, 36])
        let c = Tensor(shape: [2, 1], scalars: [100, 200])
        XCTAssertEqual((a * c).scalars, [100, 200, 300, 800, 1000, 1200])
        XCTAssertEqual((c - b).shape, [2, 3])
        XCTAssertEqual((c - b).scalars, [90, 80, 70, 190, 180, 170])
        XCTAssertNil(broadcastShape([2, 3], [4]))
        XCTAssertEqual(broadcastShape([5, 1, 3], [4, 1]), [5, 4, 3])
    }

    func testReductions() {
        let a = Tensor(shape: [2, 3], scalars: [1, 5, 3, 4, 2, 6])
        XCTAssertEqual(a.sum().scalar, 21)
        XCTAssertEqual(a.sum(axes: [0]).scalars, [5, 7, 9])
        XCTAssertEqual(a.sum(axes: [1], keepingDims: true).shape, [2, 1])
        XCTAssertEqual(a.mean(axes: [1]).scalars, [3, 4])
        XCTAssertEqual(a.max(axes: [1]).scalars, [5, 6])
        XCTAssertEqual(a.min(axes: [0]).scalars, [1, 2, 3])
        XCTAssertEqual(a.argmax(axis: 1), [1, 2])
        XCTAssertEqual(a.argmin(axis: 0), [0, 1, 0])
        XCTAssertEqual(a.variance(axes: [1]).scalars[0], 8.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(a.variance(axes: [1], unbiased: true).scalars[0], 4, accuracy: 1e-6)
        XCTAssertEqual(Tensor.ones([2, 3, 4]).sumToShape([3, 1]).scalars, [8, 8, 8])
    }

    func testShapeOperations() {
        let a = Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))
        XCTAssertEqual(a.reshaped([6, -1]).shape, [6, 4])
        XCTAssertEqual(a.permuted([2, 0, 1])[3, 1, 2], a[1, 2, 3])
        XCTAssertEqual(a.transposed()[1, 3, 2], a[1, 2, 3])
        XCTAssertEqual(a.slice(axis: 2, 1..<4, step: 2).scalars, [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23])
        XCTAssertEqual(a.unsqueezed(axis: 1).shape, [2, 1, 3, 4])
        XCTAssertEqual(a.unsqueezed(axis: -1).shape, [2, 3, 4, 1])
        XCTAssertEqual(a.unsqueezed(axis: 0).squeezed().shape, [2, 3, 4])
        XCTAssertEqual(Tensor([1, 2]).broadcast(to: [3, 2]).scalars, [1, 2, 1, 2, 1, 2])
        let parts = a.split(sizes: [1, 2], axis: 1)
        XCTAssertEqual(parts.map(\.shape), [[2, 1, 4], [2, 2, 4]])
        XCTAssertEqual(Tensor.concatenate(parts, axis: 1), a)
        let s = Tensor.stack([Tensor([1, 2]), Tensor([3, 4])], axis: 1)
        XCTAssertEqual(s.shape, [2, 2]); XCTAssertEqual(s.scalars, [1, 3, 2, 4])
        XCTAssertEqual(a.flattened().shape, [2, 12])
    }

    func testWhereAndComparisons() {
        let a = Tensor([1, -2, 3]), b = Tensor([0, 0, 5])
        XCTAssertEqual(a.gt(b).scalars, [1, 0, 0])
        XCTAssertEqual(Tensor.where(a.gt(b), a, b).scalars, [1, 0, 5])
        XCTAssertEqual(Tensor.where(Tensor([1, 0, 1]), Tensor(9), Tensor(-9)).scalars, [9, -9, 9])
    }

    func testCopyOnWrite() {
        var a = Tensor.zeros([3])
        let b = a
        a[1] = 5
        XCTAssertEqual(b.scalars, [0, 0, 0])
        XCTAssertEqual(a.scalars, [0, 5, 0])
    }

    func testSeededRandomIsReproducible() {
        var r1 = SeededGenerator(seed: 42), r2 = SeededGenerator(seed: 42)
        XCTAssertEqual(Tensor.normal([100], rng: &r1), Tensor.normal([100], rng: &r2))
        var r3 = SeededGenerator(seed: 7)
        let n = Tensor.normal([20000], mean: 2, std: 3, rng: &r3)
        XCTAssertEqual(n.mean().scalar, 2, accuracy: 0.1)
        XCTAssertEqual(n.variance().scalar.squareRoot(), 3, accuracy: 0.1)
        let u = Tensor.uniform([20000], low: -1, high: 1, rng: &r3)
        XCTAssertTrue(u.scalars.allSatisfy { $0 >= -1 && $0 < 1 })
        XCTAssertEqual(u.mean().scalar, 0, accuracy: 0.05)
        XCTAssertEqual(Tensor.bernoulli([20000], p: 0.3, rng: &r3).mean().scalar, 0.3, accuracy: 0.02)
        XCTAssertEqual(Tensor.permutation(50, rng: &r3).sorted(), Array(0..<50))
    }

    func testValidatingInitThrows() {
        XCTAssertThrowsError(try Tensor(validating: [1, 2, 3], shape: [2, 2])) { e in
            XCTAssertTrue("\(e)".contains("expected 4 elements"), "\(e)")
        }
    }
}

final class NumPyTests: XCTestCase {
    func tmp(_ name: String) -> String { NSTemporaryDirectory() + "convkit-\(getpid())-\(name)" }

    func testNpyRoundTrip() throws {
        var rng = SeededGenerator(seed: 1)
        for shape in [[], [5], [2, 3], [2, 1, 4, 3]] {
            let t = Tensor.normal(shape, rng: &rng)
            let p = tmp("rt.npy")
            try NumPy.save(t, to: p)
            XCTAssertEqual(try NumPy.load(p), t)
        }
    }

    func testNpzRoundTripBothCompressions() throws {
        var rng = SeededGenerator(seed: 2)
        let arrays = ["a": Tensor.normal([3, 4], rng: &rng), "b.c": Tensor([1, 2, 3])]
        for compressed in [false, true] {
            let p = tmp("rt\(compressed).npz")
            try NumPy.saveArchive(arrays, to: p, compressed: compressed)
            XCTAssertEqual(try NumPy.loadArchive(p), arrays)
        }
    }

    /// Bytes written by numpy 2.4 (`np.save` of np.arange(6, dtype='>i2').reshape(2,3), Fortran order).
    func testForeignDtypeAndFortranOrder() throws {
        let header = "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 3), }"
        let pad = 64 - (10 + header.utf8.count + 1) % 64
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        let hl = header.utf8.count + pad + 1
        bytes += [UInt8(hl & 0xFF), UInt8(hl >> 8)]
        bytes += Array(header.utf8) + [UInt8](repeating: 0x20, count: pad) + [0x0A]
        // Fortran order: column-major values of [[0,1,2],[3,4,5]] = 0,3,1,4,2,5, big-endian int16.
        for v: Int16 in [0, 3, 1, 4, 2, 5] { bytes += [UInt8(UInt16(bitPattern: v) >> 8), UInt8(UInt16(bitPattern: v) & 0xFF)] }
        let t = try NumPy.decode(bytes, path: "mem")
        XCTAssertEqual(t.shape, [2, 3]); XCTAssertEqual(t.scalars, [0, 1, 2, 3, 4, 5])
    }

    func testCorruptFilesThrowClearErrors() throws {
        let good = NumPy.encode(Tensor([1, 2, 3, 4]))
        // Truncated data
        XCTAssertThrowsError(try NumPy.decode(Array(good.dropLast(3)), path: "x.npy")) { e in
            XCTAssertTrue("\(e)".contains("x.npy") && "\(e)".contains("truncated"), "\(e)")
        }
        // Bad magic
        var bad = good; bad[1] = 0x41
        XCTAssertThrowsError(try NumPy.decode(bad, path: "y.npy")) { e in XCTAssertTrue("\(e)".contains("magic"), "\(e)") }
        // Unsupported dtype
        let h = String(decoding: good[10..<good.count - 16], as: UTF8.self).replacingOccurrences(of: "<f4", with: "<c8")
        let c8 = Array(good[..<10]) + Array(h.utf8) + Array(good[(good.count - 16)...])
        XCTAssertThrowsError(try NumPy.decode(c8, path: "z.npy")) { e in XCTAssertTrue("\(e)".contains("numeric dtype"), "\(e)") }
        // Empty and tiny inputs
        XCTAssertThrowsError(try NumPy.decode([], path: "e.npy"))
        XCTAssertThrowsError(try Zip.read(Data([1, 2, 3]), path: "t.npz"))
        // A truncated archive
        let p = tmp("trunc.npz")
        try NumPy.saveArchive(["a": Tensor([1, 2, 3])], to: p, compressed: true)
        let d = try Data(contentsOf: URL(fileURLWithPath: p))
        XCTAssertThrowsError(try Zip.read(d.prefix(d.count - 30), path: "trunc.npz"))
        XCTAssertThrowsError(try NumPy.load("/nonexistent/file.npy")) { e in XCTAssertTrue("\(e)".contains("no such file"), "\(e)") }
    }

    func testAtomicWriteReplacesWholeFile() throws {
        let p = tmp("atomic.bin")
        try AtomicFile.write(Data([1, 2, 3]), to: p)
        try AtomicFile.write(Data([9]), to: p)
        XCTAssertEqual(try AtomicFile.read(p), Data([9]))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.contains("atomic.bin.tmp") }
        XCTAssertEqual(leftovers, [])
        XCTAssertThrowsError(try AtomicFile.write(Data([1]), to: "/nonexistent-dir/x.bin"))
    }
}
