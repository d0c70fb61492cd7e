import ArgumentParser
import ConvKit
import ConvKitData
import ConvKitVision
import Foundation

/// `convkit faces calibrate --db DB --pairs FILE [--target-far F] [--json]`: chooses τ from labelled pairs and
/// stores it with the database.
struct FacesCalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "calibrate",
        abstract: "Set the database's distance threshold τ from labelled image pairs (best balanced accuracy, the equal error rate, or a target false-accept rate).",
        discussion: """
        The pairs file has one pair per line, `IMAGE_A,IMAGE_B,SAME` with SAME one of 1/0, same/different, true/false; \
        lines starting with # are comments, and a first line without image names is a header. Relative paths are read from the pairs file's folder.
        """)
    @Option(help: "The SQLite face database.") var db: String
    @Option(help: "The labelled pairs (CSV).") var pairs: String
    @Option(help: "Choose the most accepting τ whose false-accept rate on the pairs is at most this (0…1) instead of the best accuracy.") var targetFar: Double?
    @Flag(help: "Choose τ at the equal error rate (false accepts = false rejects) instead of the best accuracy.") var eer = false
    @OptionGroup var options: RecognitionOptions
    @Flag(help: "Print {\"threshold\",\"method\",\"pairs\",\"auc\",\"eer\",\"accuracy\"}.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        if let f = targetFar, !(0...1).contains(f) { throw ValidationError("--target-far must be 0…1, found \(f)") }
        if eer && targetFar != nil { throw ValidationError("give --eer or --target-far, not both") }
    }

    /// (image A, image B, same) per line.
    static func readPairs(_ path: String) throws -> [(String, String, Bool)] {
        let text = String(decoding: try AtomicFile.read(path), as: UTF8.self)
        let folder = (path as NSString).deletingLastPathComponent
        func resolve(_ p: String) -> String { p.hasPrefix("/") || folder.isEmpty ? p : folder + "/" + p }
        var out = [(String, String, Bool)]()
        for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let f = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if n == 0, f.count == 3, !ImageFile.isImage(f[0]), !ImageFile.isImage(f[1]) { continue }   // a header line
            let label: Bool? = f.count == 3 ? ["1": true, "same": true, "true": true, "0": false, "different": false, "false": false][f[2].lowercased()] : nil
            guard let label, !f[0].isEmpty, !f[1].isEmpty else {
                throw ConvKitError.corruptFile(path: "\(path):\(n + 1)", offset: nil, expected: "IMAGE_A,IMAGE_B,SAME (1/0, same/different, true/false)",
                                               found: "'\(line.prefix(80))'")
            }
            out.append((resolve(f[0]), resolve(f[1]), label))
        }
        return out
    }

    func run() throws {
        threadOptions.apply()
        let list = try Self.readPairs(pairs)
        guard list.contains(where: \.2), list.contains(where: { !$0.2 }) else {
            throw ConvKitError.invalidArgument(name: "--pairs \(pairs)", expected: "at least one same and one different pair", found: "\(list.count) pairs")
        }
        let r = try options.recognizer()
        let database = try options.database(db, r, create: false)
        var cache = [String: [Float]]()
        func embedding(_ p: String) throws -> [Float] {
            if let e = cache[p] { return e }
            guard let e = try options.largestFace(p, r) else {
                throw ConvKitError.invalidArgument(name: p, expected: "a photo with a face (in --pairs)", found: "no face")
            }
            cache[p] = e
            return e
        }
        // Scores are negated distances: "same" when −d ≥ t, i.e. d ≤ τ = −t.
        var scores = [Float](), same = [Bool]()
        for (a, b, s) in list { scores.append(-FaceRecognizer.distance(try embedding(a), try embedding(b))); same.append(s) }
        let method: String, tau: Float
        if let far = targetFar {
            tau = -Verification.threshold(falseAcceptRate: far, scores: scores, same: same).threshold
            method = "false-accept rate ≤ \(far) on \(list.count) pairs"
        } else if eer {
            tau = -Verification.equalErrorRate(scores: scores, same: same).threshold
            method = "equal error rate on \(list.count) pairs"
        } else {
            tau = -Verification.calibrate(scores: scores, same: same).threshold
            method = "best balanced accuracy on \(list.count) pairs"
        }
        guard tau > 0 else {
            throw ConvKitError.invalidArgument(name: "--pairs \(pairs)", expected: "pairs that allow a positive threshold", found: "τ = \(tau)")
        }
        try database.setThreshold(tau, method: method)
        let auc = Verification.auc(scores: scores, same: same), eer = Verification.equalErrorRate(scores: scores, same: same).rate
        let accuracy = Verification.accuracy(scores: scores, same: same, threshold: -tau)
        if json {
            try printJSON(["threshold": rounded(tau), "method": method, "pairs": list.count, "auc": auc, "eer": eer, "accuracy": accuracy])
        } else {
            print(String(format: "τ = %.4f (%@): AUC %.3f, EER %.3f, balanced accuracy %.3f", tau, method, auc, eer, accuracy))
        }
    }
}
