public import AnnotaClassifier
public import AnnotaLinearAlgebra
import AnnotaGeometry

/// `x` with `digits` decimals, no exponent (for CSV, SVG and summaries).
public func fixed(_ x: Double, _ digits: Int) -> String {
  guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
  var p = 1.0
  for _ in 0..<digits { p *= 10 }
  let scaled = (abs(x) * p).rounded()
  guard scaled < 9e18 else { return String(x) }
  let n = Int64(scaled)
  let whole = n / Int64(p)
  var frac = String(n % Int64(p))
  frac = String(repeating: "0", count: max(0, digits - frac.count)) + frac
  let sign = x < 0 && n != 0 ? "-" : ""
  return digits == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(frac)"
}

/// A trained model with its class names, as saved by `rank --save-model` and read by
/// `--warm-start`.
public struct ClassifierFile: Sendable {
  public var classNames: [String]
  public var model: SoftmaxModel

  public init(classNames: [String], model: SoftmaxModel) {
    self.classNames = classNames
    self.model = model
  }

  /// The JSON document: `{"format": "annota-softmax", "version": 1, "classes": [...],
  /// "features": d, "temperature": T, "mean": [...], "scale": [...], "bias": [...],
  /// "weights": [[... classes ...] per feature]}`.
  public func json() -> JSONValue {
    let m = model
    let rows: [JSONValue] = (0..<m.features).map { j in
      .numbers((0..<m.classes).map { Double(m.weights[j * m.classes + $0]) }, integral: false)
    }
    return .object([
      ("format", .string("annota-softmax")), ("version", .int(1)),
      ("classes", .array(classNames.map { .string($0) })), ("features", .int(Int64(m.features))),
      ("temperature", .double(m.temperature)),
      ("mean", .numbers(m.mean.map(Double.init), integral: false)),
      ("scale", .numbers(m.scale.map(Double.init), integral: false)),
      ("bias", .numbers(m.bias.map(Double.init), integral: false)),
      ("weights", .array(rows)),
    ])
  }

  /// Reads a model file.
  public static func read(_ path: String) throws(FileError) -> ClassifierFile {
    let doc: JSONValue
    do { doc = try JSONReader.parse(try FileIO.read(path)) } catch let e as FileError {
      throw e
    } catch {
      throw FileError(path: path, message: "not JSON: \(error)")
    }
    func fail(_ m: String) -> FileError { FileError(path: path, message: m) }
    guard doc["format"] == .string("annota-softmax") else { throw fail("not an annota-softmax model (\"format\")") }
    guard case .array(let names)? = doc["classes"] else { throw fail("\"classes\" is missing") }
    let classNames = names.compactMap { v -> String? in if case .string(let s) = v { s } else { nil } }
    guard let d = doc["features"]?.integer, d >= 0, classNames.count >= 2, classNames.count == names.count
    else { throw fail("\"features\" or \"classes\" is invalid") }
    let k = classNames.count
    var model = SoftmaxModel(features: Int(d), classes: k)
    func vector(_ key: String, _ n: Int) throws(FileError) -> [Float] {
      guard let v = doc[key]?.numberArray, v.count == n, v.allSatisfy(\.isFinite) else {
        throw fail("\"\(key)\" must be \(n) finite numbers")
      }
      return v.map(Float.init)
    }
    model.mean = try vector("mean", Int(d))
    model.scale = try vector("scale", Int(d))
    model.bias = try vector("bias", k)
    guard case .array(let rows)? = doc["weights"], rows.count == Int(d) else {
      throw fail("\"weights\" must have \(d) rows")
    }
    for (j, row) in rows.enumerated() {
      guard let v = row.numberArray, v.count == k, v.allSatisfy(\.isFinite) else {
        throw fail("weights[\(j)] must be \(k) finite numbers")
      }
      for c in 0..<k { model.weights[j * k + c] = Float(v[c]) }
    }
    model.temperature = doc["temperature"]?.number ?? 1
    guard model.temperature > 0 else { throw fail("\"temperature\" must be positive") }
    return ClassifierFile(classNames: classNames, model: model)
  }
}

/// Settings of one `rank` round.
public struct RankOptions: Sendable {
  public var strategy = Strategy.entropy
  public var training = TrainingOptions()
  /// The model: linear (the default) or the one-hidden-layer network.
  public var model = ModelKind.linear
  public var selection = SelectionOptions()
  /// Folds of the cross-validated accuracy estimate when no hold-out is given (0 skips it).
  public var folds = 5
  /// Also predict every row not used for training (for `--predictions`).
  public var predictions = false
  /// Choose `C` by cross-validated log-loss on the labeled rows from this grid (empty: use
  /// `training.c`).
  public var cGrid: [Double] = []

  public init() {}
}

/// What a `rank` round produced.
public struct RankResult: Sendable {
  /// The batch, in pick order.
  public var picks: [Pick]
  public var classNames: [String]
  /// The trained (and, with a hold-out, calibrated) model.
  public var model: Classifier
  public var fit: FitReport
  public var labeledRows: Int
  public var candidates: Int
  /// Hold-out summary before and after temperature scaling.
  public var holdoutBefore: CalibrationSummary?
  public var holdoutAfter: CalibrationSummary?
  /// Cross-validated summary on the labeled rows (no hold-out given).
  public var crossValidated: CalibrationSummary?
  /// `C` chosen by cross-validation (`--C auto`), if it was.
  public var chosenC: Double?
  /// Summary on the independent evaluation rows, before and after the temperature.
  public var evaluationBefore: CalibrationSummary?
  public var evaluationAfter: CalibrationSummary?
  /// Label-file lines skipped.
  public var issues: [LabelIssue]
  /// Every row not used for training (candidates and hold-out), in row order.
  public var scoredRows: [Int]
  /// Predicted class, its (calibrated) probability and the uncertainty score, per scored row.
  public var predictions: [(label: Int, confidence: Float, score: Double)]

  /// Predictions as CSV: `index,label,confidence,score`, every row not used for training.
  public var predictionsCSV: String {
    var out = "index,label,confidence,score\n"
    for (r, p) in zip(scoredRows, predictions) {
      out += "\(r),\(LabelFile.csvField(classNames[p.label])),\(fixed(Double(p.confidence), 6)),\(fixed(p.score, 6))\n"
    }
    return out
  }

  /// The batch as CSV: `index,score,reason`.
  public var csv: String {
    var out = "index,score,reason\n"
    for p in picks { out += "\(p.index),\(fixed(p.score, 6)),\(p.reason.rawValue)\n" }
    return out
  }
}

/// A fatal problem with `rank`/`simulate` input.
public struct ActiveLearningError: Error, Sendable, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// The `rank` and `simulate` commands over a feature matrix and label files.
public enum ActiveLearningRun {
  /// One round: train on the labeled rows, estimate accuracy and calibration, score every row
  /// that is neither labeled nor in the hold-out, and pick the next batch.
  public static func rank(
    features x: Matrix<Float>, labels: [LabeledRow], holdout: [LabeledRow]?,
    warmStart: ClassifierFile?, options: RankOptions, issues: [LabelIssue],
    evaluation: [LabeledRow]? = nil, holdoutFile: String = "hold-out",
    evaluationFile: String = "evaluation"
  ) throws(ActiveLearningError) -> RankResult {
    var allIssues = issues
    var names = LabelFile.classOrder(labels.map(\.label))
    if let warm = warmStart {
      // Keep the previous round's class order, so its weights line up; add new classes at the end.
      let extra = names.filter { !warm.classNames.contains($0) }
      names = warm.classNames + extra
    }
    guard names.count >= 2 else {
      throw ActiveLearningError("the labels have \(names.count) class\(names.count == 1 ? "" : "es"); a classifier needs at least two")
    }
    let classIndex = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
    let rows = labels.map(\.index)
    let y = labels.map { classIndex[$0.label]! }
    var hold: [LabeledRow] = []
    if let holdout {
      hold = usableRows(
        holdout, file: holdoutFile, role: "hold-out", excluding: Set(rows), classIndex: classIndex,
        issues: &allIssues)
    }
    let warm = warmStart.flatMap { w -> Classifier? in
      w.model.features == x.columns && w.classNames == names ? .linear(w.model) : nil
    }
    // Standardise on every row of the feature file: the unlabeled rows are known, and with few
    // labels the labeled rows alone give noisy statistics.
    let stats = Standardizer(fitting: x)
    var options = options
    var chosenC: Double? = nil
    if options.cGrid.count > 1 && rows.count >= max(options.folds, 2) * 2 {
      var best = (loss: Double.infinity, c: options.training.c)
      for c in options.cGrid {
        var o = options
        o.training.c = c
        let cv = crossValidate(x, rows: rows, labels: y, classes: names.count, options: o, statistics: stats)
        if cv.logLoss < best.loss { best = (cv.logLoss, c) }
      }
      options.training.c = best.c
      chosenC = best.c
    }
    var (model, report) = Classifier.fit(
      options.model, x, rows: rows, labels: y, classes: names.count, options: options.training,
      warmStart: warm, statistics: stats)
    var before: CalibrationSummary? = nil
    var after: CalibrationSummary? = nil
    var cv: CalibrationSummary? = nil
    if !hold.isEmpty {
      let hx = x.gathering(rows: hold.map(\.index))
      let hy = hold.map { classIndex[$0.label]! }
      let logits = model.logits(hx)
      model.temperature = TemperatureScaling.fit(logits: logits, labels: hy)
      (before, after) = summaries(logits, labels: hy, temperature: model.temperature)
    } else if options.folds >= 2 && rows.count >= options.folds * 2 {
      cv = crossValidate(x, rows: rows, labels: y, classes: names.count, options: options, statistics: stats)
    }
    var evalBefore: CalibrationSummary? = nil
    var evalAfter: CalibrationSummary? = nil
    var evalRows: [LabeledRow] = []
    if let evaluation {
      evalRows = usableRows(
        evaluation, file: evaluationFile, role: "evaluation",
        excluding: Set(rows).union(hold.map(\.index)), classIndex: classIndex, issues: &allIssues)
      if !evalRows.isEmpty {
        let ex = x.gathering(rows: evalRows.map(\.index))
        let ey = evalRows.map { classIndex[$0.label]! }
        (evalBefore, evalAfter) = summaries(model.logits(ex), labels: ey, temperature: model.temperature)
      }
    }
    let excluded = Set(rows).union(hold.map(\.index)).union(evalRows.map(\.index))
    let candidates = (0..<x.rows).filter { !excluded.contains($0) }
    var learner = ActiveLearner(strategy: options.strategy, training: options.training, selection: options.selection)
    learner.model = options.model
    let picks = learner.nextBatch(x, candidates: candidates, model: model, labeled: rows, labels: y)
    let trained = Set(rows)
    let scored = (0..<x.rows).filter { !trained.contains($0) }
    var predictions: [(label: Int, confidence: Float, score: Double)] = []
    if options.predictions {
      let p = model.probabilities(x.gathering(rows: scored))
      let measure = options.strategy.measure ?? .entropy
      let s = measure.scores(p)
      let labelsOut = Softmax.argmax(p)
      predictions = scored.indices.map { (labelsOut[$0], p[$0, labelsOut[$0]], s[$0]) }
    }
    return RankResult(
      picks: picks, classNames: names, model: model, fit: report, labeledRows: rows.count,
      candidates: candidates.count, holdoutBefore: before, holdoutAfter: after,
      crossValidated: cv, chosenC: chosenC, evaluationBefore: evalBefore, evaluationAfter: evalAfter,
      issues: allIssues, scoredRows: options.predictions ? scored : [],
      predictions: predictions)
  }

  /// Calibration summaries of logits without and with `temperature`.
  static func summaries(_ logits: Matrix<Float>, labels: [Int], temperature: Double)
    -> (CalibrationSummary, CalibrationSummary)
  {
    var plain = logits
    Softmax.apply(&plain)
    var scaled = logits
    Softmax.apply(&scaled, temperature: temperature)
    return (CalibrationSummary(probabilities: plain, labels: labels),
            CalibrationSummary(probabilities: scaled, labels: labels))
  }

  /// The rows of a hold-out or evaluation file that can serve: not used for anything else, of a
  /// class the training labels have. The others become issues naming `file` and the line.
  static func usableRows(
    _ candidates: [LabeledRow], file: String, role: String, excluding used: Set<Int>,
    classIndex: [String: Int], issues: inout [LabelIssue]
  ) -> [LabeledRow] {
    var kept: [LabeledRow] = []
    for r in candidates {
      if used.contains(r.index) {
        issues.append(LabelIssue(path: file, line: r.line, message: "row \(r.index) is already used for training or calibration; left out of the \(role) rows"))
      } else if classIndex[r.label] == nil {
        issues.append(LabelIssue(path: file, line: r.line, message: "class '\(r.label)' does not occur in the training labels; row \(r.index) left out of the \(role) rows"))
      } else {
        kept.append(r)
      }
    }
    return kept
  }

  /// Out-of-fold probabilities of k-fold cross-validation (folds by a seeded shuffle), summarised.
  static func crossValidate(
    _ x: Matrix<Float>, rows: [Int], labels: [Int], classes: Int, options: RankOptions,
    statistics: Standardizer
  ) -> CalibrationSummary {
    let folds = max(options.folds, 2)
    var order = Array(rows.indices)
    var rng = SplitMix64(seed: options.selection.seed ^ 0xC5)
    order.shuffle(using: &rng)
    var probs = Matrix<Float>(rows: rows.count, columns: classes)
    for f in 0..<folds {
      let test = order.enumerated().filter { $0.offset % folds == f }.map(\.element)
      let testSet = Set(test)
      let train = rows.indices.filter { !testSet.contains($0) }
      let (m, _) = Classifier.fit(
        options.model, x, rows: train.map { rows[$0] }, labels: train.map { labels[$0] },
        classes: classes, options: options.training, statistics: statistics)
      let p = m.probabilities(x.gathering(rows: test.map { rows[$0] }))
      for (i, t) in test.enumerated() {
        for c in 0..<classes { probs[t, c] = p[i, c] }
      }
    }
    return CalibrationSummary(probabilities: probs, labels: labels)
  }


}
