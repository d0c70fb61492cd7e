import CConvKernels

/// The base of every layer and model. Parameters (`Parameter`), state buffers (`Buffer`) and sub-modules
/// stored as properties are discovered by reflection (Swift's `Mirror`) and named hierarchically after the
/// properties, the way PyTorch names them: `layer1.0.conv1.weight`. Arrays of modules are numbered.
/// Those names are what checkpoints, transfer learning and ONNX export use.
///
/// Modules are classes: a module used twice (a Siamese network's shared encoder) is the same object, so
/// its parameters appear once and receive the sum of both uses' gradients.
open class Module {
    /// Training mode (batch statistics, dropout active) or evaluation mode.
    public private(set) var isTraining = true

    public init() {}

    /// Sets training mode on this module and every sub-module.
    public func train(_ on: Bool = true) {
        isTraining = on
        for (_, m) in namedChildren() { m.train(on) }
    }

    /// Evaluation mode: running statistics, no dropout.
    public func eval() { train(false) }

    /// The direct sub-modules, named after their properties (array elements by index).
    open func namedChildren() -> [(String, Module)] {
        var out = [(String, Module)]()
        for child in Mirror(reflecting: self).allChildren {
            guard let label = child.label.map(Module.cleanLabel) else { continue }
            Module.collect(child.value, label) { out.append(($0, $1)) }
        }
        return out
    }

    /// Parameters defined directly on this module (not in sub-modules).
    open func ownParameters() -> [(String, Parameter)] {
        Mirror(reflecting: self).allChildren.compactMap { c in
            guard let l = c.label.map(Module.cleanLabel) else { return nil }
            if let p = c.value as? Parameter { return (l, p) }
            if let p = c.value as? Parameter? , let p { return (l, p) }
            return nil
        }
    }

    /// State tensors defined directly on this module (batch-norm running statistics).
    open func ownBuffers() -> [(String, Buffer)] {
        Mirror(reflecting: self).allChildren.compactMap { c in
            guard let l = c.label.map(Module.cleanLabel), let b = c.value as? Buffer else { return nil }
            return (l, b)
        }
    }

    /// Every parameter in this module and below, each object once (first name wins), in definition order.
    public func namedParameters() -> [(String, Parameter)] { collectOwned { $0.ownParameters() } }

    public func parameters() -> [Parameter] { namedParameters().map(\.1) }

    /// Parameters that currently receive gradients (not frozen).
    public func trainableParameters() -> [Parameter] { parameters().filter(\.requiresGrad) }

    /// Every state buffer in this module and below, each object once, in definition order.
    public func namedBuffers() -> [(String, Buffer)] { collectOwned { $0.ownBuffers() } }

    /// The objects `own` lists on every module below, with dotted names, each object once.
    private func collectOwned<T: AnyObject>(_ own: (Module) -> [(String, T)]) -> [(String, T)] {
        var seen = Set<ObjectIdentifier>()
        var out = [(String, T)]()
        walk { prefix, m in
            for (n, x) in own(m) where seen.insert(ObjectIdentifier(x)).inserted { out.append((prefix + n, x)) }
        }
        return out
    }

    /// Every module below (and including) this one with its dotted name ("" for self).
    public func namedModules() -> [(String, Module)] {
        var out = [(String, Module)]()
        walk { prefix, m in out.append((prefix.isEmpty ? "" : String(prefix.dropLast()), m)) }
        return out
    }

    /// Depth-first walk with an explicit stack; each module object is visited once.
    func walk(_ body: (String, Module) -> Void) {
        var seen = Set<ObjectIdentifier>()
        var stack: [(String, Module)] = [("", self)]
        while let (prefix, m) = stack.popLast() {
            guard seen.insert(ObjectIdentifier(m)).inserted else { continue }
            body(prefix, m)
            for (n, c) in m.namedChildren().reversed() { stack.append((prefix + n + ".", c)) }
        }
    }

    /// Freezes (no gradients) every parameter whose name starts with one of `prefixes` (all when empty).
    /// Transfer learning: `model.freeze()` then `model.unfreeze(["fc"])` trains only the classifier.
    public func freeze(_ prefixes: [String] = []) { setRequiresGrad(false, prefixes) }
    public func unfreeze(_ prefixes: [String] = []) { setRequiresGrad(true, prefixes) }

    private func setRequiresGrad(_ on: Bool, _ prefixes: [String]) {
        for (n, p) in namedParameters() where prefixes.isEmpty || prefixes.contains(where: { n == $0 || n.hasPrefix($0 + ".") }) {
            p.requiresGrad = on
        }
    }

    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters() { p.grad = nil } }

    /// Total number of scalar parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.value.count } }

    // MARK: reflection helpers

    static func cleanLabel(_ l: String) -> String {
        // Lazy or property-wrapper storage shows up as "$__lazy_storage_$_name" / "_name".
        if l.hasPrefix("$__lazy_storage_$_") { return String(l.dropFirst("$__lazy_storage_$_".count)) }
        return l.hasPrefix("_") ? String(l.dropFirst()) : l
    }

    static func collect(_ value: Any, _ name: String, _ add: (String, Module) -> Void) {
        if let m = value as? Module { add(name, m); return }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            if let inner = mirror.children.first { collect(inner.value, name, add) }
        case .collection:
            for (i, c) in mirror.children.enumerated() { collect(c.value, "\(name).\(i)", add) }
        default: break
        }
    }
}

extension Mirror {
    /// Children of this type and its superclasses (stored properties of base classes too).
    var allChildren: [Mirror.Child] {
        var out = Array(children)
        var m = superclassMirror
        while let s = m { out = Array(s.children) + out; m = s.superclassMirror }
        return out
    }
}

/// A tensor of module state that is saved and loaded but not trained (running mean/variance).
public final class Buffer {
    public var value: Tensor { didSet { version = ck_next_version() } }
    /// Changes whenever `value` changes (as `Variable.version`).
    public private(set) var version = ck_next_version()
    public init(_ value: Tensor) { self.value = value }
}

/// A module mapping one Variable to one. Sequential composes these; models with several inputs or
/// outputs are written as plain Swift code in a Module subclass.
public protocol UnaryLayer: Module {
    func callAsFunction(_ x: Variable) -> Variable
}

extension UnaryLayer {
    /// Runs the layer on a tensor without recording gradients (inference).
    public func predict(_ x: Tensor) -> Tensor { Autograd.withoutGradients { self(Variable(x)).value } }
}
