// Edge-detection and auto-fit benchmarks: Gaussian blur, Sobel gradients and Canny on grey photos
// at two sizes; the learned fitter's candidate stage and a whole fit for boxes of three sizes on
// the colour 640x480 photo.
//
// The inputs are the photos written by `Benchmarks/make-fixtures.sh` into `Benchmarks/.fixtures/`
// (or the directory named by ANNOTA_FIXTURES), decoded and converted to grey once, before any
// measurement. compare-edges.sh times the same operations next to OpenCV.
//
//   swift package --disable-sandbox benchmark --target Edges
//   swift package --disable-sandbox benchmark thresholds check --target Edges
//   ./update-thresholds.sh Edges    (re-records Thresholds/: malloc counts and peak memory only)
import AnnotaEdges
import AnnotaEngine
import AnnotaFit
import AnnotaGeometry
import AnnotaImage
import Benchmark

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The image sizes of the ladder (the fixture names follow them: `photo-WxH.jpg`).
let sizes: [(width: Int, height: Int)] = [(640, 480), (1920, 1080)]

/// Where the fixtures are: $ANNOTA_FIXTURES, else `Benchmarks/.fixtures` next to this package.
func fixtureDirectory() -> String {
  if let value = getenv("ANNOTA_FIXTURES"), value.pointee != 0 { return String(cString: value) }
  // #filePath is .../Benchmarks/Benchmarks/Edges/Edges.swift: three components up.
  var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
  parts.removeLast(3)
  return parts.joined(separator: "/") + "/.fixtures"
}

/// The fixture decoded and converted to grey. A missing fixture ends the benchmark process with
/// exit status 1 and a message saying how to make it.
func loadGray(_ name: String) -> Image {
  let path = fixtureDirectory() + "/" + name
  do throws(ItemError) { return try ImageFiles.decode(path).image.converted(to: .gray) } catch {
    var text = "error: benchmark fixture \(path): \(error)\n"
      + "  run Benchmarks/make-fixtures.sh first (it writes the photos into "
      + "Benchmarks/.fixtures/)\n"
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }  // stderr
    exit(1)
  }
}

/// The fixture decoded in colour (same error handling as `loadGray`).
func loadColour(_ name: String) -> Image {
  let path = fixtureDirectory() + "/" + name
  do throws(ItemError) { return try ImageFiles.decode(path).image } catch {
    let text = "error: benchmark fixture \(path): \(error); run Benchmarks/make-fixtures.sh first\n"
    text.utf8CString.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count - 1) }
    exit(1)
  }
}

/// Time and allocation count (see Decode.swift for why peak memory is measured separately).
func timing() -> Benchmark.Configuration {
  Benchmark.Configuration(
    metrics: [.wallClock, .throughput, .mallocCountTotal],
    warmupIterations: 3,
    maxDuration: .seconds(2),
    maxIterations: 2_000,
    // Thresholds/ keeps only the deterministic metrics (update-thresholds.sh drops the time
    // p90s); the wall-clock tolerances apply to `benchmark baseline check`. The malloc count
    // must not grow.
    thresholds: [
      .wallClock: .init(relative: [.p90: 30]),
      .throughput: .init(relative: [.p90: 30]),
      .mallocCountTotal: .init(absolute: [.p90: 0]),
    ])
}

/// Peak resident memory of the whole benchmark process (input, output and scratch).
func memory() -> Benchmark.Configuration {
  Benchmark.Configuration(
    metrics: [.peakMemoryResident],
    warmupIterations: 1,
    maxDuration: .seconds(1),
    maxIterations: 20,
    thresholds: [.peakMemoryResident: .init(relative: [.p90: 10])])
}

let benchmarks: @Sendable () -> Void = {
  // Auto-fit: one box of 48, 160 and 400 px (long side) centred on the colour photo, with two
  // neighbour boxes; `candidates` is SideCandidates alone (window, Sobel, Canny, 46 features per
  // line), `fit` the whole learned fit with the built-in model (candidates + trees + decision).
  let colour = loadColour("photo-640x480.jpg")
  let model = BuiltInFitModel.model
  for side in [48.0, 160, 400] {
    let rough = Box(x: 320 - side / 2, y: 240 - side * 0.35, width: side, height: side * 0.7)
    let others = [Box(x: 20, y: 30, width: 120, height: 90), Box(x: 330, y: 200, width: 200, height: 150)]
    let label = "\(Int(side))px"
    for (suffix, configuration) in [("", timing()), ("-memory", memory())] {
      Benchmark("fit-candidates-\(label)" + suffix, configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(SideCandidates(image: colour, rough: rough, others: others)) }
      }
      Benchmark("fit-learned-\(label)" + suffix, configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(LearnedFitter.fit(colour, rough: rough, others: others, model: model)) }
      }
    }
  }
  for size in sizes {
    let label = "\(size.width)x\(size.height)"
    let gray = loadGray("photo-\(label).jpg")
    // Names without spaces or slashes (see Decode.swift). canny = L1, thresholds 50/150 (the
    // compare-edges.sh case); canny-l2 = L2 gradient; canny-auto = thresholds from the image's
    // own gradient quantiles, which costs a second Sobel pass.
    let cases: [(name: String, run: @Sendable (Image) -> Void)] = [
      ("gaussian-\(label)", { blackHole(EdgeDetector.gaussian($0, sigma: 1.4)) }),
      ("sobel-\(label)", { blackHole(EdgeDetector.sobel($0)) }),
      ("canny-\(label)", { blackHole(EdgeDetector.canny($0, low: 50, high: 150)) }),
      ("canny-l2-\(label)", { blackHole(EdgeDetector.canny($0, low: 50, high: 150, l2: true)) }),
      ("canny-auto-\(label)", { blackHole(EdgeDetector.canny($0)) }),
    ]
    for testCase in cases {
      for (suffix, configuration) in [("", timing()), ("-memory", memory())] {
        Benchmark(testCase.name + suffix, configuration: configuration) { benchmark in
          let run = testCase.run
          benchmark.startMeasurement()
          for _ in benchmark.scaledIterations { run(gray) }
        }
      }
    }
  }
}
