import CConvKernels
import Dispatch
import Foundation

/// Multi-threading for the kernels: fork-join loops on a persistent pool of spinning workers
/// (`ck_parallel_run`, see ck_threadpool.c for why not Dispatch). A loop started while the pool is busy —
/// from another thread, or nested inside a task — runs on Dispatch's pool instead.
public enum Parallel {
    /// Number of threads kernels use; defaults to all cores. Set it before running work.
    nonisolated(unsafe) public static var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    /// Runs `body(i)` for i in 0..<count, concurrently when threads > 1 and count > 1.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if count == 1 || threads <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        let ran = withoutActuallyEscaping(body) { task -> Bool in
            var task = task
            return withUnsafeMutablePointer(to: &task) { ctx in
                ck_parallel_run(count, Int32(threads), { ctx, i in
                    ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(i)
                }, ctx) != 0
            }
        }
        if !ran { DispatchQueue.concurrentPerform(iterations: count, execute: body) }
    }

    /// Splits 0..<n into at most `threads` contiguous ranges (each a multiple of `align` except the last)
    /// and runs them concurrently. `minChunk` avoids threading tiny work.
    public static func forRanges(_ n: Int, align: Int = 1, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        if n <= 0 { return }
        let parts = max(1, min(threads, n / max(minChunk, 1)))
        if parts == 1 { body(0..<n); return }
        var chunk = (n + parts - 1) / parts
        chunk = (chunk + align - 1) / align * align
        let count = (n + chunk - 1) / chunk
        forEach(count) { i in body(i * chunk..<min(n, (i + 1) * chunk)) }
    }
}
