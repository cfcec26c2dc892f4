@testable import AnnotaGeometry
import Testing

private func randomMask(_ h: Int, _ w: Int, density: Double, blobs: Bool, _ rng: inout SplitMix64) -> Mask {
  var bits = [UInt8](repeating: 0, count: h * w)
  if blobs {
    for _ in 0..<Int.random(in: 1...4, using: &rng) {
      let cx = Double.random(in: 0..<Double(w), using: &rng), cy = Double.random(in: 0..<Double(h), using: &rng)
      let r = Double.random(in: 1...Double(max(2, min(h, w) / 2)), using: &rng)
      let hole = Double.random(in: 0...1, using: &rng) < 0.5 ? r * 0.4 : 0
      for x in 0..<w {
        for y in 0..<h {
          let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
          if d < r && d >= hole { bits[x * h + y] = 1 }
        }
      }
    }
  } else {
    for i in bits.indices where Double.random(in: 0..<1, using: &rng) < density { bits[i] = 1 }
  }
  return Mask(height: h, width: w, columnMajor: bits)
}

@Suite("RLE properties")
struct PropertyTests {
  @Test("decode∘encode = identity, string round trip, area and counts agree")
  func roundTrips() throws {
    var rng = SplitMix64(seed: 11)
    for trial in 0..<300 {
      let h = Int.random(in: 0...40, using: &rng), w = Int.random(in: 0...40, using: &rng)
      let mask = randomMask(h, w, density: Double.random(in: 0...1, using: &rng), blobs: trial % 2 == 0 && h > 0 && w > 0, &rng)
      let rle = RLE(mask)
      #expect(rle.decoded() == mask)
      #expect(try RLE(height: h, width: w, compressed: rle.compressedString) == rle)
      #expect(rle.area == mask.bits.reduce(0) { $0 + Int($1) })
      #expect(rle.counts.reduce(0, +) == h * w)
    }
  }

  @Test("nonzero values other than 1 are foreground")
  func nonBinary() {
    let mask = Mask(height: 2, width: 2, columnMajor: [0, 2, 255, 1])
    #expect(RLE(mask).counts == [1, 3])
  }

  @Test("IoU is symmetric, in [0, 1], 1 on itself; Dice = 2 IoU / (1 + IoU); union area bounds")
  func iouProperties() {
    var rng = SplitMix64(seed: 5)
    for _ in 0..<200 {
      let h = Int.random(in: 1...30, using: &rng), w = Int.random(in: 1...30, using: &rng)
      let a = RLE(randomMask(h, w, density: 0.3, blobs: true, &rng))
      let b = RLE(randomMask(h, w, density: 0.3, blobs: true, &rng))
      let iou = a.iou(b)
      #expect(iou == b.iou(a))
      #expect(iou >= 0 && iou <= 1)
      if a.area > 0 { #expect(a.iou(a) == 1) }
      let dice = a.dice(b)
      #expect(abs(dice - 2 * iou / (1 + iou)) < 1e-12)
      let union = RLE.union([a, b]), inter = RLE.intersection([a, b])
      #expect(union.area <= a.area + b.area)
      #expect(union.area + inter.area == a.area + b.area)
      #expect(inter.area == a.intersectionArea(b))
      // Dense reference for the overlap.
      let da = a.decoded().bits, db = b.decoded().bits
      #expect(inter.area == zip(da, db).filter { $0 != 0 && $1 != 0 }.count)
    }
  }

  @Test("the intersection matrix gives iouMatrix's and diceMatrix's values exactly, crowd included")
  func intersectionMatrix() {
    var rng = SplitMix64(seed: 11)
    for _ in 0..<100 {
      let h = Int.random(in: 1...24, using: &rng), w = Int.random(in: 1...24, using: &rng)
      func set(_ count: Int) -> RLESet {
        RLESet((0..<count).map { _ in
          RLE(randomMask(h, w, density: 0.2, blobs: Bool.random(using: &rng), &rng))
        })
      }
      let a = set(Int.random(in: 0...5, using: &rng)), b = set(Int.random(in: 0...5, using: &rng))
      let crowd = (0..<b.count).map { _ in Int.random(in: 0..<4, using: &rng) == 0 }
      let overlaps = a.intersectionMatrix(b)
      let iou = a.iouMatrix(b, crowd: crowd), dice = a.diceMatrix(b)
      for d in 0..<a.count {
        for g in 0..<b.count {
          #expect(overlaps[d][g] == a.masks[d].intersectionArea(b.masks[g]))
          #expect(a.iou(d, b, g, intersection: overlaps[d][g], crowd: crowd[g]).bitPattern == iou[d][g].bitPattern)
          #expect(a.dice(d, b, g, intersection: overlaps[d][g]).bitPattern == dice[d][g].bitPattern)
        }
      }
    }
  }

  /// The pairs skipped as unable to reach the threshold are exactly those the bound proves so: an
  /// entry is the exact overlap whenever the IoU reaches the threshold, and otherwise 0 or exact.
  /// The bound must also skip something, or the test would pass with no skipping at all.
  @Test("the thresholded intersection matrix is exact wherever the IoU reaches the threshold, crowd included")
  func thresholdedIntersectionMatrix() {
    var rng = SplitMix64(seed: 12)
    var skipped = 0
    for _ in 0..<300 {
      let h = Int.random(in: 1...24, using: &rng), w = Int.random(in: 1...24, using: &rng)
      func set(_ count: Int) -> RLESet {
        RLESet((0..<count).map { _ in
          RLE(randomMask(h, w, density: Double.random(in: 0.02...0.3, using: &rng), blobs: Bool.random(using: &rng), &rng))
        })
      }
      let a = set(Int.random(in: 0...5, using: &rng)), b = set(Int.random(in: 0...5, using: &rng))
      let crowd = (0..<b.count).map { _ in Int.random(in: 0..<4, using: &rng) == 0 }
      let threshold = [0.05, 0.3, 0.5, 0.75, 1][Int.random(in: 0...4, using: &rng)]
      let exact = a.intersectionMatrix(b)
      let thresholded = a.intersectionMatrix(b, iouAtLeast: threshold, crowd: crowd)
      for d in 0..<a.count {
        for g in 0..<b.count {
          let iou = a.iou(d, b, g, intersection: exact[d][g], crowd: crowd[g])
          if iou >= threshold {
            #expect(thresholded[d][g] == exact[d][g], "IoU \(iou) at threshold \(threshold)")
          } else {
            #expect(thresholded[d][g] == 0 || thresholded[d][g] == exact[d][g])
            if thresholded[d][g] == 0 && exact[d][g] > 0 { skipped += 1 }
          }
        }
      }
    }
    #expect(skipped > 100)
  }

  @Test("RLE → polygons → RLE is exact, holes and diagonal touches included")
  func polygonRoundTrip() {
    var rng = SplitMix64(seed: 99)
    for trial in 0..<400 {
      let h = Int.random(in: 1...36, using: &rng), w = Int.random(in: 1...36, using: &rng)
      let mask = randomMask(h, w, density: Double.random(in: 0.05...0.95, using: &rng), blobs: trial % 3 != 0, &rng)
      let rle = RLE(mask)
      let rings = rle.polygons()
      let back = Polygon(rings: rings).rle(height: h, width: w)
      #expect(back == rle || (back.area == 0 && rle.area == 0), "trial \(trial) \(h)x\(w)")
      for ring in rings { #expect(ring.count >= 8 && ring.count % 2 == 0) }
    }
  }

  @Test("counts that do not sum to h·w, negative counts and bad strings are errors")
  func invalid() {
    #expect(throws: GeometryError.countsSumMismatch(expected: 12, actual: 11)) {
      try RLE(height: 4, width: 3, counts: [5, 6])
    }
    #expect(throws: GeometryError.negativeCount(index: 1)) { try RLE(height: 1, width: 1, counts: [2, -1]) }
    #expect(throws: GeometryError.invalidCharacter(offset: 1)) { try RLE(height: 4, width: 3, compressed: "2 ") }
    #expect(throws: GeometryError.unterminatedCount) { try RLE(height: 4, width: 3, compressed: "2P") }
    #expect(throws: GeometryError.self) { try RLE(height: 4, width: 3, compressed: "oooooooooooooooo1") }
    #expect(throws: GeometryError.self) { try RLE(height: 4, width: 3, compressed: "") }
    #expect(throws: GeometryError.invalidSize(height: -1, width: 3)) { try RLE(height: -1, width: 3, counts: []) }
  }

  @Test("a 13-group compressed count that does not fit in 64 bits is an overflow, not wrapped")
  func compressedCountOverflow() throws {
    // Found by review while fuzzing AnnotaFuzzRLE: "U" + 11 × "P" + "@" is 5 + 2^64 (the 13th
    // group, 0x10, sets only bit 64), which used to wrap silently to 5 and parse as [0, 5].
    let wrapped = "0U" + String(repeating: "P", count: 11) + "@"
    #expect(throws: GeometryError.countOverflow(index: 1)) {
      try RLE(height: 1, width: 5, compressed: wrapped)
    }
    // 13th groups 0x08...0x17 all overflow (bit 63 and bit 64 differ).
    for top in 0x08...0x17 {
      let text = "0U" + String(repeating: "P", count: 11) + String(UnicodeScalar(UInt8(48 + top)))
      #expect(throws: GeometryError.countOverflow(index: 1), "\(text)") {
        try RLE(height: 1, width: 5, compressed: text)
      }
    }
    // Counts that need all 13 groups, positive and negative differences, still round-trip.
    let h = 1 << 31, w = 1 << 30  // 2^61 pixels
    for counts in [[0, h * w], [1, h * w - 3, 1, 1], [h * w - 2, 1, 0, 1]] {
      let rle = try RLE(height: h, width: w, counts: counts)
      #expect(rle.compressedString.utf8.count > 13, "\(counts)")
      #expect(try RLE(height: h, width: w, compressed: rle.compressedString) == rle, "\(counts)")
    }
  }

  @Test("design examples")
  func designExamples() throws {
    #expect(RLE.empty(height: 4, width: 3).compressedString == "<")
    #expect(RLE.full(height: 4, width: 3).compressedString == "0<")
    #expect(try RLE(height: 1, width: 5, counts: [0, 5]).compressedString == "05")
    #expect(try RLE(height: 4, width: 3, counts: [3, 1, 2, 1, 5]).compressedString == "31203")
    #expect(RLE.empty(height: 4, width: 3).boundingBox == Box(x: 0, y: 0, width: 0, height: 0))
  }

  @Test("counts past 2^32 pixels do not overflow")
  func largeCounts() throws {
    let h = 100_000, w = 60_000  // 6·10^9 pixels
    let rle = try RLE(height: h, width: w, counts: [1, 5_000_000_000, h * w - 5_000_000_001])
    #expect(rle.area == 5_000_000_000)
    #expect(try RLE(height: h, width: w, compressed: rle.compressedString) == rle)
    #expect(rle.iou(rle) == 1)
  }

  @Test("polygon validation: too few points, odd counts, NaN and infinities")
  func polygonValidation() {
    #expect(throws: GeometryError.tooFewPoints(ring: 0, numbers: 4)) { try Polygon(rings: [[0, 0, 3, 3]]).validated() }
    #expect(throws: GeometryError.oddCoordinateCount(ring: 1, numbers: 7)) {
      try Polygon(rings: [[0, 0, 3, 3, 1, 1], [0, 0, 3, 3, 1, 1, 2]]).validated()
    }
    #expect(throws: GeometryError.nonFiniteCoordinate(ring: 0, index: 3)) {
      try Polygon(rings: [[0, 0, 3, .nan, 1, 1]]).validated()
    }
  }

  @Test("huge and far-away coordinates neither crash nor take long")
  func farCoordinates() {
    let rle = Polygon(rings: [[-1e15, -1e15, 1e15, -1e15, 1e15, 1e15, -1e15, 1e15]]).rle(height: 50, width: 40)
    #expect(rle.area == 50 * 40)
    let sliver = Polygon(rings: [[5, -1e9, 5.4, 1e9, 30, 1e9]]).rle(height: 20, width: 40)
    #expect(sliver.pixelCount == 800)
  }
}

@Suite("Assignment")
struct AssignmentTests {
  @Test("minimum cost against brute force on small random matrices")
  func bruteForce() {
    var rng = SplitMix64(seed: 3)
    func permutations(_ n: Int, _ k: Int) -> [[Int]] {
      if k == 0 { return [[]] }
      var out: [[Int]] = []
      for p in permutations(n, k - 1) { for j in 0..<n where !p.contains(j) { out.append(p + [j]) } }
      return out
    }
    for _ in 0..<200 {
      let n = Int.random(in: 1...5, using: &rng), m = Int.random(in: 1...5, using: &rng)
      let cost = (0..<n).map { _ in (0..<m).map { _ in Double(Int.random(in: 0...9, using: &rng)) } }
      let pairs = Assignment.minimumCost(cost)
      #expect(pairs.count == min(n, m))
      #expect(Set(pairs.map(\.row)).count == pairs.count && Set(pairs.map(\.column)).count == pairs.count)
      let total = pairs.reduce(0.0) { $0 + cost[$1.row][$1.column] }
      var best = Double.infinity
      if n <= m {
        for p in permutations(m, n) { best = min(best, (0..<n).reduce(0.0) { $0 + cost[$1][p[$1]] }) }
      } else {
        for p in permutations(n, m) { best = min(best, (0..<m).reduce(0.0) { $0 + cost[p[$1]][$1] }) }
      }
      #expect(total == best)
    }
  }

  @Test("pairs under the threshold are never matched")
  func threshold() {
    let similarity = [[0.9, 0.45], [0.6, 0.2]]
    let pairs = Assignment.match(similarity: similarity, threshold: 0.5)
    #expect(pairs.map { [$0.row, $0.column] } == [[0, 0]])
    #expect(Assignment.match(similarity: [[0.55, 0.5], [0.52, 0.0]], threshold: 0.5).count == 2)
  }

  @Test("pairs that share no row or column: the same matches as the Hungarian method")
  func separatePairs() {
    var rng = SplitMix64(seed: 11)
    var separate = 0
    for trial in 0..<3000 {
      let n = Int.random(in: 1...7, using: &rng), m = Int.random(in: 1...7, using: &rng)
      let threshold = trial % 10 == 0 ? 0.0 : trial % 10 == 1 ? 1e-20 : 0.5
      // Mostly small values; a few at, just under or above the threshold (sometimes two in a
      // row or a column), and tiny ones whose cost rounds to 1.
      let values: [Double] = threshold == 1e-20 ? [0, 0, 0, 0, 0, 1e-20, 0.6] : [0, 0, 0, 0.1, 0.3, 0.49, 0.5.nextDown, 0.5, 0.5, 0.7, 0.93, 1, 1e-20]
      let similarity = (0..<n).map { _ in (0..<m).map { _ in values.randomElement(using: &rng)! } }
      let cost = similarity.map { row in row.map { $0 >= threshold ? 1 - $0 : 1 } }
      let general = Assignment.minimumCost(cost).filter { similarity[$0.row][$0.column] >= threshold }
      let total = { (pairs: [(row: Int, column: Int)]) in pairs.reduce(0.0) { $0 + cost[$1.row][$1.column] } }
      let pairs = Assignment.match(similarity: similarity, threshold: threshold)
      if Assignment.separatePairs(similarity: similarity, threshold: threshold) != nil {
        separate += 1
        // The same pairs (the optimum is unique here).
        #expect(pairs.map { [$0.row, $0.column] } == general.map { [$0.row, $0.column] }, "\(similarity)")
      } else {
        // The general method: an optimal assignment.
        #expect(total(pairs) == total(general), "\(similarity)")
      }
      #expect(pairs.map(\.row) == pairs.map(\.row).sorted())
    }
    #expect(separate > 500 && separate < 2900)
  }

  @Test("one item a side: matched exactly when the general method would match it")
  func single() {
    for value in [0.0, 0.3, 0.5.nextDown, 0.5, 0.5.nextUp, 0.9, 1.0, -1.0, .nan] {
      let general = Assignment.minimumCost([[value >= 0.5 ? 1 - value : 1]]).filter { _ in value >= 0.5 }
      let single = Assignment.match(similarity: [[value]], threshold: 0.5)
      #expect(single.map { [$0.row, $0.column] } == general.map { [$0.row, $0.column] }, "\(value)")
      #expect(single.count == (value >= 0.5 ? 1 : 0))
    }
  }
}
