import AnnotaGeometry
import RealModule

/// A binary classifier: gradient-boosted regression trees on the logistic loss.
///
/// `P(y = 1 | x) = σ(bias + Σ_trees leaf(x))`. Trees are grown depth-wise to `maxDepth` on
/// histograms of quantile-binned features (at most 255 bins), with second-order leaf values
/// `−G / (H + λ)`, shrunk by the learning rate; each tree sees a random subsample of the rows.
/// Training is deterministic for a given seed. Prediction reads raw feature values, so binning
/// is only a training device.
public struct BoostedTrees: Sendable, Equatable {
  /// One tree, as flat arrays: node `i` splits on `feature[i]` at `threshold[i]` (go left when
  /// `x[feature] <= threshold`), children at `left[i]` and `left[i] + 1`; a leaf has
  /// `feature[i] = -1` and its value in `threshold[i]`.
  public struct Tree: Sendable, Equatable {
    public var feature: [Int32]
    public var threshold: [Float]
    public var left: [Int32]

    public init(feature: [Int32], threshold: [Float], left: [Int32]) {
      self.feature = feature
      self.threshold = threshold
      self.left = left
    }

    /// The tree's output for one row.
    @inlinable public func value(_ x: UnsafeBufferPointer<Float>) -> Float {
      var i = 0
      while feature[i] >= 0 {
        i = Int(left[i]) + (x[Int(feature[i])] <= threshold[i] ? 0 : 1)
      }
      return threshold[i]
    }
  }

  /// Number of input features.
  public let features: Int
  /// Log-odds before any tree.
  public let bias: Float
  public let trees: [Tree]
  /// One node of the flat predictor: a split on `feature` (go to `left` when
  /// `x[feature] <= value`, else to `left + 1`; `left` is absolute) or a leaf (`feature = -1`,
  /// output `value`). The three fields sit together, so a step down a tree reads one place.
  struct Node: Sendable, Equatable {
    var feature: Int32
    var left: Int32
    var value: Float
  }
  /// Every tree's nodes in one array (children as absolute indexes), for prediction.
  let nodes: [Node]
  let roots: [Int32]
  /// The same trees made complete, when none is deeper than ``Complete/maximumDepth``.
  let complete: Complete?

  /// Every tree as a complete binary tree of one depth, stored breadth-first: split `i` has its
  /// children at `2i + 1` (when `x[feature] <= threshold`) and `2i + 2`. A leaf above that depth
  /// becomes pass-through splits whose subtrees all end in copies of its value, so every walk
  /// takes the same number of steps (no data-dependent loop exit) and reaches the value the
  /// original tree gives.
  struct Complete: Sendable, Equatable {
    static let maximumDepth = 8
    let depth: Int
    /// Per tree `2^depth − 1` splits.
    let feature: [Int32]
    let threshold: [Float]
    /// Per tree `2^depth` leaf values.
    let leaf: [Float]

    init?(_ trees: [Tree]) {
      func depth(_ tree: Tree, _ node: Int) -> Int {
        let left = Int(tree.left[node])
        return tree.feature[node] < 0 ? 0 : 1 + max(depth(tree, left), depth(tree, left + 1))
      }
      let d = trees.map { depth($0, 0) }.max() ?? 0
      guard d <= Self.maximumDepth else { return nil }
      let splits = (1 << d) - 1
      var feature = [Int32](repeating: 0, count: trees.count * splits)
      var threshold = [Float](repeating: 0, count: trees.count * splits)
      var leaf = [Float](repeating: 0, count: trees.count * (splits + 1))
      for (t, tree) in trees.enumerated() {
        // `node` of the tree goes to position `at` of the complete tree, `level` steps down.
        func place(_ node: Int, _ at: Int, _ level: Int) {
          if level == d {
            leaf[t * (splits + 1) + at - splits] = tree.threshold[node]
            return
          }
          if tree.feature[node] < 0 {
            // Pass-through: either way leads to this leaf's value.
            place(node, 2 * at + 1, level + 1)
            place(node, 2 * at + 2, level + 1)
          } else {
            feature[t * splits + at] = tree.feature[node]
            threshold[t * splits + at] = tree.threshold[node]
            place(Int(tree.left[node]), 2 * at + 1, level + 1)
            place(Int(tree.left[node]) + 1, 2 * at + 2, level + 1)
          }
        }
        place(0, 0, 0)
      }
      self.depth = d
      self.feature = feature
      self.threshold = threshold
      self.leaf = leaf
    }
  }

  public init(features: Int, bias: Float, trees: [Tree]) {
    self.features = features
    self.bias = bias
    self.trees = trees
    var nodes: [Node] = []
    var roots: [Int32] = []
    for tree in trees {
      let base = Int32(nodes.count)
      roots.append(base)
      for i in tree.feature.indices {
        nodes.append(Node(feature: tree.feature[i], left: tree.left[i] + base, value: tree.threshold[i]))
      }
    }
    self.nodes = nodes
    self.roots = roots
    complete = Complete(trees)
  }

  /// Training settings.
  public struct Options: Sendable, Hashable {
    public var trees = 200
    public var maxDepth = 4
    public var learningRate: Float = 0.1
    /// L2 penalty on leaf values.
    public var lambda: Float = 1
    /// A split needs at least this hessian mass on each side.
    public var minimumHessian: Float = 5
    /// Share of rows each tree is grown on.
    public var subsample = 0.5
    public var bins = 64
    public var seed: UInt64 = 0

    public init() {}
  }

  /// The log-odds of one row (`features` values).
  ///
  /// - Complexity: O(trees × depth).
  public func logit(_ x: UnsafeBufferPointer<Float>) -> Float {
    precondition(x.count >= features, "a row needs \(features) features")
    var s = bias
    for t in trees { s += t.value(x) }
    return s
  }

  /// `P(y = 1)` for each row of a row-major `rows × features` matrix.
  ///
  /// - Complexity: O(rows × trees × depth).
  public func probabilities(_ x: [Float]) -> [Float] {
    precondition(features > 0 && x.count % features == 0, "rows must have \(features) features")
    let rows = x.count / features
    // Tree by tree over all rows (one tree's nodes stay in cache); every row still adds the
    // trees' values to the bias in tree order, so the sums are those of a row-by-row walk.
    var z = [Float](repeating: bias, count: rows)
    if let complete {
      let d = complete.depth
      let splits = (1 << d) - 1
      x.withUnsafeBufferPointer { p in
        complete.feature.withUnsafeBufferPointer { feature in
          complete.threshold.withUnsafeBufferPointer { threshold in
            complete.leaf.withUnsafeBufferPointer { leaf in
              z.withUnsafeMutableBufferPointer { z in
                for t in 0..<roots.count {
                  let f = feature.baseAddress! + t * splits
                  let cut = threshold.baseAddress! + t * splits
                  let value = leaf.baseAddress! + t * (splits + 1)
                  // Four rows at a time: four independent walks in flight.
                  var r = 0
                  while r + 4 <= rows {
                    let a = p.baseAddress! + r * features
                    let b = a + features
                    let c = b + features
                    let e = c + features
                    var (i, j, k, l) = (0, 0, 0, 0)
                    for _ in 0..<d {
                      i = 2 &* i &+ (a[Int(f[i])] <= cut[i] ? 1 : 2)
                      j = 2 &* j &+ (b[Int(f[j])] <= cut[j] ? 1 : 2)
                      k = 2 &* k &+ (c[Int(f[k])] <= cut[k] ? 1 : 2)
                      l = 2 &* l &+ (e[Int(f[l])] <= cut[l] ? 1 : 2)
                    }
                    z[r] += value[i - splits]
                    z[r + 1] += value[j - splits]
                    z[r + 2] += value[k - splits]
                    z[r + 3] += value[l - splits]
                    r += 4
                  }
                  for r in r..<rows {
                    let row = p.baseAddress! + r * features
                    var i = 0
                    for _ in 0..<d { i = 2 &* i &+ (row[Int(f[i])] <= cut[i] ? 1 : 2) }
                    z[r] += value[i - splits]
                  }
                }
              }
            }
          }
        }
      }
      return z.map { 1 / (1 + Float.exp(-$0)) }
    }
    x.withUnsafeBufferPointer { p in
      nodes.withUnsafeBufferPointer { nodes in
        z.withUnsafeMutableBufferPointer { z in
          for root in roots {
            for r in 0..<rows {
              let row = r * features
              var node = nodes[Int(root)]
              while node.feature >= 0 {
                node = nodes[Int(node.left) + (p[row + Int(node.feature)] <= node.value ? 0 : 1)]
              }
              z[r] += node.value
            }
          }
        }
      }
    }
    return z.map { 1 / (1 + Float.exp(-$0)) }
  }

  /// Fits the trees to binary labels.
  ///
  /// - Parameters:
  ///   - x: row-major `labels.count × features` matrix (finite values).
  ///   - labels: 0 or 1 per row.
  ///   - weights: optional per-row weights.
  /// - Complexity: O(trees × depth × rows × features) for the histograms.
  public static func fit(
    _ x: [Float], features: Int, labels: [UInt8], weights: [Float]? = nil, options: Options = Options()
  ) -> BoostedTrees {
    let n = labels.count
    precondition(n > 0 && x.count == n * features, "x must be \(n) × \(features)")
    let w = weights ?? [Float](repeating: 1, count: n)
    // Quantile bins per feature: thresholds between the distinct sorted sample values.
    var edges: [[Float]] = []
    var binned = [UInt8](repeating: 0, count: n * features)  // column-major
    var rng = SplitMix64(seed: options.seed)
    let sampleRows = n <= 20_000 ? Array(0..<n) : (0..<20_000).map { _ in Int(rng.next() % UInt64(n)) }
    for f in 0..<features {
      var values = sampleRows.map { x[$0 * features + f] }
      values.sort()
      // Cuts halfway between distinct values: every distinct value gets its own bin when there
      // are few; otherwise cuts follow the quantiles, each moved past a run of equal values.
      var distinct: [Float] = []
      for v in values where distinct.last != v { distinct.append(v) }
      var cuts: [Float] = []
      let bins = max(2, min(255, options.bins))
      if distinct.count <= bins {
        for i in 1..<max(1, distinct.count) { cuts.append((distinct[i - 1] + distinct[i]) / 2) }
      } else {
        var i = 0
        for k in 1..<bins {
          i = max(i, k * values.count / bins)
          guard i < values.count else { break }
          let v = values[i]
          while i < values.count && values[i] == v { i += 1 }
          guard i < values.count else { break }
          let cut = (v + values[i]) / 2
          if cuts.last.map({ cut > $0 }) ?? true { cuts.append(cut) }
        }
      }
      edges.append(cuts)
      for r in 0..<n {
        let v = x[r * features + f]
        // First cut ≥ v: the bin index.
        var lo = 0
        var hi = cuts.count
        while lo < hi {
          let mid = (lo + hi) / 2
          if cuts[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        binned[f * n + r] = UInt8(lo)
      }
    }
    // Start at the weighted base rate.
    var positive = 0.0
    var total = 0.0
    for i in 0..<n {
      positive += Double(w[i]) * Double(labels[i])
      total += Double(w[i])
    }
    let rate = min(max(positive / max(total, 1e-12), 1e-6), 1 - 1e-6)
    let bias = Float(Double.log(rate / (1 - rate)))
    var score = [Float](repeating: bias, count: n)
    var gradient = [Float](repeating: 0, count: n)
    var hessian = [Float](repeating: 0, count: n)
    var trees: [Tree] = []
    let maxBins = 256
    var histogram = [Float](repeating: 0, count: features * maxBins * 2)
    for _ in 0..<options.trees {
      for i in 0..<n {
        let p = 1 / (1 + Float.exp(-score[i]))
        gradient[i] = w[i] * (p - Float(labels[i]))
        hessian[i] = w[i] * max(p * (1 - p), 1e-6)
      }
      var rows: [Int32] = []
      rows.reserveCapacity(Int(Double(n) * options.subsample) + 16)
      for i in 0..<n where options.subsample >= 1 || Double(rng.next() >> 11) / Double(1 << 53) < options.subsample {
        rows.append(Int32(i))
      }
      // Depth-wise growth. `nodeRows[k]` are the rows of the k-th open node of this level.
      var feature: [Int32] = [-1]
      var threshold: [Float] = [0]
      var left: [Int32] = [0]
      var open: [(node: Int, rows: [Int32])] = [(0, rows)]
      for depth in 0...options.maxDepth {
        var next: [(node: Int, rows: [Int32])] = []
        for (node, nodeRows) in open {
          var g = 0.0
          var h = 0.0
          for r in nodeRows {
            g += Double(gradient[Int(r)])
            h += Double(hessian[Int(r)])
          }
          let leafValue = Float(-g / (h + Double(options.lambda))) * options.learningRate
          guard depth < options.maxDepth, h >= 2 * Double(options.minimumHessian), nodeRows.count >= 4 else {
            threshold[node] = leafValue
            continue
          }
          // Histograms of gradient and hessian per feature and bin.
          for i in 0..<histogram.count { histogram[i] = 0 }
          binned.withUnsafeBufferPointer { b in
            histogram.withUnsafeMutableBufferPointer { hist in
              for f in 0..<features {
                let col = f * n
                let base = f * maxBins * 2
                for r in nodeRows {
                  let k = base + Int(b[col + Int(r)]) * 2
                  hist[k] += gradient[Int(r)]
                  hist[k + 1] += hessian[Int(r)]
                }
              }
            }
          }
          let parentGain = g * g / (h + Double(options.lambda))
          var bestGain = 1e-9
          var bestFeature = -1
          var bestBin = 0
          for f in 0..<features {
            let cuts = edges[f].count
            guard cuts > 0 else { continue }
            var gl = 0.0
            var hl = 0.0
            let base = f * maxBins * 2
            for k in 0..<cuts {
              gl += Double(histogram[base + k * 2])
              hl += Double(histogram[base + k * 2 + 1])
              let gr = g - gl
              let hr = h - hl
              guard hl >= Double(options.minimumHessian), hr >= Double(options.minimumHessian) else { continue }
              let gain = gl * gl / (hl + Double(options.lambda)) + gr * gr / (hr + Double(options.lambda)) - parentGain
              if gain > bestGain {
                bestGain = gain
                bestFeature = f
                bestBin = k
              }
            }
          }
          guard bestFeature >= 0 else {
            threshold[node] = leafValue
            continue
          }
          let child = feature.count
          feature[node] = Int32(bestFeature)
          threshold[node] = edges[bestFeature][bestBin]
          left[node] = Int32(child)
          feature += [-1, -1]
          threshold += [0, 0]
          left += [0, 0]
          var l: [Int32] = []
          var r: [Int32] = []
          let col = bestFeature * n
          for row in nodeRows {
            if Int(binned[col + Int(row)]) <= bestBin { l.append(row) } else { r.append(row) }
          }
          next.append((child, l))
          next.append((child + 1, r))
        }
        open = next
        if open.isEmpty { break }
      }
      let tree = Tree(feature: feature, threshold: threshold, left: left)
      // Update every row's score (not only the subsample), walking the binned row.
      for i in 0..<n {
        var node = 0
        while feature[node] >= 0 {
          let f = Int(feature[node])
          let cut = threshold[node]
          node = Int(left[node]) + (x[i * features + f] <= cut ? 0 : 1)
        }
        score[i] += threshold[node]
      }
      trees.append(tree)
    }
    return BoostedTrees(features: features, bias: bias, trees: trees)
  }
}
