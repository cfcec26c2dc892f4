import AnnotaConsensus
import AnnotaGeometry
import Testing


@Suite("Agreement statistics")
struct StatisticsTests {
  @Test("Fleiss' kappa: the worked example of Fleiss (1971) as in Wikipedia, κ = 0.210")
  func fleissExample() throws {
    let table = [
      [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]
    let kappa = try #require(Agreement.fleissKappa(table))
    #expect(abs(kappa - 0.20993070442195522) < 1e-12)
  }

  @Test("perfect agreement gives κ = α = 1; one category only is undefined")
  func perfect() {
    #expect(Agreement.fleissKappa([[3, 0], [0, 3], [3, 0]]) == 1)
    #expect(Agreement.krippendorffAlphaNominal([[1, 1, 1], [2, 2], [1, 1]]) == 1)
    #expect(Agreement.fleissKappa([[3], [3]]) == nil)
    #expect(Agreement.krippendorffAlphaNominal([[1, 1], [1, 1, 1]]) == nil)
    #expect(Agreement.cohenKappa([1, 2, 1], [1, 2, 1]) == 1)
  }

  @Test("Krippendorff's alpha: the nominal example of Krippendorff (2011), α = 0.743")
  func alphaExample() throws {
    // 4 coders, 12 units, missing values omitted (Krippendorff, "Computing Krippendorff's alpha").
    let units: [[Int]] = [
      [1, 1, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4], [4, 4, 4, 4],
      [1, 1, 2, 1], [2, 2, 2, 2], [5, 5, 5], [1, 1], [3],
    ]
    let alpha = try #require(Agreement.krippendorffAlphaNominal(units))
    #expect(abs(alpha - 0.743) < 5e-4)
  }

  @Test("Cohen's kappa on a 2x2 table")
  func cohen() throws {
    // 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: po = 0.7, pe = 0.5, κ = 0.4.
    let a = Array(repeating: 1, count: 25) + Array(repeating: 0, count: 25)
    let b = Array(repeating: 1, count: 20) + Array(repeating: 0, count: 5) + Array(repeating: 1, count: 10)
      + Array(repeating: 0, count: 15)
    #expect(abs(try #require(Agreement.cohenKappa(a, b)) - 0.4) < 1e-12)
  }
}

@Suite("Clustering and decisions")
struct ClusteringTests {
  static func similarity(_ boxes: [[Box]]) -> ImageSimilarity {
    ImageSimilarity(counts: boxes.map(\.count)) { a, b in Box.iouMatrix(boxes[a], boxes[b]) }
  }

  @Test("identical annotators: one cluster per object, all accept, score 1")
  func identical() {
    let objects = [Box(x: 0, y: 0, width: 10, height: 10), Box(x: 50, y: 50, width: 20, height: 10)]
    let boxes = Array(repeating: objects, count: 3)
    let s = Self.similarity(boxes)
    let (clusters, _) = Clustering.cluster(s, threshold: 0.5)
    #expect(clusters.count == 2)
    var labels: [Member: Int64?] = [:]
    for a in 0..<3 { for i in 0..<2 { labels[Member(annotator: a, object: i)] = Int64(i) } }
    for c in clusters {
      let d = Decision.decide(c, labels: labels, annotators: 3, similarity: s, threshold: 0.5)
      #expect(d.tier == .accept)
      #expect(d.score == 1)
      #expect(d.dissent.isEmpty)
    }
  }

  @Test("missing, label and low-overlap dissent; escalate without a majority")
  func dissent() {
    let base = Box(x: 0, y: 0, width: 10, height: 10)
    // Annotator 2 drew a shifted box (IoU with the others 1/3), annotator 3 missed it.
    let boxes = [[base], [base], [Box(x: 5, y: 0, width: 10, height: 10)], []]
    let s = Self.similarity(boxes)
    let (clusters, _) = Clustering.cluster(s, threshold: 0.3)
    #expect(clusters.count == 1 && clusters[0].members.count == 3)
    var labels: [Member: Int64?] = [Member(annotator: 0, object: 0): 1, Member(annotator: 1, object: 0): 1,
                                    Member(annotator: 2, object: 0): 1]
    var d = Decision.decide(clusters[0], labels: labels, annotators: 4, similarity: s, threshold: 0.5)
    #expect(d.tier == .escalate)  // 2 of 4 agree: not a strict majority
    #expect(d.dissent.map(\.reason) == [.lowOverlap, .missing])
    d = Decision.decide(clusters[0], labels: labels, annotators: 3, similarity: Self.similarity(Array(boxes.prefix(3))),
                        threshold: 0.3)
    #expect(d.tier == .accept)
    labels[Member(annotator: 2, object: 0)] = 7
    d = Decision.decide(clusters[0], labels: labels, annotators: 3, similarity: Self.similarity(Array(boxes.prefix(3))),
                        threshold: 0.3)
    #expect(d.tier == .review)
    #expect(d.label == 1)
    #expect(d.dissent.map(\.annotator) == [2] && d.dissent.map(\.reason) == [.label])
  }

  @Test("at most one object per annotator in a cluster, and the same clusters for any annotator order")
  func constraintAndDeterminism() {
    var rng = SplitMix64(seed: 17)
    for _ in 0..<50 {
      let n = Int.random(in: 2...5, using: &rng)
      let truth = (0..<6).map { _ in
        Box(x: Double.random(in: 0...80, using: &rng), y: Double.random(in: 0...80, using: &rng), width: 15, height: 15)
      }
      let boxes = (0..<n).map { _ in
        truth.filter { _ in Double.random(in: 0...1, using: &rng) < 0.85 }.map {
          Box(x: $0.x + Double.random(in: -4...4, using: &rng), y: $0.y + Double.random(in: -4...4, using: &rng),
              width: 15, height: 15)
        }
      }
      let (clusters, _) = Clustering.cluster(Self.similarity(boxes), threshold: 0.3)
      for c in clusters { #expect(Set(c.members.map(\.annotator)).count == c.members.count) }
      #expect(clusters.reduce(0) { $0 + $1.members.count } == boxes.reduce(0) { $0 + $1.count })
      // Same input again: identical clusters.
      let (again, _) = Clustering.cluster(Self.similarity(boxes), threshold: 0.3)
      #expect(again == clusters)
    }
  }
}

@Suite("Fusion")
struct FusionTests {
  @Test("box fusion: mean, weighted mean, median")
  func boxes() {
    let boxes = [Box(x: 0, y: 0, width: 10, height: 10), Box(x: 2, y: 0, width: 10, height: 10),
                 Box(x: 100, y: 0, width: 10, height: 10)]
    #expect(Fusion.fuse(boxes).x == 34)
    #expect(Fusion.fuse(boxes, method: .median) == Box(x: 2, y: 0, width: 10, height: 10))
    #expect(Fusion.fuse(boxes, weights: [1, 1, 0]).x == 1)
  }

  @Test("majority vote on runs equals a dense per-pixel vote")
  func vote() {
    var rng = SplitMix64(seed: 5)
    for _ in 0..<100 {
      let h = Int.random(in: 1...20, using: &rng), w = Int.random(in: 1...20, using: &rng)
      let k = Int.random(in: 1...5, using: &rng)
      let masks = (0..<k).map { _ in
        Mask(height: h, width: w, columnMajor: (0..<(h * w)).map { _ in UInt8.random(in: 0...1, using: &rng) })
      }
      let dense = (0..<(h * w)).map { p in UInt8(2 * masks.filter { $0.bits[p] != 0 }.count > k ? 1 : 0) }
      #expect(Fusion.vote(masks.map(RLE.init)) == RLE(Mask(height: h, width: w, columnMajor: dense)))
    }
  }

  @Test("STAPLE recovers a mask from three noisy raters and ranks the noisiest rater lowest")
  func staple() {
    var rng = SplitMix64(seed: 8)
    let h = 40, w = 40
    let truth = (0..<(h * w)).map { p -> UInt8 in
      let x = p / h, y = p % h
      return (x - 20) * (x - 20) + (y - 20) * (y - 20) < 100 ? 1 : 0
    }
    func noisy(_ flip: Double) -> RLE {
      RLE(Mask(height: h, width: w, columnMajor: truth.map { Double.random(in: 0...1, using: &rng) < flip ? 1 - $0 : $0 }))
    }
    let raters = [noisy(0.01), noisy(0.02), noisy(0.15)]
    let result = Fusion.staple(raters)
    let reference = RLE(Mask(height: h, width: w, columnMajor: truth))
    #expect(result.mask.iou(reference) > 0.95)
    #expect(result.sensitivity[2] < result.sensitivity[0] || result.specificity[2] < result.specificity[0])
    #expect(result.iterations > 0)
  }
}
