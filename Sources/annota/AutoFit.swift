import AnnotaEdges
import AnnotaEngine
import AnnotaFit
import AnnotaGeometry
import ArgumentParser

/// Fitter settings shared by autofit and eval-fit.
struct FitterOptions: ParsableArguments {
  @Option(help: "learned (the side scorer; default) or edge-gap (the classical rule).")
  var fitter = "learned"

  @Option(help: "A learned fitter model (from `autofit --train`); default: the built-in model.")
  var model: String?

  @Option(help: "Learned fitter: a side moves only when the probability that moving it helps is at least this (default: the model's, 0.6 for the built-in one)...")
  var minSideProbability: Double?

  @Option(help: "...plus this much per 10% of the box size the side moves (default: the model's, 0.05 for the built-in one).")
  var probabilityPerTenth: Double?

  @Option(help: "Edge-gap fitter: candidate side positions within this share of the box size.")
  var searchRange = 0.25

  @Option(help: "Edge-gap fitter: a side moves only when its edge-gap evidence beats staying by this much (0-1).")
  var minGain = 0.8

  @Option(help: "Apply a fit only when its confidence is at least this.")
  var minConfidence = 0.0

  @Flag(help: "Learned fitter: report the raw confidence (the least sure moved side's probability), not the model's calibrated one.")
  var rawConfidence = false

  /// The fitter these options describe (reads `--model`).
  func makeFitter() throws -> Fitter {
    if fitter == "edge-gap" {
      var o = FitOptions()
      o.searchRange = searchRange
      o.minimumGain = minGain
      return .edgeGap(o)
    }
    var m = try model.map { try FitModelFile.read($0) } ?? BuiltInFitModel.model
    if let p = minSideProbability { m.minimumSideProbability = p }
    if let q = probabilityPerTenth { m.probabilityPerTenth = q }
    if rawConfidence { m.calibration = nil }
    return .learned(m)
  }

  func validate() throws {
    if fitter != "learned" && fitter != "edge-gap" { throw ValidationError("--fitter must be learned or edge-gap") }
    if !(searchRange > 0 && searchRange <= 0.5) { throw ValidationError("--search-range must be in (0, 0.5]") }
    if !(minGain >= 0 && minGain <= 1) { throw ValidationError("--min-gain must be in [0, 1]") }
    if !(minConfidence >= 0 && minConfidence <= 1) { throw ValidationError("--min-confidence must be in [0, 1]") }
    if let p = minSideProbability, !(p >= 0 && p <= 1) { throw ValidationError("--min-side-probability must be in [0, 1]") }
    if let q = probabilityPerTenth, !(q >= 0 && q <= 1) { throw ValidationError("--probability-per-tenth must be in [0, 1]") }
  }
}

struct EvalFit: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval-fit",
    abstract: "The auto-fit protocol on a gold set: jitter the true boxes, fit, compare.",
    discussion: """
      Rough boxes move each side of the true box by U(lo, hi) x its width or height, outward \
      positive, clipped to the image (mixed5 ±5%, mixed10 ±10%, mixed20 ±20%, loose 0..+20%, \
      tight -10%..0); crowd boxes and boxes under 16 px a side are skipped. Prints per setting \
      the mean IoU before and after, the shares improved / worsened / worsened by more than \
      0.05, sides within 1 and 2 px, the fallback rate and boxes per second; then the share of \
      suggestions that help per confidence bucket and the mean IoU a reviewer gets by accepting \
      suggestions above each confidence.
      """)

  @Argument(help: "COCO file with gold (tight) boxes.")
  var annotations: String

  @Option(help: "Directory holding the images.")
  var images: String

  @Option(help: "Comma-separated settings: mixed5, mixed10, mixed20, loose, tight.")
  var settings = "mixed5,mixed10,mixed20,loose,tight"

  @Option(help: "Seed of the jitter.")
  var seed: UInt64 = 0

  @Option(help: "Cross-validate the learned fitter by image: train K models, each on the other folds' images (with --train-seeds jitter), and fit every image with the model that did not see it. 0: use --model or the built-in model as is.")
  var folds = 0

  @Option(help: "Comma-separated jitter seeds of the training draws for --folds (each: every setting).")
  var trainSeeds = "11,12"

  @OptionGroup var fitter: FitterOptions
  @OptionGroup var common: CommonOptions

  func validate() throws {
    if folds == 1 || folds < 0 { throw ValidationError("--folds must be 0 or at least 2") }
  }

  func run() async throws {
    let parse: @Sendable (String) throws -> JitterSetting = choice("--settings")
    let list = try settings.split(separator: ",").map { try parse(String($0)) }
    let dataset = try await loadDatasets([annotations], threads: common.threadCount)[0]
    let runner = BatchRunner(maxConcurrency: common.threadCount)
    let chosen: @Sendable (Int64) -> Fitter
    if folds >= 2 {
      let seeds = try parseSeeds(trainSeeds)
      let models = try await FitTraining.crossValidatedModels(
        dataset, imagesDirectory: images, folds: folds, seeds: seeds,
        minimumSideProbability: fitter.minSideProbability ?? 0.6,
        probabilityPerTenth: fitter.probabilityPerTenth ?? 0.05, calibrate: !fitter.rawConfidence,
        runner: runner, quiet: common.quiet)
      chosen = { id in .learned(models.model(for: id)) }
    } else {
      let f = try fitter.makeFitter()
      chosen = { _ in f }
    }
    let progress = ProgressReporter(total: dataset.annotationsByImage().count, label: "images", quiet: common.quiet)
    let result = await AutoFitRun.evaluate(
      dataset, imagesDirectory: images, settings: list, seed: seed, fitter: chosen,
      minimumConfidence: fitter.minConfidence, runner: runner, progress: progress)
    progress.finish()
    print(AutoFitRun.table(result), terminator: "")
    let errors = reportIssues(result.issues, quiet: common.quiet)
    if errors > 0 { throw Exit.someFailed }
  }
}

struct AutoFit: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "autofit",
    abstract: "Snap every box to the object's edges, guarded; keep the box where the evidence is weak.",
    discussion: """
      Fits every non-crowd box of at least 16 px a side. OUT.json keeps everything and changes \
      bbox only where a fit was applied (and area only where it equalled the box's area). The \
      report (JSON Lines) has, per box, before, after, confidence, applied, per-side moves \
      (pixels, outward positive) and reasons. Each image is decoded once for all its boxes; a \
      missing or corrupt image is an error for its boxes and the rest go on.
      """)

  @Argument(help: "COCO annotation file with rough boxes.")
  var annotations: String?

  @Option(help: "Directory holding the images.")
  var images: String

  @Option(help: "Output COCO file.")
  var out: String?

  @Option(help: "Train a learned fitter model on this COCO file of gold (tight) boxes instead of fitting; writes it to --model.")
  var train: String?

  @Option(help: "With --train: comma-separated jitter seeds; each draws every protocol setting once per box.")
  var trainSeeds = "11,12"

  @Option(help: "With --train: calibrate the confidence on K-fold cross-validated fits of the training draws (K more trainings); 0 leaves it raw.")
  var calibrationFolds = 5

  @Option(help: "Per-box report, JSON Lines.")
  var report: String?

  @Option(help: "Fit only boxes of these category ids (comma-separated); the others stay as they are and still count as neighbours.")
  var categories: String?

  @Option(help: "Write overlay pictures here (an existing directory): rough boxes red, applied fits green with their confidence.")
  var render: String?

  @OptionGroup var fitter: FitterOptions
  @OptionGroup var common: CommonOptions

  func validate() throws {
    if calibrationFolds == 1 || calibrationFolds < 0 { throw ValidationError("--calibration-folds must be 0 or at least 2") }
    if train != nil {
      if fitter.model == nil { throw ValidationError("--train needs --model OUT.json (where the model is written)") }
      if annotations != nil || out != nil { throw ValidationError("--train takes no ANN.json or --out") }
    } else if annotations == nil || out == nil {
      throw ValidationError("give ANN.json and --out OUT.json (or --train GOLD.json --model OUT.json)")
    }
  }

  func run() async throws {
    if let train, let path = fitter.model {
      let dataset = try await loadDatasets([train], threads: common.threadCount)[0]
      let seeds = try parseSeeds(trainSeeds)
      let progress = ProgressReporter(total: dataset.annotationsByImage().count, label: "images", quiet: common.quiet)
      let (model, summary, issues) = try await FitTraining.trainModel(
        dataset, source: train, imagesDirectory: images, seeds: seeds,
        minimumSideProbability: fitter.minSideProbability ?? 0.6,
        probabilityPerTenth: fitter.probabilityPerTenth ?? 0.05, calibrationFolds: calibrationFolds,
        runner: BatchRunner(maxConcurrency: common.threadCount), progress: progress)
      progress.finish()
      try writeOutput(FitModelFile.json(model).serializedBytes(), to: path)
      let errors = reportIssues(dataset.issues + issues, quiet: common.quiet)
      if !common.quiet { printError("annota autofit --train: \(summary) → \(path)") }
      if errors > 0 { throw Exit.someFailed }
      return
    }
    guard let annotations, let out else { return }
    let dataset = try await loadDatasets([annotations], threads: common.threadCount)[0]
    let fitterValue = try fitter.makeFitter()
    var only: Set<Int64>?
    if let categories {
      let ids = try categories.split(separator: ",").map { part -> Int64 in
        guard let v = Int64(String(part.filter { $0 != " " })) else {
          throw ValidationError("--categories: '\(part)' is not a category id")
        }
        guard dataset.categories[v] != nil else {
          throw ValidationError("--categories: \(v) is not in \(annotations)'s categories")
        }
        return v
      }
      guard !ids.isEmpty else { throw ValidationError("--categories: give at least one category id") }
      only = Set(ids)
    }
    let progress = ProgressReporter(total: dataset.annotationsByImage().count, label: "images", quiet: common.quiet)
    let (fits, issues) = await AutoFitRun.fit(
      dataset, imagesDirectory: images, fitter: fitterValue, minimumConfidence: fitter.minConfidence,
      categories: only, renderDirectory: render, runner: BatchRunner(maxConcurrency: common.threadCount), progress: progress)
    progress.finish()
    var replacements: [Int: JSONValue] = [:]
    var lines: [UInt8] = []
    var areas: [Int: Double] = [:]
    for a in dataset.annotations { areas[a.index] = a.area }
    for f in fits {
      if f.applied {
        var object = dataset.annotationObjects[f.annotationIndex].setting("bbox", f.after.cocoJSON)
        if let area = areas[f.annotationIndex], abs(area - f.before.area) < 1e-6 * max(1, area) {
          object = object.setting("area", .double(f.after.area))
        }
        replacements[f.annotationIndex] = object
      }
      let record: JSONValue = .object([
        ("id", .int(f.annotationID)), ("before", f.before.cocoJSON), ("after", f.after.cocoJSON),
        ("confidence", .double(f.decision.confidence)), ("applied", .bool(f.applied)),
        ("moves", .numbers(f.decision.moves, integral: false)),
        ("reasons", .array(f.decision.reasons.map { .string($0) })),
      ])
      lines += record.serializedBytes() + [0x0A]
    }
    try writeOutput(json: dataset.document(replacingAnnotations: replacements), to: out)
    if let report { try writeOutput(lines, to: report) }
    let errors = reportIssues(dataset.issues + issues, quiet: common.quiet)
    if !common.quiet {
      printError("annota autofit: \(fits.filter(\.applied).count) of \(fits.count) boxes changed → \(out)")
    }
    if errors > 0 { throw Exit.someFailed }
  }
}

/// Parses a comma-separated list of seeds.
func parseSeeds(_ text: String) throws -> [UInt64] {
  let seeds = try text.split(separator: ",").map { part -> UInt64 in
    guard let v = UInt64(String(part.filter { $0 != " " })) else { throw ValidationError("'\(part)' is not a seed (a non-negative integer)") }
    return v
  }
  if seeds.isEmpty { throw ValidationError("give at least one seed") }
  return seeds
}
