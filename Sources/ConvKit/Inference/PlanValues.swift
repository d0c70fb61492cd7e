/// The values of an inference plan and where they live.
///
/// Every intermediate result of a compiled graph is a `PlanValue`: a logical shape [N, C, spatial…] (or [N, F]),
/// a layout, and a place in a `PlanBuffer`. Buffers get offsets in one arena from their lifetimes
/// (`MemoryPlan`); a value may be a view into a larger buffer — a concatenation's part, written in place by its
/// producer — or share a buffer with the value it reshapes.
final class PlanBuffer {
    /// Floats the buffer holds.
    let elements: Int
    /// The plan's input tensor rather than arena memory.
    let isInput: Bool
    /// Step indices of the first write and the last read (set by `MemoryPlan`).
    var firstUse = Int.max, lastUse = -1
    /// Offset in the arena, in floats (set by `MemoryPlan`).
    var offset = 0

    init(elements: Int, isInput: Bool = false) {
        self.elements = elements; self.isInput = isInput
    }
}

enum PlanLayout: Equatable {
    /// Row-major [N, C, spatial…], as a Tensor holds it.
    case plain
    /// NCHW16c: per image ⌈C/16⌉ blocks of [spatial…][16] (see `BlockedLayout`).
    case blocked
}

final class PlanValue {
    let shape: [Int]
    let layout: PlanLayout
    let buffer: PlanBuffer
    /// Offset of image 0 in the buffer, and floats between consecutive images.
    let offset: Int, imageStride: Int

    init(shape: [Int], layout: PlanLayout, buffer: PlanBuffer, offset: Int = 0, imageStride: Int? = nil) {
        self.shape = shape; self.layout = layout; self.buffer = buffer; self.offset = offset
        self.imageStride = imageStride ?? PlanValue.elementsPerImage(shape, layout)
    }

    /// A value with a buffer of its own.
    convenience init(shape: [Int], layout: PlanLayout) {
        let n = PlanValue.elementsPerImage(shape, layout) * shape[0]
        self.init(shape: shape, layout: layout, buffer: PlanBuffer(elements: n))
    }

    var batch: Int { shape[0] }
    var channels: Int { shape[1] }
    /// Positions of one channel's map (1 for [N, F]).
    var positions: Int { shape.count > 2 ? shape[2...].reduce(1, *) : 1 }
    var blocks: Int { BlockedLayout.blocks(channels) }

    static func elementsPerImage(_ shape: [Int], _ layout: PlanLayout) -> Int {
        let positions = shape.count > 2 ? shape[2...].reduce(1, *) : 1
        switch layout {
        case .plain: return shape[1...].reduce(1, *)
        case .blocked: return BlockedLayout.blocks(shape[1]) * positions * BlockedLayout.lanes
        }
    }
}

/// Where the arena and the input are during one run.
struct PlanMemory {
    let arena: UnsafeMutablePointer<Float>
    let input: UnsafePointer<Float>

    func pointer(_ v: PlanValue) -> UnsafeMutablePointer<Float> {
        (v.buffer.isInput ? UnsafeMutablePointer(mutating: input) : arena + v.buffer.offset) + v.offset
    }
}

/// One operation of a plan: what it reads and writes (for lifetimes) and the work.
struct PlanStep {
    let description: String
    let reads: [PlanValue], writes: [PlanValue]
    let run: (PlanMemory) -> Void
}
