public import AnnotaGeometry

/// How box coordinates are fused.
public enum BoxFusion: String, Sendable, CaseIterable {
  /// (Weighted) mean of each edge.
  case mean
  /// Median of each edge (robust to one wild box).
  case median
}

/// Consensus shapes from several annotators' versions of one object.
public enum Fusion {
  /// Fuses boxes edge by edge (left, top, right, bottom), so the result is a valid box.
  ///
  /// - Parameters:
  ///   - boxes: at least one box.
  ///   - weights: optional non-negative weights (e.g. annotator or model scores) for `.mean`;
  ///     ignored by `.median`. All-zero weights fall back to equal weights.
  /// - Complexity: O(n log n).
  public static func fuse(_ boxes: [Box], weights: [Double]? = nil, method: BoxFusion = .mean) -> Box {
    precondition(!boxes.isEmpty, "fusing needs at least one box")
    precondition(weights == nil || weights!.count == boxes.count, "one weight per box")
    let edges: [[Double]] = [
      boxes.map(\.x), boxes.map(\.y), boxes.map { $0.x + $0.width }, boxes.map { $0.y + $0.height },
    ]
    var fused = [Double](repeating: 0, count: 4)
    for e in 0..<4 {
      switch method {
      case .median:
        let sorted = edges[e].sorted()
        let m = sorted.count
        fused[e] = m % 2 == 1 ? sorted[m / 2] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2
      case .mean:
        var w = weights ?? Array(repeating: 1, count: boxes.count)
        if w.reduce(0, +) <= 0 { w = Array(repeating: 1, count: boxes.count) }
        let total = w.reduce(0, +)
        fused[e] = zip(edges[e], w).reduce(0) { $0 + $1.0 * $1.1 } / total
      }
    }
    return Box(x: fused[0], y: fused[1], width: fused[2] - fused[0], height: fused[3] - fused[1])
  }

  /// Pixels covered by at least `minimumVotes` of the masks, computed on their runs (never on a
  /// dense image): a sweep over run boundaries.
  ///
  /// Each mask's interval ends are already in order, so a few masks are merged head by head; many
  /// masks have their boundaries sorted together instead.
  ///
  /// - Parameter minimumVotes: default strict majority, `masks.count / 2 + 1` (a tie is not a
  ///   majority, as SimpleITK's `LabelVoting` leaves ties undecided).
  /// - Complexity: O(total runs · masks) for up to `mergeLimit` masks, O(total runs ·
  ///   log(total runs)) beyond.
  public static func vote(_ masks: [RLE], minimumVotes: Int? = nil) -> RLE {
    precondition(!masks.isEmpty, "voting needs at least one mask")
    let h = masks[0].height, w = masks[0].width
    precondition(masks.allSatisfy { $0.height == h && $0.width == w }, "masks differ in size")
    let out = vote(intervals: masks.map(\.intervals), pixels: h * w, minimumVotes: minimumVotes)
    return RLE(height: h, width: w, foregroundIntervals: out)
  }

  /// `vote` on the masks' foreground intervals (`RLE.intervals`, or an `RLESet`'s, which a caller
  /// may have at hand already); returns the result's intervals.
  ///
  /// - Parameter pixels: the masks' height × width.
  public static func vote(intervals lists: [[Int]], pixels: Int, minimumVotes: Int? = nil) -> [Int] {
    precondition(!lists.isEmpty, "voting needs at least one mask")
    let need = minimumVotes ?? (lists.count / 2 + 1)
    // Sort keys 2·position + (1 at a start) need the positions below 2^62.
    let merge = lists.count <= mergeLimit || pixels >= 1 << 62
    return merge ? mergeVote(lists, need: need) : sortVote(lists, need: need)
  }

  /// `vote(intervals:pixels:minimumVotes:)` that also gives each mask's overlap with the result
  /// (its foreground pixels that the result keeps), found in the same merge: what each member's
  /// IoU with the consensus needs, without a walk per member afterwards.
  ///
  /// - Complexity: O(total runs · masks), whatever the number of masks.
  public static func voteWithOverlaps(intervals lists: [[Int]], minimumVotes: Int? = nil)
    -> (intervals: [Int], overlaps: [Int])
  {
    withVoteAndOverlaps(intervals: lists, minimumVotes: minimumVotes) { (Array($0), $1) }
  }

  /// `voteWithOverlaps`, handing the result to `body` in temporary storage (valid only during
  /// the call) instead of an array of its own: a caller that only summarises the result saves
  /// an allocation of its size per object.
  public static func withVoteAndOverlaps<Result>(
    intervals lists: [[Int]], minimumVotes: Int? = nil, _ body: (UnsafeBufferPointer<Int>, [Int]) -> Result
  ) -> Result {
    precondition(!lists.isEmpty, "voting needs at least one mask")
    var overlaps = [Int](repeating: 0, count: lists.count)
    return withMergeVote(lists, need: minimumVotes ?? (lists.count / 2 + 1), overlaps: &overlaps, body)
  }

  /// `vote`'s result intervals by merging the masks' interval ends: after all the boundaries at
  /// one position are counted, an interval opens when the depth reaches `need` and closes when it
  /// drops below.
  static func mergeVote(_ lists: [[Int]], need: Int) -> [Int] {
    var overlaps: [Int] = []
    return mergeVote(lists, need: need, overlaps: &overlaps)
  }

  /// `mergeVote`, adding each list's overlap with the result to `overlaps` when it has one entry
  /// per list (left alone when empty).
  ///
  /// Between two consecutive positions of the merge nothing changes: the result is inside an
  /// interval when it has written an odd number of ends, and a list when its head is at an odd
  /// index (an interval's end). Each such stretch adds its length to every list inside it, while
  /// the result is.
  static func mergeVote(_ lists: [[Int]], need: Int, overlaps: inout [Int]) -> [Int] {
    withMergeVote(lists, need: need, overlaps: &overlaps) { result, _ in Array(result) }
  }

  /// `mergeVote` with the result handed to `body` in temporary storage (for up to three lists)
  /// or in an array of the result's bound (for more), with the overlaps once they are added.
  static func withMergeVote<Result>(
    _ lists: [[Int]], need: Int, overlaps: inout [Int], _ body: (UnsafeBufferPointer<Int>, [Int]) -> Result
  ) -> Result {
    let tracking = !overlaps.isEmpty
    if lists.count <= 3 {
      // Up to three masks (three annotators, the usual case): the heads live in registers, and
      // the ends and the result in temporaries (on the stack when the runtime finds room); only
      // the result is copied out, at its size. (The ends array and a result array at the size
      // of all the ends, the result's bound, were two allocations more per object.)
      let total = lists.reduce(0) { $0 + $1.count } + 6
      return withUnsafeTemporaryAllocation(of: Int.self, capacity: total) { ends in
        withUnsafeTemporaryAllocation(of: Int.self, capacity: total) { out in
          var filled = 0
          var heads = (0, 0, 0)
          for k in 0..<3 {
            let start = filled
            if k < lists.count {
              lists[k].withUnsafeBufferPointer { list in
                if let base = list.baseAddress {
                  (ends.baseAddress! + filled).initialize(from: base, count: list.count)
                }
                filled += list.count
              }
            }
            (ends.baseAddress! + filled).initialize(repeating: Int.max, count: 2)
            filled += 2
            switch k {
            case 0: heads.0 = start
            case 1: heads.1 = start
            default: heads.2 = start
            }
          }
          var three = (0, 0, 0)
          let n = mergeVoteThree(
            UnsafeBufferPointer(ends), heads.0, heads.1, heads.2, need: need, into: out.baseAddress!, overlaps: &three)
          if tracking {
            for k in overlaps.indices { overlaps[k] += k == 0 ? three.0 : k == 1 ? three.1 : three.2 }
          }
          return body(UnsafeBufferPointer(start: out.baseAddress, count: n), overlaps)
        }
      }
    }
    // Every mask's interval ends, one after the other, each list closed by two Int.max (so a
    // list's starts stay at even indices and an exhausted list never holds the minimum).
    var ends: [Int] = []
    ends.reserveCapacity(lists.reduce(0) { $0 + $1.count + 2 })
    var heads: [Int] = []
    for list in lists {
      heads.append(ends.count)
      ends.append(contentsOf: list)
      ends.append(Int.max)
      ends.append(Int.max)
    }
    // Each step consumes at least one end, so the result has at most ends.count entries.
    let result = [Int](unsafeUninitializedCapacity: ends.count) { out, written in
      var n = 0
      var depth = 0
      var previous = 0
      ends.withUnsafeBufferPointer { ends in
        heads.withUnsafeMutableBufferPointer { heads in
          while true {
            var position = Int.max
            for m in heads.indices { position = min(position, ends[heads[m]]) }
            if position == Int.max { break }
            if tracking && n & 1 == 1 {
              for m in heads.indices where heads[m] & 1 == 1 { overlaps[m] += position - previous }
            }
            previous = position
            // A list never holds one position twice (its intervals are non-empty and do not
            // touch), so each step takes at most one end from each list. Without branches: which
            // lists hold the position varies from step to step.
            for m in heads.indices {
              let head = heads[m]
              let hit = ends[head] == position ? 1 : 0
              depth &+= hit &* (1 &- 2 &* (head & 1))  // +1 at a start (even index), -1 at an end
              heads[m] = head &+ hit
            }
            // Keep the position when it changes the state (inside the result or not).
            out[n] = position
            let inside = depth >= need ? 1 : 0
            n &+= inside ^ (n & 1)
          }
        }
      }
      written = n
    }
    return result.withUnsafeBufferPointer { body($0, overlaps) }
  }

  /// `mergeVote`'s loop for three lists in `ends` (as laid out there) starting at `h0`, `h1` and
  /// `h2`: the same steps, with the heads in locals instead of an array, and no inner loops. Adds
  /// each list's overlap with the result to `overlaps`. Writes the result to `out` (room for
  /// `ends.count` entries) and returns its count.
  ///
  /// A list is inside one of its intervals when its head is at an odd index (past a start), so
  /// the three heads' low bits are the pattern of lists inside, and the depth is the pattern's
  /// number of bits: whether it makes the result is a bit of an 8-bit table. Each stretch between
  /// two positions adds its length to its pattern's area; a list's overlap with the result is the
  /// area of the patterns that hold the list and make the result. Without branches: which lists
  /// hold the next position varies from step to step.
  static func mergeVoteThree(
    _ ends: UnsafeBufferPointer<Int>, _ h0: Int, _ h1: Int, _ h2: Int, need: Int, into out: UnsafeMutablePointer<Int>,
    overlaps: inout (Int, Int, Int)
  ) -> Int {
    // Bit p of `result`: pattern p has at least `need` lists.
    var result = 0
    for p in 0..<8 where p.nonzeroBitCount >= need { result |= 1 << p }
    return withUnsafeTemporaryAllocation(of: Int.self, capacity: 8) { area in
      let area = area.baseAddress!
      area.initialize(repeating: 0, count: 8)
      var n = 0
      var previous = 0
      var pattern = 0
      var (h0, h1, h2) = (h0, h1, h2)
      // The heads' ends stay in locals, and each head's next end is loaded a step ahead (a list's
      // last end is followed by two Int.max, so there is always one), so that a step waits only
      // on the comparisons of the one before, not on loads as well.
      var (e0, e1, e2) = (ends[h0], ends[h1], ends[h2])
      while true {
        let (next0, next1, next2) = (ends[h0 &+ 1], ends[h1 &+ 1], ends[h2 &+ 1])
        let position = min(e0, min(e1, e2))
        if position == Int.max { break }
        area[pattern] &+= position &- previous
        previous = position
        // A head moves on when its end is the position: e - position is 0 there, so (e - position
        // - 1) >> 63 is -1 (and 0 elsewhere). In arithmetic, where `==` may become a branch.
        let m0 = (e0 &- position &- 1) >> 63, m1 = (e1 &- position &- 1) >> 63, m2 = (e2 &- position &- 1) >> 63
        h0 &-= m0
        h1 &-= m1
        h2 &-= m2
        e0 = e0 ^ ((e0 ^ next0) & m0)
        e1 = e1 ^ ((e1 ^ next1) & m1)
        e2 = e2 ^ ((e2 ^ next2) & m2)
        pattern = (h0 & 1) | (h1 & 1) << 1 | (h2 & 1) << 2
        // Keep the position when it changes the state (inside the result or not).
        out[n] = position
        n &+= ((result >> pattern) & 1) ^ (n & 1)
      }
      for p in 0..<8 where result >> p & 1 == 1 {
        if p & 1 != 0 { overlaps.0 &+= area[p] }
        if p & 2 != 0 { overlaps.1 &+= area[p] }
        if p & 4 != 0 { overlaps.2 &+= area[p] }
      }
      return n
    }
  }

  /// `vote`'s result intervals by sorting all the masks' interval ends (for many masks).
  static func sortVote(_ lists: [[Int]], need: Int) -> [Int] {
    var keys: [Int] = []
    keys.reserveCapacity(lists.reduce(0) { $0 + $1.count })
    for list in lists {
      for (i, position) in list.enumerated() { keys.append(position << 1 | (i & 1 == 0 ? 1 : 0)) }
    }
    keys.sort()
    var out: [Int] = []
    var depth = 0
    var index = 0
    while index < keys.count {
      let position = keys[index] >> 1
      while index < keys.count && keys[index] >> 1 == position {
        depth += keys[index] & 1 == 1 ? 1 : -1
        index += 1
      }
      if (depth >= need) != (out.count % 2 == 1) { out.append(position) }
    }
    return out
  }

  /// Up to this many masks, `vote` merges their sorted boundaries directly.
  static let mergeLimit = 8

  /// The result of STAPLE.
  public struct STAPLEResult: Sendable {
    /// The consensus mask (posterior probability ≥ 0.5).
    public var mask: RLE
    /// Per rater: estimated sensitivity (true positive rate) and specificity.
    public var sensitivity: [Double]
    public var specificity: [Double]
    /// EM iterations run.
    public var iterations: Int
  }

  /// STAPLE (Warfield et al. 2004): binary expectation–maximisation that estimates each rater's
  /// sensitivity and specificity and the probability that each pixel is foreground.
  ///
  /// Computed on the union of the masks' bounding boxes (the pixels outside are background for
  /// every rater and carry no information about them beyond the prior), so memory is
  /// proportional to the object, not the image. The prior is the mean foreground fraction of the
  /// raters within that region; sensitivity and specificity start at `initial`.
  ///
  /// - Complexity: O(iterations × raters × region pixels).
  public static func staple(_ masks: [RLE], initial: Double = 0.99, maxIterations: Int = 100,
                            tolerance: Double = 1e-7) -> STAPLEResult {
    precondition(!masks.isEmpty, "STAPLE needs at least one mask")
    let h = masks[0].height, w = masks[0].width
    let raters = masks.count
    // Union of bounding boxes.
    var x0 = w, y0 = h, x1 = 0, y1 = 0
    for m in masks where m.area > 0 {
      let b = m.boundingBox
      x0 = min(x0, Int(b.x))
      y0 = min(y0, Int(b.y))
      x1 = max(x1, Int(b.x + b.width))
      y1 = max(y1, Int(b.y + b.height))
    }
    if x1 <= x0 || y1 <= y0 {
      return STAPLEResult(mask: .empty(height: h, width: w), sensitivity: Array(repeating: initial, count: raters),
                          specificity: Array(repeating: initial, count: raters), iterations: 0)
    }
    let rh = y1 - y0, rw = x1 - x0, n = rh * rw
    // Dense decisions in the region, column-major like the masks.
    var decisions = [[Bool]](repeating: [], count: raters)
    for (r, mask) in masks.enumerated() {
      var d = [Bool](repeating: false, count: n)
      let intervals = mask.intervals
      var i = 0
      while i < intervals.count {
        for p in intervals[i]..<intervals[i + 1] {
          let (x, y) = p.quotientAndRemainder(dividingBy: h)
          if x >= x0 && x < x1 && y >= y0 && y < y1 { d[(x - x0) * rh + (y - y0)] = true }
        }
        i += 2
      }
      decisions[r] = d
    }
    var prior = 0.0
    for d in decisions { prior += Double(d.lazy.filter { $0 }.count) }
    prior /= Double(raters * n)
    prior = min(max(prior, 1e-6), 1 - 1e-6)
    var p = [Double](repeating: initial, count: raters)
    var q = [Double](repeating: initial, count: raters)
    var weights = [Double](repeating: 0, count: n)
    var iterations = 0
    for iteration in 1...maxIterations {
      iterations = iteration
      // E-step.
      for i in 0..<n {
        var a = prior, b = 1 - prior
        for r in 0..<raters {
          if decisions[r][i] {
            a *= p[r]
            b *= 1 - q[r]
          } else {
            a *= 1 - p[r]
            b *= q[r]
          }
        }
        weights[i] = a + b > 0 ? a / (a + b) : 0
      }
      // M-step.
      var change = 0.0
      let sumW = weights.reduce(0, +)
      let sumNotW = Double(n) - sumW
      for r in 0..<raters {
        var tp = 0.0, tn = 0.0
        for i in 0..<n {
          if decisions[r][i] { tp += weights[i] } else { tn += 1 - weights[i] }
        }
        let newP = sumW > 0 ? tp / sumW : p[r]
        let newQ = sumNotW > 0 ? tn / sumNotW : q[r]
        change = max(change, abs(newP - p[r]), abs(newQ - q[r]))
        p[r] = newP
        q[r] = newQ
      }
      if change < tolerance { break }
    }
    // Consensus in full-image coordinates.
    var intervals: [Int] = []
    for x in 0..<rw {
      var y = 0
      while y < rh {
        if weights[x * rh + y] >= 0.5 {
          let start = y
          while y < rh && weights[x * rh + y] >= 0.5 { y += 1 }
          let a = (x + x0) * h + y0 + start, b = (x + x0) * h + y0 + y
          if let last = intervals.last, last == a { intervals[intervals.count - 1] = b } else {
            intervals.append(a)
            intervals.append(b)
          }
        } else {
          y += 1
        }
      }
    }
    return STAPLEResult(mask: RLE(height: h, width: w, foregroundIntervals: intervals),
                        sensitivity: p, specificity: q, iterations: iterations)
  }
}
