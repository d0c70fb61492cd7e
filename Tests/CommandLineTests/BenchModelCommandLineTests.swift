import Foundation
import XCTest

/// `convkit bench --model NAME [--train]`: times and the process's peak memory as JSON.
final class BenchModelCommandLineTests: XCTestCase {
    func testModelBenchReportsTimesAndPeakMemory() throws {
        let r = try runConvkit(["bench", "--model", "lenet5", "--train", "--batch", "4", "--seconds", "0.05", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let obj = try lastJSONLine(r.out)
        XCTAssertEqual(obj["model"] as? String, "lenet5")
        XCTAssertEqual(obj["batch"] as? Int, 4)
        XCTAssertGreaterThan(obj["infer_ms"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(obj["train_step_ms"] as? Double ?? 0, 0)
        // LeNet-5's weights are 0.25 MB; the process (runtime, binary, workspaces) takes more, but not gigabytes.
        let rss = try XCTUnwrap(obj["peak_rss_mb"] as? Double)
        XCTAssertGreaterThan(rss, 1)
        XCTAssertLessThan(rss, 2000)
    }
}
