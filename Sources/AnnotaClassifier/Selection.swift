import AnnotaGeometry
public import AnnotaLinearAlgebra

/// Why a row was put in the next batch.
public enum PickReason: String, Sendable, Hashable, CaseIterable {
  /// Among the most uncertain rows.
  case uncertainty
  /// Chosen by k-center greedy from the uncertain candidates to spread the batch out, in place
  /// of a more uncertain row close to one already picked or labeled.
  case diversity
  /// Drawn uniformly at random from the whole unlabeled pool (the reserve), so data labeled in
  /// this round is not biased toward the model's failures.
  case reserve
}

/// One row of the next batch.
public struct Pick: Sendable, Hashable {
  /// Row index into the features.
  public var index: Int
  /// Its uncertainty score (higher = less sure).
  public var score: Double
  public var reason: PickReason
}

/// How a batch is diversified.
public enum Diversity: String, Sendable, Hashable, CaseIterable {
  /// k-center greedy (Sener & Savarese 2018) on standardised features, among the
  /// `poolFactor × batch` most uncertain rows, with labeled rows as the initial centres.
  case kCenter = "k-center"
  /// Weighted k-means (Zhdanov 2019) on the `poolFactor × batch` most uncertain rows, weights =
  /// uncertainty, one cluster per pick; each cluster contributes the row nearest its centre.
  /// Unlike k-center it does not favour outliers.
  case cluster
  /// The top of the ranking only.
  case none
}

/// Settings of ``BatchSelection``.
public struct SelectionOptions: Sendable, Hashable {
  /// Rows to pick.
  public var batch = 100
  /// Share of the batch drawn at random from the unlabeled pool (rounded to a whole row).
  public var reserveFraction = 0.1
  public var diversity = Diversity.cluster
  /// k-center chooses among this many times the (non-reserve) batch of the most uncertain rows.
  public var poolFactor = 10
  /// Interleave the ranking over predicted classes (the most uncertain row of each class in
  /// turn), so a batch is not all one confusable class.
  public var classBalance = false
  /// Seed of the reserve draw.
  public var seed: UInt64 = 0

  public init() {}
}

/// Picks the next batch to label from scored unlabeled rows: top of the uncertainty ranking,
/// spread by k-center greedy, plus a random reserve. Labeled rows are never candidates.
/// Deterministic for a given seed (ties broken by row index).
public enum BatchSelection {
  /// - Parameters:
  ///   - candidates: unlabeled row indices (each at most once).
  ///   - scores: uncertainty of each candidate, same order.
  ///   - predicted: predicted class of each candidate (used by class balance).
  ///   - labeled: rows already labeled (initial k-center centres).
  ///   - features: all rows, raw; `standardizer` puts them on a common scale for distances.
  /// - Complexity: O(n log n) for the ranking, plus O(pool × (labeled + batch) × features)
  ///   for k-center.
  public static func select(
    candidates: [Int], scores: [Double], predicted: [Int], labeled: [Int],
    features: Matrix<Float>, standardizer: Standardizer, options: SelectionOptions
  ) -> [Pick] {
    precondition(candidates.count == scores.count && candidates.count == predicted.count,
                 "one score and one prediction per candidate")
    let batch = min(options.batch, candidates.count)
    if batch <= 0 { return [] }
    var picks: [Pick] = []
    // 1. The reserve: a uniform draw from the whole pool (partial Fisher–Yates on a sorted copy,
    //    so the draw depends only on the seed and the set of candidates).
    let reserveCount = min(batch, Int((Double(batch) * options.reserveFraction).rounded()))
    var order = Array(candidates.indices).sorted { candidates[$0] < candidates[$1] }
    var rng = SplitMix64(seed: options.seed)
    var taken = Set<Int>()
    for i in 0..<reserveCount {
      let j = i + Int(rng.next() % UInt64(order.count - i))
      order.swapAt(i, j)
      let c = order[i]
      taken.insert(c)
      picks.append(Pick(index: candidates[c], score: scores[c], reason: .reserve))
    }
    // 2. The ranking of the rest: most uncertain first, ties by row index.
    let main = batch - reserveCount
    if main == 0 { return picks }
    var ranked = candidates.indices.filter { !taken.contains($0) }
    ranked.sort { a, b in
      scores[a] != scores[b] ? scores[a] > scores[b] : candidates[a] < candidates[b]
    }
    if options.classBalance { ranked = interleaveByClass(ranked, predicted: predicted) }
    let top = Set(ranked.prefix(main))
    guard options.diversity != .none, ranked.count > main else {
      for c in ranked.prefix(main) {
        picks.append(Pick(index: candidates[c], score: scores[c], reason: .uncertainty))
      }
      return picks
    }
    let pool = Array(ranked.prefix(max(main, main * options.poolFactor)))
    let poolRows = pool.map { candidates[$0] }
    let px = standardizer.transform(features, rows: poolRows)
    if options.diversity == .cluster {
      var rngK = SplitMix64(seed: options.seed ^ 0xC105_7E25)
      let chosen = weightedKMeansPicks(px, weights: pool.map { max(scores[$0], 1e-6) }, k: main, rng: &rngK)
      for i in chosen {
        let c = pool[i]
        picks.append(Pick(
          index: candidates[c], score: scores[c], reason: top.contains(c) ? .uncertainty : .diversity))
      }
      return picks
    }
    // 3. k-center greedy among the uncertain pool.
    var minDist = nearestDistances(px, to: standardizer.transform(features, rows: labeled))
    var chosen = [Bool](repeating: false, count: pool.count)
    let d = features.columns
    for _ in 0..<main {
      var best = -1
      for i in pool.indices where !chosen[i] {
        // Ties (no labeled rows yet: all infinite) go to the more uncertain, i.e. earlier, row.
        if best < 0 || minDist[i] > minDist[best] { best = i }
      }
      chosen[best] = true
      let c = pool[best]
      picks.append(Pick(
        index: candidates[c], score: scores[c], reason: top.contains(c) ? .uncertainty : .diversity))
      px.storage.withUnsafeBufferPointer { p in
        for i in pool.indices where !chosen[i] {
          var s: Float = 0
          for j in 0..<d {
            let t = p[i * d + j] - p[best * d + j]
            s += t * t
          }
          minDist[i] = min(minDist[i], s)
        }
      }
    }
    return picks
  }

  /// Weighted k-means with k-means++ seeding; returns, per cluster, the index of the point
  /// nearest its centre (distinct, `k` of them, in cluster order of the seeding).
  ///
  /// - Complexity: O(20 × n × k × features).
  static func weightedKMeansPicks(
    _ x: Matrix<Float>, weights: [Double], k: Int, rng: inout SplitMix64
  ) -> [Int] {
    let n = x.rows
    let d = x.columns
    if k >= n { return Array(0..<n) }
    var centres = [Float](repeating: 0, count: k * d)
    return x.storage.withUnsafeBufferPointer { xp in
      @inline(__always) func dist(_ a: Int, _ cp: UnsafeMutableBufferPointer<Float>, _ c: Int) -> Float {
        // Four partial sums so the loop vectorises (a fixed order: deterministic).
        let pa = xp.baseAddress! + a * d
        let pc = UnsafePointer(cp.baseAddress! + c * d)
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        var j = 0
        while j + 4 <= d {
          let t0 = pa[j] - pc[j], t1 = pa[j + 1] - pc[j + 1]
          let t2 = pa[j + 2] - pc[j + 2], t3 = pa[j + 3] - pc[j + 3]
          s0 += t0 * t0
          s1 += t1 * t1
          s2 += t2 * t2
          s3 += t3 * t3
          j += 4
        }
        while j < d {
          let t = pa[j] - pc[j]
          s0 += t * t
          j += 1
        }
        return (s0 + s1) + (s2 + s3)
      }
      return centres.withUnsafeMutableBufferPointer { cp in
        func setCentre(_ c: Int, toPoint i: Int) {
          for j in 0..<d { cp[c * d + j] = xp[i * d + j] }
        }
        // k-means++ seeding, weighted: the first centre is the heaviest (most uncertain) point.
        var first = 0
        for i in 1..<n where weights[i] > weights[first] { first = i }
        setCentre(0, toPoint: first)
        var nearest = (0..<n).map { dist($0, cp, 0) }
        for c in 1..<k {
          var total = 0.0
          for i in 0..<n { total += weights[i] * Double(nearest[i]) }
          var pick = 0
          if total > 0 {
            var u = Double(rng.next() >> 11) / Double(1 << 53) * total
            for i in 0..<n {
              pick = i
              u -= weights[i] * Double(nearest[i])
              if u <= 0 && nearest[i] > 0 { break }
            }
          } else {
            pick = c
          }
          setCentre(c, toPoint: pick)
          for i in 0..<n { nearest[i] = min(nearest[i], dist(i, cp, c)) }
        }
        var assignment = [Int](repeating: -1, count: n)
        var sums = [Double](repeating: 0, count: k * d)
        var mass = [Double](repeating: 0, count: k)
        for _ in 0..<20 {
          var changed = false
          for i in 0..<n {
            var best = 0
            var bestD = Float.infinity
            for c in 0..<k {
              let v = dist(i, cp, c)
              if v < bestD {
                bestD = v
                best = c
              }
            }
            if assignment[i] != best {
              assignment[i] = best
              changed = true
            }
          }
          if !changed { break }
          for i in sums.indices { sums[i] = 0 }
          for c in 0..<k { mass[c] = 0 }
          for i in 0..<n {
            let c = assignment[i]
            mass[c] += weights[i]
            for j in 0..<d { sums[c * d + j] += weights[i] * Double(xp[i * d + j]) }
          }
          for c in 0..<k where mass[c] > 0 {
            for j in 0..<d { cp[c * d + j] = Float(sums[c * d + j] / mass[c]) }
          }
        }
        // The point nearest each centre, distinct.
        var used = [Bool](repeating: false, count: n)
        var out: [Int] = []
        for c in 0..<k {
          var best = -1
          var bestD = Float.infinity
          for i in 0..<n where !used[i] {
            let v = dist(i, cp, c)
            if v < bestD {
              bestD = v
              best = i
            }
          }
          used[best] = true
          out.append(best)
        }
        return out
      }
    }
  }

  /// Squared distance from each row of `points` to its nearest row of `centres` (infinity when
  /// there are none), by GEMM in blocks: ‖a−b‖² = ‖a‖² + ‖b‖² − 2a·b.
  static func nearestDistances(_ points: Matrix<Float>, to centres: Matrix<Float>) -> [Float] {
    var out = [Float](repeating: .infinity, count: points.rows)
    if centres.rows == 0 || points.rows == 0 { return out }
    let d = points.columns
    func norms(_ m: Matrix<Float>) -> [Float] {
      (0..<m.rows).map { r in
        var s: Float = 0
        for j in 0..<d { s += m[r, j] * m[r, j] }
        return s
      }
    }
    let pn = norms(points)
    let block = 2048
    var start = 0
    while start < centres.rows {
      let end = min(start + block, centres.rows)
      let chunk = Matrix<Float>(
        rows: end - start, columns: d,
        storage: Array(centres.storage[(start * d)..<(end * d)]))
      let cn = norms(chunk)
      var dots = Matrix<Float>(rows: points.rows, columns: chunk.rows)
      BLAS.gemm(points, chunk, transB: .transposed, into: &dots)
      for i in 0..<points.rows {
        for j in 0..<chunk.rows {
          out[i] = min(out[i], max(pn[i] + cn[j] - 2 * dots[i, j], 0))
        }
      }
      start = end
    }
    return out
  }

  /// Round-robin over predicted classes: each class's ranking in turn, classes ordered by their
  /// most uncertain row.
  static func interleaveByClass(_ ranked: [Int], predicted: [Int]) -> [Int] {
    var byClass: [Int: [Int]] = [:]
    var classOrder: [Int] = []
    for c in ranked {
      if byClass[predicted[c]] == nil { classOrder.append(predicted[c]) }
      byClass[predicted[c], default: []].append(c)
    }
    var out: [Int] = []
    out.reserveCapacity(ranked.count)
    var depth = 0
    while out.count < ranked.count {
      for k in classOrder {
        if let list = byClass[k], depth < list.count { out.append(list[depth]) }
      }
      depth += 1
    }
    return out
  }
}
