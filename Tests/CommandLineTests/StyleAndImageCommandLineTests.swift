import ConvKit
import ConvKitData
import Foundation
import XCTest

/// `convkit style` and `convkit image` as a user runs them.
final class StyleAndImageCommandLineTests: XCTestCase {
    let dir = NSTemporaryDirectory() + "convkit-style-\(getpid())"
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testStyleTransferRunsOnTheBundledImagesAndReportsItsLosses() throws {
        let out = dir + "/g.png"
        let r = try runConvkit(["style", "--size", "48", "--iterations", "15", "--out", out, "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let obj = try lastJSONLine(r.out)
        for key in ["style_loss_start", "style_loss_end", "content_loss_end", "seconds"] { XCTAssertNotNil(obj[key] as? Double, key) }
        XCTAssertLessThan(obj["style_loss_end"] as! Double, obj["style_loss_start"] as! Double)
        let image = try PNG.load(out)
        XCTAssertEqual(max(image.width, image.height), 48)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/g_panel.png"))
        // A JPEG content image works the same way.
        XCTAssertEqual(try runConvkit(["style", "--content", "Data/images/grace_hopper.jpg", "--size", "32", "--iterations", "3",
                                       "--optimizer", "adam", "--out", dir + "/h.png"]).status, 0)
    }

    func testStyleRejectsBadLayersAndOptions() throws {
        let bad = try runConvkit(["style", "--content-layer", "relu9_9", "--size", "32", "--out", dir + "/x.png"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("scale0, scale1"), "the error lists the valid layers: \(bad.err)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.png"), "no output after an error")
        let cases: [([String], String)] = [(["--optimizer", "sgd"], "lbfgsb, lbfgs or adam"), (["--network", "resnet"], "random, vgg16 or vgg19"),
                                           (["--size", "4"], "16…2048"), (["--style-weight", "nan"], "finite number"),
                                           (["--content", "nosuch.png"], "nosuch.png")]
        for (args, message) in cases {
            let r = try runConvkit(["style", "--size", "32", "--out", dir + "/y.png"] + args)
            XCTAssertNotEqual(r.status, 0, args.joined(separator: " "))
            XCTAssertTrue(r.err.split(separator: "\n").first?.contains(message) ?? false, "\(args): \(r.err)")
        }
    }

    func testImageConvertBetweenPNGJPEGAndPPM() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let jpg = dir + "/coins.jpg", png = dir + "/back.png", ppm = dir + "/hopper.ppm"
        XCTAssertEqual(try runConvkit(["image", "convert", "Data/images/coins.png", jpg, "--quality", "95"]).status, 0)
        XCTAssertEqual(try runConvkit(["image", "convert", jpg, png]).status, 0)
        let original = try PNG.load("Data/images/coins.png").tensor, back = try PNG.load(png).tensor
        XCTAssertEqual(original.shape, back.shape)
        XCTAssertLessThan((original - back).abs().mean().scalar, 3)
        XCTAssertEqual(try runConvkit(["image", "convert", "Data/images/grace_hopper.jpg", ppm]).status, 0)
        XCTAssertEqual(try ImageFile.load(ppm).shape, [3, 600, 512])
        let info = try runConvkit(["image", "info", "Data/images/grace_hopper.jpg"])
        XCTAssertTrue(info.out.contains("JPEG 512×600") && info.out.contains("baseline"), info.out)
        let bad = try runConvkit(["image", "convert", "Data/images/coins.png", dir + "/x.gif"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains(".gif"), bad.err)
        XCTAssertNotEqual(try runConvkit(["image", "convert", "README.md", dir + "/y.png"]).status, 0)
    }
}
