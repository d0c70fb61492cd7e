import ConvKit
import Foundation
import GRDB

/// A database of people for face recognition (SQLite through GRDB): names, their embeddings, the identity of the
/// model that made them and the calibrated distance threshold τ.
///
/// Recognition as the notes define it: the probe's embedding is compared with every enrolled one; the nearest
/// person is the answer when the distance is at most τ, "not recognized" otherwise. Verification compares with
/// the claimed person's embeddings only.
///
/// Every change is one SQLite transaction, so a process killed mid-write leaves the database as it was; a second
/// process waits (up to 10 s) for the first one's lock instead of failing. A database made with one model
/// refuses embeddings of another (`model` is checked on open).
///
/// Tables: `meta(key, value)` (model, dimension, threshold, threshold_method), `people(id, name UNIQUE)`,
/// `embeddings(id, person_id → people ON DELETE CASCADE, vector BLOB of float32, source)`.
public final class FaceDatabase {
    public let path: String
    public let model: String
    public let dimension: Int
    let queue: DatabaseQueue

    /// Opens `path`, creating it for `model` when `create` is set; throws when the file is not such a
    /// database, or holds another model's embeddings.
    public init(path: String, model: String, dimension: Int, defaultThreshold: Float, create: Bool) throws {
        guard create || FileManager.default.fileExists(atPath: path) else {
            throw ConvKitError.io(path: path, reason: "no such face database (enroll someone first)")
        }
        self.path = path; self.model = model; self.dimension = dimension
        var config = Configuration()
        config.busyMode = .timeout(10)
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1") { db in
                try db.execute(sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                    CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                    CREATE TABLE embeddings (id INTEGER PRIMARY KEY,
                        person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
                        vector BLOB NOT NULL, source TEXT NOT NULL);
                    """)
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('model', ?), ('dimension', ?), ('threshold', ?), ('threshold_method', 'model default')",
                               arguments: [model, String(dimension), String(defaultThreshold)])
            }
            try migrator.migrate(queue)
            let stored = try queue.read { db in
                (try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'model'"),
                 try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'dimension'"))
            }
            guard stored.0 == model, stored.1 == String(dimension) else {
                throw ConvKitError.invalidArgument(name: "face database \(path)", expected: "embeddings of model \(model) (\(dimension)-D)",
                                                   found: "model \(stored.0 ?? "none") (\(stored.1 ?? "?")-D): mixing models is refused")
            }
        } catch let e as DatabaseError {
            throw ConvKitError.io(path: path, reason: "not a usable face database: \(e.message ?? "\(e.resultCode)")")
        }
    }

    func run<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as DatabaseError {
            throw ConvKitError.io(path: path, reason: "database error: \(e.message ?? "\(e.resultCode)")")
        }
    }

    /// The distance threshold τ and how it was set.
    public func threshold() throws -> (value: Float, method: String) {
        try run {
            try queue.read { db in
                let v = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'threshold'").flatMap(Float.init)
                let m = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'threshold_method'") ?? ""
                return (v ?? .nan, m)
            }
        }
    }

    public func setThreshold(_ value: Float, method: String) throws {
        guard value.isFinite, value > 0 else { throw ConvKitError.invalidArgument(name: "threshold", expected: "a positive distance", found: "\(value)") }
        try run {
            try queue.write { db in
                try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'threshold'", arguments: [String(value)])
                try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'threshold_method'", arguments: [method])
            }
        }
    }

    static func blob(_ v: [Float]) -> Data { v.withUnsafeBufferPointer { Data(buffer: $0) } }

    func vector(_ d: Data) -> [Float]? {
        guard d.count == dimension * 4 else { return nil }
        return d.withUnsafeBytes { raw in (0..<dimension).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
    }

    /// Adds embeddings for `name` (created when new) in one transaction; returns the person's count after.
    @discardableResult
    public func enroll(name: String, embeddings: [[Float]], sources: [String]) throws -> Int {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200 else {
            throw ConvKitError.invalidArgument(name: "--name", expected: "a name of 1…200 characters", found: "'\(name.prefix(40))'")
        }
        guard !embeddings.isEmpty, embeddings.count == sources.count,
              embeddings.allSatisfy({ $0.count == dimension && $0.allSatisfy(\.isFinite) }) else {
            throw ConvKitError.invalidArgument(name: "embeddings", expected: "at least one finite \(dimension)-D embedding per source",
                                               found: "\(embeddings.map(\.count)) for \(sources.count) sources")
        }
        return try run {
            try queue.write { db in
                try db.execute(sql: "INSERT OR IGNORE INTO people (name) VALUES (?)", arguments: [trimmed])
                let id = try Int64.fetchOne(db, sql: "SELECT id FROM people WHERE name = ?", arguments: [trimmed])!
                for (e, s) in zip(embeddings, sources) {
                    try db.execute(sql: "INSERT INTO embeddings (person_id, vector, source) VALUES (?, ?, ?)", arguments: [id, FaceDatabase.blob(e), s])
                }
                return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM embeddings WHERE person_id = ?", arguments: [id]) ?? 0
            }
        }
    }

    /// Everyone enrolled with their number of embeddings, by name.
    public func people() throws -> [(name: String, embeddings: Int)] {
        try run {
            try queue.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT p.name, COUNT(e.id) AS n FROM people p LEFT JOIN embeddings e ON e.person_id = p.id
                    GROUP BY p.id ORDER BY p.name
                    """).map { ($0["name"], $0["n"]) }
            }
        }
    }

    /// Removes a person and their embeddings; false when there was no such name.
    public func remove(name: String) throws -> Bool {
        try run {
            try queue.write { db in
                try db.execute(sql: "PRAGMA foreign_keys = ON")
                try db.execute(sql: "DELETE FROM people WHERE name = ?", arguments: [name])
                return db.changesCount > 0
            }
        }
    }

    /// Every stored (name, embedding), optionally of one person only.
    public func embeddings(of name: String? = nil) throws -> [(name: String, embedding: [Float])] {
        try run {
            try queue.read { db in
                let rows = try Row.fetchAll(db, sql: """
                    SELECT p.name, e.vector FROM embeddings e JOIN people p ON p.id = e.person_id
                    \(name == nil ? "" : "WHERE p.name = ?") ORDER BY e.id
                    """, arguments: StatementArguments(name.map { [$0] } ?? []))
                return rows.compactMap { r in vector(r["vector"]).map { (r["name"], $0) } }
            }
        }
    }

    /// The nearest enrolled person and the distance, or nil when nobody is enrolled (no threshold applied).
    public func nearest(to probe: [Float]) throws -> (name: String, distance: Float)? {
        var best: (String, Float)?
        for (n, e) in try embeddings() {
            let d = FaceRecognizer.distance(probe, e)
            if best == nil || d < best!.1 { best = (n, d) }
        }
        return best
    }

    /// Recognition: the nearest person when at distance ≤ τ, nil ("not recognized") otherwise.
    public func identify(_ probe: [Float]) throws -> (name: String?, distance: Float?) {
        guard let (n, d) = try nearest(to: probe) else { return (nil, nil) }
        return d <= (try threshold().value) ? (n, d) : (nil, d)
    }

    /// The distance from the probe to the nearest embedding of `name`; throws for an unknown name.
    public func distance(to name: String, _ probe: [Float]) throws -> Float {
        let mine = try embeddings(of: name)
        guard !mine.isEmpty else {
            throw ConvKitError.invalidArgument(name: "--name", expected: "a person in \(path) (\(try people().map(\.name).joined(separator: ", ")))", found: "'\(name)'")
        }
        return mine.map { FaceRecognizer.distance(probe, $0.embedding) }.min()!
    }
}
