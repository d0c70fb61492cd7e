import ConvKit

/// The costs of neural style transfer (Gatys, Ecker and Bethge 2015; notes 004 §4.6) on activations
/// `[1, C, H, W]` (channels first: the notes' a_{i,j,k} is `a[0, k, i, j]`):
///
///     J(G) = α·J_content(C, G) + β·J_style(S, G) (+ γ·TV(G))
///     J_content = ½‖a(C) − a(G)‖²
///     G_kk′ = Σ_ij a_ijk·a_ijk′                                (the Gram or "style" matrix, C×C)
///     J_style^[l] = 1/(2·n_H·n_W·n_C)² · Σ_kk′ (G^(S)_kk′ − G^(G)_kk′)²
///     J_style = Σ_l λ^[l]·J_style^[l]
///
/// Every function is differentiable with respect to the generated image's activations.
public enum StyleCosts {
    /// G = A·Aᵀ with A the activation unrolled to `[C, H·W]`: `[1, C, H, W]` or `[C, H, W]` → `[C, C]`.
    /// Backward: ∂J/∂A = (g + gᵀ)·A.
    public static func gram(_ a: Variable) -> Variable {
        precondition(a.shape.count >= 3 && a.shape.dropLast(3).allSatisfy { $0 == 1 }, "gram expects [1, C, H, W] or [C, H, W]")
        let c = a.shape[a.shape.count - 3], hw = a.shape.suffix(2).reduce(1, *)
        let m = a.value.reshaped([c, hw])
        let shape = a.shape
        return Variable(Tensor.matmul(m, m, transposeB: true), parents: [a], label: "gram") { g in
            [Tensor.matmul(g + g.transposed(), m).reshaped(shape)]
        }
    }

    /// ½‖a(C) − a(G)‖² for a fixed target `content` (the content image's activation at the same layer).
    public static func content(_ generated: Variable, target content: Tensor) -> Variable {
        precondition(generated.shape == content.shape, "content cost: activation shapes differ")
        return 0.5 * (generated - Variable(content)).squared().sum()
    }

    /// One layer's style cost 1/(2·n_H·n_W·n_C)²·‖G(S) − G(G)‖²_F, for the style image's Gram matrix `targetGram`.
    public static func style(_ generated: Variable, targetGram: Tensor) -> Variable {
        let n = generated.shape.suffix(3).reduce(1, *)
        let g = gram(generated)
        precondition(g.shape == targetGram.shape, "style cost: Gram matrix shapes differ")
        let scale = 1 / (2 * Float(n) * 2 * Float(n))
        return (g - Variable(targetGram)).squared().sum() * scale
    }

    /// Total variation Σ (x[i+1,j] − x[i,j])² + (x[i,j+1] − x[i,j])² over every channel of `[N, C, H, W]`
    /// (the squared, anisotropic form); it smooths the high-frequency noise that pixel optimization leaves.
    public static func totalVariation(_ x: Variable) -> Variable {
        let h = x.shape[x.shape.count - 2], w = x.shape[x.shape.count - 1]
        let ax = x.shape.count - 2
        var total = Variable(Tensor(0))
        if h > 1 { total = total + (x.slice(axis: ax, 1..<h) - x.slice(axis: ax, 0..<(h - 1))).squared().sum() }
        if w > 1 { total = total + (x.slice(axis: ax + 1, 1..<w) - x.slice(axis: ax + 1, 0..<(w - 1))).squared().sum() }
        return total
    }
}
