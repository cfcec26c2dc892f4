public import AnnotaLinearAlgebra
import RealModule

/// One bin of a reliability diagram: predictions whose top-class confidence fell in
/// `[lower, upper)` (the last bin includes 1).
public struct ReliabilityBin: Sendable, Hashable {
  public var lower: Double
  public var upper: Double
  /// Predictions in the bin.
  public var count: Int
  /// Share of them that were right (0 when empty).
  public var accuracy: Double
  /// Their mean confidence (0 when empty).
  public var confidence: Double
}

/// Expected calibration error and the reliability diagram behind it.
public struct CalibrationSummary: Sendable, Hashable {
  /// `Σ_b (n_b / n) · |accuracy_b − confidence_b|` over equal-width confidence bins.
  public var ece: Double
  /// Share of rows whose most probable class is the label.
  public var accuracy: Double
  /// Mean negative log-likelihood of the labels.
  public var logLoss: Double
  /// The bins.
  public var bins: [ReliabilityBin]

  /// Summarises probabilities (`rows × classes`) against labels with `binCount` equal-width
  /// bins over [0, 1] (15 is the usual choice, as in Guo et al. 2017).
  ///
  /// - Complexity: O(rows × classes).
  public init(probabilities: Matrix<Float>, labels: [Int], binCount: Int = 15) {
    precondition(probabilities.rows == labels.count, "one label per row")
    precondition(binCount >= 1, "at least one bin")
    var count = [Int](repeating: 0, count: binCount)
    var correct = [Int](repeating: 0, count: binCount)
    var confSum = [Double](repeating: 0, count: binCount)
    var right = 0
    var nll = 0.0
    for r in 0..<probabilities.rows {
      var best = 0
      for c in 1..<probabilities.columns where probabilities[r, c] > probabilities[r, best] {
        best = c
      }
      let conf = Double(probabilities[r, best])
      let b = min(Int(conf * Double(binCount)), binCount - 1)
      count[b] += 1
      confSum[b] += conf
      if best == labels[r] {
        correct[b] += 1
        right += 1
      }
      nll -= Double.log(max(Double(probabilities[r, labels[r]]), 1e-300))
    }
    let n = Double(max(labels.count, 1))
    var e = 0.0
    bins = (0..<binCount).map { b in
      let acc = count[b] > 0 ? Double(correct[b]) / Double(count[b]) : 0
      let conf = count[b] > 0 ? confSum[b] / Double(count[b]) : 0
      e += Double(count[b]) / n * abs(acc - conf)
      return ReliabilityBin(
        lower: Double(b) / Double(binCount), upper: Double(b + 1) / Double(binCount),
        count: count[b], accuracy: acc, confidence: conf)
    }
    ece = e
    accuracy = Double(right) / n
    logLoss = nll / n
  }
}

/// Temperature scaling (Guo et al. 2017): one scalar `T` dividing the logits, fitted to minimise
/// the negative log-likelihood of a labeled hold-out set. It changes confidences, never the
/// predicted class.
public enum TemperatureScaling {
  /// The temperature minimising the hold-out NLL of `logits` (`rows × classes`, before any
  /// temperature), searched on `[0.05, 20]`.
  ///
  /// The NLL is convex in `1/T` (a log-sum-exp of functions linear in it minus a linear term),
  /// so a golden-section search on `1/T` finds the global minimum.
  /// - Complexity: O(60 × rows × classes).
  public static func fit(logits: Matrix<Float>, labels: [Int]) -> Double {
    precondition(logits.rows == labels.count, "one label per row")
    if logits.rows == 0 { return 1 }
    func nll(_ beta: Double) -> Double {
      var total = 0.0
      let k = logits.columns
      for r in 0..<logits.rows {
        var m = -Double.infinity
        for c in 0..<k { m = max(m, beta * Double(logits[r, c])) }
        var s = 0.0
        for c in 0..<k { s += Double.exp(beta * Double(logits[r, c]) - m) }
        total += m + Double.log(s) - beta * Double(logits[r, labels[r]])
      }
      return total
    }
    var lo = 1.0 / 20
    var hi = 1.0 / 0.05
    let ratio = (5.0.squareRoot() - 1) / 2
    var a = hi - ratio * (hi - lo)
    var b = lo + ratio * (hi - lo)
    var fa = nll(a)
    var fb = nll(b)
    for _ in 0..<60 {
      if fa <= fb {
        hi = b
        b = a
        fb = fa
        a = hi - ratio * (hi - lo)
        fa = nll(a)
      } else {
        lo = a
        a = b
        fa = fb
        b = lo + ratio * (hi - lo)
        fb = nll(b)
      }
    }
    return 1 / ((lo + hi) / 2)
  }
}
