import ArgumentParser
import ConvKit
import ConvKitData
import ConvKitVision
import Foundation

/// What every recognition command shares: the models, how an image becomes one embedding, JSON output.
struct RecognitionOptions: ParsableArguments {
    @Option(help: "dlib face-recognition network (.dat; default: the bundled dlib_face_recognition_resnet_model_v1).") var model: String?
    @Option(help: "dlib 5-point shape predictor (.dat; default: the bundled shape_predictor_5_face_landmarks).") var landmarks: String?
    @Flag(help: "Each image already is a face chip of the network's size (150×150); no detection.") var chip = false
    @Option(help: "Face detector: mtcnn (faces from 20 px) or mmod (dlib's CNN, faces from about 80 px: exactly dlib's pipeline).") var detector = "mtcnn"

    func recognizer() throws -> FaceRecognizer {
        let network = try model.map { try DlibFaceRecognitionNetwork(contentsOf: $0) } ?? .bundled()
        let predictor = try landmarks.map { try DlibShapePredictor(contentsOf: $0) } ?? .bundled()
        return FaceRecognizer(detector: try .bundled(detector), predictor: predictor, network: network)
    }

    /// Every face of the image (best detection first), or the chip's one embedding.
    func faces(_ path: String, _ r: FaceRecognizer) throws -> [(embedding: [Float], box: [Float]?)] {
        let image = try ImageFile.load(path)
        if chip {
            let s = r.network.inputSize
            guard image.shape[1] == s, image.shape[2] == s else {
                throw ConvKitError.shapeMismatch(expected: "\(path): a \(s)×\(s) face chip (--chip)", found: "\(image.shape[2])×\(image.shape[1])")
            }
            return [(try r.encode(chip: image), nil)]
        }
        return try r.encode(image).map { ($0.embedding, $0.detection.box) }
    }

    /// The one face a command acts on: the largest one found (nil when there is none).
    func largestFace(_ path: String, _ r: FaceRecognizer) throws -> [Float]? {
        try faces(path, r).max { area($0.box) < area($1.box) }?.embedding
    }

    func area(_ b: [Float]?) -> Float { b.map { ($0[2] - $0[0]) * ($0[3] - $0[1]) } ?? 0 }

    func database(_ path: String, _ r: FaceRecognizer, create: Bool) throws -> FaceDatabase {
        try FaceDatabase(path: path, model: r.modelIdentity, dimension: r.network.fc.weight.shape[0], defaultThreshold: r.threshold, create: create)
    }

    /// The database (which must exist), its τ, and the largest face of the image (nil when there is none).
    func probe(_ image: String, db: String) throws -> (FaceDatabase, Float, [Float]?) {
        let r = try recognizer()
        let database = try database(db, r, create: false)
        return (database, try database.threshold().value, try largestFace(image, r))
    }
}

func printJSON(_ object: Any) throws {
    print(String(data: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), encoding: .utf8)!)
}

func rounded(_ x: Float, _ digits: Double = 1e6) -> Double { (Double(x) * digits).rounded() / digits }

/// `convkit faces embed IMAGE… [--chip] [--json]`.
struct FacesEmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "embed",
        abstract: "128-D embeddings of every face (MTCNN → dlib landmarks → 150×150 chip → dlib's ResNet).")
    @Argument(help: "Images (PNG, JPEG, PGM, PPM).") var images: [String]
    @OptionGroup var options: RecognitionOptions
    @Flag(help: "Print {\"embeddings\":[{\"image\",\"box\",\"embedding\":[…]}]}.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws { guard !images.isEmpty else { throw ValidationError("give at least one image") } }

    func run() throws {
        threadOptions.apply()
        let r = try options.recognizer()
        var out = [[String: Any]]()
        for path in images {
            let faces = try options.faces(path, r)
            for f in faces {
                var record: [String: Any] = ["image": path, "embedding": f.embedding.map { rounded($0) }]
                if let b = f.box { record["box"] = b.map { rounded($0, 100) } }
                out.append(record)
            }
            if !json { print("\(path): \(faces.count) face\(faces.count == 1 ? "" : "s")") }
        }
        if json { try printJSON(["embeddings": out]) }
    }
}

/// `convkit faces enroll --db DB --name NAME IMAGE…`.
struct FacesEnrollCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enroll",
        abstract: "Add a person (the largest face of each image) to a face database, created if new.")
    @Option(help: "The SQLite face database.") var db: String
    @Option(help: "The person's name.") var name: String
    @Argument(help: "Photos of the person.") var images: [String]
    @OptionGroup var options: RecognitionOptions
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws { guard !images.isEmpty else { throw ValidationError("give at least one image of \(name)") } }

    func run() throws {
        threadOptions.apply()
        let r = try options.recognizer()
        // Every image is encoded before anything is written: one transaction, all or nothing.
        let embeddings = try images.map { path -> [Float] in
            guard let e = try options.largestFace(path, r) else {
                throw ConvKitError.invalidArgument(name: path, expected: "a photo with a face", found: "no face (nothing was enrolled)")
            }
            return e
        }
        let n = try options.database(db, r, create: true).enroll(name: name, embeddings: embeddings, sources: images)
        print("enrolled \(name): \(images.count) new, \(n) in all")
    }
}

/// `convkit faces identify --db DB IMAGE [--json]`.
struct FacesIdentifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "identify",
        abstract: "Who is this? The nearest enrolled person within the database's threshold, or \"not recognized\".")
    @Option(help: "The SQLite face database.") var db: String
    @Argument(help: "A photo.") var image: String
    @OptionGroup var options: RecognitionOptions
    @Flag(help: "Print {\"name\",\"distance\",\"threshold\"}; name is null when not recognized.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        threadOptions.apply()
        let (database, tau, face) = try options.probe(image, db: db)
        guard let probe = face else {
            if json { try printJSON(["name": NSNull(), "distance": NSNull(), "threshold": rounded(tau), "faces": 0]) } else { print("\(image): no face found") }
            return
        }
        let (name, distance) = try database.identify(probe)
        if json {
            try printJSON(["name": name.map { $0 as Any } ?? NSNull(), "distance": distance.map { rounded($0) as Any } ?? NSNull(), "threshold": rounded(tau)])
        } else if let name, let distance {
            print("\(name) (distance \(String(format: "%.3f", distance)) ≤ τ \(String(format: "%.3f", tau)))")
        } else {
            print("not recognized" + (distance.map { String(format: " (nearest at %.3f > τ %.3f)", $0, tau) } ?? " (the database is empty)"))
        }
    }
}

/// `convkit faces verify --db DB --name NAME IMAGE [--json]`: exit status 0 when it is that person, 1 when not.
struct FacesVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify",
        abstract: "Is this the claimed person? Exit status 0 when the distance to their embeddings is within τ, 1 otherwise.")
    @Option(help: "The SQLite face database.") var db: String
    @Option(help: "The claimed person.") var name: String
    @Argument(help: "A photo.") var image: String
    @OptionGroup var options: RecognitionOptions
    @Flag(help: "Print {\"name\",\"match\",\"distance\",\"threshold\"}.") var json = false
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        threadOptions.apply()
        let (database, tau, face) = try options.probe(image, db: db)
        guard let probe = face else {
            throw ConvKitError.invalidArgument(name: image, expected: "a photo with a face", found: "no face")
        }
        let d = try database.distance(to: name, probe)
        let match = d <= tau
        if json { try printJSON(["name": name, "match": match, "distance": rounded(d), "threshold": rounded(tau)]) }
        else { print("\(match ? "match" : "no match"): \(name) at distance \(String(format: "%.3f", d)) (τ \(String(format: "%.3f", tau)))") }
        if !match { throw ExitCode(1) }
    }
}

/// `convkit faces list --db DB [--json]`.
struct FacesListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The people in a face database.")
    @Option(help: "The SQLite face database.") var db: String
    @OptionGroup var options: RecognitionOptions
    @Flag(help: "Print {\"people\":[{\"name\",\"embeddings\"}],\"threshold\",\"threshold_method\"}.") var json = false

    func run() throws {
        let database = try options.database(db, try options.recognizer(), create: false)
        let people = try database.people(), (tau, method) = try database.threshold()
        if json {
            try printJSON(["people": people.map { ["name": $0.name, "embeddings": $0.embeddings] }, "threshold": rounded(tau), "threshold_method": method])
        } else {
            for p in people { print("\(p.name)\t\(p.embeddings)") }
            print("\(people.count) \(people.count == 1 ? "person" : "people"), τ \(String(format: "%.3f", tau)) (\(method))")
        }
    }
}

/// `convkit faces remove --db DB --name NAME`.
struct FacesRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a person and their embeddings.")
    @Option(help: "The SQLite face database.") var db: String
    @Option(help: "The person to remove.") var name: String
    @OptionGroup var options: RecognitionOptions

    func run() throws {
        let database = try options.database(db, try options.recognizer(), create: false)
        guard try database.remove(name: name) else {
            throw ConvKitError.invalidArgument(name: "--name", expected: "a person in \(db)", found: "'\(name)'")
        }
        print("removed \(name)")
    }
}
