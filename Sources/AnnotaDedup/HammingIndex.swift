/// Two hashes within the search distance: indices into the indexed array, `first < second`.
public struct HammingPair: Sendable, Hashable, Comparable {
  /// The smaller index (with query flags: the query).
  public var first: Int
  /// The other index.
  public var second: Int
  /// Hamming distance between their hashes.
  public var distance: Int

  /// A pair of indices at `distance`.
  public init(first: Int, second: Int, distance: Int) {
    self.first = first
    self.second = second
    self.distance = distance
  }

  /// Ordered by `first`, then `second`.
  public static func < (a: HammingPair, b: HammingPair) -> Bool {
    (a.first, a.second) < (b.first, b.second)
  }
}

/// All pairs of 64-bit hashes within Hamming distance `d`, by multi-index hashing (Norouzi,
/// Punjani, Fleet 2012) instead of comparing every pair.
///
/// The 64 bits are cut into `m` contiguous chunks. If two hashes differ in at most `d` bits, then
/// by the pigeonhole principle some chunk differs in at most `r = ⌊d / m⌋` bits. Each chunk has a
/// direct-address table (counting-sorted ids, `2^b` offsets); a query probes, in every chunk, the
/// buckets of all keys within `r` bits of its own chunk, and verifies each candidate's full
/// distance. A pair is reported by the first chunk that finds it, so each pair exactly once.
/// `m` (4–16 chunks, so tables stay ≤ 2^16 entries and cache-resident) minimises the estimated
/// probes × bucket size for the given `n` and `d`.
///
/// The result is exact: the same pairs as brute force (the tests check this on random hashes).
public struct HammingIndex: Sendable {
  /// The indexed hashes.
  public let hashes: [UInt64]
  /// The search distance `d`.
  public let maxDistance: Int
  /// Chunk count `m`.
  public let chunkCount: Int
  /// Per-chunk radius `r = ⌊d / m⌋`.
  public let chunkRadius: Int
  let shifts: [Int]
  let widths: [Int]
  /// Per chunk: `2^b + 1` bucket starts into `ids`.
  let offsets: [[Int32]]
  /// Per chunk: item ids sorted by chunk key.
  let ids: [[Int32]]
  /// Per chunk: the hashes in the same order as `ids`, so a bucket is scanned sequentially
  /// instead of by random access into `hashes` (the search is memory-bound otherwise).
  let sortedHashes: [[UInt64]]
  /// Per chunk: XOR masks of weight ≤ r within the chunk's width.
  let probes: [[UInt32]]

  /// Builds the index.
  ///
  /// - Precondition: `0 <= maxDistance <= 64`, fewer than 2^31 hashes.
  /// - Complexity: O(m (n + 2^b)) time and memory, b = ⌈64 / m⌉.
  public init(_ hashes: [UInt64], maxDistance: Int) {
    precondition(maxDistance >= 0 && maxDistance <= 64, "distance must be in 0...64")
    precondition(hashes.count < Int(Int32.max), "too many hashes")
    self.hashes = hashes
    self.maxDistance = maxDistance
    let m = HammingIndex.bestChunkCount(n: hashes.count, distance: maxDistance)
    chunkCount = m
    chunkRadius = maxDistance / m
    var widths: [Int] = []
    var shifts: [Int] = []
    var shift = 64
    for c in 0..<m {
      let w = 64 / m + (c < 64 % m ? 1 : 0)
      shift -= w
      widths.append(w)
      shifts.append(shift)
    }
    self.widths = widths
    self.shifts = shifts
    var offsets: [[Int32]] = []
    var ids: [[Int32]] = []
    var sortedHashes: [[UInt64]] = []
    var probes: [[UInt32]] = []
    for c in 0..<m {
      let size = 1 << widths[c]
      let mask = UInt64(size - 1)
      var start = [Int32](repeating: 0, count: size + 1)
      for h in hashes { start[Int((h >> UInt64(shifts[c])) & mask) + 1] += 1 }
      for k in 0..<size { start[k + 1] += start[k] }
      var fill = start
      var order = [Int32](repeating: 0, count: hashes.count)
      var values = [UInt64](repeating: 0, count: hashes.count)
      for (i, h) in hashes.enumerated() {
        let k = Int((h >> UInt64(shifts[c])) & mask)
        order[Int(fill[k])] = Int32(i)
        values[Int(fill[k])] = h
        fill[k] += 1
      }
      offsets.append(start)
      ids.append(order)
      sortedHashes.append(values)
      probes.append(HammingIndex.masks(width: widths[c], radius: chunkRadius))
    }
    self.offsets = offsets
    self.ids = ids
    self.sortedHashes = sortedHashes
    self.probes = probes
  }

  /// The chunk count minimising m · probes(b, r) · (1 + n / 2^b) over m in 4...16.
  static func bestChunkCount(n: Int, distance: Int) -> Int {
    var best = 4
    var bestCost = Double.infinity
    for m in 4...16 {
      let b = 64 / m
      let r = distance / m
      var probes = 0.0
      var term = 1.0
      for k in 0...min(r, b) {
        if k > 0 { term = term * Double(b - k + 1) / Double(k) }
        probes += term
      }
      let cost = Double(m) * probes * (1 + Double(n) / Double(1 << b))
      if cost < bestCost {
        bestCost = cost
        best = m
      }
    }
    return best
  }

  /// All masks of `width` bits with at most `radius` bits set, lightest first.
  static func masks(width: Int, radius: Int) -> [UInt32] {
    var out: [UInt32] = [0]
    var frontier: [UInt32] = [0]
    for _ in 0..<min(radius, width) {
      var next: [UInt32] = []
      for m in frontier {
        // Extend only above the highest set bit, so each mask is generated once.
        let low = m == 0 ? 0 : 32 - m.leadingZeroBitCount
        for bit in low..<width { next.append(m | (1 << UInt32(bit))) }
      }
      out += next
      frontier = next
    }
    return out
  }

  /// The pairs `(i, j)`, `j > i`, with distance ≤ `maxDistance`, that fall to part `part` of
  /// `parts`, sorted. Each chunk's key space is cut into `parts` ranges and part `p` answers the
  /// queries whose key lies in range `p`, so the union over `0..<parts` is every pair exactly
  /// once: run the parts on different threads to parallelise.
  ///
  /// Queries are taken bucket by bucket, so the probed buckets are reused by every query of the
  /// bucket while they are in cache (a per-query loop was memory-bound: 4× slower at 1M hashes).
  ///
  /// With `queries`, only pairs with at least one query hash are wanted (`queries[i]` says
  /// whether hash `i` is one); non-query hashes are only found, never searched from, so the cost
  /// scales with the number of queries. A pair with one query is reported as (query, other),
  /// which may have `first > second`.
  ///
  /// - Precondition: `0 <= part < parts`; `queries`, if given, has one flag per hash.
  /// - Complexity: about (queries / parts) · m · probes · (1 + n / 2^b) distance checks.
  public func pairs(part: Int, of parts: Int, queries: [Bool]? = nil) -> [HammingPair] {
    precondition(parts >= 1 && part >= 0 && part < parts, "part must be in 0..<parts")
    precondition(queries == nil || queries!.count == hashes.count, "one query flag per hash")
    let everyone = queries == nil
    let isQuery = queries ?? []
    var out: [HammingPair] = []
    let d = maxDistance
    let r = chunkRadius
    // Chunk masks as (shift, mask) for the "found by an earlier chunk" test.
    let chunkMasks = (0..<chunkCount).map { (UInt64(shifts[$0]), UInt64((1 << widths[$0]) - 1)) }
    for c in 0..<chunkCount {
      let size = 1 << widths[c]
      let keys = (size * part / parts)..<(size * (part + 1) / parts)
      offsets[c].withUnsafeBufferPointer { starts in
        ids[c].withUnsafeBufferPointer { members in
          sortedHashes[c].withUnsafeBufferPointer { values in
            probes[c].withUnsafeBufferPointer { flips in
              for key in keys {
                let queries = Int(starts[key])..<Int(starts[key + 1])
                if queries.isEmpty { continue }
                for p in flips {
                  let k = key ^ Int(p)
                  let candidates = Int(starts[k])..<Int(starts[k + 1])
                  for q in queries {
                    let h = values[q]
                    let i = Int(members[q])
                    if !everyone && !isQuery[i] { continue }
                    for t in candidates {
                      let x = h ^ values[t]
                      let dist = x.nonzeroBitCount
                      if dist > d { continue }
                      let j = Int(members[t])
                      if j <= i && (everyone || isQuery[j]) || j == i { continue }
                      // Reported by the first chunk whose bits differ by ≤ r.
                      var earlier = false
                      for e in 0..<c
                      where ((x >> chunkMasks[e].0) & chunkMasks[e].1).nonzeroBitCount <= r {
                        earlier = true
                        break
                      }
                      if !earlier { out.append(HammingPair(first: i, second: j, distance: dist)) }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    out.sort()
    return out
  }

  /// Every pair within `maxDistance`, sorted (single thread).
  public func allPairs() -> [HammingPair] { pairs(part: 0, of: 1) }

  /// Reference: every pair within `distance` by comparing all n(n−1)/2 pairs.
  ///
  /// - Complexity: O(n²).
  public static func bruteForcePairs(_ hashes: [UInt64], maxDistance: Int) -> [HammingPair] {
    var out: [HammingPair] = []
    for i in hashes.indices {
      for j in (i + 1)..<hashes.count {
        let d = (hashes[i] ^ hashes[j]).nonzeroBitCount
        if d <= maxDistance { out.append(HammingPair(first: i, second: j, distance: d)) }
      }
    }
    return out
  }
}
