import AnnotaGeometry
import Testing

/// The overlap of two masks' intervals against a count of the shared pixels: `RLESet`'s plain
/// `intersectionArea` (one branching walk) and the thresholded one, which walks pairs that may
/// reach the threshold in two halves cut at one of the first mask's interval starts.
@Suite("Interval overlap walk")
struct OverlapWalkTests {
  /// Random intervals on `pixels` pixels: many short runs and gaps, so that lists are long
  /// (the walk splits lists of 8 intervals or more).
  private func randomIntervals(pixels: Int, gap: Int, run: Int, _ rng: inout SplitMix64) -> [Int] {
    var intervals: [Int] = []
    var position = Int.random(in: 0...gap, using: &rng)
    while position < pixels {
      let end = min(pixels, position + Int.random(in: 1...run, using: &rng))
      intervals.append(position)
      intervals.append(end)
      position = end + Int.random(in: 1...gap, using: &rng)
    }
    return intervals
  }

  /// `intervals` with each boundary moved by -1, 0 or +1 at random (kept sorted, runs kept
  /// non-empty): a similar mask, whose ends often equal the original's.
  private func jittered(_ intervals: [Int], pixels: Int, _ rng: inout SplitMix64) -> [Int] {
    var out: [Int] = []
    var k = 0
    while k < intervals.count {
      let low = out.last.map { $0 + 1 } ?? 0
      var start = max(low, intervals[k] + Int.random(in: -1...1, using: &rng))
      var end = min(pixels, intervals[k + 1] + Int.random(in: -1...1, using: &rng))
      if start >= pixels { break }
      if end <= start { end = start + 1 }
      if end > pixels { (start, end) = (pixels - 1, pixels) }
      if start < low { break }
      out.append(start)
      out.append(end)
      k += 2
    }
    return out
  }

  private func pixels(_ intervals: [Int]) -> Set<Int> {
    var set = Set<Int>()
    for k in stride(from: 0, to: intervals.count, by: 2) { set.formUnion(intervals[k]..<intervals[k + 1]) }
    return set
  }

  @Test("overlap equals the shared pixel count, for random and similar masks, short and long")
  func matchesPixelCount() {
    var rng = SplitMix64(seed: 77)
    var long = 0
    for trial in 0..<3000 {
      let (h, w) = (Int.random(in: 1...40, using: &rng), Int.random(in: 1...40, using: &rng))
      let total = h * w
      let gap = Int.random(in: 1...6, using: &rng), run = Int.random(in: 1...8, using: &rng)
      let a = randomIntervals(pixels: total, gap: gap, run: run, &rng)
      let b = trial % 2 == 0 ? jittered(a, pixels: total, &rng) : randomIntervals(pixels: total, gap: gap, run: run, &rng)
      let setA = RLESet(height: h, width: w, foregroundIntervals: a)
      let setB = RLESet(height: h, width: w, foregroundIntervals: b)
      let expected = pixels(a).intersection(pixels(b)).count
      #expect(setA.intersectionArea(0, setB, 0) == expected, "\(h)x\(w) a=\(a) b=\(b)")
      // Any positive threshold this small walks every pair whose boxes meet, in two halves.
      #expect(setA.intersectionArea(0, setB, 0, iouAtLeast: 1e-300) == expected, "\(h)x\(w) a=\(a) b=\(b)")
      #expect(setB.intersectionArea(0, setA, 0, iouAtLeast: 1e-300) == expected, "\(h)x\(w) a=\(a) b=\(b)")
      if a.count >= 16 && b.count >= 16 { long += 1 }
    }
    #expect(long > 1500)
  }

  @Test("an interval of one mask that spans the cut, and lists of very different lengths")
  func spanningTheCut() {
    // a: 20 one-pixel runs; b: one run over all of them, then one run per a's run.
    var a: [Int] = [], b: [Int] = [0, 200]
    for k in 0..<20 {
      a += [10 * k, 10 * k + 1]
      b += [1000 + 10 * k, 1000 + 10 * k + 5]
    }
    let setA = RLESet(height: 100, width: 20, foregroundIntervals: a)
    let setB = RLESet(height: 100, width: 20, foregroundIntervals: b)
    #expect(setA.intersectionArea(0, setB, 0, iouAtLeast: 1e-300) == 20)
    #expect(setB.intersectionArea(0, setA, 0, iouAtLeast: 1e-300) == 20)
    #expect(setA.intersectionArea(0, setB, 0) == 20)
  }
}
