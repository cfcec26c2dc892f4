/// Optimal one-to-one assignment (the Hungarian method, Jonker–Volgenant style shortest
/// augmenting paths).
public enum Assignment {
  /// The assignment of rows to columns that minimises the total cost of a rectangular matrix,
  /// `cost[row][column]`. Every row is assigned when rows ≤ columns, otherwise every column.
  ///
  /// Deterministic: ties are broken by index order, so the same matrix always gives the same
  /// pairs. Costs must be finite.
  ///
  /// - Returns: pairs `(row, column)`, sorted by row.
  /// - Complexity: O(n² · m) for an n × m matrix with n ≤ m.
  public static func minimumCost(_ cost: [[Double]]) -> [(row: Int, column: Int)] {
    let rows = cost.count
    guard rows > 0, let columns = cost.first?.count, columns > 0 else { return [] }
    precondition(cost.allSatisfy { $0.count == columns }, "cost matrix rows differ in length")
    if rows > columns {
      let transposed = (0..<columns).map { c in (0..<rows).map { r in cost[r][c] } }
      return minimumCost(transposed).map { (row: $0.column, column: $0.row) }.sorted { $0.row < $1.row }
    }
    // n ≤ m. Potentials u (rows), v (columns); p[j] = row matched to column j (1-based, 0 = none).
    let n = rows, m = columns
    var u = [Double](repeating: 0, count: n + 1)
    var v = [Double](repeating: 0, count: m + 1)
    var p = [Int](repeating: 0, count: m + 1)
    var way = [Int](repeating: 0, count: m + 1)
    for i in 1...n {
      p[0] = i
      var j0 = 0
      var minv = [Double](repeating: .infinity, count: m + 1)
      var used = [Bool](repeating: false, count: m + 1)
      repeat {
        used[j0] = true
        let i0 = p[j0]
        var delta = Double.infinity
        var j1 = 0
        for j in 1...m where !used[j] {
          let reduced = cost[i0 - 1][j - 1] - u[i0] - v[j]
          if reduced < minv[j] {
            minv[j] = reduced
            way[j] = j0
          }
          if minv[j] < delta {
            delta = minv[j]
            j1 = j
          }
        }
        for j in 0...m {
          if used[j] {
            u[p[j]] += delta
            v[j] -= delta
          } else {
            minv[j] -= delta
          }
        }
        j0 = j1
      } while p[j0] != 0
      repeat {
        let j1 = way[j0]
        p[j0] = p[j1]
        j0 = j1
      } while j0 != 0
    }
    var pairs: [(row: Int, column: Int)] = []
    for j in 1...m where p[j] != 0 { pairs.append((row: p[j] - 1, column: j - 1)) }
    return pairs.sorted { $0.row < $1.row }
  }

  /// Matches items by similarity (IoU): maximises the total similarity over pairs with
  /// similarity ≥ `threshold`; pairs under it are never matched.
  ///
  /// Pairs under the threshold cost the same as leaving both items unmatched, so they never
  /// displace a valid pair.
  ///
  /// - Returns: matched `(row, column)` pairs sorted by row.
  public static func match(similarity: [[Double]], threshold: Double) -> [(row: Int, column: Int)] {
    // One item a side (most image–category groups of a dataset): the only assignment, without
    // building the cost matrix and the method's six arrays.
    if similarity.count == 1 && similarity[0].count == 1 {
      return similarity[0][0] >= threshold ? [(row: 0, column: 0)] : []
    }
    if let pairs = separatePairs(similarity: similarity, threshold: threshold) { return pairs }
    let cost = similarity.map { row in row.map { $0 >= threshold ? 1 - $0 : 1 } }
    return minimumCost(cost).filter { similarity[$0.row][$0.column] >= threshold }
  }

  /// The pairs at or above `threshold` when no two of them share a row or a column and each
  /// costs less than a missing match (1 - similarity < 1): then every optimal assignment holds
  /// all of them, and `match` returns exactly them (any assignment without one of them, say
  /// (i, j), pays 1 for row i and 1 for column j's row, if any; giving i column j and that row
  /// i's column costs less). Nil otherwise. Objects of one image that annotators drew apart
  /// nearly always look like this, and need no cost matrix.
  static func separatePairs(similarity: [[Double]], threshold: Double) -> [(row: Int, column: Int)]? {
    let columns = similarity.first?.count ?? 0
    var pairs: [(row: Int, column: Int)] = []
    var taken = [Bool](repeating: false, count: columns)
    for (i, row) in similarity.enumerated() {
      guard row.count == columns else { return nil }
      var found = false
      for (j, value) in row.enumerated() where value >= threshold {
        if found || taken[j] || !(1 - value < 1) { return nil }
        found = true
        taken[j] = true
        pairs.append((row: i, column: j))
      }
    }
    return pairs
  }
}
