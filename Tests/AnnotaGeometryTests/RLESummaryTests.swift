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
}
