// swift-tools-version:5.10
import PackageDescription

let package = Package(
    name: "ConvKit",
    products: [
        .library(name: "ConvKit", targets: ["ConvKit"]),
        .executable(name: "convkit", targets: ["convkit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Hot loops only: GEMM micro-kernels, conv packing, pooling, depthwise. ISA chosen at run time.
        .target(name: "CConvKernels", cSettings: [.define("NDEBUG")]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "ConvKit", dependencies: ["CConvKernels", "CZlib"]),
        .executableTarget(name: "convkit", dependencies: [
            "ConvKit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "ConvKitTests", dependencies: ["ConvKit"], exclude: ["Golden"]),
    ]
)
