import AnnotaEngine
import ArgumentParser

struct Validate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Lint a COCO file: one line per problem, with its JSON path; exit 1 on errors.",
    discussion: """
      Errors: records that do not parse, duplicate ids, dangling image or category ids, boxes \
      with non-positive size or outside the image, polygons with fewer than 3 points or NaN / \
      infinite coordinates, bad RLE (malformed string, counts not summing to h*w, size unlike \
      the image's), and with --images: missing or unreadable image files and sizes that differ \
      from the file's header. Warnings: an area far from the mask's pixel count (more than 20% \
      and 4 pixels), a polygon that covers no pixel.
      """)

  @Argument(help: "COCO annotation file.")
  var annotations: String

  @Option(help: "Folder of the images (file_name is relative to it); checks files and sizes.")
  var images: String?

  @OptionGroup var common: CommonOptions

  func run() async throws {
    let dataset = try loadDataset(annotations)
    let progress = ProgressReporter(total: dataset.images.count, label: "images",
                                    quiet: common.quiet || images == nil)
    let issues = await Validation.run(
      dataset, imagesDirectory: images, runner: BatchRunner(maxConcurrency: common.threadCount),
      progress: progress)
    progress.finish()
    let errors = reportIssues(issues, quiet: false, to: true)
    let warnings = issues.count - errors
    if !common.quiet {
      printError("annota validate: \(dataset.images.count) images, \(dataset.annotationObjects.count) annotations: \(errors) errors, \(warnings) warnings")
    }
    if errors > 0 { throw Exit.someFailed }
  }
}
