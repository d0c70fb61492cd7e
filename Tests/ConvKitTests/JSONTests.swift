import ConvKit
import Foundation
import XCTest

final class JSONTests: XCTestCase {
    func parse(_ s: String) throws -> JSONValue { try JSON.parse(Array(s.utf8), path: "t.json") }

    func testValuesEscapesAndNumbers() throws {
        let v = try parse(#" {"a": [1, -2.5e3, 0.1, 1E-2, true, false, null], "s": "x\"y\\z\/\n\u00e9\ud83d\ude00", "e": {}, "l": []} "#)
        XCTAssertEqual(v["a"], .array([.number(1), .number(-2500), .number(0.1), .number(0.01), .bool(true), .bool(false), .null]))
        XCTAssertEqual(v["s"]?.string, "x\"y\\z/\né😀")
        XCTAssertEqual(v["e"], .object([:]))
        XCTAssertEqual(v["l"], .array([]))
        // Numbers are read as Python reads them (correctly rounded).
        XCTAssertEqual(try parse("0.6000000000000001").number, 0.6000000000000001)
        XCTAssertEqual(try parse("123456789012345678901234567890").number, 1.2345678901234568e29)
    }

    func testMalformedInputGivesTheOffset() {
        let cases: [(String, String)] = [("{\"a\": }", "a value"), ("[1, 2", "',' or ']'"), ("\"abc", "closing"), ("01", "leading zeros"),
                                         ("1.", "digits after '.'"), ("tru", "true"), ("{\"a\" 1}", "':'"), ("\"\\q\"", "valid escape"),
                                         (String(repeating: "[", count: 600), "512 levels"), ("", "a value"), ("[1] x", "the end")]
        for (text, needle) in cases {
            XCTAssertThrowsError(try parse(text), text) { e in
                XCTAssertTrue("\(e)".contains(needle) && "\(e)".contains("t.json at byte"), "\(text): \(e)")
            }
        }
    }

    func testAgreesWithFoundationOnAFile() throws {
        let obj: [String: Any] = ["images": (0..<50).map { ["id": $0, "w": Double($0) * 1.37, "name": "im\($0)"] as [String: Any] }]
        let data = try JSONSerialization.data(withJSONObject: obj)
        let v = try JSON.parse([UInt8](data), path: "f")
        XCTAssertEqual(v["images"]?.array?.count, 50)
        XCTAssertEqual(v["images"]?.array?[7]["w"]?.number, 7 * 1.37)
        XCTAssertEqual(v["images"]?.array?[7]["name"]?.string, "im7")
    }
}
