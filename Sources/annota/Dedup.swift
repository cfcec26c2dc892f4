import AnnotaDedup
import AnnotaEngine
import ArgumentParser

struct Dedup: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Exact and perceptual duplicates of the raw pool, grouped, with a representative per group.",
    discussion: """
      INPUT is a directory (searched recursively for .jpg, .jpeg and .png), a list file (one path \
      a line, relative to --images or to the working directory) or a COCO file (its images, \
      under --images or the file's folder; groups then name image ids). Each image gets an XXH64 \
      of its bytes and 64-bit dHash and pHash (imagehash's definitions) from a grey DCT-scaled \
      decode. Pairs within --distance are found by multi-index hashing, grouped by connected \
      components, and one member per group is kept by --keep. Exit 1 if some file failed.
      """)

  @Argument(help: "A directory, a list file (.txt) or a COCO file (.json).")
  var input: String?

  @Option(help: "Folder the list's or COCO file's image paths are relative to.")
  var images: String?

  @Option(help: "The groups report (JSON).")
  var out: String?

  @Option(help: "The groups as CSV: group,path,image_id,representative,distance,exact.")
  var csv: String?

  @Option(help: "Largest Hamming distance (of 64 bits) between near-duplicates.")
  var distance = 10

  @Option(help: "Hash deciding near-duplicates: dhash, phash, or both (within the distance on both).", transform: choice("--hash"))
  var hash: DedupHash = .phash

  @Option(help: "Representative of a group: first (input order), largest (most pixels) or sharpest (Laplacian variance).", transform: choice("--keep"))
  var keep: KeepRule = .first

  @Option(help: "Write the kept paths (everything but removed duplicates), one a line.")
  var writeKeep: String?

  @Option(help: "With a COCO input: write it without the removed duplicates and their annotations.")
  var writeCoco: String?

  @Option(help: "Hash cache (JSON): files whose path, size and mtime are unchanged are not re-hashed.")
  var cache: String?

  @Flag(help: "Also hash the full decode's pixels, so lossless re-encodes are marked exact (one more full decode per image).")
  var pixelHash = false

  @Flag(help: "Also match each image against 18 crop windows of the others (90% and 80% of each side), to find crops of up to about 25% a side; slower hashing and search.")
  var crops = false

  @Option(help: .hidden)
  var synthetic: Int?

  @OptionGroup var common: CommonOptions

  func validate() throws {
    if !(0...64).contains(distance) { throw ValidationError("--distance must be in 0...64") }
    if synthetic == nil {
      if input == nil { throw ValidationError("missing INPUT (a directory, list file or COCO file)") }
      if out == nil { throw ValidationError("missing --out GROUPS.json") }
    }
    if writeCoco != nil && !(input ?? "").lowercased().hasSuffix(".json") {
      throw ValidationError("--write-coco needs a COCO file as input")
    }
  }

  func run() async throws {
    let runner = BatchRunner(maxConcurrency: common.threadCount)
    if let synthetic {
      let s = await SyntheticSearch.run(count: synthetic, distance: distance, seed: 9, runner: runner)
      print("hashes \(s.count), distance \(distance), chunks \(s.chunks) (radius \(s.chunkRadius)): "
        + "build \(s.buildSeconds) s, query \(s.querySeconds) s, pairs \(s.pairs), "
        + "planted \(s.planted), found \(s.plantedFound)")
      return
    }
    guard let input, let out else { return }
    var items: [DedupItem] = []
    var dataset: COCODataset?
    do {
      if input.lowercased().hasSuffix(".json") {
        let coco = try await loadDatasets([input], threads: common.threadCount)[0]
        dataset = coco
        let base = images ?? parentDirectory(input)
        items = coco.images.map { DedupItem(path: DedupRun.join(base, $0.fileName ?? ""), imageID: $0.id) }
      } else if FileIO.isDirectory(input) {
        items = try DedupRun.listImages(in: input).map { DedupItem(path: $0) }
      } else {
        items = try DedupRun.readList(input, base: images).map { DedupItem(path: $0) }
      }
    } catch let error as FileError {
      printError("annota: error: \(error.description)")
      throw Exit.couldNotRun
    }
    var previous = DedupCache()
    if let cache {
      do { previous = try DedupCache.load(cache) } catch {
        printError("annota: error: \(error.description)")
        throw Exit.couldNotRun
      }
    }
    var options = DedupOptions()
    options.hash = hash
    options.distance = distance
    options.keep = keep
    options.pixelHash = pixelHash
    options.crops = crops
    let progress = ProgressReporter(total: items.count, label: "images", quiet: common.quiet)
    let result = await DedupRun.run(
      items, options: options, cache: previous, runner: runner, progress: progress)
    progress.finish()
    try writeOutput(result.report.serializedBytes(), to: out)
    if let csv { try writeOutput(result.csv, to: csv) }
    if let writeKeep { try writeOutput(result.keepList, to: writeKeep) }
    if let writeCoco, let dataset {
      try writeOutput(json: result.filteredCOCO(dataset), to: writeCoco)
    }
    if let cache { try writeOutput(previous.merging(result).json.serializedBytes(), to: cache) }
    for e in result.errors { printError("annota: error: \(e.error.description)") }
    if !common.quiet {
      let hashed = Double(max(items.count - result.errors.count - result.cached, 1))
      let decode = result.decodeSeconds / hashed * 1000
      let hashing = result.hashSeconds / hashed * 1000
      printError("annota dedup: \(items.count) images, \(result.groups.count) groups, "
        + "\(result.duplicates.count) duplicates, \(result.pairs.count) pairs → \(out)"
        + (result.cached > 0 ? "; \(result.cached) from cache" : "")
        + (result.errors.isEmpty ? "" : "; \(result.errors.count) failed"))
      printError("annota dedup: per image \(formatMs(decode + hashing)) ms (decode \(formatMs(decode)) ms, "
        + "hash \(formatMs(hashing)) ms, thread time); search \(formatMs(result.searchSeconds * 1000)) ms")
    }
    if !result.errors.isEmpty { throw Exit.someFailed }
  }
}

private func formatMs(_ v: Double) -> String { String(Double(Int(v * 1000)) / 1000) }

private func parentDirectory(_ path: String) -> String {
  guard let slash = path.lastIndex(of: "/") else { return "." }
  return String(path[..<slash])
}
