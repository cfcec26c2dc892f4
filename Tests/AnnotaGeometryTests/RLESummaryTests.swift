import AnnotaGeometry
import Testing

/// `RLE.summary(ofIntervals:)` (a vote's consensus goes straight from intervals to its string,
/// area and box) against the mask built from the same intervals.
@Suite("RLE summary from intervals")
struct RLESummaryTests {
  /// Random foreground intervals: sorted, non-empty, disjoint, not touching; runs that cross
  /// column boundaries, start at pixel 0 or end at the last pixel come up often.
  private func randomIntervals(_ h: Int, _ w: Int, _ rng: inout SplitMix64) -> [Int] {
    let total = h * w
    var intervals: [Int] = []
    var position = Int.random(in: 0...1, using: &rng) == 0 ? 0 : Int.random(in: 0...max(0, min(total, 2 * h)), using: &rng)
    while position < total {
      let length = Int.random(in: 1...max(1, Int.random(in: 0...1, using: &rng) == 0 ? 3 : 2 * h), using: &rng)
      let end = min(total, position + length)
      intervals.append(position)
      intervals.append(end)
      position = end + Int.random(in: 1...max(1, Int.random(in: 0...1, using: &rng) == 0 ? 2 : 3 * h), using: &rng)
    }
    return intervals
  }

  @Test("string, area and box equal the mask's, for random intervals on random sizes")
  func matchesMask() {
    var rng = SplitMix64(seed: 2026)
    var checked = 0
    for _ in 0..<4000 {
      let h = Int.random(in: 0...30, using: &rng), w = Int.random(in: 0...30, using: &rng)
      let intervals = randomIntervals(h, w, &rng)
      let mask = RLE(height: h, width: w, foregroundIntervals: intervals)
      let summary = RLE.summary(ofIntervals: intervals, height: h, width: w)
      #expect(summary.compressed == mask.compressedString, "\(h)x\(w) \(intervals)")
      #expect(summary.area == mask.area, "\(h)x\(w) \(intervals)")
      #expect(summary.box == mask.boundingBox, "\(h)x\(w) \(intervals)")
      checked += intervals.isEmpty ? 0 : 1
    }
    #expect(checked > 3000)
  }

  @Test("large counts (many characters per count) and runs far apart")
  func largeCounts() {
    let (h, w) = (100_000, 3_000)
    let intervals = [5, 7, 250_000_000, 250_100_003, 299_999_999, 300_000_000]
    let mask = RLE(height: h, width: w, foregroundIntervals: intervals)
    let summary = RLE.summary(ofIntervals: intervals, height: h, width: w)
    #expect(summary.compressed == mask.compressedString)
    #expect(summary.area == mask.area)
    #expect(summary.box == mask.boundingBox)
  }

  /// pycocotools' `rleToString` loop, as the reference for the encoder.
  private func referenceString(_ counts: [Int]) -> String {
    var bytes: [UInt8] = []
    for i in counts.indices {
      var x = i > 2 ? counts[i] - counts[i - 2] : counts[i]
      var more = true
      while more {
        var c = UInt8(truncatingIfNeeded: x & 0x1F)
        x >>= 5
        more = (c & 0x10) != 0 ? x != -1 : x != 0
        if more { c |= 0x20 }
        bytes.append(c + 48)
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  @Test("compressed strings of counts of every size, deltas of both signs, against pycocotools' loop")
  func encoderAgainstReference() throws {
    var rng = SplitMix64(seed: 5)
    for _ in 0..<3000 {
      // Counts whose sizes span 1 to 40 bits, so that the deltas two apart take 1 to 9 characters.
      let counts = (0..<Int.random(in: 1...12, using: &rng)).map { i in
        i == 0 && Bool.random(using: &rng) ? 0 : Int.random(in: 1...(1 << Int.random(in: 1...40, using: &rng)), using: &rng)
      }
      let total = counts.reduce(0, +)
      let mask = try RLE(height: 1, width: total, counts: counts)
      #expect(mask.compressedString == referenceString(counts), "\(counts)")
    }
  }

  @Test("the JSON literal form: the string quoted with its backslashes doubled, same area and box")
  func jsonLiteral() {
    var rng = SplitMix64(seed: 92)
    var backslashes = 0
    for _ in 0..<2000 {
      let h = Int.random(in: 1...60, using: &rng), w = Int.random(in: 1...60, using: &rng)
      let intervals = randomIntervals(h, w, &rng)
      let plain = RLE.summary(ofIntervals: intervals, height: h, width: w)
      let json = RLE.jsonSummary(ofIntervals: intervals, height: h, width: w)
      let expected = "\"" + plain.compressed.replacingOccurrences(of: "\\", with: "\\\\") + "\""
      #expect(String(decoding: json.compressedLiteral, as: UTF8.self) == expected)
      #expect(json.area == plain.area && json.box == plain.box)
      backslashes += plain.compressed.filter { $0 == "\\" }.count
    }
    #expect(backslashes > 100)  // the escape was exercised
  }

  @Test("JSON literal of any length, backslashes anywhere (dense too), eight bytes at a time")
  func literalBytes() {
    var rng = SplitMix64(seed: 5)
    for length in 0...40 {
      for _ in 0..<50 {
        // The compressed alphabet 48...111; a backslash (92) a third of the time.
        let characters: [UInt8] = (0..<length).map { _ in
          Int.random(in: 0..<3, using: &rng) == 0 ? 92 : UInt8(Int.random(in: 48...111, using: &rng))
        }
        var expected: [UInt8] = [34]
        for c in characters { expected += c == 92 ? [92, 92] : [c] }
        expected.append(34)
        #expect(characters.withUnsafeBufferPointer(RLE.jsonLiteral) == expected, "\(characters)")
      }
    }
  }
}
