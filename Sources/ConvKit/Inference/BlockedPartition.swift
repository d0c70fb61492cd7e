import Foundation

/// How a blocked convolution's work is cut into tasks for the worker pool: output blocks in chunks of `blockChunk`
/// (a tile covers up to 4) and rows in `rowParts` parts, for every image and group.
///
/// The pool hands tasks out in order to whichever thread is free, so a cut whose tasks do not share evenly — 4
/// tasks of 4, 4, 4 and 2 rows on 2 threads, 5 chunks of blocks on 2 threads — leaves a thread idle for part of the
/// layer (up to 20 % of it on MobileNet-v2's 960 → 320 at 7²). The cut chosen is the one with the earliest
/// finish of that schedule, simulated on the tasks' sizes (blocks × rows), with a convolution's chunk of 1 block counted
/// 30 % slower (its tiles have half the accumulators) and each task charged 0.5 % of the layer for its set-up.
struct BlockedPartition: Equatable {
    let blockChunk: Int, rowParts: Int

    /// A convolution's tiles span up to 4 output blocks (a chunk of 1 block runs 30 % slower); a depthwise
    /// convolution or a pool works block by block, any chunk at the same speed.
    enum Kind: Hashable { case convolution, depthwise }

    private struct Key: Hashable { let outBlocks, rows, units, threads: Int; let kind: Kind }
    nonisolated(unsafe) private static var chosen = [Key: BlockedPartition]()
    private static let lock = NSLock()

    /// The cut for `units` images × groups of `outBlocks` output blocks and `rows` rows on `threads` threads
    /// (remembered: a plan asks at every run).
    static func choose(outBlocks: Int, rows: Int, units: Int, threads: Int, kind: Kind = .convolution) -> BlockedPartition {
        let key = Key(outBlocks: outBlocks, rows: rows, units: units, threads: threads, kind: kind)
        lock.lock(); defer { lock.unlock() }
        if let p = chosen[key] { return p }
        let p = search(outBlocks: outBlocks, rows: rows, units: units, threads: threads, kind: kind)
        chosen[key] = p
        return p
    }

    static func search(outBlocks: Int, rows: Int, units: Int, threads: Int, kind: Kind) -> BlockedPartition {
        let fallback = BlockedPartition(blockChunk: Swift.min(4, outBlocks), rowParts: 1)
        guard threads > 1, outBlocks > 0, rows > 0 else { return fallback }
        var best = fallback, bestTime = Double.infinity, bestTasks = Int.max
        let setUp = Double(units * outBlocks * rows) / 200   // a task's set-up: 0.5 % of the layer
        let chunks = kind == .convolution ? [4, 2, 1] : [16, 8, 4, 3, 2, 1]
        for chunk in chunks where chunk <= Swift.max(1, outBlocks) {
            let slow = kind == .convolution && chunk == 1 ? 1.3 : 1.0
            for parts in 1...Swift.min(rows, 4 * threads) {
                let rowChunk = (rows + parts - 1) / parts
                if (parts - 1) * rowChunk >= rows { continue }   // an empty part: the same cut as fewer parts
                var sizes = [Double]()
                for _ in 0..<units {
                    for b0 in stride(from: 0, to: outBlocks, by: chunk) {
                        let blocks = Swift.min(chunk, outBlocks - b0)
                        for r0 in stride(from: 0, to: rows, by: rowChunk) {
                            sizes.append(Double(blocks * Swift.min(rowChunk, rows - r0)) * slow + setUp)
                        }
                    }
                }
                let time = finish(sizes, threads: threads)
                if time < bestTime * 0.999 || (time <= bestTime * 1.001 && sizes.count < bestTasks) {
                    (best, bestTime, bestTasks) = (BlockedPartition(blockChunk: chunk, rowParts: parts), time, sizes.count)
                }
            }
        }
        return best
    }

    /// When the last of `threads` threads finishes tasks of these sizes taken in order by the first free thread.
    static func finish(_ sizes: [Double], threads: Int) -> Double {
        var free = [Double](repeating: 0, count: threads)
        for s in sizes {
            let i = free.indices.min { free[$0] < free[$1] }!
            free[i] += s
        }
        return free.max()!
    }
}
