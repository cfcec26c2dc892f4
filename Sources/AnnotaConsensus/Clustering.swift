import AnnotaGeometry

/// One object as an annotator drew it, within one image.
public struct Member: Sendable, Hashable {
  /// Annotator index.
  public var annotator: Int
  /// Index of the object in that annotator's list for the image.
  public var object: Int

  public init(annotator: Int, object: Int) {
    self.annotator = annotator
    self.object = object
  }
}

/// A group of objects, at most one per annotator, judged to be the same physical object.
public struct Cluster: Sendable, Hashable {
  /// Members sorted by annotator.
  public var members: [Member]

  /// The member of annotator `a`, if present.
  public func member(of annotator: Int) -> Member? { members.first { $0.annotator == annotator } }
}

/// The similarity of objects across annotators within one image.
public struct ImageSimilarity: Sendable {
  /// Objects per annotator.
  public let counts: [Int]
  /// `pairs[a][b]` (a < b) is the IoU matrix of annotator a's objects × annotator b's.
  var pairs: [[[[Double]]]]

  /// - Parameter similarity: returns the IoU matrix between annotators a and b (a < b).
  public init(counts: [Int], similarity: (Int, Int) -> [[Double]]) {
    self.counts = counts
    let n = counts.count
    var pairs = [[[[Double]]]](repeating: [], count: n)
    for a in 0..<n {
      pairs[a] = (0..<n).map { b in b > a ? similarity(a, b) : [] }
    }
    self.pairs = pairs
  }

  /// Replaces the IoU between two members of different annotators (a caller that left pairs under
  /// the threshold at 0 fills in those it needs after clustering, which drops them anyway).
  public mutating func setIoU(_ x: Member, _ y: Member, _ value: Double) {
    precondition(x.annotator != y.annotator, "two members of one annotator")
    let (p, q) = x.annotator < y.annotator ? (x, y) : (y, x)
    pairs[p.annotator][q.annotator][p.object][q.object] = value
  }

  /// IoU between two members (symmetric; 0 for the same annotator).
  public func iou(_ x: Member, _ y: Member) -> Double {
    if x.annotator == y.annotator { return x.object == y.object ? 1 : 0 }
    let (p, q) = x.annotator < y.annotator ? (x, y) : (y, x)
    return pairs[p.annotator][q.annotator][p.object][q.object]
  }
}

/// Builds clusters across N annotators.
public enum Clustering {
  /// A matched pair between two annotators, with its IoU.
  public struct Link: Sendable, Hashable {
    public var a: Member
    public var b: Member
    public var iou: Double
  }

  /// Pairwise optimal matching (Hungarian per annotator pair, pairs under `threshold` dropped),
  /// then agglomeration: links are merged from the highest IoU down, and two clusters merge only
  /// if they share no annotator. Ties are broken by annotator then object index, so the result
  /// depends only on the data, never on thread timing; pass annotators in a canonical order
  /// (e.g. sorted by file name) to make it independent of the order files were given in.
  ///
  /// - Returns: clusters (singletons included) ordered by their first member, and the links.
  /// - Complexity: O(N² · m³) for N annotators with m objects each.
  public static func cluster(_ similarity: ImageSimilarity, threshold: Double) -> (clusters: [Cluster], links: [Link]) {
    let n = similarity.counts.count
    var links: [Link] = []
    for a in 0..<n {
      for b in (a + 1)..<max(a + 1, n) where similarity.counts[a] > 0 && similarity.counts[b] > 0 {
        let matrix = similarity.pairs[a][b]
        for (i, j) in Assignment.match(similarity: matrix, threshold: threshold) {
          links.append(Link(a: Member(annotator: a, object: i), b: Member(annotator: b, object: j), iou: matrix[i][j]))
        }
      }
    }
    links.sort {
      if $0.iou != $1.iou { return $0.iou > $1.iou }
      return ($0.a.annotator, $0.a.object, $0.b.annotator, $0.b.object)
        < ($1.a.annotator, $1.a.object, $1.b.annotator, $1.b.object)
    }
    // Union–find over all members, with the set of annotators per root.
    var offsets = [0]
    for c in similarity.counts { offsets.append(offsets.last! + c) }
    func id(_ m: Member) -> Int { offsets[m.annotator] + m.object }
    var parent = Array(0..<offsets.last!)
    var annotators: [UInt64] = []  // bit mask per root (N ≤ 64)
    var annotatorSets: [Set<Int>] = []
    let useBits = n <= 64
    for a in 0..<n {
      for _ in 0..<similarity.counts[a] {
        if useBits { annotators.append(1 << UInt64(a)) } else { annotatorSets.append([a]) }
      }
    }
    func find(_ x: Int) -> Int {
      var x = x
      while parent[x] != x {
        parent[x] = parent[parent[x]]
        x = parent[x]
      }
      return x
    }
    for link in links {
      let ra = find(id(link.a)), rb = find(id(link.b))
      if ra == rb { continue }
      if useBits {
        if annotators[ra] & annotators[rb] != 0 { continue }
        let (root, child) = ra < rb ? (ra, rb) : (rb, ra)
        parent[child] = root
        annotators[root] |= annotators[child]
      } else {
        if !annotatorSets[ra].isDisjoint(with: annotatorSets[rb]) { continue }
        let (root, child) = ra < rb ? (ra, rb) : (rb, ra)
        parent[child] = root
        annotatorSets[root].formUnion(annotatorSets[child])
      }
    }
    // Clusters in the order their first members come, each root's at `slot[root]`.
    var slot = [Int](repeating: -1, count: offsets.last!)
    var clusters: [Cluster] = []
    for a in 0..<n {
      for i in 0..<similarity.counts[a] {
        let root = find(offsets[a] + i)
        if slot[root] < 0 {
          slot[root] = clusters.count
          clusters.append(Cluster(members: []))
        }
        clusters[slot[root]].members.append(Member(annotator: a, object: i))
      }
    }
    return (clusters, links)
  }
}

/// The decision for one cluster.
public enum Tier: String, Sendable, CaseIterable {
  /// Every annotator present, same label, every pair's IoU ≥ threshold.
  case accept
  /// A strict majority of annotators agrees (present, same label, overlapping); the others are
  /// named with a reason.
  case review
  /// No majority.
  case escalate
}

/// Why an annotator is outside a cluster's majority.
public enum DissentReason: String, Sendable, CaseIterable {
  case missing
  case label
  case lowOverlap = "low-overlap"
}

/// A cluster's decision: tier, majority label, the agreeing members and the dissenters.
public struct Decision: Sendable {
  public var tier: Tier
  /// Majority label (most votes; ties to the smallest label).
  public var label: Int64?
  /// Members that agree (the majority; all members for `accept`).
  public var agreeing: [Member]
  /// Annotators outside the majority, with the reason.
  public var dissent: [(annotator: Int, reason: DissentReason)]
  /// Mean IoU over all annotator pairs, a missing member counting as IoU 0: 1 only for a
  /// perfect `accept`.
  public var score: Double
}

extension Decision {
  /// Decides a cluster.
  ///
  /// The majority label is the most frequent label among the members. The agreeing set starts
  /// as the members with that label; while some pair in it has IoU < threshold, the member with
  /// the lowest mean IoU to the others leaves (ties: higher annotator index leaves first). Then:
  /// all N annotators agreeing → accept; more than N/2 → review; otherwise escalate.
  public static func decide(
    _ cluster: Cluster, labels: [Member: Int64?], annotators n: Int, similarity: ImageSimilarity,
    threshold: Double
  ) -> Decision {
    decide(cluster, label: { labels[$0] ?? nil }, annotators: n, similarity: similarity, threshold: threshold)
  }

  /// `decide`, with each member's label given by `labelOf` (nil for none).
  public static func decide(
    _ cluster: Cluster, label labelOf: (Member) -> Int64?, annotators n: Int, similarity: ImageSimilarity,
    threshold: Double
  ) -> Decision {
    // The votes per label, in first-seen order (a cluster has at most one member per annotator,
    // so a list is shorter than any table).
    var votes: [(label: Int64?, count: Int)] = []
    votes.reserveCapacity(cluster.members.count)
    for m in cluster.members {
      let l = labelOf(m)
      if let k = votes.firstIndex(where: { $0.label == l }) { votes[k].count += 1 } else { votes.append((l, 1)) }
    }
    // Most votes; ties to the smallest label, no label counting as the largest.
    let label = votes.max {
      if $0.count != $1.count { return $0.count < $1.count }
      return ($0.label ?? Int64.max) > ($1.label ?? Int64.max)
    }?.label ?? nil
    var agreeing = cluster.members.filter { labelOf($0) == label }
    var lowOverlap: [Member] = []
    while agreeing.count > 1 {
      var worstPair = 1.0
      for i in agreeing.indices {
        for j in agreeing.indices where j > i { worstPair = min(worstPair, similarity.iou(agreeing[i], agreeing[j])) }
      }
      if worstPair >= threshold { break }
      var worst = 0
      var worstMean = Double.infinity
      for i in agreeing.indices {
        let mean = agreeing.indices.filter { $0 != i }.reduce(0.0) { $0 + similarity.iou(agreeing[i], agreeing[$1]) }
          / Double(agreeing.count - 1)
        if mean < worstMean || (mean == worstMean && agreeing[i].annotator > agreeing[worst].annotator) {
          worstMean = mean
          worst = i
        }
      }
      lowOverlap.append(agreeing.remove(at: worst))
    }
    var dissent: [(annotator: Int, reason: DissentReason)] = []
    for a in 0..<n {
      guard let m = cluster.member(of: a) else {
        dissent.append((a, .missing))
        continue
      }
      if lowOverlap.contains(m) {
        dissent.append((a, .lowOverlap))
      } else if labelOf(m) != label {
        dissent.append((a, .label))
      }
    }
    let tier: Tier = agreeing.count == n ? .accept : (2 * agreeing.count > n ? .review : .escalate)
    var sum = 0.0
    var pairs = 0
    for a in 0..<n {
      for b in (a + 1)..<max(a + 1, n) {
        pairs += 1
        if let x = cluster.member(of: a), let y = cluster.member(of: b) { sum += similarity.iou(x, y) }
      }
    }
    return Decision(tier: tier, label: label, agreeing: agreeing, dissent: dissent,
                    score: pairs > 0 ? sum / Double(pairs) : 1)
  }
}
