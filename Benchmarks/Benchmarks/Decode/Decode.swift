// Decode benchmarks: JPEG full vs region of interest vs DCT scaling, and PNG, at two sizes.
//
// The inputs are photos written by `Benchmarks/make-fixtures.sh` into `Benchmarks/.fixtures/`
// (or the directory named by ANNOTA_FIXTURES). The bytes are read once, before any measurement;
// each iteration decodes from memory.
//
//   swift package --disable-sandbox benchmark --target Decode
//   swift package --disable-sandbox --allow-writing-to-package-directory benchmark thresholds update --target Decode
//   swift package --disable-sandbox benchmark thresholds check --target Decode
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

/// The fixture's bytes, or the message to report when it is missing.
func loadFixture(_ name: String) -> Result<[UInt8], FileError> {
  let path = fixtureDirectory() + "/" + name
  do throws(FileError) { return .success(try FileIO.read(path)) } catch {
    return .failure(
      FileError(
        path: path,
        message: "\(error.message) — run Benchmarks/make-fixtures.sh first "
          + "(it writes the benchmark photos into Benchmarks/.fixtures/)"))
  }
}

/// Time and allocation count. Peak memory is measured in separate runs: its sampler thread reads
/// /proc every few milliseconds, and those reads allocate (a 1080p PNG decode showed 69–91
/// mallocs instead of its deterministic 13) and compete for the two cores.
let timing = Benchmark.Configuration(
  metrics: [.wallClock, .throughput, .mallocCountTotal],
  warmupIterations: 3,
  maxDuration: .seconds(2),
  maxIterations: 1_000,
  // `thresholds check` compares against the committed p90s in Thresholds/ with these tolerances:
  // wall clock may drift 15% (shared 2-core machines are noisy); the malloc count is
  // deterministic and must not grow.
  thresholds: [
    .wallClock: .init(relative: [.p90: 15]),
    .throughput: .init(relative: [.p90: 15]),
    .mallocCountTotal: .init(absolute: [.p90: 0]),
  ])

/// Peak resident memory of the whole benchmark process (output buffer plus codec state).
let memory = Benchmark.Configuration(
  metrics: [.peakMemoryResident],
  warmupIterations: 1,
  maxDuration: .seconds(1),
  maxIterations: 20,
  thresholds: [.peakMemoryResident: .init(relative: [.p90: 10])])

let benchmarks: @Sendable () -> Void = {
  for size in sizes {
    let label = "\(size.width)x\(size.height)"
    let roi = centredRegion(width: size.width, height: size.height, fraction: 0.1)
    let jpeg = loadFixture("photo-\(label).jpg")
    let png = loadFixture("photo-\(label).png")

    let cases: [(name: String, bytes: Result<[UInt8], FileError>, options: DecodeOptions)] = [
      ("JPEG \(label) full", jpeg, DecodeOptions()),
      ("JPEG \(label) ROI 10%", jpeg, DecodeOptions(region: roi)),
      ("JPEG \(label) ROI 10% 1/4", jpeg, DecodeOptions(scale: .quarter, region: roi)),
      ("JPEG \(label) 1/2", jpeg, DecodeOptions(scale: .half)),
      ("JPEG \(label) 1/4", jpeg, DecodeOptions(scale: .quarter)),
      ("JPEG \(label) 1/8", jpeg, DecodeOptions(scale: .eighth)),
      ("PNG \(label) full", png, DecodeOptions()),
    ]
    for testCase in cases {
      for (suffix, configuration) in [("", timing), (" (peak memory)", memory)] {
        let name = testCase.name + suffix
        Benchmark(name, configuration: configuration) { benchmark in
          let bytes: [UInt8]
          switch testCase.bytes {
          case .success(let data): bytes = data
          case .failure(let error):
            benchmark.error(error.description)
            return
          }
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
