public import AnnotaLinearAlgebra

/// Which model to train.
public enum ModelKind: Sendable, Hashable {
  /// Multinomial logistic regression (``SoftmaxRegression``), the default.
  case linear
  /// A one-hidden-layer network (``NetworkTraining``).
  case mlp(NetworkOptions)
}

/// A trained classifier of either kind: what active learning and calibration need from a model
/// (logits, a temperature, the standardisation).
public enum Classifier: Sendable, Equatable {
  /// A softmax regression.
  case linear(SoftmaxModel)
  /// A one-hidden-layer network.
  case mlp(NetworkModel)

  /// Number of classes.
  public var classes: Int {
    switch self {
    case .linear(let m): m.classes
    case .mlp(let m): m.classes
    }
  }

  /// Number of input features.
  public var features: Int {
    switch self {
    case .linear(let m): m.features
    case .mlp(let m): m.features
    }
  }

  /// Softmax temperature (1 = as trained).
  public var temperature: Double {
    get {
      switch self {
      case .linear(let m): m.temperature
      case .mlp(let m): m.temperature
      }
    }
    set {
      switch self {
      case .linear(var m):
        m.temperature = newValue
        self = .linear(m)
      case .mlp(var m):
        m.temperature = newValue
        self = .mlp(m)
      }
    }
  }

  /// The standardisation the model applies to raw features.
  public var standardizer: Standardizer {
    switch self {
    case .linear(let m): Standardizer(mean: m.mean, scale: m.scale)
    case .mlp(let m): Standardizer(mean: m.mean, scale: m.scale)
    }
  }

  /// Logits for raw rows, before the temperature: `rows × classes`.
  public func logits(_ x: Matrix<Float>) -> Matrix<Float> {
    switch self {
    case .linear(let m): m.logits(x)
    case .mlp(let m): m.logits(x)
    }
  }

  /// Class probabilities for raw rows, temperature applied.
  public func probabilities(_ x: Matrix<Float>) -> Matrix<Float> {
    var z = logits(x)
    Softmax.apply(&z, temperature: temperature)
    return z
  }

  /// The most probable class of each row (lowest index on ties).
  public func predict(_ x: Matrix<Float>) -> [Int] { Softmax.argmax(logits(x)) }

  /// Fits a model of kind `kind` (see ``SoftmaxRegression/fit(_:rows:labels:classes:options:warmStart:statistics:)``
  /// and ``NetworkTraining/fit(_:rows:labels:classes:options:network:warmStart:statistics:)``).
  /// A warm start of the other kind is ignored.
  ///
  /// - Complexity: that of the chosen fit.
  public static func fit(
    _ kind: ModelKind, _ x: Matrix<Float>, rows: [Int], labels: [Int], classes: Int,
    options: TrainingOptions = TrainingOptions(), warmStart: Classifier? = nil,
    statistics: Standardizer? = nil
  ) -> (model: Classifier, report: FitReport) {
    switch kind {
    case .linear:
      var warm: SoftmaxModel? = nil
      if case .linear(let w)? = warmStart { warm = w }
      let (m, r) = SoftmaxRegression.fit(
        x, rows: rows, labels: labels, classes: classes, options: options, warmStart: warm,
        statistics: statistics)
      return (.linear(m), r)
    case .mlp(let network):
      var warm: NetworkModel? = nil
      if case .mlp(let w)? = warmStart { warm = w }
      let (m, r) = NetworkTraining.fit(
        x, rows: rows, labels: labels, classes: classes, options: options, network: network,
        warmStart: warm, statistics: statistics)
      return (.mlp(m), r)
    }
  }
}
