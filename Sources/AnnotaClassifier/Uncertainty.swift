public import AnnotaLinearAlgebra
import RealModule

/// How unsure a model is about a row, from its class probabilities. Every measure is in [0, 1],
/// higher = less sure.
public enum UncertaintyMeasure: String, Sendable, Hashable, CaseIterable {
  /// Shannon entropy divided by log(classes).
  case entropy
  /// 1 − (p₁ − p₂): one minus the gap between the two most probable classes.
  case margin
  /// 1 − p₁.
  case leastConfidence = "least-confidence"

  /// The measure of one probability row.
  ///
  /// - Complexity: O(classes).
  public func score(_ p: UnsafeBufferPointer<Float>) -> Double {
    switch self {
    case .entropy:
      var h = 0.0
      for v in p where v > 0 { h -= Double(v) * Double.log(Double(v)) }
      return p.count > 1 ? min(max(h / Double.log(Double(p.count)), 0), 1) : 0
    case .margin:
      var first: Float = 0
      var second: Float = 0
      for v in p {
        if v > first {
          second = first
          first = v
        } else if v > second {
          second = v
        }
      }
      return 1 - Double(first - second)
    case .leastConfidence:
      var first: Float = 0
      for v in p { first = max(first, v) }
      return 1 - Double(first)
    }
  }

  /// The measure of each row of a probability matrix.
  public func scores(_ probabilities: Matrix<Float>) -> [Double] {
    let k = probabilities.columns
    return probabilities.storage.withUnsafeBufferPointer { p in
      (0..<probabilities.rows).map { r in
        score(UnsafeBufferPointer(rebasing: p[(r * k)..<(r * k + k)]))
      }
    }
  }
}

/// Disagreement of an ensemble: the Jensen–Shannon divergence of the members' class
/// distributions (mean KL of each member to their mean), divided by log(members) so it lies in
/// [0, 1]. High when members trained on different bootstrap samples predict different classes —
/// uncertainty due to too little data, which entropy of a single model cannot see.
public enum EnsembleDisagreement {
  /// One score per row; `members` are probability matrices of the same shape.
  ///
  /// - Complexity: O(members × rows × classes).
  public static func scores(_ members: [Matrix<Float>]) -> [Double] {
    guard let first = members.first, members.count > 1 else {
      return [Double](repeating: 0, count: members.first?.rows ?? 0)
    }
    let k = first.columns
    let m = Double(members.count)
    var out = [Double](repeating: 0, count: first.rows)
    var mean = [Double](repeating: 0, count: k)
    for r in 0..<first.rows {
      for c in 0..<k { mean[c] = 0 }
      for p in members { for c in 0..<k { mean[c] += Double(p[r, c]) / m } }
      var js = 0.0
      for p in members {
        for c in 0..<k {
          let v = Double(p[r, c])
          if v > 0 && mean[c] > 0 { js += v * Double.log(v / mean[c]) / m }
        }
      }
      out[r] = min(max(js / Double.log(m), 0), 1)
    }
    return out
  }
}
