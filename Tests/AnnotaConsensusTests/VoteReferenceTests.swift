import AnnotaConsensus
import AnnotaGeometry
import Testing

/// `Fusion.vote` as it was before the merge: every boundary as a (position, ±1) event, one sort.
private func referenceVote(_ masks: [RLE], minimumVotes: Int? = nil) -> RLE {
  let h = masks[0].height, w = masks[0].width
  let need = minimumVotes ?? (masks.count / 2 + 1)
  var events: [(Int, Int)] = []
  for mask in masks {
    let intervals = mask.intervals
    var i = 0
    while i < intervals.count {
      events.append((intervals[i], 1))
      events.append((intervals[i + 1], -1))
      i += 2
    }
  }
  events.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
  var out: [Int] = []
  var depth = 0
  var index = 0
  while index < events.count {
    let position = events[index].0
    while index < events.count && events[index].0 == position {
      depth += events[index].1
      index += 1
    }
    let inside = depth >= need
    let open = out.count % 2 == 1
    if inside != open { out.append(position) }
  }
  return RLE(height: h, width: w, foregroundIntervals: out)
}

/// Random counts for an `h x w` mask, with zero-length runs and long runs mixed in.
private func randomCounts(_ h: Int, _ w: Int, _ rng: inout SplitMix64) -> [Int] {
  var left = h * w
  var counts: [Int] = []
  while left > 0 {
    let c = min(left, [0, 1, 2, 3, 5, h, 2 * h, Int.random(in: 0...(h * w), using: &rng)][Int.random(in: 0...7, using: &rng)])
    counts.append(c)
    left -= c
  }
  if counts.isEmpty { counts.append(0) }
  return counts
}

/// A random set of masks of one random size (up to 30 × 30), their number drawn from `count`,
/// and a random vote threshold (nil: the majority).
private func randomMaskSet(_ rng: inout SplitMix64, masks count: ClosedRange<Int>) throws -> (masks: [RLE], need: Int?) {
  let h = Int.random(in: 1...30, using: &rng), w = Int.random(in: 1...30, using: &rng)
  let k = Int.random(in: count, using: &rng)
  let masks = try (0..<k).map { _ in try RLE(height: h, width: w, counts: randomCounts(h, w, &rng)) }
  let need: Int? = Bool.random(using: &rng) ? nil : Int.random(in: 1...(k + 1), using: &rng)
  return (masks, need)
}

@Suite("Vote against the event-sort reference")
struct VoteReferenceTests {
  @Test("3,000 random mask sets of 1 to 20 masks (both the merge and the sort path), any threshold")
  func randomSets() throws {
    var rng = SplitMix64(seed: 404)
    for trial in 0..<3_000 {
      let (masks, need) = try randomMaskSet(&rng, masks: trial % 4 == 0 ? 9...20 : 1...8)
      #expect(Fusion.vote(masks, minimumVotes: need) == referenceVote(masks, minimumVotes: need),
              "trial \(trial): \(masks[0].height)x\(masks[0].width), \(masks.count) masks, need \(String(describing: need))")
    }
  }

  @Test("the vote on prepared intervals, as `agree` runs it, gives the same mask, area and box")
  func onIntervals() throws {
    var rng = SplitMix64(seed: 405)
    for trial in 0..<1_000 {
      let h = Int.random(in: 1...30, using: &rng), w = Int.random(in: 1...30, using: &rng)
      let k = Int.random(in: 1...12, using: &rng)
      let masks = try (0..<k).map { _ in try RLE(height: h, width: w, counts: randomCounts(h, w, &rng)) }
      let members = RLESet(masks)
      let lists = (0..<k).map { members.intervals(of: $0) }
      #expect(lists == masks.map(\.intervals))
      let fused = RLESet(height: h, width: w, foregroundIntervals: Fusion.vote(intervals: lists, pixels: h * w))
      let expected = referenceVote(masks, minimumVotes: nil)
      #expect(fused.masks == [expected], "trial \(trial)")
      #expect(fused.areas == [expected.area] && fused.boxes == [expected.boundingBox], "trial \(trial)")
      #expect(fused.intervals(of: 0) == expected.intervals, "trial \(trial)")
    }
  }

  @Test("the vote with overlaps: the same result, and each mask's overlap with it as a dense count gives it")
  func withOverlaps() throws {
    var rng = SplitMix64(seed: 406)
    for trial in 0..<2_000 {
      let (masks, need) = try randomMaskSet(&rng, masks: trial % 5 == 0 ? 4...12 : 1...3)
      let (intervals, overlaps) = Fusion.voteWithOverlaps(intervals: masks.map(\.intervals), minimumVotes: need)
      let expected = referenceVote(masks, minimumVotes: need)
      #expect(intervals == expected.intervals, "trial \(trial)")
      // Overlaps pixel by pixel.
      let result = expected.decoded().bits
      let dense = overlaps.indices.map { m in
        zip(masks[m].decoded().bits, result).reduce(0) { $0 + ($1.0 != 0 && $1.1 != 0 ? 1 : 0) }
      }
      #expect(overlaps == dense, "trial \(trial): \(masks.count) masks, need \(String(describing: need))")
    }
  }

  @Test("identical, empty and full masks")
  func extremes() {
    let empty = RLE.empty(height: 4, width: 5), full = RLE.full(height: 4, width: 5)
    for masks in [[empty], [full], [full, full, empty], [empty, empty, full], Array(repeating: full, count: 12),
                  Array(repeating: empty, count: 12) + [full]] {
      #expect(Fusion.vote(masks) == referenceVote(masks))
    }
  }
}
