/// Sizes read from outside (file headers, shape files, metadata) multiplied without trapping: readers call these
/// before allocating, so that an extent like 2³² × 2³² is an error and not a wrapped or trapping product.
public enum Extents {
    /// The product of `dims` when every extent is non-negative and the product does not overflow `Int`; nil
    /// otherwise. `product([]) == 1` (a scalar).
    public static func product(_ dims: [Int]) -> Int? {
        var n = 1
        for d in dims {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n
    }

    /// The product of `dims` times `bytesPerElement` when it fits in `limit` bytes; nil otherwise.
    public static func bytes(_ dims: [Int], bytesPerElement: Int, limit: Int = Int.max) -> Int? {
        guard let n = product(dims) else { return nil }
        let (b, overflow) = n.multipliedReportingOverflow(by: bytesPerElement)
        return overflow || b > limit ? nil : b
    }

    /// `value` as an `Int` when it is a finite whole number in Int's range; nil for NaN, ±∞, fractions and
    /// values `Int(_:)` would trap on.
    public static func exactInt(_ value: Double) -> Int? {
        guard value.isFinite, value.rounded() == value, value >= -9.2e18, value <= 9.2e18 else { return nil }
        return Int(value)
    }
}
