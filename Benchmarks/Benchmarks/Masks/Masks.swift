// Mask benchmarks: the operations of compare-masks.sh (same names), on data generated here from a
// fixed seed (no fixture files): 1000 + 1000 star-shaped polygons of 20-100 vertices on a 480x640
// image, drawn like scripts/make_coco.py, and 100 dense masks each the union of three of them.
//
//   encode-100     100 dense masks -> RLE -> compressed strings
//   decode-100     100 compressed strings -> parse -> dense masks
//   parse-1000     1000 compressed strings -> RLE
//   polygons-1000  1000 one-ring polygons -> RLE -> compressed strings
//   rle-iou-100    RLESet(100) x RLESet(100) IoU matrix (1% crowd ground truths), from parsed RLEs
//   rle-iou-1000   the same, 1000 x 1000
//   box-iou-1000   Box.iouMatrix, 1000 x 1000
//   union-10       RLE.union of 10 parsed masks
//
//   swift package --disable-sandbox benchmark --target Masks
//   swift package --disable-sandbox benchmark thresholds check --target Masks
//   ./update-thresholds.sh Masks    (re-records Thresholds/Masks.*: malloc counts and peak memory)
import AnnotaGeometry
import Benchmark

#if canImport(Glibc)
import Glibc  // cos, sin
#elseif canImport(Darwin)
import Darwin
#endif

/// SplitMix64: a small deterministic generator, so the data never changes between runs or hosts.

let height = 480
let width = 640

/// A star-shaped ring as scripts/make_coco.py draws it: `n` vertices at sorted random angles
/// around a random centre, radius 50-100% of a random size, clamped to the image.
func randomRing(_ rng: inout SplitMix64) -> [Double] {
  let (w, h) = (Double(width), Double(height))
  let n = Int.random(in: 20...100, using: &rng)
  let cx = Double.random(in: 0.1 * w..<0.9 * w, using: &rng)
  let cy = Double.random(in: 0.1 * h..<0.9 * h, using: &rng)
  let r = Double.random(in: 8..<(min(w, h) / 4), using: &rng)
  let angles = (0..<n).map { _ in Double.random(in: 0..<(2 * Double.pi), using: &rng) }.sorted()
  var ring: [Double] = []
  ring.reserveCapacity(2 * n)
  for angle in angles {
    let radius = r * Double.random(in: 0.5..<1, using: &rng)
    ring.append((min(max(cx + radius * cos(angle), 0), w - 1) * 100).rounded() / 100)
    ring.append((min(max(cy + radius * sin(angle), 0), h - 1) * 100).rounded() / 100)
  }
  return ring
}

/// Every input, built once before any measurement.
struct MaskData: Sendable {
  let polygons: [Polygon]
  let detections: [RLE]
  let truths: [RLE]
  let crowd: [Bool]
  let strings: [String]
  let masks: [Mask]
  let maskStrings: [String]
  let detectionBoxes: [Box]
  let truthBoxes: [Box]

  init() {
    var rng = SplitMix64(seed: 20_240_611)
    let rings = (0..<2000).map { _ in randomRing(&rng) }
    polygons = rings[..<1000].map { Polygon(rings: [$0]) }
    detections = polygons.map { $0.rle(height: height, width: width) }
    let truths = rings[1000...].map { Polygon(rings: [$0]).rle(height: height, width: width) }
    self.truths = truths
    crowd = (0..<1000).map { _ in Double.random(in: 0..<1, using: &rng) < 0.01 }
    strings = detections.map(\.compressedString)
    let maskRLEs = (0..<100).map { i in RLE.union((0..<3).map { truths[(3 * i + $0) % 1000] }) }
    masks = maskRLEs.map { $0.decoded() }
    maskStrings = maskRLEs.map(\.compressedString)
    detectionBoxes = detections.map(\.boundingBox)
    truthBoxes = truths.map(\.boundingBox)
  }
}

/// Time and allocation count (as the Decode suite: peak memory is measured in separate runs,
/// because the memory sampler thread allocates).
func timing() -> Benchmark.Configuration {
  Benchmark.Configuration(
    metrics: [.wallClock, .throughput, .mallocCountTotal],
    warmupIterations: 3,
    maxDuration: .seconds(2),
    maxIterations: 1_000,
    // Thresholds/ keeps only the malloc count and peak memory (see update-thresholds.sh); the
    // wall-clock tolerances apply to `benchmark baseline check`.
    thresholds: [
      .wallClock: .init(relative: [.p90: 30]),
      .throughput: .init(relative: [.p90: 30]),
      .mallocCountTotal: .init(absolute: [.p90: 0]),
    ])
}

/// Peak resident memory of the whole benchmark process (inputs plus the operation's output).
func memory() -> Benchmark.Configuration {
  Benchmark.Configuration(
    metrics: [.peakMemoryResident],
    warmupIterations: 1,
    maxDuration: .seconds(1),
    maxIterations: 20,
    thresholds: [.peakMemoryResident: .init(relative: [.p90: 10])])
}

/// Parses a string this file produced (so it cannot fail).
func parse(_ string: String) -> RLE {
  do throws(GeometryError) { return try RLE(height: height, width: width, compressed: string) } catch {
    fatalError("\(error)")
  }
}

let benchmarks: @Sendable () -> Void = {
  let data = MaskData()
  let dt100 = Array(data.detections.prefix(100)), gt100 = Array(data.truths.prefix(100))
  let crowd100 = Array(data.crowd.prefix(100))
  let union10 = Array(data.detections.prefix(10))

  // Names without spaces or slashes (benchmark 1.38.1 writes "a_b" for "a b" in `thresholds
  // update` but `thresholds check` looks for "a b").
  let cases: [(name: String, body: @Sendable () -> Void)] = [
    ("encode-100", { for mask in data.masks { blackHole(RLE(mask).compressedString) } }),
    ("decode-100", { for string in data.maskStrings { blackHole(parse(string).decoded()) } }),
    ("parse-1000", { for string in data.strings { blackHole(parse(string)) } }),
    ("polygons-1000", {
      for polygon in data.polygons {
        blackHole(polygon.rle(height: height, width: width).compressedString)
      }
    }),
    ("rle-iou-100", { blackHole(RLESet(dt100).iouMatrix(RLESet(gt100), crowd: crowd100)) }),
    ("rle-iou-1000", {
      blackHole(RLESet(data.detections).iouMatrix(RLESet(data.truths), crowd: data.crowd))
    }),
    ("box-iou-1000", {
      blackHole(Box.iouMatrix(data.detectionBoxes, data.truthBoxes, crowd: data.crowd))
    }),
    ("union-10", { blackHole(RLE.union(union10)) }),
  ]
  for testCase in cases {
    for (suffix, configuration) in [("", timing()), ("-memory", memory())] {
      Benchmark(testCase.name + suffix, configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations { testCase.body() }
      }
    }
  }
}
