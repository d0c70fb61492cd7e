// swift-tools-version:5.10
import PackageDescription

let package = Package(
    name: "ConvKit",
    products: [
        .library(name: "ConvKit", targets: ["ConvKit"]),
        .library(name: "ConvKitData", targets: ["ConvKitData"]),
        .library(name: "ConvKitModels", targets: ["ConvKitModels"]),
        .library(name: "ConvKitVision", targets: ["ConvKitVision"]),
        .library(name: "ConvKitInterop", targets: ["ConvKitInterop"]),
        .executable(name: "convkit", targets: ["convkit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // SQLite (Debian's libsqlite3-dev) for the database of people's face embeddings.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // ONNX models are protobuf; the Swift generated from onnx.proto is committed (no protoc at build time).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // Property-based tests (Swift Testing) of shape and geometry rules; tests only.
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // Hot loops only: GEMM micro-kernels, conv packing, pooling, depthwise. ISA chosen at run time.
        .target(name: "CConvKernels", cSettings: [.define("NDEBUG")]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "ConvKit", dependencies: ["CConvKernels", "CZlib"]),
        // JPEG through libjpeg-turbo (Debian's libjpeg62-turbo-dev); the C layer turns libjpeg's error exits into errors.
        .systemLibrary(name: "CLibJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .target(name: "CImageCodecs", dependencies: ["CLibJPEG"]),
        .target(name: "ConvKitData", dependencies: ["ConvKit", "CImageCodecs"]),
        .target(name: "ConvKitModels", dependencies: ["ConvKit"]),
        // Detection (boxes, NMS, anchors, YOLO, COCO evaluation, datasets) and the other vision tasks.
        .target(name: "ConvKitVision", dependencies: ["ConvKit", "ConvKitData", "ConvKitModels", "CConvKernels",
                                                      .product(name: "GRDB", package: "GRDB.swift")]),
        // Model formats: ONNX import/export (and TFLite); builds ConvKit modules, depends on ConvKit only.
        .target(name: "ConvKitInterop", dependencies: ["ConvKit", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["ONNX/Proto"]),
        .executableTarget(name: "convkit", dependencies: [
            "ConvKit", "ConvKitData", "ConvKitModels", "ConvKitVision", "ConvKitInterop",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Fuzz targets for every parser: a corpus replayer in a normal build, libFuzzer-driven when built by
        // Scripts/fuzz.sh (-sanitize=fuzzer, -DCONVKIT_LIBFUZZER).
        .executableTarget(name: "convkit-fuzz", dependencies: ["ConvKit", "ConvKitData", "ConvKitVision", "ConvKitInterop"]),
        .testTarget(name: "ConvKitTests", dependencies: ["ConvKit", .product(name: "PropertyBased", package: "swift-property-based")], exclude: ["Golden"]),
        .testTarget(name: "ConvKitDataTests", dependencies: ["ConvKitData"], exclude: ["Fixtures"]),
        .testTarget(name: "CommandLineTests", dependencies: ["convkit", "convkit-fuzz", "ConvKitData"]),
        .testTarget(name: "ConvKitModelsTests", dependencies: ["ConvKitModels"]),
        .testTarget(name: "ConvKitInteropTests", dependencies: ["ConvKitInterop", "ConvKitModels", "ConvKitVision"], exclude: ["Golden"]),
        .testTarget(name: "ConvKitVisionTests", dependencies: ["ConvKitVision", .product(name: "PropertyBased", package: "swift-property-based")], exclude: ["Golden"]),
    ]
)
