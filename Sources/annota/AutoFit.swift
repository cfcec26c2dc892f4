import AnnotaEdges
import AnnotaEngine
import AnnotaGeometry
import ArgumentParser

/// Fitter settings shared by autofit and eval-fit.
struct FitterOptions: ParsableArguments {
  @Option(help: "Candidate side positions within this share of the box size.")
  var searchRange = 0.25

  @Option(help: "A side moves only when its edge-gap evidence beats staying by this much (0-1).")
  var minGain = 0.8

  @Option(help: "Apply a fit only when its confidence is at least this.")
  var minConfidence = 0.0

  var options: FitOptions {
    var o = FitOptions()
    o.searchRange = searchRange
    o.minimumGain = minGain
    return o
  }

  func validate() throws {
    if !(searchRange > 0 && searchRange <= 0.5) { throw ValidationError("--search-range must be in (0, 0.5]") }
    if !(minGain >= 0 && minGain <= 1) { throw ValidationError("--min-gain must be in [0, 1]") }
    if !(minConfidence >= 0 && minConfidence <= 1) { throw ValidationError("--min-confidence must be in [0, 1]") }
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

  @OptionGroup var fitter: FitterOptions
  @OptionGroup var common: CommonOptions

  func run() async throws {
    let parse: @Sendable (String) throws -> JitterSetting = choice("--settings")
    let list = try settings.split(separator: ",").map { try parse(String($0)) }
    let dataset = try await loadDatasets([annotations], threads: common.threadCount)[0]
    let progress = ProgressReporter(total: dataset.annotationsByImage().count, label: "images", quiet: common.quiet)
    let result = await AutoFitRun.evaluate(
      dataset, imagesDirectory: images, settings: list, seed: seed, options: fitter.options,
      minimumConfidence: fitter.minConfidence, runner: BatchRunner(maxConcurrency: common.threadCount),
      progress: progress)
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
  var annotations: String

  @Option(help: "Directory holding the images.")
  var images: String

  @Option(help: "Output COCO file.")
  var out: String

  @Option(help: "Per-box report, JSON Lines.")
  var report: String?

  @Option(help: "Write overlay pictures here (an existing directory): rough boxes red, applied fits green with their confidence.")
  var render: String?

  @OptionGroup var fitter: FitterOptions
  @OptionGroup var common: CommonOptions

  func run() async throws {
    let dataset = try await loadDatasets([annotations], threads: common.threadCount)[0]
    let progress = ProgressReporter(total: dataset.annotationsByImage().count, label: "images", quiet: common.quiet)
    let (fits, issues) = await AutoFitRun.fit(
      dataset, imagesDirectory: images, options: fitter.options, minimumConfidence: fitter.minConfidence,
      renderDirectory: render, runner: BatchRunner(maxConcurrency: common.threadCount), progress: progress)
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
    try writeOutput(dataset.document(replacingAnnotations: replacements).serializedBytes(), to: out)
    if let report { try writeOutput(lines, to: report) }
    let errors = reportIssues(dataset.issues + issues, quiet: common.quiet)
    if !common.quiet {
      printError("annota autofit: \(fits.filter(\.applied).count) of \(fits.count) boxes changed → \(out)")
    }
    if errors > 0 { throw Exit.someFailed }
  }
}
