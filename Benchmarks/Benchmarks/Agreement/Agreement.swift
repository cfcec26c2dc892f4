// Agreement benchmarks (AnnotaConsensus, and AnnotaGeometry's assignment under it) on a size
// ladder of objects per image, three annotators, data generated here from a fixed seed (no
// fixture files): annotator 0 draws M boxes on a 640x480 image, annotators 1 and 2 copy each with
// every side moved by up to ±8% of the box size, drop 5% and add 5% of their own.
//
//   match-M        Hungarian matching of one annotator pair: M x M IoU matrix, pairs < 0.5 dropped
//   cluster-3xM    IoU matrices of the three pairs + pairwise matching + agglomeration into clusters
//   decide-3xM     tier decision (accept / review / escalate) for every cluster of one image
//   fuse-boxes-M   coordinate fusion (mean) of every cluster's boxes
//   vote-3-S       pixel-majority vote of three masks of S x S pixels (RLE runs, 480x640 image)
//   staple-3-S     STAPLE (binary EM) on the same three masks
//   fleiss-N       Fleiss' kappa over N subjects rated by three annotators, 10 categories
//   alpha-N        Krippendorff's alpha (nominal) over N units of two or three labels
//
//   swift package --disable-sandbox benchmark --target Agreement
//   ./update-thresholds.sh Agreement    (re-records Thresholds/Agreement.*: malloc counts, memory)
import AnnotaConsensus
import AnnotaGeometry
import Benchmark

#if canImport(Glibc)
import Glibc  // cos, sin
#elseif canImport(Darwin)
import Darwin
#endif

/// Three annotators' boxes of one image with `m` objects.
func annotators(_ m: Int, seed: UInt64) -> [[Box]] {
  var rng = SplitMix64(seed: seed)
  let base = (0..<m).map { _ -> Box in
    let w = Double.random(in: 12...120, using: &rng)
    let h = Double.random(in: 12...120, using: &rng)
    return Box(
      x: Double.random(in: 0...(640 - w), using: &rng), y: Double.random(in: 0...(480 - h), using: &rng),
      width: w, height: h)
  }
  var out = [base]
  for _ in 1...2 {
    var copy: [Box] = []
    for b in base where Double.random(in: 0..<1, using: &rng) >= 0.05 {
      let j = { (size: Double, rng: inout SplitMix64) in Double.random(in: -0.08...0.08, using: &rng) * size }
      copy.append(Box(
        left: b.x + j(b.width, &rng), top: b.y + j(b.height, &rng), right: b.right + j(b.width, &rng),
        bottom: b.bottom + j(b.height, &rng)))
    }
    for _ in 0..<max(1, m / 20) {
      copy.append(Box(x: Double.random(in: 0...500, using: &rng), y: Double.random(in: 0...380, using: &rng), width: 60, height: 60))
    }
    out.append(copy)
  }
  return out
}

func similarity(_ boxes: [[Box]]) -> ImageSimilarity {
  ImageSimilarity(counts: boxes.map(\.count)) { a, b in Box.iouMatrix(boxes[a], boxes[b]) }
}

/// A circle-like ring around (cx, cy) with radius r (32 vertices), shifted by `shift` in x.
func ring(cx: Double, cy: Double, r: Double, shift: Double) -> [Double] {
  var out: [Double] = []
  for i in 0..<32 {
    let t = Double(i) / 32 * 2 * Double.pi
    out += [cx + shift + r * cos(t), cy + r * sin(t)]
  }
  return out
}

func timing() -> Benchmark.Configuration {
  Benchmark.Configuration(
    metrics: [.wallClock, .throughput, .mallocCountTotal],
    warmupIterations: 3,
    maxDuration: .seconds(2),
    maxIterations: 1_000,
    thresholds: [.mallocCountTotal: .init(relative: [.p90: 5])])
}

func memory() -> Benchmark.Configuration {
  Benchmark.Configuration(
    metrics: [.peakMemoryResident],
    warmupIterations: 1,
    maxDuration: .seconds(1),
    maxIterations: 20,
    thresholds: [.peakMemoryResident: .init(relative: [.p90: 10])])
}

let benchmarks: @Sendable () -> Void = {
  var cases: [(name: String, body: @Sendable () -> Void)] = []
  for m in [10, 50, 200] {
    let boxes = annotators(m, seed: UInt64(m))
    let pair = Box.iouMatrix(boxes[0], boxes[1])
    let sim = similarity(boxes)
    let clusters = Clustering.cluster(sim, threshold: 0.5).clusters
    var labels: [Member: Int64?] = [:]
    for (a, list) in boxes.enumerated() {
      for i in list.indices { labels[Member(annotator: a, object: i)] = Int64((i + (a == 2 && i % 15 == 0 ? 1 : 0)) % 5) }
    }
    let frozenLabels = labels
    cases.append(("match-\(m)", { blackHole(Assignment.match(similarity: pair, threshold: 0.5)) }))
    cases.append(("cluster-3x\(m)", { blackHole(Clustering.cluster(similarity(boxes), threshold: 0.5)) }))
    cases.append(("decide-3x\(m)", {
      for c in clusters {
        blackHole(Decision.decide(c, labels: frozenLabels, annotators: 3, similarity: sim, threshold: 0.5))
      }
    }))
    cases.append(("fuse-boxes-\(m)", {
      for c in clusters { blackHole(Fusion.fuse(c.members.map { boxes[$0.annotator][$0.object] })) }
    }))
  }
  for side in [64, 256] {
    let r = Double(side) / 2
    let masks = (0..<3).map { k in
      Polygon(rings: [ring(cx: 320, cy: 240, r: r, shift: Double(k) * r * 0.06)]).rle(height: 480, width: 640)
    }
    cases.append(("vote-3-\(side)", { blackHole(Fusion.vote(masks)) }))
    cases.append(("staple-3-\(side)", { blackHole(Fusion.staple(masks)) }))
  }
  for n in [1_000, 10_000] {
    var rng = SplitMix64(seed: UInt64(n))
    var counts: [[Int]] = []
    var units: [[Int]] = []
    for _ in 0..<n {
      let truth = Int.random(in: 0..<10, using: &rng)
      let votes = (0..<3).map { _ in Double.random(in: 0..<1, using: &rng) < 0.85 ? truth : Int.random(in: 0..<10, using: &rng) }
      var row = [Int](repeating: 0, count: 10)
      for v in votes { row[v] += 1 }
      counts.append(row)
      units.append(Double.random(in: 0..<1, using: &rng) < 0.1 ? Array(votes.prefix(2)) : votes)
    }
    let (fleissRows, alphaUnits) = (counts, units)
    cases.append(("fleiss-\(n)", { blackHole(Agreement.fleissKappa(fleissRows)) }))
    cases.append(("alpha-\(n)", { blackHole(Agreement.krippendorffAlphaNominal(alphaUnits)) }))
  }
  // Names without spaces or slashes (see Benchmarks/README.md).
  for testCase in cases {
    for (suffix, configuration) in [("", timing()), ("-memory", memory())] {
      Benchmark(testCase.name + suffix, configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations { testCase.body() }
      }
    }
  }
}
