import AnnotaEngine
import ArgumentParser

struct Features: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Built-in crop descriptors, one row per annotation (for users without embeddings).",
    discussion: """
      Each box is decoded as a region of interest at the coarsest DCT scale that keeps its \
      short side at 32 px or more, resampled to 32x32, and described by 206 float32 numbers: \
      an RGB colour histogram (64), gradient-orientation histograms on a 4x4 grid (128), \
      quadrant colours (12), aspect ratio and relative size (2). Rows follow annotation order; \
      --ids maps rows to annotation, image and category ids, and --labels-out writes the \
      categories as a label file for rank and simulate. Crowd regions are skipped unless \
      --include-crowd.
      """)

  @Argument(help: "COCO annotation file.")
  var annotations: String

  @Option(help: "Directory holding the images (file_name is relative to it).")
  var images: String

  @Option(help: "Features: .npy, float32, rows x 206.")
  var out: String

  @Option(help: "CSV index,annotation_id,image_id,category_id, one line per row.")
  var ids: String?

  @Option(help: "Label file (CSV index,label with category names) for rank and simulate.")
  var labelsOut: String?

  @Flag(help: "Describe crowd regions too.")
  var includeCrowd = false

  @OptionGroup var common: CommonOptions

  func run() async throws {
    let dataset = try await loadDatasets([annotations], threads: common.threadCount)[0]
    let groups = dataset.annotationsByImage().count
    let progress = ProgressReporter(total: groups, label: "images", quiet: common.quiet)
    let result = await dataset.cropFeatures(
      imagesDirectory: images, includeCrowd: includeCrowd,
      runner: BatchRunner(maxConcurrency: common.threadCount), progress: progress)
    progress.finish()
    try writeOutput(NPY.encode(result.features), to: out)
    if let ids { try writeOutput(result.idsCSV, to: ids) }
    if let labelsOut { try writeOutput(result.labelsCSV, to: labelsOut) }
    let errors = reportIssues(dataset.issues + result.issues, quiet: common.quiet)
    if !common.quiet {
      printError("annota features: \(result.features.rows) rows x \(result.features.columns) → \(out)\(errors > 0 ? "; \(errors) annotations not described" : "")")
    }
    if errors > 0 { throw Exit.someFailed }
  }
}
