// Decode benchmarks: JPEG full vs region of interest vs DCT scaling, and PNG, at two sizes.
//
// The inputs are photos written by `Benchmarks/make-fixtures.sh` into `Benchmarks/.fixtures/`
// (or the directory named by ANNOTA_FIXTURES). The bytes are read once, before any measurement;
// each iteration decodes from memory.
//
//   swift package --disable-sandbox benchmark --target Decode
//   swift package --disable-sandbox benchmark thresholds check --target Decode
//   ./update-thresholds.sh    (re-records Thresholds/: malloc counts and peak memory only)
import AnnotaEngine
import AnnotaImage
import AnnotaImageIO
import Benchmark

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The image sizes of the ladder (the fixture names follow them: `photo-WxH.jpg`, `.png`).
let sizes: [(width: Int, height: Int)] = [(640, 480), (1920, 1080)]

/// A centred rectangle covering `fraction` of the image area with the image's aspect ratio.
func centredRegion(width: Int, height: Int, fraction: Double) -> PixelRect {
  let side = fraction.squareRoot()
  let w = Int((Double(width) * side).rounded())
  let h = Int((Double(height) * side).rounded())
  return PixelRect(x: (width - w) / 2, y: (height - h) / 2, width: w, height: h)
}

/// Where the fixtures are: $ANNOTA_FIXTURES, else `Benchmarks/.fixtures` next to this package.
func fixtureDirectory() -> String {
  if let value = getenv("ANNOTA_FIXTURES"), value.pointee != 0 { return String(cString: value) }
  // #filePath is .../Benchmarks/Benchmarks/Decode/Decode.swift: three components up.
  var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
  parts.removeLast(3)
  return parts.joined(separator: "/") + "/.fixtures"
}

/// The fixture's bytes. A missing fixture ends the benchmark process with exit status 1 and a
/// message saying how to make it (`benchmark.error` alone would still let the run succeed).
func loadFixture(_ name: String) -> [UInt8] {
  let path = fixtureDirectory() + "/" + name
  do throws(FileError) { return try FileIO.read(path) } catch {
    var text = "error: benchmark fixture \(path): \(error.message)\n"
      + "  run Benchmarks/make-fixtures.sh first (it writes the photos into Benchmarks/.fixtures/)\n"
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }  // stderr
    exit(1)
  }
}

/// Time and allocation count. Peak memory is measured in separate runs: its sampler thread reads
/// /proc every few milliseconds, and those reads allocate (a 1080p PNG decode showed 69–91
/// mallocs instead of its deterministic 13) and compete for the two cores.
func timing() -> Benchmark.Configuration {
  Benchmark.Configuration(
    metrics: [.wallClock, .throughput, .mallocCountTotal],
    warmupIterations: 3,
    maxDuration: .seconds(2),
    maxIterations: 1_000,
    // `thresholds check` compares against Thresholds/, which keeps only the deterministic metrics
    // (update-thresholds.sh drops the time p90s: back-to-back runs on the shared 2-core VM
    // differed by up to 42%). The wall-clock tolerances below apply to baseline comparisons
    // (`benchmark baseline check`). The malloc count must not grow.
    thresholds: [
      .wallClock: .init(relative: [.p90: 30]),
      .throughput: .init(relative: [.p90: 30]),
      .mallocCountTotal: .init(absolute: [.p90: 0]),
    ])
}

/// Peak resident memory of the whole benchmark process (output buffer plus codec state).
func memory() -> Benchmark.Configuration {
  Benchmark.Configuration(
    metrics: [.peakMemoryResident],
    warmupIterations: 1,
    maxDuration: .seconds(1),
    maxIterations: 20,
    thresholds: [.peakMemoryResident: .init(relative: [.p90: 10])])
}

let benchmarks: @Sendable () -> Void = {
  for size in sizes {
    let label = "\(size.width)x\(size.height)"
    let roi = centredRegion(width: size.width, height: size.height, fraction: 0.1)
    let jpeg = loadFixture("photo-\(label).jpg")
    let png = loadFixture("photo-\(label).png")

    // Names without spaces or slashes: `thresholds update` writes "JPEG_640x480_full" for
    // "JPEG 640x480 full" but `thresholds check` looks for the name unchanged (benchmark 1.38.1).
    // roi10 = a centred box covering 10% of the area; half/quarter/eighth = DCT scale 1/2, 1/4, 1/8.
    let cases: [(name: String, bytes: [UInt8], options: DecodeOptions)] = [
      ("JPEG-\(label)-full", jpeg, DecodeOptions()),
      ("JPEG-\(label)-roi10", jpeg, DecodeOptions(region: roi)),
      ("JPEG-\(label)-roi10-quarter", jpeg, DecodeOptions(scale: .quarter, region: roi)),
      ("JPEG-\(label)-half", jpeg, DecodeOptions(scale: .half)),
      ("JPEG-\(label)-quarter", jpeg, DecodeOptions(scale: .quarter)),
      ("JPEG-\(label)-eighth", jpeg, DecodeOptions(scale: .eighth)),
      ("PNG-\(label)-full", png, DecodeOptions()),
    ]
    for testCase in cases {
      for (suffix, configuration) in [("", timing()), ("-memory", memory())] {
        let name = testCase.name + suffix
        Benchmark(name, configuration: configuration) { benchmark in
          let bytes = testCase.bytes
          let options = testCase.options
          benchmark.startMeasurement()
          for _ in benchmark.scaledIterations {
            do throws(DecodeError) {
              blackHole(try ImageDecoder.decode(bytes, options: options))
            } catch {
              benchmark.error("\(name): \(error)")
              return
            }
          }
        }
      }
    }
  }
}
