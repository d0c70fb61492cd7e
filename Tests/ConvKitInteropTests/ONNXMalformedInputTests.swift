import XCTest
import ConvKit
@testable import ConvKitInterop

/// Files and graphs users (or attackers) produce: each must end in one ONNXError naming what is wrong, never a trap,
/// never an allocation of what a header merely claims.
final class ONNXMalformedInputTests: XCTestCase {
    typealias B = ONNXBuilder
    let x = B.valueInfo("x", [1, 2, 4, 4])

    func expectError(_ body: () throws -> Void, _ contains: String, file: StaticString = #filePath, line: UInt = #line) {
        do { try body(); XCTFail("no error (expected one mentioning '\(contains)')", file: file, line: line) } catch {
            XCTAssertTrue("\(error)".contains(contains), "\(error)", file: file, line: line)
        }
    }

    func testTruncatedAndGarbageFilesAreRefused() throws {
        let data = try Data(contentsOf: B.golden.appendingPathComponent("torch/blocks_opset13.onnx"))
        for cut in [1, 7, 100, data.count / 2, data.count - 3] {
            expectError({ _ = try ONNXModel(serialized: data.prefix(cut), path: "cut.onnx") }, "cut.onnx")
        }
        var rng = SeededGenerator(seed: 9)
        for _ in 0..<20 {
            let junk = Data((0..<Int.random(in: 1...4000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            do { _ = try ONNXModel(serialized: junk, path: "junk") } catch { XCTAssertTrue(error is ONNXError) }
        }
        expectError({ _ = try ONNXModel(contentsOf: URL(fileURLWithPath: "/nonexistent/model.onnx")) }, "cannot be read")
    }

    func testACycleIsNamed() {
        let m = B.model(nodes: [B.node("Relu", ["b"], ["a"], name: "first"), B.node("Relu", ["a"], ["b"], name: "second")],
                        inputs: [x], outputs: [B.valueInfo("a", [1, 2, 4, 4])])
        expectError({ _ = try B.load(m) }, "cycle through nodes 'first', 'second'")
    }

    func testAValueNobodyProducesIsNamed() {
        let m = B.model(nodes: [B.node("Conv", ["x", "missing_weight"], ["y"], name: "conv1")], inputs: [x], outputs: [B.valueInfo("y", [])])
        expectError({ _ = try B.load(m) }, "node 'conv1' (Conv) reads 'missing_weight'")
        let dangling = B.model(nodes: [B.node("Relu", ["x"], ["y"])], inputs: [x], outputs: [B.valueInfo("z", [])])
        expectError({ _ = try B.load(dangling) }, "graph output 'z'")
    }

    func testEveryUnsupportedNodeIsListedAtOnce() {
        let m = B.model(nodes: [B.node("FancyOp", ["x"], ["a"], name: "n1"), B.node("Relu", ["a"], ["b"]), B.node("OtherOp", ["b"], ["c"], name: "n3")],
                        inputs: [x], outputs: [B.valueInfo("c", [])])
        do { _ = try B.load(m); XCTFail("loaded") } catch let ONNXError.unsupported(nodes) {
            XCTAssertEqual(nodes.map(\.name), ["n1", "n3"])
            XCTAssertEqual(nodes.map(\.op), ["FancyOp", "OtherOp"])
            XCTAssertEqual(nodes.map(\.opset), [17, 17])
        } catch { XCTFail("\(error)") }
    }

    func testAbsurdTensorHeadersAreRefusedBeforeAllocating() {
        var t = Onnx_TensorProto(); t.name = "huge"; t.dataType = 1; t.dims = [1 << 20, 1 << 20, 1 << 20]
        let m = B.model(nodes: [B.node("Add", ["x", "huge"], ["y"])], inputs: [x], outputs: [B.valueInfo("y", [])], initializers: [t])
        expectError({ _ = try B.load(m) }, "tensor 'huge' has dims")
        var short = B.tensor("w", Tensor.zeros([4, 2, 3, 3]))
        short.rawData = short.rawData.prefix(10)
        let m2 = B.model(nodes: [B.node("Conv", ["x", "w"], ["y"])], inputs: [x], outputs: [B.valueInfo("y", [])], initializers: [short])
        expectError({ _ = try B.load(m2) }, "needs 288 bytes of raw data, found 10")
        var negative = Onnx_TensorProto(); negative.name = "neg"; negative.dataType = 7; negative.dims = [-3]
        let m3 = B.model(nodes: [B.node("Reshape", ["x", "neg"], ["y"])], inputs: [x], outputs: [B.valueInfo("y", [])], initializers: [negative])
        expectError({ _ = try B.load(m3) }, "tensor 'neg' has dims [-3]")
        // A ConstantOfShape asking for 2^60 elements is refused when it runs, before allocating.
        let m4 = B.model(nodes: [B.node("ConstantOfShape", ["s"], ["y"])], inputs: [], outputs: [B.valueInfo("y", [])],
                         initializers: [B.tensor("s", ints: [1 << 30, 1 << 30])])
        expectError({ _ = try B.load(m4).run([:]) }, "would need more than")
    }

    func testShapesThatDoNotFitNameTheNode() throws {
        let w = B.tensor("w", Tensor.zeros([4, 3, 3, 3]))
        let m = try B.load(B.model(nodes: [B.node("Conv", ["x", "w"], ["y"], name: "stem")], inputs: [B.valueInfo("x", [1, 2, 4, 4])],
                                   outputs: [B.valueInfo("y", [])], initializers: [w]))
        expectError({ _ = try m.predict(Tensor.zeros([1, 2, 4, 4])) }, "ONNX node 'stem' (Conv): group 1: X has 2 channels")
        expectError({ _ = try m.predict(Tensor.zeros([1, 2, 5, 4])) }, "'x' has shape [1, 2, 5, 4]")
        expectError({ _ = try m.run([:]) }, "missing input 'x'")
        let reshape = try B.load(B.model(nodes: [B.node("Reshape", ["x", "s"], ["y"], name: "r")], inputs: [x], outputs: [B.valueInfo("y", [])],
                                         initializers: [B.tensor("s", ints: [5, -1])]))
        expectError({ _ = try reshape.predict(Tensor.zeros([1, 2, 4, 4])) }, "cannot infer -1")
        let gather = try B.load(B.model(nodes: [B.node("Gather", ["x", "i"], ["y"], name: "g")], inputs: [x], outputs: [B.valueInfo("y", [])],
                                        initializers: [B.tensor("i", ints: [7])]))
        expectError({ _ = try gather.predict(Tensor.zeros([1, 2, 4, 4])) }, "index 7 out of range for extent 1")
        let pool = try B.load(B.model(nodes: [B.node("MaxPool", ["x"], ["y"], name: "p", [B.attribute("kernel_shape", ints: [9, 9])])],
                                      inputs: [x], outputs: [B.valueInfo("y", [])]))
        expectError({ _ = try pool.predict(Tensor.zeros([1, 2, 4, 4])) }, "would be empty")
    }
}

/// Finite differences against the gradients of the operators the importer implements itself (index maps, resize
/// taps, the reference pooling loop, elementwise ops with broadcasting).
final class ONNXGradientTests: XCTestCase {
    typealias B = ONNXBuilder

    /// d/dx Σ w ⊙ op(x) by autograd and by central differences, for random x and w.
    func check(_ nodes: [Onnx_NodeProto], input: [Int], output: [Int], initializers: [Onnx_TensorProto] = [], opset: Int = 17,
               file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = SeededGenerator(seed: 5)
        let w = Tensor.normal(output, rng: &rng)
        let all = nodes + [B.node("Mul", ["out", "weights"], ["weighted"]), B.node("ReduceSum", ["weighted"], ["loss"], [B.attribute("keepdims", int: 0)])]
        let m = try B.load(B.model(nodes: all, inputs: [B.valueInfo("x", input)], outputs: [B.valueInfo("loss", [])],
                                   initializers: initializers + [B.tensor("weights", w)], opset: opset))
        let x0 = Tensor.uniform(input, low: -1, high: 1, rng: &rng)
        let xv = Variable(x0, requiresGrad: true)
        try m.forward([xv])[0].backward()
        let g = try XCTUnwrap(xv.grad, file: file, line: line)
        func f(_ t: Tensor) throws -> Double { Double(try m.predict(t).scalar) }
        let eps: Float = 1e-2
        for i in stride(from: 0, to: x0.count, by: Swift.max(1, x0.count / 12)) {
            var p = x0, q = x0
            p.scalars[i] += eps; q.scalars[i] -= eps
            let numeric = (try f(p) - f(q)) / Double(2 * eps)
            XCTAssertEqual(Double(g.scalars[i]), numeric, accuracy: 2e-2 * Swift.max(1, Swift.abs(numeric)), "element \(i)", file: file, line: line)
        }
    }

    func testPadReflectEdgeWrap() throws {
        for mode in ["reflect", "edge", "wrap", "constant"] {
            try check([B.node("Pad", ["x", "p"], ["out"], [B.attribute("mode", string: mode)])], input: [1, 1, 3, 4], output: [1, 1, 5, 7],
                      initializers: [B.tensor("p", ints: [0, 0, 1, 2, 0, 0, 1, 1])])
        }
    }

    func testResizeLinearCubicAndNearest() throws {
        for mode in ["linear", "cubic", "nearest"] {
            try check([B.node("Resize", ["x", "", "s"], ["out"], [B.attribute("mode", string: mode)])], input: [1, 1, 3, 3], output: [1, 1, 5, 5],
                      initializers: [B.tensor("s", Tensor([1, 1, 1.7, 1.7]))])
        }
    }

    func testSliceWithNegativeStepsGatherAndTile() throws {
        try check([B.node("Slice", ["x", "st", "en", "ax", "sp"], ["out"])], input: [2, 5], output: [2, 2],
                  initializers: [B.tensor("st", ints: [4]), B.tensor("en", ints: [0]), B.tensor("ax", ints: [1]), B.tensor("sp", ints: [-2])])
        try check([B.node("Gather", ["x", "i"], ["out"], [B.attribute("axis", int: 1)])], input: [2, 4], output: [2, 3],
                  initializers: [B.tensor("i", ints: [3, -1, 0])])
        try check([B.node("Tile", ["x", "r"], ["out"])], input: [2, 3], output: [4, 3], initializers: [B.tensor("r", ints: [2, 1])])
    }

    func testPReluPowLayerNormAndMax() throws {
        try check([B.node("PRelu", ["x", "s"], ["out"])], input: [1, 3, 2, 2], output: [1, 3, 2, 2], initializers: [B.tensor("s", Tensor(shape: [3, 1, 1], scalars: [0.1, 0.2, 0.3]))])
        try check([B.node("Abs", ["x"], ["a"]), B.node("Add", ["a", "one"], ["b"]), B.node("Pow", ["b", "e"], ["out"])], input: [2, 3], output: [2, 3],
                  initializers: [B.tensor("one", Tensor(1)), B.tensor("e", Tensor(1.5))])
        try check([B.node("LayerNormalization", ["x", "g", "b"], ["out"], [B.attribute("axis", int: 1)])], input: [2, 4], output: [2, 4],
                  initializers: [B.tensor("g", Tensor([1, 2, 0.5, 1])), B.tensor("b", Tensor([0, 1, 0, 0]))])
        try check([B.node("Max", ["x", "c"], ["out"])], input: [2, 3], output: [2, 3], initializers: [B.tensor("c", Tensor([0.1, -0.2, 0.3]))])
    }

    func testPoolingOnTheReferencePath() throws {
        // Pads larger than half the kernel and dilated averaging run the reference loop, not ConvKit's kernels.
        try check([B.node("MaxPool", ["x"], ["out"], [B.attribute("kernel_shape", ints: [2, 2]), B.attribute("pads", ints: [1, 1, 1, 1])])],
                  input: [1, 1, 3, 3], output: [1, 1, 4, 4])
        try check([B.node("AveragePool", ["x"], ["out"], [B.attribute("kernel_shape", ints: [2, 2]), B.attribute("dilations", ints: [2, 2])])],
                  input: [1, 1, 4, 4], output: [1, 1, 2, 2])
    }
}

/// Attribute and input values chosen to overflow the arithmetic of shape computations: refused with the node named.
final class ONNXOverflowTests: XCTestCase {
    typealias B = ONNXBuilder
    let x = B.valueInfo("x", [1, 2, 4, 4])

    func refuse(_ node: Onnx_NodeProto, _ inits: [Onnx_TensorProto] = [], opset: Int = 17, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let m = try B.load(B.model(nodes: [node], inputs: [x], outputs: [B.valueInfo("y", [])], initializers: inits, opset: opset))
            _ = try m.predict(Tensor.zeros([1, 2, 4, 4]))
            XCTFail("accepted", file: file, line: line)
        } catch {
            XCTAssertTrue("\(error)".contains("ONNX node"), "\(error)", file: file, line: line)
        }
    }

    func testHugeValuesFromTheFileAreRefusedNotTrapped() {
        let big = Int64.max
        refuse(B.node("Tile", ["x", "r"], ["y"]), [B.tensor("r", ints: [big, 2, 1, 1])])
        refuse(B.node("Pad", ["x", "p"], ["y"]), [B.tensor("p", ints: [0, 0, big, 0, 0, 0, big, 0])])
        refuse(B.node("Resize", ["x", "", "s"], ["y"]), [B.tensor("s", Tensor([1, 1, 1e30, 1]))])
        refuse(B.node("Upsample", ["x", "s"], ["y"], [B.attribute("mode", string: "nearest")]), [B.tensor("s", Tensor([1, 1, 3e38, 1]))], opset: 9)
        refuse(B.node("Range", ["a", "b", "c"], ["y"]), [B.tensor("a", ints: [Int64.min], shape: []), B.tensor("b", ints: [big], shape: []), B.tensor("c", ints: [1], shape: [])])
        refuse(B.node("Range", ["a", "b", "c"], ["y"]), [B.tensor("a", Tensor(shape: [], scalars: [-3e38])), B.tensor("b", Tensor(shape: [], scalars: [3e38])),
                                                         B.tensor("c", Tensor(shape: [], scalars: [1e-30]))])
        refuse(B.node("MaxPool", ["x"], ["y"], [B.attribute("kernel_shape", ints: [1, 1]), B.attribute("strides", ints: [Int(big), 1])]))
        refuse(B.node("DepthToSpace", ["x"], ["y"], [B.attribute("blocksize", int: Int(big))]))
    }

    func testExtremeButValidValuesStillRun() throws {
        // A slice step far beyond the extent takes one element; int64.min mod −1 is 0; a roi of NaN extrapolates.
        let m = try B.load(B.model(nodes: [B.node("Slice", ["x", "st", "en", "ax", "sp"], ["y"])], inputs: [x], outputs: [B.valueInfo("y", [])],
                                   initializers: [B.tensor("st", ints: [0]), B.tensor("en", ints: [Int64.max]), B.tensor("ax", ints: [3]),
                                                  B.tensor("sp", ints: [Int64.max])]))
        XCTAssertEqual(try m.predict(Tensor.zeros([1, 2, 4, 4])).shape, [1, 2, 4, 1])
        let mod = try B.load(B.model(nodes: [B.node("Mod", ["a", "b"], ["y"])], inputs: [], outputs: [B.valueInfo("y", [])],
                                     initializers: [B.tensor("a", ints: [Int64.min, 7]), B.tensor("b", ints: [-1, -3])]))
        guard case .integer(let r)? = try mod.run([:])["y"] else { return XCTFail("no integer output") }
        XCTAssertEqual(r.values, [0, -2])
        let crop = try B.load(B.model(nodes: [B.node("Resize", ["x", "roi", "s"], ["y"], [B.attribute("coordinate_transformation_mode", string: "tf_crop_and_resize"),
                                                                                          B.attribute("extrapolation_value", float: 5)])],
                                      inputs: [x], outputs: [B.valueInfo("y", [])],
                                      initializers: [B.tensor("roi", Tensor([0, 0, .nan, 0, 1, 1, 1, 1])), B.tensor("s", Tensor([1, 1, 2, 2]))]))
        let y = try crop.predict(Tensor.zeros([1, 2, 4, 4]))
        XCTAssertEqual(y.shape, [1, 2, 8, 8])
        XCTAssertTrue(y.scalars.allSatisfy { $0 == 5 })
    }
}
