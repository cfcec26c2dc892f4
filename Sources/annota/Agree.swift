import AnnotaConsensus
import AnnotaEngine
import ArgumentParser

struct Agree: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Match instances across annotators, score agreement, fuse consensus shapes, decide accept / review / escalate.",
    discussion: """
      Objects are matched by geometry first (class-agnostic, so a label disagreement shows as \
      one): optimal one-to-one matching per annotator pair (pairs under --iou unmatched), then \
      clusters with at most one object per annotator, merged from the highest IoU down. The \
      clusters do not depend on the order of the files or on --threads. Per cluster: accept \
      (everyone present, same label, every pair's IoU >= --iou), review (a strict majority \
      agrees; the others are named with a reason: missing, label, low-overlap), escalate (no \
      majority). The report's schema is in README.
      """)

  @Argument(help: "Two or more COCO files of the same images, one per annotator.")
  var files: [String]

  @Option(help: "Consensus COCO file (every cluster, with its tier, score and members).")
  var out: String

  @Option(help: "Report JSON file.")
  var report: String

  @Option(help: "CSV of the review and escalate queue.")
  var queue: String?

  @Option(name: .customLong("type"), help: "Compare boxes or masks: box or mask.", transform: choice("--type"))
  var kind: GeometryKind = .box

  @Option(help: "IoU at which two objects are the same object.")
  var iou = 0.5

  @Flag(help: "Match only objects with the same category.")
  var matchByLabel = false

  @Option(help: "Box fusion: mean or median.", transform: choice("--fusion"))
  var fusion: BoxFusion = .mean

  @Option(help: "Mask fusion: vote (pixel majority on runs) or staple.", transform: choice("--mask-fusion"))
  var maskFusion: MaskFusion = .vote

  @Flag(help: "Weight box fusion by each object's score field.")
  var weighted = false

  @Option(help: "Gold COCO file: report each annotator's precision, recall, IoU and label accuracy against it.")
  var gold: String?

  @Option(help: "Bootstrap resamples over images for the 95% confidence intervals (0 to skip).")
  var bootstrap = 1000

  @Option(help: "Seed of the bootstrap.")
  var seed: UInt64 = 0

  @Option(help: "Objects with a score field under this send their image to one more annotator.")
  var minScore: Double?

  @OptionGroup var common: CommonOptions

  func validate() throws {
    if files.count < 2 { throw ValidationError("give at least two annotation files") }
    if Set(files).count != files.count { throw ValidationError("the same file is given twice") }
    if !(iou > 0 && iou <= 1) { throw ValidationError("--iou must be in (0, 1]") }
    if bootstrap < 0 { throw ValidationError("--bootstrap must be >= 0") }
  }

  func run() async throws {
    var loaded = try await loadDatasets(files + (gold.map { [$0] } ?? []), threads: common.threadCount,
                                    keepingAnnotationObjects: false, keptUntilExit: false)
    let datasets = Array(loaded.prefix(files.count))
    let goldDataset = gold == nil ? nil : loaded.last
    loaded = []  // `run` takes the only references to the annotators' datasets, and frees them
    let loadIssues = datasets.map(\.issues)
    var options = AgreeOptions()
    options.kind = kind
    options.threshold = iou
    options.matchByLabel = matchByLabel
    options.boxFusion = fusion
    options.maskFusion = maskFusion
    options.weightByScore = weighted
    options.bootstrap = bootstrap
    options.seed = seed
    options.minScore = minScore
    var images = Set<Int64>()
    for d in datasets { images.formUnion(d.images.map(\.id)); images.formUnion(d.annotations.map(\.imageID)) }
    let progress = ProgressReporter(total: images.count, label: "images", quiet: common.quiet)
    let result = await AgreementRun.run(
      files: files, datasets: consume datasets, gold: goldDataset, options: options,
      runner: BatchRunner(maxConcurrency: common.threadCount), progress: progress)
    progress.finish()
    KeptUntilExit.keep(result)  // hundreds of thousands of small arrays: the exit frees them at once
    // The two documents are written concurrently when more than one thread is allowed, each
    // streamed to its file as it is serialized.
    let writeConsensus = result.writeConsensus, writeReport = result.writeReport
    if common.threadCount > 1 {
      async let c: Void = writeOutput(to: out, writeConsensus)
      async let r: Void = writeOutput(to: report, writeReport)
      _ = try await (c, r)
    } else {
      try writeOutput(to: out, writeConsensus)
      try writeOutput(to: report, writeReport)
    }
    if let queue { try writeOutput(result.queueCSV, to: queue) }
    var loadErrors = 0
    for (path, issues) in zip(files, loadIssues) {
      for issue in issues {
        printError("annota: \(issue.severity.rawValue): \(path): \(issue.description)")
        if issue.severity == .error { loadErrors += 1 }
      }
    }
    let errors = reportIssues(result.issues, quiet: common.quiet) + loadErrors
    if !common.quiet {
      let t = result.tiers
      printError("annota agree: \(t[.accept] ?? 0) accept, \(t[.review] ?? 0) review, \(t[.escalate] ?? 0) escalate → \(out), \(report)")
    }
    if errors > 0 { throw Exit.someFailed }
  }
}
