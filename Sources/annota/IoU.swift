import AnnotaEngine
import ArgumentParser

struct IoU: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "iou",
    abstract: "Match A's objects to B's per image and category; write IoU and Dice per pair.",
    discussion: """
      Matching is optimal and one-to-one (Hungarian on 1 - IoU); pairs under --threshold are \
      not matched. B plays the ground truth: its crowd objects use crowd IoU (intersection over \
      A's area). CSV columns: image_id,category_id,a_id,b_id,iou,dice; an unmatched object has \
      an empty a_id or b_id and empty iou and dice. A summary (mean IoU, mean Dice, matched and \
      unmatched counts) goes to stderr and, with --summary, to a JSON file.
      """)

  @Argument(help: "COCO file A (e.g. predictions or annotator 1).")
  var a: String

  @Argument(help: "COCO file B (e.g. ground truth or annotator 2).")
  var b: String

  @Option(help: "Output CSV (written atomically).")
  var out: String

  @Option(name: .customLong("type"), help: "Compare boxes or masks: box or mask.", transform: choice("--type"))
  var kind: GeometryKind = .box

  @Option(help: "Smallest IoU for a match.")
  var threshold = 0.5

  @Flag(help: "Match across categories.")
  var classAgnostic = false

  @Option(help: "Also write the summary as JSON to this file.")
  var summary: String?

  @OptionGroup var common: CommonOptions

  func validate() throws {
    if !(threshold > 0 && threshold <= 1) { throw ValidationError("--threshold must be in (0, 1]") }
  }

  func run() async throws {
    let loaded = try await loadDatasets([a, b], threads: common.threadCount, keepingAnnotationObjects: false)
    let datasetA = loaded[0], datasetB = loaded[1]
    var totals = PairSummary()
    var csv = Array(Pairing.csvHeader.utf8)
    var issues: [COCOIssue] = []
    var imageIDs = Set(datasetA.images.map(\.id))
    imageIDs.formUnion(datasetB.images.map(\.id))
    imageIDs.formUnion(datasetA.annotations.map(\.imageID))
    imageIDs.formUnion(datasetB.annotations.map(\.imageID))
    let images = imageIDs.count
    let progress = ProgressReporter(total: images, label: "images", quiet: common.quiet)
    await Pairing.run(
      datasetA, datasetB,
      options: Pairing.Options(kind: kind, threshold: threshold, classAgnostic: classAgnostic),
      runner: BatchRunner(maxConcurrency: common.threadCount)
    ) { imageID, result in
      totals.images += 1
      switch result {
      case .success(let rows):
        for row in rows {
          Pairing.appendCSVLine(row, to: &csv)
          if let iou = row.iou, let dice = row.dice {
            totals.matched += 1
            totals.iouSum += iou
            totals.diceSum += dice
          } else if row.a != nil {
            totals.unmatchedA += 1
          } else {
            totals.unmatchedB += 1
          }
        }
        progress.advance()
      case .failure(let issue):
        totals.failedImages += 1
        issues.append(COCOIssue(path: issue.path, annotationID: issue.annotationID,
                                message: "image \(imageID) skipped: \(issue.message)"))
        progress.advance(failed: true)
      }
    }
    progress.finish()
    try writeOutput(csv, to: out)
    if let summary { try writeOutput(totals.json.serialized() + "\n", to: summary) }
    let loadIssues = (datasetA.issues.map { ("A", $0) } + datasetB.issues.map { ("B", $0) })
    for (side, issue) in loadIssues {
      printError("annota: \(issue.severity.rawValue): \(side == "A" ? a : b): \(issue.description)")
    }
    let errors = reportIssues(issues, quiet: common.quiet) + loadIssues.filter { $0.1.severity == .error }.count
    if !common.quiet {
      printError("annota iou: \(totals.images) images, \(totals.matched) matched (mean IoU \(format(totals.meanIoU)), mean Dice \(format(totals.meanDice))), \(totals.unmatchedA) only in A, \(totals.unmatchedB) only in B → \(out)")
    }
    if errors > 0 { throw Exit.someFailed }
  }
}

/// A number with 4 decimals for human-readable summaries.
func format(_ value: Double) -> String {
  let scaled = (value * 10_000).rounded() / 10_000
  return String(scaled)
}
