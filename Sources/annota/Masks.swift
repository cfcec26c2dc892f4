import AnnotaEngine
import ArgumentParser
import Synchronization

struct Masks: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Convert every segmentation of a COCO file to RLE or polygons; recompute area and bbox.",
    discussion: """
      --to rle: polygons become COCO compressed RLE ({"size":[h,w],"counts":"..."}) exactly as \
      pycocotools' annToRLE; area and bbox are recomputed from the mask as pycocotools' area() and \
      toBbox(). --to polygon: RLE masks are traced into polygon rings that rasterize back to \
      exactly the same mask (holes are joined by zero-width cuts); crowd and empty masks stay \
      RLE. Every other field is kept, unknown keys included. Annotations with bad data are \
      reported with their JSON path and id, left unchanged, and the exit code is 1.
      """)

  @Argument(help: "COCO annotation file.")
  var annotations: String

  @Option(help: "Output COCO file (written atomically).")
  var out: String

  @Option(help: "Target format: rle or polygon.", transform: choice("--to"))
  var to: MaskFormat = .rle

  @OptionGroup var common: CommonOptions

  func run() async throws {
    let dataset = try loadDataset(annotations)
    let groups = dataset.annotationsByImage().count
    let progress = ProgressReporter(total: groups, label: "images", quiet: common.quiet)
    let result = await MaskConversion.run(
      dataset, to: to, runner: BatchRunner(maxConcurrency: common.threadCount), progress: progress)
    progress.finish()
    try writeOutput(json: result.document, to: out)
    let errors = reportIssues(result.issues, quiet: common.quiet)
    if !common.quiet {
      printError("annota masks: \(result.converted) converted, \(result.unchanged) unchanged, \(errors) failed → \(out)")
    }
    if errors > 0 { throw Exit.someFailed }
  }
}

/// Loads a COCO file or exits 2 with a message naming it.
func loadDataset(_ path: String) throws -> COCODataset {
  do { return try COCODataset.load(path) } catch {
    printError("annota: error: \(error.description)")
    throw Exit.couldNotRun
  }
}

/// Loads COCO files in parallel, or exits 2 naming the first that fails.
///
/// The datasets are kept until the process exits (see `KeptUntilExit`) unless `keptUntilExit` is
/// false, for a caller that frees them itself to reuse their memory.
func loadDatasets(_ paths: [String], threads: Int, keepingAnnotationObjects: Bool = true, keptUntilExit: Bool = true)
  async throws -> [COCODataset]
{
  var datasets: [COCODataset] = []
  let runner = BatchRunner(maxConcurrency: threads)
  for result in await COCODataset.loadAll(paths, runner: runner, keepingAnnotationObjects: keepingAnnotationObjects) {
    switch result {
    case .success(let dataset): datasets.append(dataset)
    case .failure(let error):
      printError("annota: error: \(error.description)")
      throw Exit.couldNotRun
    }
  }
  if keptUntilExit { KeptUntilExit.keep(datasets) }
  return datasets
}

/// Values that live until the process exits. A command ends right after writing its output, and
/// freeing the millions of small objects of a large COCO file first would take tens of
/// milliseconds for nothing: the system reclaims the memory at exit.
enum KeptUntilExit {
  private static let values = Mutex<[any Sendable]>([])

  static func keep(_ value: some Sendable) { values.withLock { $0.append(value) } }
}

/// Writes `text` atomically or exits 2.
func writeOutput(_ text: String, to path: String) throws {
  try writeOutput(Array(text.utf8), to: path)
}

/// Writes `value` as compact JSON atomically, streamed to the file in pieces (a COCO document
/// of tens of megabytes is never held whole as text), or exits 2.
func writeOutput(json value: JSONValue, to path: String) throws {
  try writeOutput(to: path) { emit in value.serialize(emit) }
}

/// Writes `bytes` atomically or exits 2.
func writeOutput(_ bytes: [UInt8], to path: String) throws {
  try writeOutput(to: path) { emit in bytes.withUnsafeBytes(emit) }
}

/// Writes what `produce` emits atomically (`FileIO.writeAtomically(to:_:)`) or exits 2.
func writeOutput(to path: String, _ produce: ((UnsafeRawBufferPointer) -> Void) -> Void) throws {
  do { try FileIO.writeAtomically(to: path, produce) } catch {
    printError("annota: error: \(error.description)")
    throw Exit.couldNotRun
  }
}

/// Prints each issue on stderr (`error: PATH (annotation id N): message`); returns the number of
/// errors. Warnings are printed unless quiet.
@discardableResult
func reportIssues(_ issues: [COCOIssue], quiet: Bool, to stdout: Bool = false) -> Int {
  var errors = 0
  for issue in issues {
    if issue.severity == .error { errors += 1 }
    if issue.severity == .warning && quiet && !stdout { continue }
    let line = "\(issue.severity.rawValue): \(issue.description)"
    if stdout { print(line) } else { printError("annota: \(line)") }
  }
  return errors
}
