import AnnotaEngine
import AnnotaImageIO
import ArgumentParser

struct Info: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print one JSON object a line for each image: its header facts.",
    discussion: """
      Fields: path, format, width, height, channels, bitDepth, colorModel, progressive, \
      orientation (EXIF, or null). A file that cannot be read or parsed gives a line with \
      path and error, a message on stderr, and exit code 1; the other files are still reported.
      """)

  @Argument(help: "Image files (PNG or JPEG, recognised from their bytes).")
  var images: [String]

  @Option(help: "Largest image accepted, in pixels.")
  var maxPixels = DecodeLimits.default.maxPixels

  @OptionGroup var common: CommonOptions

  func validate() throws {
    if images.isEmpty { throw ValidationError("give at least one image") }
    if maxPixels < 1 { throw ValidationError("--max-pixels must be positive") }
  }

  func run() async throws {
    let limits = DecodeLimits(maxPixels: maxPixels)
    let runner = BatchRunner(maxConcurrency: common.threadCount)
    let progress = ProgressReporter(total: images.count, label: "images",
                                    quiet: common.quiet || images.count < 100)
    var failures = 0
    await runner.forEach(images, { path throws(ItemError) in
      try ImageFiles.info(path, limits: limits)
    }) { index, result in
      let path = images[index]
      switch result {
      case .success(let info):
        print(info.jsonRecord(path: path).serialized())
        progress.advance()
      case .failure(let error):
        failures += 1
        let message = (error as? ItemError)?.message ?? "\(error)"
        print(JSONValue.object([("path", .string(path)), ("error", .string(message))]).serialized())
        printError("annota: error: \(path): \(message)")
        progress.advance(failed: true)
      }
    }
    progress.finish()
    if failures > 0 {
      if !common.quiet { printError("annota: \(failures) of \(images.count) images failed") }
      throw Exit.someFailed
    }
  }
}
