// Dedup benchmarks (AnnotaDedup) on a size ladder, data generated here from a fixed seed (no
// fixture files): hashing of grey images as `annota dedup` sees them after a DCT-scaled decode,
// and the multi-index Hamming search over random 64-bit hashes with 10% planted near-copies.
//
//   dhash-S        difference hash of an S x S grey image
//   phash-S        DCT (perceptual) hash of the same image
//   xxh64-N        XXH64 of N bytes (the exact-duplicate key of a file)
//   index-N-dD     build the HammingIndex of N hashes for distance D
//   search-N-dD    all pairs within D bits in that index
//   brute-N-dD     the same pairs by comparing every pair (the baseline the index replaces)
//
//   swift package --disable-sandbox benchmark --target Dedup
//   ./update-thresholds.sh Dedup    (re-records Thresholds/Dedup.*: malloc counts, peak memory)
import AnnotaDedup
import AnnotaGeometry
import AnnotaImage
import Benchmark

/// A smooth grey image with a few bright blocks and seeded noise (hashes need structure).
func greyImage(_ side: Int, seed: UInt64) -> Image {
  var rng = SplitMix64(seed: seed)
  var pixels = [UInt8](repeating: 0, count: side * side)
  let blocks = (0..<6).map { _ in
    (Int.random(in: 0..<side, using: &rng), Int.random(in: 0..<side, using: &rng), Int.random(in: side / 8...side / 3, using: &rng))
  }
  for y in 0..<side {
    for x in 0..<side {
      var v = 60 + 100 * (x + y) / (2 * side)
      for (bx, by, s) in blocks where x >= bx && x < bx + s && y >= by && y < by + s { v += 60 }
      pixels[y * side + x] = UInt8(clamping: v + Int(rng.next() % 7) - 3)
    }
  }
  return Image(width: side, height: side, format: .gray, pixels: pixels)
}

/// `n` random hashes of which every 10th is a copy of an earlier one with 1...d bits flipped.
func hashes(_ n: Int, distance d: Int, seed: UInt64) -> [UInt64] {
  var rng = SplitMix64(seed: seed)
  var out: [UInt64] = []
  out.reserveCapacity(n)
  for i in 0..<n {
    if i > 0 && i % 10 == 0 {
      var h = out[Int.random(in: 0..<i, using: &rng)]
      for _ in 0..<Int.random(in: 1...d, using: &rng) { h ^= 1 << UInt64.random(in: 0..<64, using: &rng) }
      out.append(h)
    } else {
      out.append(rng.next())
    }
  }
  return out
}

func timing() -> Benchmark.Configuration {
  Benchmark.Configuration(
    metrics: [.wallClock, .throughput, .mallocCountTotal],
    warmupIterations: 2,
    maxDuration: .seconds(2),
    maxIterations: 1_000,
    thresholds: [.mallocCountTotal: .init(relative: [.p90: 5])])
}

func memory() -> Benchmark.Configuration {
  Benchmark.Configuration(
    metrics: [.peakMemoryResident],
    warmupIterations: 1,
    maxDuration: .seconds(1),
    maxIterations: 10,
    thresholds: [.peakMemoryResident: .init(relative: [.p90: 10])])
}

let benchmarks: @Sendable () -> Void = {
  var cases: [(name: String, body: @Sendable () -> Void)] = []
  for side in [80, 320] {
    let image = greyImage(side, seed: UInt64(side))
    cases.append(("dhash-\(side)", { blackHole(PerceptualHash.difference(image)) }))
    cases.append(("phash-\(side)", { blackHole(PerceptualHash.dct(image)) }))
  }
  for n in [4_096, 1 << 20] {
    var rng = SplitMix64(seed: UInt64(n))
    let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
    cases.append(("xxh64-\(n)", { blackHole(XXHash64.hash(bytes)) }))
  }
  for (n, d) in [(10_000, 6), (100_000, 6), (100_000, 10)] {
    let list = hashes(n, distance: d, seed: UInt64(n + d))
    let index = HammingIndex(list, maxDistance: d)
    cases.append(("index-\(n)-d\(d)", { blackHole(HammingIndex(list, maxDistance: d)) }))
    cases.append(("search-\(n)-d\(d)", { blackHole(index.allPairs()) }))
  }
  let small = hashes(10_000, distance: 6, seed: 10_006)
  cases.append(("brute-10000-d6", { blackHole(HammingIndex.bruteForcePairs(small, maxDistance: 6)) }))
  // Names without spaces or slashes (see Benchmarks/README.md).
  for testCase in cases {
    for (suffix, configuration) in [("", timing()), ("-memory", memory())] {
      Benchmark(testCase.name + suffix, configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations { testCase.body() }
      }
    }
  }
}
