/// Places a plan's buffers in one arena: a buffer lives from the step that first writes it to the step that last
/// reads it, and buffers whose lifetimes overlap never share floats. Greedy by size (largest first, lowest offset
/// that fits), the way TFLite's and ONNX Runtime's arena planners work; a run then allocates nothing.
enum MemoryPlan {
    /// Sets every buffer's lifetime and offset; returns the arena size in floats. Outputs live to the end.
    static func assign(steps: [PlanStep], outputs: [PlanValue]) -> Int {
        var seen = Set<ObjectIdentifier>(), buffers: [PlanBuffer] = []
        for (i, step) in steps.enumerated() {
            for v in step.writes + step.reads where !v.buffer.isInput {
                let b = v.buffer
                if seen.insert(ObjectIdentifier(b)).inserted { buffers.append(b) }
                b.firstUse = Swift.min(b.firstUse, i)
                b.lastUse = Swift.max(b.lastUse, i)
            }
        }
        for v in outputs where !v.buffer.isInput { v.buffer.lastUse = steps.count }
        func size(_ b: PlanBuffer) -> Int { (b.elements + 15) / 16 * 16 }   // whole 64-byte lines
        var placed: [PlanBuffer] = [], total = 0
        for b in buffers.sorted(by: { $0.elements > $1.elements }) {
            let live = placed.filter { $0.firstUse <= b.lastUse && b.firstUse <= $0.lastUse }.sorted { $0.offset < $1.offset }
            var offset = 0
            for other in live {
                if offset + size(b) <= other.offset { break }
                offset = Swift.max(offset, other.offset + size(other))
            }
            b.offset = offset
            placed.append(b)
            total = Swift.max(total, offset + size(b))
        }
        return total
    }
}
