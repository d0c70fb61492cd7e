import XCTest
import ConvKit
import ConvKitData

/// The `.ts` reader on every shipped set (univariate, multivariate, unequal lengths) and on malformed files.
final class TimeSeriesFileTests: XCTestCase {
    static let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Data/timeseries").path

    func testEveryShippedSetReads() throws {
        let expected: [(String, Int, Int, Int, Int, ClosedRange<Int>, [String])] = [
            ("GunPoint", 50, 150, 1, 2, 150...150, ["1", "2"]),
            ("ItalyPowerDemand", 67, 1029, 1, 2, 24...24, ["1", "2"]),
            ("BasicMotions", 40, 40, 6, 4, 100...100, ["Standing", "Running", "Walking", "Badminton"]),
            ("JapaneseVowels", 270, 370, 12, 9, 7...29, (1...9).map(String.init)),
            ("ArrowHead", 36, 175, 1, 3, 251...251, ["0", "1", "2"]),
            ("OSULeaf", 200, 242, 1, 6, 427...427, (1...6).map(String.init)),
            ("ACSF1", 100, 100, 1, 10, 1460...1460, (0...9).map(String.init)),
        ]
        for (name, trainCount, testCount, dims, classes, lengths, classNames) in expected {
            let train = try TimeSeriesSet.load("\(Self.data)/\(name)/\(name)_TRAIN.ts")
            let test = try TimeSeriesSet.load("\(Self.data)/\(name)/\(name)_TEST.ts", classNames: train.classNames)
            XCTAssertEqual(train.name, name)
            XCTAssertEqual([train.count, test.count], [trainCount, testCount], name)
            XCTAssertEqual(train.dimensions, dims, name)
            XCTAssertEqual(train.classNames, classNames, "\(name): the order declared by @classLabel")
            XCTAssertEqual(Set(train.labels).count, classes, name)
            XCTAssertTrue(lengths.contains(train.minLength) && lengths.contains(train.maxLength), "\(name): \(train.minLength)…\(train.maxLength)")
            XCTAssertEqual(train.missingValues, 0)
            XCTAssertEqual(train.tensor().shape, [trainCount, dims, train.maxLength])
        }
        // Unequal lengths are padded with each series' last value.
        let jv = try TimeSeriesSet.load("\(Self.data)/JapaneseVowels/JapaneseVowels_TRAIN.ts")
        let shortest = jv.series.indices.min { jv.series[$0][0].count < jv.series[$1][0].count }!
        let t = jv.tensor(), l = jv.maxLength, s = jv.series[shortest][0]
        XCTAssertEqual(t.scalars[(shortest * 12) * l + l - 1], s.last!)
        XCTAssertEqual(t.scalars[(shortest * 12) * l], s.first!)
    }

    func parse(_ text: String) throws -> TimeSeriesSet { try TimeSeriesSet.parseTS(text, path: "x.ts") }

    func testMissingValuesAndTheTSVForm() throws {
        let s = try parse("@problemName Tiny\n@univariate true\n@classLabel true a b\n@data\n1,?,3:a\n?,2,2:b\n")
        XCTAssertEqual(s.series.map { $0[0] }, [[1, 1, 3], [0, 2, 2]], "a missing value repeats the previous one (0 at the start)")
        XCTAssertEqual(s.missingValues, 2)
        XCTAssertEqual(s.labels, [0, 1])
        let tsv = try TimeSeriesSet.parseTSV("2\t0.5\t1.5\n1\t2\t3\n", path: "x.tsv")
        XCTAssertEqual(tsv.classNames, ["1", "2"]); XCTAssertEqual(tsv.labels, [1, 0]); XCTAssertEqual(tsv.series[0][0], [0.5, 1.5])
    }

    func testMalformedFilesNameTheLine() {
        let cases: [(String, String)] = [
            ("@univariate false\n@dimensions 2\n@classLabel true a\n@data\n1,2:a\n", "x.ts:5"),                // one dimension, two declared
            ("@classLabel true a b\n@data\n1,2:3,4:a\n1,2:b\n", "x.ts:4"),                                       // dimension count changes
            ("@classLabel true a b\n@data\n1,x,3:a\n", "'x'"),                                                   // not a number
            ("@classLabel true a b\n@data\n1,2,3:c\n", "'c'"),                                                   // undeclared class
            ("@equalLength true\n@seriesLength 3\n@classLabel true a\n@data\n1,2:a\n", "series of 3 values"),
            ("@classLabel true a\n1,2:a\n", "x.ts:2"),                                                           // no @data
            ("@classLabel true a\n@data\n", "no cases"),
            ("@classLabel true a\n@data\n1e999,2:a\n", "'1e999'"),                                               // not finite
            ("@timeStamps true\n@data\n", "time-stamped"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try parse(text), text) { e in XCTAssertTrue("\(e)".contains(message), "\(text): \(e)") }
        }
        XCTAssertThrowsError(try TimeSeriesSet.parseTSV("a\n", path: "x.tsv"))
    }
}
