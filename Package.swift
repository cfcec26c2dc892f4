// swift-tools-version: 6.2
// Annota: the compute engine of an image-annotation pipeline. See README.md for the module graph.
import PackageDescription

/// Swift settings shared by every Swift target: Swift 6 mode (the tools default) and warnings as
/// errors.
let swiftSettings: [SwiftSetting] = [
  .treatAllWarnings(as: .error),
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("InternalImportsByDefault"),
]

/// The C shim is built with -Wall -Wextra as errors.
let cSettings: [CSetting] = [
  .enableWarning("all"),
  .enableWarning("extra"),
  .treatAllWarnings(as: .error),
]

let package = Package(
  name: "Annota",
  products: [
    .executable(name: "annota", targets: ["annota"]),
    .executable(name: "annota-server", targets: ["annota-server"]),
    .library(name: "AnnotaGeometry", targets: ["AnnotaGeometry"]),
    .library(name: "AnnotaImage", targets: ["AnnotaImage"]),
    .library(name: "AnnotaEdges", targets: ["AnnotaEdges"]),
    .library(name: "AnnotaConsensus", targets: ["AnnotaConsensus"]),
    .library(name: "AnnotaDedup", targets: ["AnnotaDedup"]),
    .library(name: "AnnotaImageIO", targets: ["AnnotaImageIO"]),
    .library(name: "AnnotaLinearAlgebra", targets: ["AnnotaLinearAlgebra"]),
    .library(name: "AnnotaClassifier", targets: ["AnnotaClassifier"]),
    .library(name: "AnnotaFit", targets: ["AnnotaFit"]),
    .library(name: "AnnotaEngine", targets: ["AnnotaEngine"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    // Only the Label Studio ML backend (`annota-server`) depends on these.
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
  ],
  targets: [
    // MARK: C libraries (system-library targets: module map + header only)
    .systemLibrary(
      name: "CPNG", path: "CSupport/CPNG", pkgConfig: "libpng",
      providers: [.apt(["libpng-dev"])]),
    .systemLibrary(
      name: "CJPEG", path: "CSupport/CJPEG", pkgConfig: "libjpeg",
      providers: [.apt(["libjpeg-dev"])]),
    // OpenBLAS: the header only (Debian's libopenblas-dev names it cblas-openblas.h); the library
    // is opened at first use, not linked (see AnnotaLinearAlgebra's BLAS.swift).
    .systemLibrary(name: "COpenBLAS", path: "CSupport/COpenBLAS"),
    // A declaration only: Linux's sync_file_range, which the Glibc module leaves out.
    .systemLibrary(name: "CWriteback", path: "CSupport/CWriteback"),
    // The one compiled C target: setjmp/longjmp error handling for libjpeg and libpng.
    .target(
      name: "AnnotaCodecShims", dependencies: ["CPNG", "CJPEG"], path: "CSupport/AnnotaCodecShims",
      cSettings: cSettings),

    // MARK: Pure Swift compute (no Foundation, no C)
    .target(
      name: "AnnotaGeometry", swiftSettings: swiftSettings,
      // Floating-point rounding (`rounded(.up)`) lowers to libm; nothing else is imported.
      linkerSettings: [.linkedLibrary("m")]),
    .target(name: "AnnotaImage", dependencies: ["AnnotaGeometry"], swiftSettings: swiftSettings),
    .target(name: "AnnotaEdges", dependencies: ["AnnotaImage", "AnnotaGeometry"], swiftSettings: swiftSettings),
    .target(name: "AnnotaConsensus", dependencies: ["AnnotaGeometry"], swiftSettings: swiftSettings),
    // Exact and perceptual hashes, the multi-index Hamming search, duplicate groups.
    .target(
      name: "AnnotaDedup",
      dependencies: ["AnnotaImage", .product(name: "RealModule", package: "swift-numerics")],
      swiftSettings: swiftSettings),

    // MARK: Swift wrappers over C (each C library imported by exactly one module)
    .target(
      name: "AnnotaImageIO", dependencies: ["AnnotaImage", "AnnotaCodecShims"],
      swiftSettings: swiftSettings),
    .target(
      name: "AnnotaLinearAlgebra", dependencies: ["COpenBLAS"], swiftSettings: swiftSettings),
    // Softmax classifier, calibration and batch selection: OpenBLAS GEMMs, libm through Numerics.
    .target(
      name: "AnnotaClassifier",
      dependencies: [
        "AnnotaLinearAlgebra", "AnnotaGeometry", .product(name: "RealModule", package: "swift-numerics"),
      ],
      swiftSettings: swiftSettings),

    .target(
      name: "AnnotaFit",
      dependencies: [
        "AnnotaEdges", "AnnotaImage", "AnnotaGeometry", "AnnotaClassifier",
        .product(name: "RealModule", package: "swift-numerics"),
      ],
      swiftSettings: swiftSettings),

    // MARK: Files, JSON, threads
    .target(
      name: "AnnotaEngine",
      dependencies: [
        "AnnotaGeometry", "AnnotaImage", "AnnotaImageIO", "AnnotaEdges", "AnnotaConsensus",
        "AnnotaLinearAlgebra", "AnnotaClassifier", "AnnotaDedup", "AnnotaFit",
        .product(name: "RealModule", package: "swift-numerics"),
        "CWriteback",
      ],
      swiftSettings: swiftSettings),

    // MARK: CLI (parse and print only)
    .executableTarget(
      name: "annota",
      dependencies: [
        "AnnotaEngine", "AnnotaFit", "AnnotaLinearAlgebra", "AnnotaCodecShims",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: swiftSettings),

    // MARK: Label Studio ML backend (a separate executable keeps the `annota` CLI's build light)
    .target(
      name: "AnnotaServer",
      dependencies: [
        "AnnotaEngine", "AnnotaEdges", "AnnotaFit", "AnnotaClassifier", "AnnotaGeometry", "AnnotaImage",
        "AnnotaLinearAlgebra",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        // Plain-HTTP image downloads (Hummingbird already builds these).
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings),
    .executableTarget(
      name: "annota-server",
      dependencies: [
        "AnnotaServer", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: swiftSettings),

    // MARK: Fuzzing (a no-op executable unless built with -sanitize=fuzzer; see README)
    .executableTarget(
      name: "AnnotaFuzzDecode", dependencies: ["AnnotaImageIO"], path: "Tests/Fuzz/DecodeFuzzer",
      swiftSettings: swiftSettings),

    .executableTarget(
      name: "AnnotaFuzzRLE", dependencies: ["AnnotaGeometry"], path: "Tests/Fuzz/RLEFuzzer",
      swiftSettings: swiftSettings),
    .executableTarget(
      name: "AnnotaFuzzCOCO", dependencies: ["AnnotaEngine", "AnnotaGeometry"],
      path: "Tests/Fuzz/COCOFuzzer",
      swiftSettings: swiftSettings),

    // MARK: Tests
    // Helpers the test targets share (finding and running a Python with the reference libraries).
    .target(name: "AnnotaTestSupport", path: "Tests/Support", swiftSettings: swiftSettings),
    .testTarget(
      name: "AnnotaImageIOTests", dependencies: ["AnnotaImageIO", "AnnotaEngine", "AnnotaTestSupport"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "AnnotaGeometryTests", dependencies: ["AnnotaGeometry", "AnnotaEngine"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "AnnotaEdgesTests",
      dependencies: ["AnnotaEdges", "AnnotaImageIO", "AnnotaEngine", "AnnotaGeometry", "AnnotaTestSupport"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "AnnotaConsensusTests", dependencies: ["AnnotaConsensus", "AnnotaEngine", "AnnotaTestSupport"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "AnnotaLinearAlgebraTests", dependencies: ["AnnotaLinearAlgebra"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "AnnotaFitTests",
      dependencies: ["AnnotaFit", "AnnotaEngine", "AnnotaClassifier", "AnnotaGeometry", "AnnotaImage"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "AnnotaClassifierTests", dependencies: ["AnnotaClassifier", "AnnotaEngine", "AnnotaGeometry"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "AnnotaDedupTests", dependencies: ["AnnotaDedup", "AnnotaEngine"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "AnnotaEngineTests", dependencies: ["AnnotaEngine"], swiftSettings: swiftSettings),
    .testTarget(
      name: "AnnotaCLITests", dependencies: ["annota", "AnnotaTestSupport"], swiftSettings: swiftSettings),
    .testTarget(
      name: "AnnotaServerTests",
      dependencies: [
        "AnnotaServer", "AnnotaEngine", "AnnotaImage", "AnnotaGeometry",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        // In-process requests go through an NIO testing channel; HummingbirdTesting would pull in
        // async-http-client and BoringSSL, minutes of CI build for nothing used here.
        .product(name: "NIOEmbedded", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings),
  ]
)
