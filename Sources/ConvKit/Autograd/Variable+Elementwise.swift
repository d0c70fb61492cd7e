extension Functional {
    /// y = f(x) elementwise for any scalar function, with dy/dx = df(x, y) — for operations ConvKit has no kernel
    /// of its own for (an imported model's Selu, HardSigmoid with its α and β, Sin, …). A captured graph records
    /// f under "function" (`(Float) -> Float`), so an inference plan can apply it in either memory layout.
    public static func elementwise(_ x: Variable, label: String, _ f: @escaping (Float) -> Float,
                                   derivative df: @escaping (Float, Float) -> Float) -> Variable {
        let y = x.value.map(f)
        let v = Variable(y, parents: [x], label: label) { g in
            var gx = g
            gx.withUnsafeMutableBufferPointer { gb in
                x.value.withUnsafeBufferPointer { xb in
                    y.withUnsafeBufferPointer { yb in
                        for i in 0..<gb.count { gb[i] *= df(xb[i], yb[i]) }
                    }
                }
            }
            return [gx]
        }
        Tracer.annotate(v, ["function": f]); return v
    }
}
