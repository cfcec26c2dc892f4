public import AnnotaLinearAlgebra
import RealModule

/// A multinomial logistic regression (softmax) model over standardised features.
///
/// Probabilities are `softmax((standardise(x) · W + b) / T)`. `W` is `features × classes`,
/// row-major; `T` is the temperature fitted by ``TemperatureScaling`` (1 when uncalibrated). The
/// standardisation is stored with the model and folded into the weights at prediction time, so
/// scoring never copies the feature matrix.
public struct SoftmaxModel: Sendable, Equatable {
  /// Number of classes (columns of `weights`).
  public var classes: Int
  /// Number of input features (rows of `weights`).
  public var features: Int
  /// Weights on standardised features, `features × classes`, row-major.
  public var weights: [Float]
  /// Intercepts, one per class.
  public var bias: [Float]
  /// Per-feature mean subtracted before the weights apply.
  public var mean: [Float]
  /// Per-feature scale the centred feature is divided by (1 for constant features).
  public var scale: [Float]
  /// Softmax temperature (1 = as trained).
  public var temperature: Double

  /// A zero model: every class equally likely.
  public init(features: Int, classes: Int, mean: [Float]? = nil, scale: [Float]? = nil) {
    precondition(features >= 0 && classes >= 2, "a classifier needs at least two classes")
    self.classes = classes
    self.features = features
    weights = [Float](repeating: 0, count: features * classes)
    bias = [Float](repeating: 0, count: classes)
    self.mean = mean ?? [Float](repeating: 0, count: features)
    self.scale = scale ?? [Float](repeating: 1, count: features)
    temperature = 1
  }

  /// Logits for raw (unstandardised) rows, before the temperature: `rows × classes`.
  ///
  /// - Complexity: O(rows × features × classes), one GEMM.
  public func logits(_ x: Matrix<Float>) -> Matrix<Float> {
    precondition(x.columns == features, "model has \(features) features, data has \(x.columns)")
    // Fold the standardisation in: W' = W / scale (row-wise), b' = b - mean/scale · W.
    var folded = Matrix<Float>(rows: features, columns: classes)
    var foldedBias = bias.map(Double.init)
    for j in 0..<features {
      let inv = 1 / scale[j]
      for k in 0..<classes {
        let w = weights[j * classes + k] * inv
        folded[j, k] = w
        foldedBias[k] -= Double(mean[j]) * Double(w)
      }
    }
    var z = Matrix<Float>(rows: x.rows, columns: classes)
    if x.rows == 0 { return z }
    z.storage.withUnsafeMutableBufferPointer { out in
      for i in 0..<x.rows {
        for k in 0..<classes { out[i * classes + k] = Float(foldedBias[k]) }
      }
    }
    BLAS.gemm(x, folded, beta: 1, into: &z)
    return z
  }

  /// Class probabilities for raw rows, temperature applied: `rows × classes`.
  public func probabilities(_ x: Matrix<Float>) -> Matrix<Float> {
    var z = logits(x)
    Softmax.apply(&z, temperature: temperature)
    return z
  }

  /// The most probable class of each row (lowest index on ties).
  public func predict(_ x: Matrix<Float>) -> [Int] {
    Softmax.argmax(logits(x))
  }
}

/// Row-wise softmax helpers.
public enum Softmax {
  /// Replaces each row of logits by its softmax at `temperature`, in place (max-subtracted, so no
  /// overflow).
  public static func apply(_ z: inout Matrix<Float>, temperature: Double = 1) {
    let k = z.columns
    let inv = Float(1 / temperature)
    z.storage.withUnsafeMutableBufferPointer { p in
      for r in 0..<z.rows {
        let row = r * k
        var m = -Float.infinity
        for c in 0..<k { m = max(m, p[row + c]) }
        var sum: Float = 0
        for c in 0..<k {
          let e = Float.exp((p[row + c] - m) * inv)
          p[row + c] = e
          sum += e
        }
        let s = 1 / sum
        for c in 0..<k { p[row + c] *= s }
      }
    }
  }

  /// The index of each row's largest value (lowest index on ties).
  public static func argmax(_ z: Matrix<Float>) -> [Int] {
    var out = [Int](repeating: 0, count: z.rows)
    for r in 0..<z.rows {
      var best = 0
      for c in 1..<z.columns where z[r, c] > z[r, best] { best = c }
      out[r] = best
    }
    return out
  }
}

/// Per-feature mean and standard deviation (population), computed in `Double`.
public struct Standardizer: Sendable, Equatable {
  /// Column means.
  public var mean: [Float]
  /// Column standard deviations, 1 where a column is constant.
  public var scale: [Float]

  /// Given statistics.
  public init(mean: [Float], scale: [Float]) {
    precondition(mean.count == scale.count, "one mean and one scale per feature")
    self.mean = mean
    self.scale = scale
  }

  /// Fits the statistics on the given rows of `x` (all rows when `rows` is nil).
  public init(fitting x: Matrix<Float>, rows: [Int]? = nil) {
    let d = x.columns
    var sum = [Double](repeating: 0, count: d)
    var sumSq = [Double](repeating: 0, count: d)
    let picked = rows ?? Array(0..<x.rows)
    for r in picked {
      for j in 0..<d {
        let v = Double(x[r, j])
        sum[j] += v
      }
    }
    let n = Double(max(picked.count, 1))
    let m = sum.map { $0 / n }
    for r in picked {
      for j in 0..<d {
        let v = Double(x[r, j]) - m[j]
        sumSq[j] += v * v
      }
    }
    mean = m.map(Float.init)
    scale = sumSq.map { ss in
      let sd = (ss / n).squareRoot()
      return sd > 1e-12 ? Float(sd) : 1
    }
  }

  /// The given rows of `x`, standardised, as a new matrix.
  public func transform(_ x: Matrix<Float>, rows: [Int]) -> Matrix<Float> {
    let d = x.columns
    var out = Matrix<Float>(rows: rows.count, columns: d)
    let inv = scale.map { 1 / $0 }
    out.storage.withUnsafeMutableBufferPointer { o in
      x.storage.withUnsafeBufferPointer { s in
        for (i, r) in rows.enumerated() {
          for j in 0..<d { o[i * d + j] = (s[r * d + j] - mean[j]) * inv[j] }
        }
      }
    }
    return out
  }
}

/// How classes are weighted in the loss.
public enum ClassWeighting: String, Sendable, Hashable, CaseIterable {
  /// Every sample counts once.
  case none
  /// Class `c` weighs `n / (classes · n_c)` (scikit-learn's "balanced"), so a rare class counts
  /// as much as a common one.
  case balanced
}

/// Training settings of ``SoftmaxRegression``.
public struct TrainingOptions: Sendable, Hashable {
  /// Inverse regularisation strength, as scikit-learn's `C`: the objective is
  /// `C · Σ w_i · CE_i + ½‖W‖²` (intercepts not penalised), scaled by `1 / (C · Σ w_i)`.
  public var c = 1.0
  /// Class weights.
  public var classWeighting = ClassWeighting.none
  /// Solver settings (iteration cap, gradient tolerance).
  public var solver = LBFGS.Options()
  /// Standardise features (mean 0, variance 1) before fitting. The statistics are part of the
  /// model.
  public var standardize = true

  public init() {}
}

/// How a fit went.
public struct FitReport: Sendable, Hashable {
  /// L-BFGS iterations.
  public var iterations: Int
  /// Loss and gradient evaluations.
  public var evaluations: Int
  /// Whether the solver met its tolerance.
  public var converged: Bool
  /// Final objective (mean weighted cross-entropy plus the penalty).
  public var loss: Double
  /// Largest absolute gradient component at the end.
  public var gradientNorm: Double
}

/// Fits ``SoftmaxModel`` by L-BFGS on the L2-regularised cross-entropy. Forward and backward
/// products are OpenBLAS `sgemm` calls; the solver state is `Double`. Deterministic: the same
/// data and start give the same model.
public enum SoftmaxRegression {
  /// Fits a model on rows `rows` of `x` (raw features) with labels `labels[i]` in
  /// `0..<classes` for `rows[i]`.
  ///
  /// - Parameters:
  ///   - warmStart: a previous model with the same shape to start from (its weights are
  ///     rescaled to the new standardisation).
  ///   - statistics: the standardisation to use; by default it is fitted on the training rows.
  ///     In active learning, pass statistics of the whole pool (labeled or not): with a few dozen
  ///     labels, per-round statistics are noisy and shift the model every round.
  /// - Complexity: O(iterations × rows × features × classes).
  public static func fit(
    _ x: Matrix<Float>, rows: [Int], labels: [Int], classes: Int,
    options: TrainingOptions = TrainingOptions(), warmStart: SoftmaxModel? = nil,
    statistics: Standardizer? = nil
  ) -> (model: SoftmaxModel, report: FitReport) {
    precondition(rows.count == labels.count, "one label per row")
    precondition(classes >= 2, "a classifier needs at least two classes")
    let d = x.columns
    let stats =
      !options.standardize
      ? Standardizer(mean: [Float](repeating: 0, count: d), scale: [Float](repeating: 1, count: d))
      : statistics ?? Standardizer(fitting: x, rows: rows)
    let xs = stats.transform(x, rows: rows)
    let sampleWeights = sampleWeights(
      labels: labels, classes: classes, weighting: options.classWeighting)
    var objective = SoftmaxObjective(
      x: xs, labels: labels, classes: classes, sampleWeights: sampleWeights, c: options.c)
    var start = [Double](repeating: 0, count: (d + 1) * classes)
    if let w = warmStart, w.features == d, w.classes == classes {
      // Express the old model on the new standardisation: same logits for the same raw input.
      var b = w.bias.map(Double.init)
      for j in 0..<d {
        let ratio = Double(stats.scale[j]) / Double(w.scale[j])
        let shift = (Double(stats.mean[j]) - Double(w.mean[j])) / Double(w.scale[j])
        for k in 0..<classes {
          let old = Double(w.weights[j * classes + k])
          start[j * classes + k] = old * ratio
          b[k] += old * shift
        }
      }
      for k in 0..<classes { start[d * classes + k] = b[k] }
    }
    let result = LBFGS(options: options.solver).minimize(from: start) { p, g in
      objective.evaluate(p, gradient: &g)
    }
    var model = SoftmaxModel(features: d, classes: classes, mean: stats.mean, scale: stats.scale)
    for i in 0..<(d * classes) { model.weights[i] = Float(result.x[i]) }
    for k in 0..<classes { model.bias[k] = Float(result.x[d * classes + k]) }
    let report = FitReport(
      iterations: result.iterations, evaluations: result.evaluations, converged: result.converged,
      loss: result.value, gradientNorm: result.gradientNorm)
    return (model, report)
  }
}

extension SoftmaxRegression {
  /// Per-sample loss weights for a class weighting (1 for ``ClassWeighting/none``).
  static func sampleWeights(labels: [Int], classes: Int, weighting: ClassWeighting) -> [Float] {
    var weights = [Float](repeating: 1, count: labels.count)
    if weighting == .balanced {
      var counts = [Int](repeating: 0, count: classes)
      for l in labels { counts[l] += 1 }
      let present = counts.filter { $0 > 0 }.count
      for (i, l) in labels.enumerated() {
        weights[i] = Float(Double(labels.count) / (Double(present) * Double(counts[l])))
      }
    }
    return weights
  }
}

/// The training objective on already standardised rows, exposed for gradient checks: value and
/// gradient at a packed parameter vector (`W` row-major, then `b`).
public struct SoftmaxObjectiveProbe {
  var objective: SoftmaxObjective

  public init(x: Matrix<Float>, labels: [Int], classes: Int, sampleWeights: [Float], c: Double) {
    objective = SoftmaxObjective(x: x, labels: labels, classes: classes, sampleWeights: sampleWeights, c: c)
  }

  public mutating func evaluate(_ p: [Double], gradient: inout [Double]) -> Double {
    objective.evaluate(p, gradient: &gradient)
  }
}

/// The regularised cross-entropy and its gradient, with reusable GEMM buffers.
///
/// Parameters are packed as `W` (`features × classes`, row-major) followed by `b` (`classes`).
struct SoftmaxObjective {
  let x: Matrix<Float>
  let labels: [Int]
  let classes: Int
  let sampleWeights: [Float]
  let totalWeight: Double
  let lambda: Double
  var w: Matrix<Float>
  var z: Matrix<Float>
  var gw: Matrix<Float>

  init(x: Matrix<Float>, labels: [Int], classes: Int, sampleWeights: [Float], c: Double) {
    self.x = x
    self.labels = labels
    self.classes = classes
    self.sampleWeights = sampleWeights
    totalWeight = max(sampleWeights.reduce(0) { $0 + Double($1) }, 1e-300)
    lambda = 1 / (c * totalWeight)
    w = Matrix(rows: x.columns, columns: classes)
    z = Matrix(rows: x.rows, columns: classes)
    gw = Matrix(rows: x.columns, columns: classes)
  }

  mutating func evaluate(_ p: [Double], gradient g: inout [Double]) -> Double {
    let d = x.columns
    let k = classes
    let n = x.rows
    for i in 0..<(d * k) { w.storage[i] = Float(p[i]) }
    var gb = [Double](repeating: 0, count: k)
    let invTotal = 1 / totalWeight
    z.storage.withUnsafeMutableBufferPointer { zp in
      for r in 0..<n {
        for c in 0..<k { zp[r * k + c] = Float(p[d * k + c]) }
      }
    }
    BLAS.gemm(x, w, beta: 1, into: &z)
    let loss = SoftmaxLoss.residual(&z, labels: labels, sampleWeights: sampleWeights, invTotal: invTotal, biasGradient: &gb)
    BLAS.gemm(x, z, transA: .transposed, into: &gw)
    var penalty = 0.0
    for i in 0..<(d * k) {
      penalty += p[i] * p[i]
      g[i] = Double(gw.storage[i]) + lambda * p[i]
    }
    for c in 0..<k { g[d * k + c] = gb[c] }
    return loss * invTotal + 0.5 * lambda * penalty
  }
}

/// The softmax cross-entropy step both models share.
enum SoftmaxLoss {
  /// Turns the logits in `z` (rows × classes) into the scaled residual `sᵢ(P − Y)/S`, adds each
  /// column's sum to `biasGradient`, and returns the weighted loss `Σ sᵢ·−log Pᵢ,yᵢ` (not yet
  /// divided by S).
  static func residual(
    _ z: inout Matrix<Float>, labels: [Int], sampleWeights: [Float], invTotal: Double, biasGradient gb: inout [Double]
  ) -> Double {
    let n = z.rows
    let k = z.columns
    var loss = 0.0
    z.storage.withUnsafeMutableBufferPointer { zp in
      for r in 0..<n {
        let row = r * k
        var m = -Float.infinity
        for c in 0..<k { m = max(m, zp[row + c]) }
        var sum: Double = 0
        for c in 0..<k {
          let e = Float.exp(zp[row + c] - m)
          zp[row + c] = e
          sum += Double(e)
        }
        let y = labels[r]
        let sw = Double(sampleWeights[r])
        let pY = Double(zp[row + y]) / sum
        loss += sw * -Double.log(max(pY, 1e-300))
        let scaleRow = sw * invTotal / sum
        for c in 0..<k {
          var v = Double(zp[row + c]) * scaleRow
          if c == y { v -= sw * invTotal }
          zp[row + c] = Float(v)
          gb[c] += v
        }
      }
    }
    return loss
  }
}
