import ConvKit
import Foundation

/// A labelled time-series set in the `.ts` format of sktime/aeon (the UCR and UEA archives), or the UCR `.tsv`
/// form (label, then the values, tab-separated, one series per line).
///
/// `.ts`: `#` comments; a header of `@problemName`, `@timeStamps false`, `@missing`, `@univariate`,
/// `@dimensions`, `@equalLength`, `@seriesLength`, `@classLabel true L1 L2 …` and `@data`; then one case per line,
/// the dimensions separated by `:`, the values of a dimension by `,`, the class label last; `?` (or `NaN`) is a
/// missing value. Every value is checked (finite numbers, declared labels, the same number of dimensions on every
/// line, declared lengths) and a bad line is named with its number.
public struct TimeSeriesSet {
    /// Per case, per dimension, the values (lengths may differ between cases in unequal-length sets).
    public var series: [[[Float]]]
    public var labels: [Int]
    public var classNames: [String]
    public var name: String
    /// Missing values found (replaced by the previous value of the same dimension, or 0 at the start).
    public var missingValues: Int

    public var count: Int { series.count }
    public var dimensions: Int { series.first?.count ?? 0 }
    public var maxLength: Int { series.map { $0.map(\.count).max() ?? 0 }.max() ?? 0 }
    public var minLength: Int { series.map { $0.map(\.count).min() ?? 0 }.min() ?? 0 }

    /// Cases as `[N, dimensions, length]`, shorter series padded on the right with their last value (so a
    /// causal model's last step sees the end of each series); `length` defaults to the longest.
    public func tensor(length: Int? = nil) -> Tensor {
        let l = length ?? maxLength, d = dimensions
        return Tensor(shape: [count, d, l]) { o in
            for (n, s) in series.enumerated() {
                for (c, values) in s.enumerated() {
                    for t in 0..<l { o[(n * d + c) * l + t] = values.isEmpty ? 0 : values[Swift.min(t, values.count - 1)] }
                }
            }
        }
    }

    public init(series: [[[Float]]], labels: [Int], classNames: [String], name: String, missingValues: Int = 0) {
        self.series = series; self.labels = labels; self.classNames = classNames; self.name = name; self.missingValues = missingValues
    }

    /// Reads a `.ts` or `.tsv` file (by extension; `.ts` otherwise). `classNames` fixes the label order (use the
    /// training file's for its test file).
    public static func load(_ path: String, classNames: [String]? = nil) throws -> TimeSeriesSet {
        let text = String(decoding: try AtomicFile.read(path), as: UTF8.self)
        return path.lowercased().hasSuffix(".tsv") ? try parseTSV(text, path: path, classNames: classNames)
                                                   : try parseTS(text, path: path, classNames: classNames)
    }

    static func bad(_ path: String, _ line: Int, _ expected: String, _ found: String) -> ConvKitError {
        .corruptFile(path: "\(path):\(line)", offset: nil, expected: expected, found: String(found.prefix(80)))
    }

    static func value(_ s: Substring, _ path: String, _ line: Int, missing: inout Int) throws -> Float? {
        let t = s.trimmingCharacters(in: .whitespaces)
        if t == "?" || t.lowercased() == "nan" { missing += 1; return nil }
        guard let v = Float(t), v.isFinite else { throw bad(path, line, "a number or ? (missing)", "'\(t)'") }
        return v
    }

    /// Fills missing values with the previous value of the dimension (0 before the first).
    static func filled(_ values: [Float?]) -> [Float] {
        var last: Float = 0
        return values.map { v in if let v { last = v }; return last }
    }

    public static func parseTS(_ text: String, path: String, classNames given: [String]? = nil) throws -> TimeSeriesSet {
        var name = (path as NSString).lastPathComponent, declared: [String]?, inData = false
        var dimensionsDeclared: Int?, equalLength: Bool?, seriesLength: Int?, hasLabels = true
        var series = [[[Float]]](), labelNames = [String](), missing = 0
        for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces), number = i + 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            if !inData {
                guard line.hasPrefix("@") else { throw bad(path, number, "a @ header line or @data", line) }
                let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                let key = parts[0].lowercased(), arg = parts.count > 1 ? parts[1].lowercased() : ""
                switch key {
                case "@problemname": name = parts.count > 1 ? parts[1] : name
                case "@classlabel":
                    hasLabels = arg == "true"
                    if hasLabels {
                        declared = Array(parts.dropFirst(2))
                        guard !(declared!.isEmpty) else { throw bad(path, number, "@classLabel true followed by the labels", line) }
                    }
                case "@dimensions", "@dimension":
                    guard let d = Int(arg), (1...10_000).contains(d) else { throw bad(path, number, "@dimensions 1…10000", line) }
                    dimensionsDeclared = d
                case "@univariate": if arg == "true" { dimensionsDeclared = 1 }
                case "@equallength": equalLength = arg == "true"
                case "@serieslength":
                    guard let l = Int(arg), (1...10_000_000).contains(l) else { throw bad(path, number, "@seriesLength 1…10⁷", line) }
                    seriesLength = l
                case "@timestamps":
                    guard arg == "false" else { throw bad(path, number, "@timeStamps false (time-stamped series are not read)", line) }
                case "@data": inData = true
                default: break   // @missing, @targetLabel, … need no action
                }
                continue
            }
            var fields = line.split(separator: ":", omittingEmptySubsequences: false)
            var label: String?
            if hasLabels {
                guard fields.count >= 2 else { throw bad(path, number, "dimensions separated by ':' and a class label last", line) }
                label = fields.removeLast().trimmingCharacters(in: .whitespaces)
                guard declared?.contains(label!) ?? true else {
                    throw bad(path, number, "a class declared by @classLabel (\(declared!.joined(separator: " ")))", "'\(label!)'")
                }
            }
            let dims = try fields.map { f in try f.split(separator: ",", omittingEmptySubsequences: false).map { try value($0, path, number, missing: &missing) } }
            if let d = dimensionsDeclared, dims.count != d {
                throw bad(path, number, "\(d) dimension\(d == 1 ? "" : "s") (from the header)", "\(dims.count)")
            }
            if let first = series.first, first.count != dims.count {
                throw bad(path, number, "\(first.count) dimensions like the first case", "\(dims.count)")
            }
            if let l = seriesLength, equalLength ?? true, let bad = dims.first(where: { $0.count != l }) {
                throw TimeSeriesSet.bad(path, number, "series of \(l) values (@seriesLength)", "\(bad.count)")
            }
            guard dims.allSatisfy({ !$0.isEmpty }) else { throw bad(path, number, "at least one value per dimension", line) }
            series.append(dims.map(filled))
            labelNames.append(label ?? "")
        }
        guard inData, !series.isEmpty else {
            throw ConvKitError.corruptFile(path: path, offset: nil, expected: "a @data section with at least one case", found: inData ? "no cases" : "no @data line")
        }
        return try labelled(series, labelNames, given ?? declared, path: path, name: name, missing: missing)
    }

    static func labelled(_ series: [[[Float]]], _ names: [String], _ classes: [String]?, path: String, name: String, missing: Int) throws -> TimeSeriesSet {
        let order = classes ?? Array(Set(names)).sorted { a, b in
            if let x = Double(a), let y = Double(b) { return x < y }
            return a < b
        }
        var index = [String: Int]()
        for (i, c) in order.enumerated() { index[c] = i }
        let labels = try names.enumerated().map { i, n -> Int in
            guard let l = index[n] else {
                throw ConvKitError.corruptFile(path: path, offset: nil, expected: "labels among \(order.joined(separator: ", "))", found: "'\(n)' in case \(i + 1)")
            }
            return l
        }
        return TimeSeriesSet(series: series, labels: labels, classNames: order, name: name, missingValues: missing)
    }

    public static func parseTSV(_ text: String, path: String, classNames: [String]? = nil) throws -> TimeSeriesSet {
        var series = [[[Float]]](), names = [String](), missing = 0
        for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let f = line.split(whereSeparator: { $0 == "\t" || $0 == "," })
            guard f.count >= 2 else { throw bad(path, i + 1, "a label and at least one value", line) }
            names.append(String(f[0]))
            series.append([filled(try f.dropFirst().map { try value($0, path, i + 1, missing: &missing) })])
        }
        guard !series.isEmpty else { throw ConvKitError.corruptFile(path: path, offset: nil, expected: "at least one series", found: "none") }
        return try labelled(series, names, classNames, path: path, name: (path as NSString).lastPathComponent, missing: missing)
    }
}
