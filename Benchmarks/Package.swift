// swift-tools-version: 6.1
// Annota benchmarks: a separate package so that ordo-one/benchmark (and its minutes-long cold
// build) stays out of the root package and out of CI's default path.
//
//   ./make-fixtures.sh                                      # once: test images into .fixtures/
//   swift package --disable-sandbox benchmark --target Decode
//   ./compare-decode.sh                                     # side by side with libjpeg-turbo,
//                                                           # libpng, Pillow and OpenCV
//   swift package --disable-sandbox benchmark --target Masks
//   ./compare-masks.sh                                      # side by side with pycocotools and
//                                                           # faster-coco-eval
//   swift package --disable-sandbox benchmark --target Classifier
//   ./compare-classifier.sh                                 # side by side with scikit-learn
//   swift package --disable-sandbox benchmark --target Edges
//   ./compare-edges.sh                                      # side by side with OpenCV
//   swift package --disable-sandbox benchmark --target Agreement
//   swift package --disable-sandbox benchmark --target Dedup
//   ./compare.sh [--quick|--full]                           # every compare-*.sh, one ratio table
import PackageDescription

let package = Package(
  name: "AnnotaBenchmarks",
  platforms: [.macOS(.v13)],
  dependencies: [
    // `name:` so that products resolve whatever the checkout directory is called.
    .package(name: "Annota", path: ".."),
    .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
  ],
  targets: [
    .executableTarget(
      name: "Decode",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "AnnotaImageIO", package: "Annota"),
        .product(name: "AnnotaEngine", package: "Annota"),
      ],
      path: "Benchmarks/Decode",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    // A plain timing loop for compare-decode.sh (no benchmark dependency, quick to build).
    .executableTarget(
      name: "annota-decode-bench",
      dependencies: [
        .product(name: "AnnotaImageIO", package: "Annota"),
        .product(name: "AnnotaEngine", package: "Annota"),
      ],
      path: "Sources/DecodeTimer"),
    .executableTarget(
      name: "Masks",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "AnnotaGeometry", package: "Annota"),
      ],
      path: "Benchmarks/Masks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    // The timing loop of compare-masks.sh, on the inputs baselines/pymasks.py writes.
    .executableTarget(
      name: "annota-masks-bench",
      dependencies: [
        .product(name: "AnnotaGeometry", package: "Annota"),
        .product(name: "AnnotaEngine", package: "Annota"),
      ],
      path: "Sources/MasksTimer"),
    .executableTarget(
      name: "Classifier",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "AnnotaClassifier", package: "Annota"),
        .product(name: "AnnotaGeometry", package: "Annota"),
        .product(name: "AnnotaLinearAlgebra", package: "Annota"),
      ],
      path: "Benchmarks/Classifier",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    // The timing loop of compare-classifier.sh, on the inputs baselines/pyclassifier.py writes.
    .executableTarget(
      name: "annota-classifier-bench",
      dependencies: [
        .product(name: "AnnotaClassifier", package: "Annota"),
        .product(name: "AnnotaEngine", package: "Annota"),
      ],
      path: "Sources/ClassifierTimer"),
    .executableTarget(
      name: "Edges",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "AnnotaEdges", package: "Annota"),
        .product(name: "AnnotaFit", package: "Annota"),
        .product(name: "AnnotaGeometry", package: "Annota"),
        .product(name: "AnnotaEngine", package: "Annota"),
      ],
      path: "Benchmarks/Edges",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    // The timing loop of compare-edges.sh (Canny, Sobel, Gaussian on one grey image).
    .executableTarget(
      name: "annota-edges-bench",
      dependencies: [
        .product(name: "AnnotaEdges", package: "Annota"),
        .product(name: "AnnotaEngine", package: "Annota"),
      ],
      path: "Sources/EdgesTimer"),
    .executableTarget(
      name: "Agreement",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "AnnotaConsensus", package: "Annota"),
        .product(name: "AnnotaGeometry", package: "Annota"),
      ],
      path: "Benchmarks/Agreement",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    .executableTarget(
      name: "Dedup",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "AnnotaDedup", package: "Annota"),
        .product(name: "AnnotaGeometry", package: "Annota"),
        .product(name: "AnnotaImage", package: "Annota"),
      ],
      path: "Benchmarks/Dedup",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
  ]
)
