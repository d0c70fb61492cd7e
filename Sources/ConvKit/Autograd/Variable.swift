import CConvKernels

/// A tensor in a computation graph: reverse-mode automatic differentiation on a tape recorded as ops run.
///
/// Every op on Variables computes its value and, in the same place, records a closure that maps the
/// gradient of its output to the gradients of its inputs (micrograd's shape, on tensors). `backward()`
/// orders the graph topologically with an explicit stack (no recursion: 150-layer networks are fine)
/// and runs the closures in reverse, accumulating (`+=`) into every leaf that requires a gradient.
/// A parameter used in several places (a Siamese encoder) receives the sum of its gradients.
///
/// Parameters are Variables that persist across steps (`Parameter` is the same type); optimizers update
/// `value` in place. Inputs can require gradients too (style transfer optimizes the image itself).
public final class Variable {
    /// The current value.
    public var value: Tensor { didSet { version = ck_next_version() } }
    /// Changes whenever `value` is set or mutated; unique across all variables and buffers, so caches
    /// derived from a value (folded inference weights) can tell when they are stale.
    public private(set) var version = ck_next_version()
    /// The accumulated gradient ∂L/∂value (leaves only), nil until a backward pass reaches this leaf.
    public var grad: Tensor?
    /// Whether gradients flow to (and through) this variable. Setting false on a parameter freezes it.
    public var requiresGrad: Bool
    /// Inputs of the op that produced this variable (empty for leaves or when nothing was recorded).
    let parents: [Variable]
    /// ∂L/∂output → ∂L/∂parents (nil entries for parents that need no gradient).
    let backwardFn: ((Tensor) -> [Tensor?])?
    /// A label for debugging (op name for intermediates).
    public let label: String
    /// Set only while a model summary traces a forward pass.
    public internal(set) var receptiveField: ReceptiveField?

    /// A leaf: a parameter or an input.
    public init(_ value: Tensor, requiresGrad: Bool = false, label: String = "leaf") {
        self.value = value; self.requiresGrad = requiresGrad; self.label = label
        parents = []; backwardFn = nil
    }

    /// The result of a custom op: `value` computed from `parents`, and `backward` mapping ∂L/∂value to ∂L/∂parent for
    /// each parent (nil where a parent needs none). Recorded only when gradients are on and a parent needs one.
    /// Ops outside this module (fused task losses, RoI pooling) are written this way.
    public init(_ value: Tensor, parents: [Variable], label: String, backward: @escaping (Tensor) -> [Tensor?]) {
        self.value = value
        self.label = label
        if Tracer.current != nil { receptiveField = ReceptiveField.merge(parents.compactMap(\.receptiveField)) }
        if Autograd.isRecording && parents.contains(where: \.requiresGrad) {
            self.requiresGrad = true; self.parents = parents; self.backwardFn = backward
        } else {
            self.requiresGrad = false; self.parents = []; self.backwardFn = nil
        }
        if let t = Tracer.current {
            tracedInput = parents.first
            t.capture?.append(label, parents, self)
        }
    }

    /// The first input of the op, kept only while tracing (gradients are off then, so `parents` is empty).
    var tracedInput: Variable?

    public var shape: [Int] { value.shape }
    public var isLeaf: Bool { backwardFn == nil }

    /// Back-propagates from this variable. `seed` is ∂L/∂self (default: ones, for a scalar loss).
    public func backward(_ seed: Tensor? = nil) {
        guard requiresGrad else { return }
        let order = topologicalOrder()
        var grads = [ObjectIdentifier: Tensor]()
        grads[ObjectIdentifier(self)] = seed ?? Tensor.ones(value.shape)
        for node in order.reversed() {
            guard let g = grads.removeValue(forKey: ObjectIdentifier(node)) else { continue }
            guard let fn = node.backwardFn else {
                if node.grad == nil { node.grad = g } else { node.grad! += g }
                continue
            }
            let pg = fn(g)
            for (p, gp) in zip(node.parents, pg) where p.requiresGrad {
                guard let gp else { continue }
                precondition(gp.shape == p.value.shape, "gradient \(gp.shape) for \(p.label) of shape \(p.value.shape) from \(node.label)")
                let k = ObjectIdentifier(p)
                if grads[k] == nil { grads[k] = gp } else { grads[k]! += gp }
            }
        }
    }

    /// Nodes reachable from self that require gradients, parents before children (iterative DFS).
    func topologicalOrder() -> [Variable] {
        var order = [Variable]()
        var visited = Set<ObjectIdentifier>()
        var stack: [(Variable, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            if !visited.insert(ObjectIdentifier(node)).inserted { continue }
            stack.append((node, true))
            for p in node.parents where p.requiresGrad && !visited.contains(ObjectIdentifier(p)) { stack.append((p, false)) }
        }
        return order
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }

    /// The same value cut off from the graph.
    public func detached() -> Variable { Variable(value) }
}

/// Parameters are persistent leaf variables.
public typealias Parameter = Variable

/// The switch for recording (PyTorch's `no_grad`), per thread as in PyTorch: a `predict` on one thread does not
/// stop another thread's training from recording its graph.
public enum Autograd {
    /// True unless the calling thread is inside `withoutGradients`.
    public static var isRecording: Bool { ck_no_grad_depth() == 0 }

    /// Runs `body` without recording any graph on this thread (inference, evaluation, parameter updates).
    public static func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
        ck_no_grad_adjust(1)
        defer { ck_no_grad_adjust(-1) }
        return try body()
    }
}
