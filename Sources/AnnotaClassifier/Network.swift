public import AnnotaLinearAlgebra
import AnnotaGeometry
import RealModule

/// The nonlinearity of the hidden layer of ``NetworkModel``.
public enum Activation: String, Sendable, Hashable, CaseIterable {
  /// `max(0, z)`.
  case relu
  /// `tanh(z)`: smooth, so L-BFGS and finite-difference checks see no kinks.
  case tanh
}

/// Shape and initialisation of the one-hidden-layer network.
public struct NetworkOptions: Sendable, Hashable {
  /// Hidden units.
  public var hidden = 64
  /// Hidden-layer nonlinearity.
  public var activation = Activation.relu
  /// Seed of the initial weights (Glorot-uniform from SplitMix64). Same seed, same data: the
  /// same model, bit for bit.
  public var seed: UInt64 = 0

  public init() {}
}

/// A one-hidden-layer network (multilayer perceptron) over standardised features with a softmax
/// output.
///
/// Probabilities are `softmax((act(standardise(x) · W₁ + b₁) · W₂ + b₂) / T)`. `W₁` is
/// `features × hidden` and `W₂` is `hidden × classes`, both row-major. As in ``SoftmaxModel``, the
/// standardisation is folded into the first layer at prediction time.
public struct NetworkModel: Sendable, Equatable {
  /// Number of input features (rows of `weights1`).
  public var features: Int
  /// Number of hidden units.
  public var hidden: Int
  /// Number of classes (columns of `weights2`).
  public var classes: Int
  /// Hidden-layer nonlinearity.
  public var activation: Activation
  /// First-layer weights on standardised features, `features × hidden`, row-major.
  public var weights1: [Float]
  /// Hidden-unit biases.
  public var bias1: [Float]
  /// Output weights, `hidden × classes`, row-major.
  public var weights2: [Float]
  /// Output biases (one per class).
  public var bias2: [Float]
  /// Per-feature mean subtracted before the first layer.
  public var mean: [Float]
  /// Per-feature scale the centred feature is divided by.
  public var scale: [Float]
  /// Softmax temperature (1 = as trained).
  public var temperature: Double

  /// A zero network of the given shape.
  public init(
    features: Int, hidden: Int, classes: Int, activation: Activation, mean: [Float]? = nil,
    scale: [Float]? = nil
  ) {
    precondition(features >= 0 && hidden >= 1, "a network needs at least one hidden unit")
    precondition(classes >= 2, "a classifier needs at least two classes")
    self.features = features
    self.hidden = hidden
    self.classes = classes
    self.activation = activation
    weights1 = [Float](repeating: 0, count: features * hidden)
    bias1 = [Float](repeating: 0, count: hidden)
    weights2 = [Float](repeating: 0, count: hidden * classes)
    bias2 = [Float](repeating: 0, count: classes)
    self.mean = mean ?? [Float](repeating: 0, count: features)
    self.scale = scale ?? [Float](repeating: 1, count: features)
    temperature = 1
  }

  /// Number of trainable parameters, in the packed order `W₁, b₁, W₂, b₂`.
  public var parameterCount: Int { (features + 1) * hidden + (hidden + 1) * classes }

  /// Logits for raw rows, before the temperature: `rows × classes`.
  ///
  /// - Complexity: O(rows × hidden × (features + classes)), two GEMMs.
  public func logits(_ x: Matrix<Float>) -> Matrix<Float> {
    precondition(x.columns == features, "model has \(features) features, data has \(x.columns)")
    var folded = Matrix<Float>(rows: features, columns: hidden)
    var foldedBias = bias1.map(Double.init)
    for j in 0..<features {
      let inv = 1 / scale[j]
      for u in 0..<hidden {
        let w = weights1[j * hidden + u] * inv
        folded[j, u] = w
        foldedBias[u] -= Double(mean[j]) * Double(w)
      }
    }
    var a = Matrix<Float>(rows: x.rows, columns: hidden)
    var z = Matrix<Float>(rows: x.rows, columns: classes)
    if x.rows == 0 { return z }
    NetworkObjective.fillRows(&a, with: foldedBias.map(Float.init))
    BLAS.gemm(x, folded, beta: 1, into: &a)
    NetworkObjective.activate(&a, activation)
    NetworkObjective.fillRows(&z, with: bias2)
    BLAS.gemm(a, Matrix(rows: hidden, columns: classes, storage: weights2), beta: 1, into: &z)
    return z
  }

  /// Class probabilities for raw rows, temperature applied: `rows × classes`. Each row sums to 1.
  ///
  /// - Complexity: that of ``logits(_:)``.
  public func probabilities(_ x: Matrix<Float>) -> Matrix<Float> {
    var z = logits(x)
    Softmax.apply(&z, temperature: temperature)
    return z
  }

  /// The most probable class of each row (lowest index on ties); the temperature never changes
  /// it.
  public func predict(_ x: Matrix<Float>) -> [Int] { Softmax.argmax(logits(x)) }

  /// The parameters packed as `W₁, b₁, W₂, b₂`, in `Double` (the solver's state).
  var packed: [Double] {
    (weights1 + bias1 + weights2 + bias2).map(Double.init)
  }

  /// Sets the parameters from a packed vector.
  mutating func unpack(_ p: [Double]) {
    precondition(p.count == parameterCount, "expected \(parameterCount) parameters, got \(p.count)")
    var o = 0
    func take(_ n: Int) -> [Float] {
      defer { o += n }
      return p[o..<(o + n)].map(Float.init)
    }
    weights1 = take(features * hidden)
    bias1 = take(hidden)
    weights2 = take(hidden * classes)
    bias2 = take(classes)
  }
}

/// Fits ``NetworkModel`` by L-BFGS on the L2-regularised cross-entropy, the same objective and
/// solver as ``SoftmaxRegression``: `(Σ sᵢ·CEᵢ + ½‖W₁‖²/C + ½‖W₂‖²/C) / Σ sᵢ`, biases not
/// penalised (scikit-learn's `MLPClassifier` with `alpha = 1/C` and `solver="lbfgs"` minimises
/// the same function). Forward and backward passes are six OpenBLAS `sgemm` calls; the solver
/// state is `Double`. Deterministic for a seed.
public enum NetworkTraining {
  /// Fits a network on rows `rows` of `x` (raw features) with labels `labels[i]` for `rows[i]`.
  ///
  /// - Parameters:
  ///   - warmStart: a previous network of the same shape to start from (its first layer is
  ///     re-expressed on the new standardisation); otherwise Glorot-uniform weights from
  ///     `network.seed`.
  ///   - statistics: the standardisation; by default fitted on the training rows.
  /// - Complexity: O(iterations × rows × hidden × (features + classes)).
  public static func fit(
    _ x: Matrix<Float>, rows: [Int], labels: [Int], classes: Int,
    options: TrainingOptions = TrainingOptions(), network: NetworkOptions = NetworkOptions(),
    warmStart: NetworkModel? = nil, statistics: Standardizer? = nil
  ) -> (model: NetworkModel, report: FitReport) {
    precondition(rows.count == labels.count, "one label per row")
    precondition(classes >= 2, "a classifier needs at least two classes")
    precondition(network.hidden >= 1, "a network needs at least one hidden unit")
    let d = x.columns
    let h = network.hidden
    let stats =
      !options.standardize
      ? Standardizer(mean: [Float](repeating: 0, count: d), scale: [Float](repeating: 1, count: d))
      : statistics ?? Standardizer(fitting: x, rows: rows)
    let xs = stats.transform(x, rows: rows)
    let sampleWeights = SoftmaxRegression.sampleWeights(
      labels: labels, classes: classes, weighting: options.classWeighting)
    var model = NetworkModel(
      features: d, hidden: h, classes: classes, activation: network.activation, mean: stats.mean,
      scale: stats.scale)
    if let w = warmStart, w.features == d, w.hidden == h, w.classes == classes,
      w.activation == network.activation
    {
      model = w
      model.mean = stats.mean
      model.scale = stats.scale
      model.temperature = 1
      // Same first-layer pre-activations for the same raw input on the new standardisation.
      for u in 0..<h {
        var b = Double(w.bias1[u])
        for j in 0..<d {
          let old = Double(w.weights1[j * h + u])
          model.weights1[j * h + u] = Float(old * Double(stats.scale[j]) / Double(w.scale[j]))
          b += old * (Double(stats.mean[j]) - Double(w.mean[j])) / Double(w.scale[j])
        }
        model.bias1[u] = Float(b)
      }
    } else {
      var rng = SplitMix64(seed: network.seed)
      func uniform(_ limit: Double) -> Float {
        Float((Double(rng.next() >> 11) / Double(1 << 53) * 2 - 1) * limit)
      }
      let limit1 = (6.0 / Double(d + h)).squareRoot()
      for i in model.weights1.indices { model.weights1[i] = uniform(limit1) }
      let limit2 = (6.0 / Double(h + classes)).squareRoot()
      for i in model.weights2.indices { model.weights2[i] = uniform(limit2) }
    }
    var objective = NetworkObjective(
      x: xs, labels: labels, classes: classes, hidden: h, activation: network.activation,
      sampleWeights: sampleWeights, c: options.c)
    let result = LBFGS(options: options.solver).minimize(from: model.packed) { p, g in
      objective.evaluate(p, gradient: &g)
    }
    model.unpack(result.x)
    let report = FitReport(
      iterations: result.iterations, evaluations: result.evaluations, converged: result.converged,
      loss: result.value, gradientNorm: result.gradientNorm)
    return (model, report)
  }
}

/// The network's training objective on already standardised rows, exposed for gradient checks:
/// value and gradient at a packed parameter vector (`W₁, b₁, W₂, b₂`).
public struct NetworkObjectiveProbe {
  var objective: NetworkObjective

  public init(
    x: Matrix<Float>, labels: [Int], classes: Int, hidden: Int, activation: Activation,
    sampleWeights: [Float], c: Double
  ) {
    objective = NetworkObjective(
      x: x, labels: labels, classes: classes, hidden: hidden, activation: activation,
      sampleWeights: sampleWeights, c: c)
  }

  public mutating func evaluate(_ p: [Double], gradient: inout [Double]) -> Double {
    objective.evaluate(p, gradient: &gradient)
  }
}

/// The regularised cross-entropy of the network and its gradient (backpropagation), with
/// reusable GEMM buffers.
struct NetworkObjective {
  let x: Matrix<Float>
  let labels: [Int]
  let classes: Int
  let hidden: Int
  let activation: Activation
  let sampleWeights: [Float]
  let totalWeight: Double
  let lambda: Double
  var w1: Matrix<Float>
  var w2: Matrix<Float>
  /// Hidden activations, `rows × hidden`.
  var a: Matrix<Float>
  /// Logits, then the scaled output residual, `rows × classes`.
  var z: Matrix<Float>
  /// Back-propagated hidden residual, `rows × hidden`.
  var ga: Matrix<Float>
  var gw1: Matrix<Float>
  var gw2: Matrix<Float>

  init(
    x: Matrix<Float>, labels: [Int], classes: Int, hidden: Int, activation: Activation,
    sampleWeights: [Float], c: Double
  ) {
    self.x = x
    self.labels = labels
    self.classes = classes
    self.hidden = hidden
    self.activation = activation
    self.sampleWeights = sampleWeights
    totalWeight = max(sampleWeights.reduce(0) { $0 + Double($1) }, 1e-300)
    lambda = 1 / (c * totalWeight)
    w1 = Matrix(rows: x.columns, columns: hidden)
    w2 = Matrix(rows: hidden, columns: classes)
    a = Matrix(rows: x.rows, columns: hidden)
    z = Matrix(rows: x.rows, columns: classes)
    ga = Matrix(rows: x.rows, columns: hidden)
    gw1 = Matrix(rows: x.columns, columns: hidden)
    gw2 = Matrix(rows: hidden, columns: classes)
  }

  /// Sets every row of `m` to `values`.
  static func fillRows(_ m: inout Matrix<Float>, with values: [Float]) {
    let k = m.columns
    m.storage.withUnsafeMutableBufferPointer { p in
      for r in 0..<m.rows {
        for c in 0..<k { p[r * k + c] = values[c] }
      }
    }
  }

  /// Applies the activation in place.
  static func activate(_ m: inout Matrix<Float>, _ activation: Activation) {
    m.storage.withUnsafeMutableBufferPointer { p in
      switch activation {
      case .relu:
        for i in p.indices { p[i] = max(p[i], 0) }
      case .tanh:
        for i in p.indices { p[i] = Float.tanh(p[i]) }
      }
    }
  }

  mutating func evaluate(_ p: [Double], gradient g: inout [Double]) -> Double {
    let d = x.columns
    let h = hidden
    let k = classes
    let n = x.rows
    let o1 = d * h  // b₁
    let o2 = o1 + h  // W₂
    let o3 = o2 + h * k  // b₂
    for i in 0..<(d * h) { w1.storage[i] = Float(p[i]) }
    for i in 0..<(h * k) { w2.storage[i] = Float(p[o2 + i]) }
    // Forward.
    Self.fillRows(&a, with: (0..<h).map { Float(p[o1 + $0]) })
    BLAS.gemm(x, w1, beta: 1, into: &a)
    Self.activate(&a, activation)
    Self.fillRows(&z, with: (0..<k).map { Float(p[o3 + $0]) })
    BLAS.gemm(a, w2, beta: 1, into: &z)
    // Output residual sᵢ(P − Y)/S, the loss on the way.
    var gb2 = [Double](repeating: 0, count: k)
    let invTotal = 1 / totalWeight
    let loss = SoftmaxLoss.residual(&z, labels: labels, sampleWeights: sampleWeights, invTotal: invTotal, biasGradient: &gb2)
    // Backward: ∂W₂ = Aᵀ·G₂, G_A = G₂·W₂ᵀ, G₁ = G_A ⊙ act′, ∂W₁ = Xᵀ·G₁.
    BLAS.gemm(a, z, transA: .transposed, into: &gw2)
    BLAS.gemm(z, w2, transB: .transposed, into: &ga)
    var gb1 = [Double](repeating: 0, count: h)
    ga.storage.withUnsafeMutableBufferPointer { gp in
      a.storage.withUnsafeBufferPointer { ap in
        for r in 0..<n {
          let row = r * h
          for u in 0..<h {
            let act = ap[row + u]
            let derivative: Float =
              switch activation {
              case .relu: act > 0 ? 1 : 0
              case .tanh: 1 - act * act
              }
            let v = gp[row + u] * derivative
            gp[row + u] = v
            gb1[u] += Double(v)
          }
        }
      }
    }
    BLAS.gemm(x, ga, transA: .transposed, into: &gw1)
    var penalty = 0.0
    for i in 0..<(d * h) {
      penalty += p[i] * p[i]
      g[i] = Double(gw1.storage[i]) + lambda * p[i]
    }
    for u in 0..<h { g[o1 + u] = gb1[u] }
    for i in 0..<(h * k) {
      let w = p[o2 + i]
      penalty += w * w
      g[o2 + i] = Double(gw2.storage[i]) + lambda * w
    }
    for c in 0..<k { g[o3 + c] = gb2[c] }
    return loss * invTotal + 0.5 * lambda * penalty
  }
}
