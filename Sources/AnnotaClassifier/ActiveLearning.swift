import AnnotaGeometry
public import AnnotaLinearAlgebra

/// How the next batch is chosen.
public enum Strategy: String, Sendable, Hashable, CaseIterable {
  case entropy
  case margin
  case leastConfidence = "least-confidence"
  /// Disagreement of a bootstrap ensemble of small models (Jensen–Shannon divergence).
  case disagreement
  /// Uniform random sampling (the baseline): the whole batch is a random draw.
  case random

  /// The single-model measure behind the strategy, if it has one.
  public var measure: UncertaintyMeasure? {
    switch self {
    case .entropy: .entropy
    case .margin: .margin
    case .leastConfidence: .leastConfidence
    case .disagreement, .random: nil
    }
  }
}

/// Train on the labeled rows, score the others, choose the next batch: one round of active
/// learning.
public struct ActiveLearner: Sendable {
  public var strategy: Strategy
  public var training: TrainingOptions
  public var selection: SelectionOptions
  /// Members of the bootstrap ensemble for ``Strategy/disagreement``.
  public var ensembleSize = 5
  /// The kind of the ensemble members for ``Strategy/disagreement`` (the kind of the model).
  public var model = ModelKind.linear

  public init(strategy: Strategy, training: TrainingOptions, selection: SelectionOptions) {
    self.strategy = strategy
    self.training = training
    self.selection = selection
  }

  /// Uncertainty of rows `rows` under `model` (for ``Strategy/disagreement``, an ensemble is
  /// trained on bootstrap resamples of the labeled rows, warm-started from `model`).
  public func scores(
    _ x: Matrix<Float>, rows: [Int], model: SoftmaxModel, labeled: [Int], labels: [Int],
    seed: UInt64
  ) -> (scores: [Double], predicted: [Int]) {
    scores(x, rows: rows, model: .linear(model), labeled: labeled, labels: labels, seed: seed)
  }

  /// Uncertainty of rows `rows` under `model`, a model of either kind (the ensemble members of
  /// ``Strategy/disagreement`` are of ``model``'s kind, warm-started from `model`).
  public func scores(
    _ x: Matrix<Float>, rows: [Int], model: Classifier, labeled: [Int], labels: [Int],
    seed: UInt64
  ) -> (scores: [Double], predicted: [Int]) {
    let sub = x.gathering(rows: rows)
    let logits = model.logits(sub)
    let predicted = Softmax.argmax(logits)
    switch strategy {
    case .random:
      var rng = SplitMix64(seed: seed ^ 0x5EED)
      return (rows.map { _ in Double(rng.next() >> 11) / Double(1 << 53) }, predicted)
    case .disagreement:
      var rng = SplitMix64(seed: seed)
      var members: [Matrix<Float>] = []
      var memberOptions = training
      memberOptions.solver.maxIterations = min(training.solver.maxIterations, 50)
      for _ in 0..<ensembleSize {
        var bootRows: [Int] = []
        var bootLabels: [Int] = []
        for _ in labeled.indices {
          let i = Int(rng.next() % UInt64(labeled.count))
          bootRows.append(labeled[i])
          bootLabels.append(labels[i])
        }
        let (m, _) = Classifier.fit(
          self.model, x, rows: bootRows, labels: bootLabels, classes: model.classes,
          options: memberOptions, warmStart: model, statistics: model.standardizer)
        members.append(m.probabilities(sub))
      }
      return (EnsembleDisagreement.scores(members), predicted)
    case .entropy, .margin, .leastConfidence:
      var p = logits
      Softmax.apply(&p, temperature: model.temperature)
      return (strategy.measure!.scores(p), predicted)
    }
  }

  /// Picks the next batch among `candidates` given a trained model.
  public func nextBatch(
    _ x: Matrix<Float>, candidates: [Int], model: SoftmaxModel, labeled: [Int], labels: [Int]
  ) -> [Pick] {
    nextBatch(x, candidates: candidates, model: .linear(model), labeled: labeled, labels: labels)
  }

  /// Picks the next batch among `candidates` given a trained model of either kind.
  public func nextBatch(
    _ x: Matrix<Float>, candidates: [Int], model: Classifier, labeled: [Int], labels: [Int]
  ) -> [Pick] {
    let (s, predicted) = scores(
      x, rows: candidates, model: model, labeled: labeled, labels: labels, seed: selection.seed)
    var options = selection
    if strategy == .random {
      options.reserveFraction = 1
    }
    return BatchSelection.select(
      candidates: candidates, scores: s, predicted: predicted, labeled: labeled, features: x,
      standardizer: model.standardizer, options: options)
  }
}

/// The classic active-learning experiment on fully labeled data: from a random initial set,
/// repeatedly train, evaluate on a held-out test split, and add the batch a strategy picks,
/// until the budget is spent. Each repeat draws its own split and initial set, shared by all
/// strategies of that repeat, so strategies are compared on the same data.
public struct ActiveLearningSimulation: Sendable {
  public var x: Matrix<Float>
  /// Class of every row.
  public var labels: [Int]
  public var classes: Int
  public var initial = 20
  public var batch = 20
  public var budget = 500
  public var testFraction = 0.25
  public var seed: UInt64 = 0
  public var training = TrainingOptions()
  /// The model trained each round.
  public var model = ModelKind.linear
  /// Reserve, diversity, pool and class-balance settings for the uncertainty strategies.
  public var selection = SelectionOptions()
  /// Standardise with statistics of the whole training pool (labeled or not) rather than of
  /// the labeled rows of each round, as `rank` does with the whole feature file.
  public var poolStatistics = true

  public init(x: Matrix<Float>, labels: [Int], classes: Int) {
    precondition(x.rows == labels.count, "one label per row")
    self.x = x
    self.labels = labels
    self.classes = classes
  }

  /// One point of a learning curve.
  public struct Round: Sendable, Hashable {
    public var round: Int
    public var labels: Int
    public var accuracy: Double
    public var ece: Double
  }

  /// The test rows, and the training pool, of repeat `r`: a stratified split.
  public func split(_ r: Int) -> (test: [Int], pool: [Int]) {
    var rng = SplitMix64(seed: seed &+ UInt64(r) &* 0x9E37_79B9)
    var byClass = [[Int]](repeating: [], count: classes)
    for (i, l) in labels.enumerated() { byClass[l].append(i) }
    var test: [Int] = []
    var pool: [Int] = []
    for var members in byClass {
      members.shuffle(using: &rng)
      let t = Int((Double(members.count) * testFraction).rounded())
      test += members.prefix(t)
      pool += members.dropFirst(t)
    }
    return (test.sorted(), pool.sorted())
  }

  /// The initial labeled set of repeat `r` (a uniform draw from the pool).
  public func initialSet(_ r: Int, pool: [Int]) -> [Int] {
    var rng = SplitMix64(seed: (seed &+ UInt64(r)) ^ 0xA11CE)
    var p = pool
    p.shuffle(using: &rng)
    return Array(p.prefix(min(initial, p.count)))
  }

  /// Accuracy of a model trained on the whole pool of repeat `r` (the ceiling).
  public func fullAccuracy(_ r: Int) -> Double {
    let (test, pool) = split(r)
    let (model, _) = Classifier.fit(
      self.model, x, rows: pool, labels: pool.map { labels[$0] }, classes: classes, options: training,
      statistics: poolStatistics ? Standardizer(fitting: x, rows: pool) : nil)
    return evaluate(model, test).accuracy
  }

  /// The learning curve of `strategy` in repeat `r`.
  ///
  /// - Complexity: O(rounds × fit), rounds = (budget − initial) / batch + 1.
  public func run(_ r: Int, strategy: Strategy) -> [Round] {
    let (test, pool) = split(r)
    var labeled = initialSet(r, pool: pool)
    var inLabeled = Set(labeled)
    var learner = ActiveLearner(strategy: strategy, training: training, selection: selection)
    learner.model = self.model
    var model: Classifier? = nil
    let stats = poolStatistics ? Standardizer(fitting: x, rows: pool) : nil
    var out: [Round] = []
    var round = 0
    while true {
      let y = labeled.map { labels[$0] }
      let fitted = Classifier.fit(
        self.model, x, rows: labeled, labels: y, classes: classes, options: training, warmStart: model,
        statistics: stats
      ).model
      model = fitted
      let summary = evaluate(fitted, test)
      out.append(Round(round: round, labels: labeled.count, accuracy: summary.accuracy,
                       ece: summary.ece))
      if labeled.count >= budget || labeled.count >= pool.count { break }
      learner.selection.batch = min(batch, budget - labeled.count)
      learner.selection.seed = seed &+ UInt64(r) &* 1_000_003 &+ UInt64(round)
      let candidates = pool.filter { !inLabeled.contains($0) }
      let picks = learner.nextBatch(
        x, candidates: candidates, model: fitted, labeled: labeled, labels: y)
      for p in picks {
        labeled.append(p.index)
        inLabeled.insert(p.index)
      }
      round += 1
    }
    return out
  }

  func evaluate(_ model: Classifier, _ rows: [Int]) -> CalibrationSummary {
    CalibrationSummary(
      probabilities: model.probabilities(x.gathering(rows: rows)),
      labels: rows.map { labels[$0] })
  }
}
