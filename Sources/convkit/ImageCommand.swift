import ArgumentParser
import ConvKit
import ConvKitData
import Foundation

/// `convkit image`: image files themselves.
struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "image", abstract: "Convert and inspect image files.",
                                                    subcommands: [Convert.self, Info.self])

    /// `convkit image convert IN OUT`: any readable format to PNG, JPEG or PPM/PGM, chosen by OUT's extension.
    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert an image (PNG, JPEG, PGM, PPM; JPEG's EXIF orientation applied) to PNG, JPEG or PPM/PGM by the output's extension.")
        @Argument(help: "Input image.") var input: String
        @Argument(help: "Output file: .png, .jpg/.jpeg or .ppm/.pgm (written atomically).") var output: String
        @Option(help: "JPEG quality 1…100.") var quality = 90

        func validate() throws { guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1…100, found \(quality)") } }

        func run() throws {
            let image = try ImageFile.loadImage(input)
            try ImageFile.save(image, to: output, quality: quality)
            print("\(input) (\(image.width)×\(image.height), \(image.channels) channel\(image.channels == 1 ? "" : "s")) → \(output)")
        }
    }

    /// `convkit image info FILE…`: size, channels and, for JPEG, the header's form.
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print each image's size and form.")
        @Argument(help: "Image files.") var files: [String]

        func run() throws {
            for path in files {
                let bytes = [UInt8](try AtomicFile.read(path))
                if bytes.starts(with: JPEG.signature) {
                    let h = try JPEG.header(bytes, path: path)
                    let sampling = "\(h.sampling.horizontal)×\(h.sampling.vertical)"
                    print("\(path): JPEG \(h.width)×\(h.height), \(h.colorSpace), \(h.progressive ? "progressive" : "baseline"), luma sampling \(sampling), EXIF orientation \(h.orientation)")
                } else {
                    let image = try ImageFile.loadImage(path)
                    print("\(path): \(image.width)×\(image.height), \(image.channels) channel\(image.channels == 1 ? "" : "s"), \(image.bitDepth)-bit")
                }
            }
        }
    }
}
