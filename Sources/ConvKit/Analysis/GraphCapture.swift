/// A forward pass recorded op by op — each op's inputs, output and attributes — for exporters (ONNX).
///
/// Capture runs the model once in evaluation mode without gradients, on a single thread, with fused inference
/// paths off (as a summary does). Every op on Variables is recorded under its label ("conv", "add", "relu",
/// "batchNormEval", …); ops with options also record them (`attributes`, keys documented at each op):
/// `conv`/`convTranspose`: "geometry" (`WindowGeometry`), "groups" (Int), "outputPadding" ([Int]); pooling:
/// "geometry", "ceilMode", "countIncludePad"; `batchNormEval`: "mean", "variance" (Tensor), "epsilon" (Float); …
/// Leaves that are not the input and not a parameter are constants of the graph.
public final class CapturedGraph {
    public struct Node {
        public let op: String
        public let inputs: [Variable]
        public let output: Variable
        public internal(set) var attributes: [String: Any]
    }

    public internal(set) var nodes: [Node] = []
    public let input: Variable
    public internal(set) var outputs: [Variable] = []
    /// Parameter (and nothing else) names by identity: the module paths `namedParameters()` gives.
    public let parameterNames: [ObjectIdentifier: String]
    private var nodeIndex: [ObjectIdentifier: Int] = [:]

    init(input: Variable, parameterNames: [ObjectIdentifier: String]) {
        self.input = input; self.parameterNames = parameterNames
    }

    func append(_ op: String, _ inputs: [Variable], _ output: Variable) {
        nodeIndex[ObjectIdentifier(output)] = nodes.count
        nodes.append(Node(op: op, inputs: inputs, output: output, attributes: [:]))
    }

    func annotate(_ output: Variable, _ attributes: [String: Any]) {
        guard let i = nodeIndex[ObjectIdentifier(output)] else { return }
        nodes[i].attributes.merge(attributes) { _, new in new }
    }

    /// Shapes of the values whose storage `releaseComputedValues` dropped.
    private var releasedShapes: [ObjectIdentifier: [Int]] = [:]

    /// The shape of `v` (also after its values were released).
    public func shape(of v: Variable) -> [Int] { releasedShapes[ObjectIdentifier(v)] ?? v.shape }

    /// Drops the storage of every value an op computed and of the input, keeping their shapes (`shape(of:)`):
    /// parameters and constants keep theirs. A compiler that needs the graph's structure and weights but not
    /// one forward pass's activations calls this right after capturing, so that they are not held while it works.
    public func releaseComputedValues() {
        for v in nodes.map(\.output) + [input] where releasedShapes[ObjectIdentifier(v)] == nil {
            releasedShapes[ObjectIdentifier(v)] = v.shape
            v.value = Tensor([])
        }
    }

    /// The node that produced `v`, if an op did.
    public func producer(of v: Variable) -> Node? { nodeIndex[ObjectIdentifier(v)].map { nodes[$0] } }

    /// Runs `forward` on a copy of `input` with every op recorded. `module` is put in evaluation mode for the
    /// capture (and restored after).
    public static func capture(_ module: Module, input: Tensor, forward: (Variable) throws -> [Variable]) rethrows -> CapturedGraph {
        var names = [ObjectIdentifier: String]()
        for (n, p) in module.namedParameters() { names[ObjectIdentifier(p)] = n }
        let x = Variable(input, label: "input")
        let graph = CapturedGraph(input: x, parameterNames: names)
        let tracer = Tracer()
        tracer.capture = graph
        let wasTraining = module.isTraining
        module.eval()
        Tracer.current = tracer
        defer { Tracer.current = nil; module.train(wasTraining) }
        graph.outputs = try Autograd.withoutGradients { try forward(x) }
        return graph
    }
}

extension Tracer {
    /// Adds options to the op that produced `output` (capture only).
    static func annotate(_ output: Variable, _ attributes: @autoclosure () -> [String: Any]) {
        guard let c = current?.capture else { return }
        c.annotate(output, attributes())
    }
}
