import AnnotaEngine
import ArgumentParser

struct Bench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Throughput of decode, auto-fit, masks, IoU, agreement and the classifier on your data, at several thread counts, with a recommendation.",
    discussion: """
      Each operation runs on the given data (the first --max-images images of the file or \
      folder) or, with neither --images nor --annotations, on a small generated set (PNG images \
      and a COCO file, seeded). Per operation and thread count: --warmup untimed runs, then \
      --repeats timed runs; the table shows the median, items and megapixels per second, the \
      speed-up over one thread, the spread (slowest − fastest over the median; over 10% marks \
      the machine as noisy, as does a load average above half the cores) and the peak resident \
      memory. For autofit it also splits the one-thread time into decode, edges and fitting. \
      The recommendation picks, per operation, the fewest threads within 10% of the best \
      throughput. The classifier's thread count is OpenBLAS's.
      """)

  @Option(help: "Folder of images (decode, autofit, classifier features).")
  var images: String?

  @Option(help: "COCO file (autofit, masks, iou, agree, classifier labels).")
  var annotations: String?

  @Option(help: "Comma-separated thread counts (default: 1 and all cores).")
  var threads: String?

  @Option(help: "Comma-separated operations: decode, autofit, masks, iou, agree, classifier.")
  var ops = BenchOp.allCases.map(\.rawValue).joined(separator: ",")

  @Option(help: "Write the results here as JSON.")
  var json: String?

  @Option(help: "Timed runs per operation and thread count.")
  var repeats = BenchOptions().repeats

  @Option(help: "Untimed runs before them.")
  var warmup = BenchOptions().warmup

  @Option(help: "Use at most this many images of the data.")
  var maxImages = BenchOptions().maxImages

  @Option(help: .hidden)
  var generatedImages = 12

  @Flag(help: "Print no progress on stderr.")
  var quiet = false

  func validate() throws {
    do { _ = try BenchOp.parseList(ops) } catch { throw ValidationError(error.description) }
    _ = try threadList()
    if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
    if warmup < 0 { throw ValidationError("--warmup must be at least 0") }
    if maxImages < 1 { throw ValidationError("--max-images must be at least 1") }
    if generatedImages < 1 { throw ValidationError("--generated-images must be at least 1") }
  }

  func threadList() throws -> [Int] {
    guard let threads else { return BenchRun.defaultThreads }
    return try threads.split(separator: ",", omittingEmptySubsequences: false).map { part in
      guard let n = Int(part), n >= 1 else {
        throw ValidationError("--threads must be a comma-separated list of counts of at least 1 (got '\(part)')")
      }
      return n
    }
  }

  func run() async throws {
    var options = BenchOptions()
    options.images = images
    options.annotations = annotations
    options.threads = try threadList()
    options.ops = try BenchOp.parseList(ops)
    options.repeats = repeats
    options.warmup = warmup
    options.maxImages = maxImages
    options.generatedImages = generatedImages
    let quiet = self.quiet
    let report: BenchReport
    do {
      report = try await BenchRun.run(options) { line in
        if !quiet { printError("annota bench: \(line)") }
      }
    } catch {
      printError("annota: error: \(error.description)")
      throw Exit.couldNotRun
    }
    print(report.table, terminator: "")
    if let json { try writeOutput(report.json.serializedBytes() + [0x0A], to: json) }
  }
}
