/// Chance-corrected agreement statistics on categorical labels.
public enum Agreement {
  /// Fleiss' kappa for `subjects` each rated by the same number of raters.
  ///
  /// `counts[i][c]` is how many raters put subject `i` in category `c`; every row must sum to
  /// the same number of raters n ≥ 2. κ = (P̄ − P̄e) / (1 − P̄e), as statsmodels'
  /// `fleiss_kappa(..., method="fleiss")`.
  ///
  /// - Returns: κ in [−1, 1], or `nil` when undefined (no subjects, or P̄e = 1: a single category
  ///   used throughout, where statsmodels gives NaN).
  /// - Complexity: O(subjects × categories).
  public static func fleissKappa(_ counts: [[Int]]) -> Double? {
    guard let first = counts.first else { return nil }
    let n = first.reduce(0, +)
    precondition(n >= 2, "Fleiss' kappa needs at least two raters per subject")
    precondition(counts.allSatisfy { $0.reduce(0, +) == n }, "every subject needs the same number of ratings")
    let categories = first.count
    let subjects = Double(counts.count)
    var pBar = 0.0
    var totals = [Double](repeating: 0, count: categories)
    for row in counts {
      var squares = 0
      for (c, v) in row.enumerated() {
        squares += v * v
        totals[c] += Double(v)
      }
      pBar += Double(squares - n) / Double(n * (n - 1))
    }
    pBar /= subjects
    var pe = 0.0
    for t in totals {
      let p = t / (subjects * Double(n))
      pe += p * p
    }
    if pe >= 1 { return nil }
    return (pBar - pe) / (1 - pe)
  }

  /// Krippendorff's alpha for nominal data with missing values.
  ///
  /// `units[u]` holds the category values given to unit `u` (missing raters simply absent);
  /// units with fewer than two values are not pairable and are ignored. α = 1 − D_o / D_e from
  /// the coincidence matrix, as the `krippendorff` package's `alpha(level_of_measurement="nominal")`.
  ///
  /// - Returns: α ≤ 1, or `nil` when undefined (fewer than two pairable values, or one category
  ///   only, so that D_e = 0).
  /// - Complexity: O(Σ m_u² + categories²).
  public static func krippendorffAlphaNominal<Label: Hashable>(_ units: [[Label]]) -> Double? {
    var index: [Label: Int] = [:]
    for unit in units where unit.count >= 2 {
      for value in unit where index[value] == nil { index[value] = index.count }
    }
    let k = index.count
    if k == 0 { return nil }
    var o = [Double](repeating: 0, count: k * k)
    for unit in units where unit.count >= 2 {
      let m = Double(unit.count)
      let ids = unit.map { index[$0]! }
      for a in ids.indices {
        for b in ids.indices where a != b { o[ids[a] * k + ids[b]] += 1 / (m - 1) }
      }
    }
    var nc = [Double](repeating: 0, count: k)
    for c in 0..<k { for d in 0..<k { nc[c] += o[c * k + d] } }
    let n = nc.reduce(0, +)
    var observed = 0.0
    var expected = 0.0
    for c in 0..<k {
      for d in 0..<k where c != d {
        observed += o[c * k + d]
        expected += nc[c] * nc[d]
      }
    }
    if expected == 0 || n <= 1 { return nil }
    return 1 - (n - 1) * observed / expected
  }

  /// Cohen's kappa between two raters' labels of the same items (scikit-learn's
  /// `cohen_kappa_score`).
  ///
  /// - Returns: κ, or `nil` when undefined (no items, or chance agreement 1).
  public static func cohenKappa<Label: Hashable>(_ a: [Label], _ b: [Label]) -> Double? {
    precondition(a.count == b.count, "both raters must label the same items")
    if a.isEmpty { return nil }
    let n = Double(a.count)
    var observed = 0.0
    var countA: [Label: Double] = [:], countB: [Label: Double] = [:]
    var labels: [Label] = []  // first-seen order: a fixed summation order (Dictionary order is not)
    for (x, y) in zip(a, b) {
      if x == y { observed += 1 }
      if countA[x] == nil { labels.append(x) }
      countA[x, default: 0] += 1
      countB[y, default: 0] += 1
    }
    observed /= n
    var expected = 0.0
    for label in labels { expected += countA[label]! * (countB[label] ?? 0) / (n * n) }
    if expected >= 1 { return nil }
    return (observed - expected) / (1 - expected)
  }
}
