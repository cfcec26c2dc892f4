/// How a group's representative (the image kept) is chosen.
public enum KeepRule: String, Sendable, Hashable, CaseIterable {
  /// The member that comes first in input order.
  case first
  /// The member with the most pixels (ties: first in input order).
  case largest
  /// The member with the highest sharpness (ties: most pixels, then first in input order).
  case sharpest
}

/// Facts about one item that the keep rules look at.
public struct ItemTraits: Sendable, Hashable {
  /// Width × height at full resolution.
  public var pixels: Int
  /// `PerceptualHash.sharpness` (variance of the Laplacian).
  public var sharpness: Double

  /// Traits of an item with `pixels` pixels and the given sharpness.
  public init(pixels: Int, sharpness: Double) {
    self.pixels = pixels
    self.sharpness = sharpness
  }
}

/// Near-duplicate groups: connected components of the "within distance" graph.
public enum DuplicateGroups {
  /// The connected components of the graph on `0..<count` with edges `pairs`, of size ≥ 2, each
  /// sorted ascending, ordered by their smallest member. Deterministic: depends only on the set of
  /// edges, not their order.
  ///
  /// - Complexity: O(count + |pairs| α(count)) (union–find, path halving, union by size).
  public static func components(count: Int, pairs: [HammingPair]) -> [[Int]] {
    var parent = Array(0..<count)
    var size = [Int](repeating: 1, count: count)
    func find(_ x: Int) -> Int {
      var x = x
      while parent[x] != x {
        parent[x] = parent[parent[x]]
        x = parent[x]
      }
      return x
    }
    for p in pairs {
      var a = find(p.first)
      var b = find(p.second)
      if a == b { continue }
      if size[a] < size[b] { swap(&a, &b) }
      parent[b] = a
      size[a] += size[b]
    }
    var byRoot: [Int: Int] = [:]
    var groups: [[Int]] = []
    for i in 0..<count where size[find(i)] > 1 {
      let root = find(i)
      if let g = byRoot[root] {
        groups[g].append(i)
      } else {
        byRoot[root] = groups.count
        groups.append([i])
      }
    }
    return groups
  }

  /// The member of `members` (indices into `traits`) that `rule` keeps.
  ///
  /// - Precondition: `members` is not empty.
  /// - Complexity: O(|members|).
  public static func representative(of members: [Int], rule: KeepRule, traits: [ItemTraits]) -> Int {
    precondition(!members.isEmpty, "a group has members")
    var best = members[0]
    for m in members.dropFirst() {
      let a = traits[m]
      let b = traits[best]
      let better: Bool
      switch rule {
      case .first: better = m < best
      case .largest: better = a.pixels > b.pixels || (a.pixels == b.pixels && m < best)
      case .sharpest:
        better = a.sharpness > b.sharpness
          || (a.sharpness == b.sharpness && (a.pixels > b.pixels || (a.pixels == b.pixels && m < best)))
      }
      if better { best = m }
    }
    return best
  }
}
