import ConvKit
import Dispatch
import XCTest

/// The worker pool: every iteration runs exactly once, also for nested loops and loops started from
/// several threads at once (those fall back to Dispatch), and with more threads than cores.
final class ParallelTests: XCTestCase {
    /// Counts how often each index ran (atomically enough: each index owns its own slot).
    private func counts(_ n: Int, _ run: (UnsafeMutablePointer<Int>) -> Void) -> [Int] {
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: n)
        slots.initialize(repeating: 0, count: n)
        defer { slots.deallocate() }
        run(slots)
        return Array(UnsafeBufferPointer(start: slots, count: n))
    }

    func testEveryIterationRunsOnceForManyThreadCounts() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for threads in [1, 2, 3, 8] {
            Parallel.threads = threads
            for n in [1, 2, 3, 17, 1000] {
                for _ in 0..<20 {
                    let c = counts(n) { s in Parallel.forEach(n) { i in s[i] += 1 } }
                    XCTAssertEqual(c, [Int](repeating: 1, count: n), "threads \(threads), n \(n)")
                }
            }
        }
    }

    func testNestedLoopsRunEveryPair() {
        let c = counts(12 * 34) { s in
            Parallel.forEach(12) { i in Parallel.forEach(34) { j in s[i * 34 + j] += 1 } }
        }
        XCTAssertEqual(c, [Int](repeating: 1, count: 12 * 34))
    }

    func testLoopsFromSeveralThreadsAtOnce() {
        let callers = 4, n = 500
        let c = counts(callers * n) { s in
            DispatchQueue.concurrentPerform(iterations: callers) { t in
                for _ in 0..<50 {
                    Parallel.forEach(n) { i in s[t * n + i] += 1 }
                }
            }
        }
        XCTAssertEqual(c, [Int](repeating: 50, count: callers * n))
    }

    func testRangesCoverTheInterval() {
        let c = counts(1001) { s in
            Parallel.forRanges(1001, align: 16, minChunk: 10) { r in for i in r { s[i] += 1 } }
        }
        XCTAssertEqual(c, [Int](repeating: 1, count: 1001))
    }
}
