import AnnotaClassifier
import AnnotaEngine
import AnnotaLinearAlgebra
import ArgumentParser


/// The `--model` choices.
enum ModelName: String, CaseIterable, Sendable {
  case linear
  case mlp
}

/// Classifier options shared by `rank` and `simulate`.
struct ClassifierOptions: ParsableArguments {
  @Option(help: "Model: linear (softmax regression, the default) or mlp (one hidden layer, same L2 objective and L-BFGS).", transform: choice("--model"))
  var model: ModelName = .linear

  @Option(help: "Hidden units of --model mlp.")
  var hidden = 64

  @Option(help: "Hidden-layer nonlinearity of --model mlp: relu or tanh.", transform: choice("--activation"))
  var activation: Activation = .relu

  @Option(name: .customLong("C"), help: "Inverse L2 strength, as scikit-learn's C; 'auto' (rank only) picks it from 0.01..100 by 5-fold cross-validated log-loss on the labeled rows.")
  var cText = "1"

  /// The fixed C, or nil for auto.
  var c: Double? { cText == "auto" ? nil : Double(cText) }

  /// Candidate C values of `--C auto`.
  static let cGrid = [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100]

  @Option(help: "Class weights: none or balanced (n / (classes × n_c)).", transform: choice("--class-weight"))
  var classWeight: ClassWeighting = .none

  @Option(help: "L-BFGS iteration cap.")
  var maxIterations = 200

  @Option(help: "Batch diversity among the pool-factor × batch most uncertain rows: cluster (weighted k-means, one pick per cluster), k-center (greedy farthest-first) or none.", transform: choice("--diversity"))
  var diversity: Diversity = .cluster

  @Option(help: "k-center chooses among this many times the batch of the most uncertain rows.")
  var poolFactor = 10

  @Option(help: "Share of each batch drawn at random from the unlabeled pool.")
  var reserve = 0.1

  @Flag(help: "Interleave picks over predicted classes.")
  var classBalance = false

  @Option(help: "Seed of the reserve draw, the folds and the simulation splits.")
  var seed: UInt64 = 0

  func validate() throws {
    if cText != "auto" && !((c ?? 0) > 0) { throw ValidationError("--C must be a positive number or auto (got '\(cText)')") }
    if maxIterations < 1 { throw ValidationError("--max-iterations must be at least 1") }
    if hidden < 1 { throw ValidationError("--hidden must be at least 1") }
    if poolFactor < 1 { throw ValidationError("--pool-factor must be at least 1") }
    if !(reserve >= 0 && reserve <= 1) { throw ValidationError("--reserve must be in [0, 1]") }
  }

  var training: TrainingOptions {
    var t = TrainingOptions()
    t.c = c ?? 1
    t.classWeighting = classWeight
    t.solver.maxIterations = maxIterations
    return t
  }

  /// The model kind; the network's initial weights come from `--seed`.
  var modelKind: ModelKind {
    switch model {
    case .linear: return .linear
    case .mlp:
      var n = NetworkOptions()
      n.hidden = hidden
      n.activation = activation
      n.seed = seed
      return .mlp(n)
    }
  }

  var selection: SelectionOptions {
    var s = SelectionOptions()
    s.diversity = diversity
    s.poolFactor = poolFactor
    s.reserveFraction = reserve
    s.classBalance = classBalance
    s.seed = seed
    return s
  }
}

/// Reads a feature file or exits 2.
func readFeatures(_ path: String) throws -> Matrix<Float> {
  do { return try NPY.read(path) } catch {
    printError("annota: error: \(error.description)")
    throw Exit.couldNotRun
  }
}

/// Reads a label file or exits 2; prints skipped lines.
func readLabels(_ path: String, rows: Int) throws -> ([LabeledRow], [LabelIssue]) {
  do { return try LabelFile.read(path, rowCount: rows) } catch {
    printError("annota: error: \(error.description)")
    throw Exit.couldNotRun
  }
}

struct Rank: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train the classifier on the labeled rows, score the rest, pick the next batch to label.",
    discussion: """
      Writes the batch as CSV index,score,reason (reason: uncertainty, diversity or reserve). \
      The model is a softmax regression on standardised features, fitted by L-BFGS on OpenBLAS \
      (--model mlp: a one-hidden-layer network, same objective and solver). \
      With --calibrate-on, a temperature is fitted on the hold-out rows and the accuracy and \
      ECE there are printed before and after; without, a 5-fold cross-validated estimate on the \
      labeled rows is printed. Labeled and hold-out rows are never picked.
      """)

  @Option(help: "Features: .npy, float32 or float64, 2-D, C order.")
  var features: String

  @Option(help: "Labeled rows: CSV with a header index,label.")
  var labels: String

  @Option(help: "Next batch: CSV index,score,reason.")
  var out: String

  @Option(help: "Uncertainty: entropy, margin, least-confidence, disagreement (bootstrap ensemble) or random.", transform: choice("--strategy"))
  var strategy: Strategy = .entropy

  @Option(help: "Rows to pick.")
  var batch = 100

  @Option(help: "Labeled hold-out rows (CSV index,label) to fit the temperature and report ECE on.")
  var calibrateOn: String?

  @Option(help: "Independent labeled rows (CSV index,label) to report accuracy and ECE on, with and without the temperature; never picked.")
  var evaluateOn: String?

  @Option(help: "Predictions for every row not trained on: CSV index,label,confidence,score (score by --strategy's measure; entropy for random and disagreement).")
  var predictions: String?

  @Option(help: "Save the trained model (JSON) here; give it back with --warm-start next round.")
  var saveModel: String?

  @Option(help: "Start training from this model (the previous round's --save-model).")
  var warmStart: String?

  @OptionGroup var classifier: ClassifierOptions
  @OptionGroup var common: CommonOptions

  func validate() throws {
    if batch < 1 { throw ValidationError("--batch must be at least 1") }
    if classifier.model != .linear && (saveModel != nil || warmStart != nil) {
      throw ValidationError("--save-model and --warm-start are for --model linear only (the model file holds a linear model)")
    }
  }

  func run() async throws {
    // One BLAS thread whatever --threads says: OpenBLAS splits a product differently at 2
    // threads and rounds some elements differently, and over a few dozen L-BFGS iterations that
    // changed the model (the 1,347-row digits fit gave different predictions at 1 and 2 threads).
    // On digits-sized data the second thread saves nothing measurable.
    BLAS.threads = 1
    let x = try readFeatures(features)
    var (rows, issues) = try readLabels(labels, rows: x.rows)
    var holdout: [LabeledRow]? = nil
    if let calibrateOn {
      let (h, hIssues) = try readLabels(calibrateOn, rows: x.rows)
      holdout = h
      issues += hIssues
    }
    var evaluation: [LabeledRow]? = nil
    if let evaluateOn {
      let (e, eIssues) = try readLabels(evaluateOn, rows: x.rows)
      evaluation = e
      issues += eIssues
    }
    var warm: ClassifierFile? = nil
    if let warmStart {
      do { warm = try ClassifierFile.read(warmStart) } catch {
        printError("annota: error: \(error.description)")
        throw Exit.couldNotRun
      }
      if warm!.model.features != x.columns {
        printError("annota: warning: \(warmStart): the model has \(warm!.model.features) features, the data \(x.columns); training from scratch")
      }
    }
    var options = RankOptions()
    options.strategy = strategy
    options.training = classifier.training
    options.model = classifier.modelKind
    options.selection = classifier.selection
    options.selection.batch = batch
    options.predictions = predictions != nil
    if classifier.c == nil { options.cGrid = ClassifierOptions.cGrid }
    let result: RankResult
    let start = ContinuousClock.now
    do {
      result = try ActiveLearningRun.rank(
        features: x, labels: rows, holdout: holdout, warmStart: warm, options: options, issues: issues,
        evaluation: evaluation, holdoutFile: calibrateOn ?? "hold-out",
        evaluationFile: evaluateOn ?? "evaluation")
    } catch {
      printError("annota: error: \(labels): \(error.description)")
      throw Exit.couldNotRun
    }
    let elapsed = ContinuousClock.now - start
    rows = []
    try writeOutput(result.csv, to: out)
    if let predictions { try writeOutput(result.predictionsCSV, to: predictions) }
    if let saveModel, case .linear(let model) = result.model {
      try writeOutput(ClassifierFile(classNames: result.classNames, model: model).json().serializedBytes(), to: saveModel)
    }
    for issue in result.issues { printError("annota: error: \(issue.description)") }
    if !common.quiet {
      let f = result.fit
      if let chosen = result.chosenC { printError("annota rank: --C auto chose C = \(chosen) (5-fold cross-validated log-loss)") }
      let kind = classifier.model == .mlp ? "one-hidden-layer network (\(classifier.hidden) \(classifier.activation.rawValue) units)" : "softmax regression"
      printError("annota rank: \(result.labeledRows) labeled rows, \(result.classNames.count) classes, \(x.columns) features; \(kind) fit in \(f.iterations) L-BFGS iterations (\(f.converged ? "converged" : "not converged"), loss \(fixed(f.loss, 5)))")
      if let b = result.holdoutBefore, let a = result.holdoutAfter {
        printError("  hold-out (\(calibrateOn!)): accuracy \(fixed(b.accuracy, 4)), ECE \(fixed(b.ece, 4)) → \(fixed(a.ece, 4)) after temperature \(fixed(result.model.temperature, 3)), log-loss \(fixed(b.logLoss, 4)) → \(fixed(a.logLoss, 4))")
      } else if let cv = result.crossValidated {
        printError("  \(options.folds)-fold cross-validation on the labeled rows: accuracy \(fixed(cv.accuracy, 4)), ECE \(fixed(cv.ece, 4))")
      }
      if let b = result.evaluationBefore, let a = result.evaluationAfter {
        printError("  evaluation (\(evaluateOn!)): accuracy \(fixed(b.accuracy, 4)), ECE \(fixed(b.ece, 4)) uncalibrated, \(fixed(a.ece, 4)) with the temperature")
      }
      var counts: [PickReason: Int] = [:]
      for p in result.picks { counts[p.reason, default: 0] += 1 }
      let parts = PickReason.allCases.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
      printError("  picked \(result.picks.count) of \(result.candidates) unlabeled rows (\(parts)) → \(out) in \(elapsed)")
    }
    if !result.issues.isEmpty { throw Exit.someFailed }
  }
}

struct Simulate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Active-learning simulation on fully labeled data: learning curves of strategies against random.",
    discussion: """
      Per repeat: a stratified test split (--test-fraction), a random initial labeled set shared \
      by every strategy, then train / evaluate / pick --batch more until --budget labels. \
      Uncertainty strategies use the full selection policy (k-center diversity and the random \
      reserve) unless told otherwise. Writes CSV strategy,round,labels,accuracy,ece,accuracy_sd \
      (means over repeats) and, with --plot, an SVG learning curve; prints, per strategy, the \
      labels needed to reach 95% of the all-labels accuracy.
      """)

  @Option(help: "Features: .npy, float32 or float64, 2-D, C order.")
  var features: String

  @Option(help: "Labels of every row: CSV index,label.")
  var labels: String

  @Option(help: "Learning curves: CSV.")
  var out: String

  @Option(help: "Comma-separated strategies (entropy, margin, least-confidence, disagreement, random).")
  var strategy = "entropy,margin,random"

  @Option(help: "Initial random labeled set.")
  var initial = 20

  @Option(help: "Rows added per round.")
  var batch = 20

  @Option(help: "Stop at this many labels.")
  var budget = 500

  @Option(help: "Share of rows held out for testing (stratified).")
  var testFraction = 0.25

  @Option(help: "Repeats (different splits and initial sets), averaged.")
  var repeats = 5

  @Option(help: "Learning-curve picture (SVG).")
  var plot: String?

  @OptionGroup var classifier: ClassifierOptions
  @OptionGroup var common: CommonOptions

  func validate() throws {
    if initial < 2 { throw ValidationError("--initial must be at least 2") }
    if batch < 1 { throw ValidationError("--batch must be at least 1") }
    if budget < initial { throw ValidationError("--budget must be at least --initial") }
    if !(testFraction > 0 && testFraction < 1) { throw ValidationError("--test-fraction must be in (0, 1)") }
    if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
    if classifier.c == nil { throw ValidationError("--C auto is for rank; give simulate a number") }
    _ = try strategies()
  }

  func strategies() throws -> [Strategy] {
    let parse: @Sendable (String) throws -> Strategy = choice("--strategy")
    let list = try strategy.split(separator: ",").map { try parse(String($0)) }
    if list.isEmpty { throw ValidationError("--strategy names no strategy") }
    return list
  }

  func run() async throws {
    // Curves run in parallel, one per task; BLAS inside each stays single-threaded so results
    // do not depend on --threads.
    BLAS.threads = 1
    let x = try readFeatures(features)
    let (rows, issues) = try readLabels(labels, rows: x.rows)
    for issue in issues { printError("annota: error: \(issue.description)") }
    let names = LabelFile.classOrder(rows.map(\.label))
    guard names.count >= 2 else {
      printError("annota: error: \(labels): needs at least two classes")
      throw Exit.couldNotRun
    }
    let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
    let sub = x.gathering(rows: rows.map(\.index))
    var sim = ActiveLearningSimulation(x: sub, labels: rows.map { index[$0.label]! }, classes: names.count)
    sim.initial = initial
    sim.batch = batch
    sim.budget = budget
    sim.testFraction = testFraction
    sim.seed = classifier.seed
    sim.training = classifier.training
    sim.model = classifier.modelKind
    sim.selection = classifier.selection
    let list = try strategies()
    let progress = ProgressReporter(total: repeats * (list.count + 1), label: "curves", quiet: common.quiet)
    let result = await ActiveLearningRun.simulate(
      sim, strategies: list, repeats: repeats, runner: BatchRunner(maxConcurrency: common.threadCount),
      progress: progress)
    progress.finish()
    try writeOutput(result.csv, to: out)
    if let plot {
      try writeOutput(result.svg(title: "Active learning: \(rows.count) rows, \(names.count) classes, \(repeats) repeats"), to: plot)
    }
    if !common.quiet {
      let target = 0.95 * result.fullAccuracy
      printError("annota simulate: all-labels accuracy \(fixed(result.fullAccuracy, 4)); labels to reach 95% of it (\(fixed(target, 4))):")
      let randomNeed = result.labelsToReach(target, strategy: .random)
      for s in list {
        let last = result.points.last { $0.strategy == s }
        var line = "  \(s.rawValue): "
        if let need = result.labelsToReach(target, strategy: s) {
          line += "\(fixed(need, 0)) labels"
          if s != .random, let r = randomNeed { line += " (\(fixed(100 * need / r, 0))% of random's \(fixed(r, 0)))" }
        } else {
          line += "not reached within \(budget) labels"
        }
        if let last { line += "; at \(last.labels) labels accuracy \(fixed(last.accuracy, 4)), ECE \(fixed(last.ece, 4))" }
        printError(line)
      }
    }
    if !issues.isEmpty { throw Exit.someFailed }
  }
}
