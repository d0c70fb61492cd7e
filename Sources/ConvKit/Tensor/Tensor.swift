import Foundation

/// An n-dimensional array of `Float` with value semantics.
///
/// Storage is one contiguous, row-major (C-order) `[Float]`, so copies are copy-on-write: assigning a
/// tensor is O(1) and the first mutation of a shared buffer copies it. Reshape, squeeze and unsqueeze
/// only change `shape`; permute, slice and expand produce new contiguous storage (see `Tensor+Shape`).
/// Images are NCHW (batch, channels, height, width); volumes NCDHW; sequences NCL.
public struct Tensor: Equatable, CustomStringConvertible {
    /// Extent of each axis; `[]` is a scalar.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.product`.
    public var scalars: [Float]

    /// Wraps `scalars` with `shape`. Precondition: counts agree (a programmer error otherwise; use
    /// `Tensor(validating:shape:)` for data from outside).
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
        precondition(shape.reduce(1, *) == scalars.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// Like `init(shape:scalars:)` but throws when the element count does not fit the shape.
    public init(validating scalars: [Float], shape: [Int]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw ConvKitError.shapeMismatch(expected: "non-negative extents", found: "\(shape)")
        }
        let n = shape.reduce(1, *)
        guard n == scalars.count else {
            throw ConvKitError.shapeMismatch(expected: "\(n) elements for shape \(shape)", found: "\(scalars.count)")
        }
        self.init(shape: shape, scalars: scalars)
    }

    /// A tensor of `shape` whose elements are written by `body` (the buffer starts uninitialized).
    public init(shape: [Int], unsafeUninitialized body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let n = shape.reduce(1, *)
        self.shape = shape
        self.scalars = [Float](unsafeUninitializedCapacity: n) { buf, count in
            body(buf)
            count = n
        }
    }

    /// A scalar (rank-0) tensor.
    public init(_ value: Float) { self.init(shape: [], scalars: [value]) }

    /// A rank-1 tensor.
    public init(_ values: [Float]) { self.init(shape: [values.count], scalars: values) }

    /// A tensor filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    /// Number of axes.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { scalars.count }
    /// Row-major strides in elements: `strides[i] = shape[(i+1)...].product`.
    public var strides: [Int] { Tensor.contiguousStrides(shape) }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// The single value of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "scalar of a tensor with \(count) elements")
        return scalars[0]
    }

    /// Element at a full multi-index.
    public subscript(index: Int...) -> Float {
        get { scalars[flatIndex(index)] }
        set { scalars[flatIndex(index)] = newValue }
    }

    func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == rank, "index \(index) for rank \(rank)")
        var off = 0
        for (i, v) in index.enumerated() {
            precondition(v >= 0 && v < shape[i], "index \(index) out of bounds for \(shape)")
            off = off * shape[i] + v
        }
        return off
    }

    /// Normalizes a possibly negative axis (-1 is the last).
    func axis(_ a: Int) -> Int {
        let r = a < 0 ? a + rank : a
        precondition(r >= 0 && r < Swift.max(rank, 1), "axis \(a) out of range for rank \(rank)")
        return r
    }

    public var description: String {
        let head = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(count > 8 ? ", …" : "")])"
    }

    /// Reads the elements through a pointer.
    @inlinable public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Mutates the elements through a pointer (copying first if the storage is shared).
    @inlinable public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }

    /// Replaces the shape without touching the data; element counts must agree.
    mutating func setShape(_ s: [Int]) {
        precondition(s.reduce(1, *) == count, "cannot view \(shape) as \(s)")
        shape = s
    }
}
