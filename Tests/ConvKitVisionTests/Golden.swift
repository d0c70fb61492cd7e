import ConvKit
import Foundation
import XCTest

/// Golden arrays produced offline by torchvision / pycocotools (scripts in Golden/).
enum Golden {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    static let boxes: [String: Tensor] = { (try? NumPy.loadArchive(path("boxes.npz"))) ?? [:] }()

    static func array(_ archive: [String: Tensor], _ key: String, file: StaticString = #filePath, line: UInt = #line) -> Tensor {
        guard let t = archive[key] else { XCTFail("missing golden array \(key)", file: file, line: line); return Tensor([]) }
        return t
    }
}
