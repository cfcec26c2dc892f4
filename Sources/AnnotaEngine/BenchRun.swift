import AnnotaEdges
import AnnotaFit
import AnnotaClassifier
import AnnotaGeometry
import AnnotaImage
import AnnotaImageIO
import AnnotaLinearAlgebra

#if canImport(Glibc)
import Glibc
#endif

/// An operation `annota bench` measures.
public enum BenchOp: String, Sendable, CaseIterable, Hashable {
  /// Read and decode every image file (full resolution), images in parallel.
  case decode
  /// `autofit` on every eligible box, each image decoded once for its boxes.
  case autofit
  /// `masks`: every segmentation to compressed RLE, area and bbox recomputed.
  case masks
  /// `iou --type mask` between the file and a shifted copy of it.
  case iou
  /// `agree --type mask` over the file and two perturbed copies (bootstrap 100).
  case agree
  /// Softmax fit on the crop features (or generated ones), then probabilities and entropy of
  /// every row; the thread count is OpenBLAS's.
  case classifier

  /// Parses a comma-separated list (`decode,autofit`), in the given order, duplicates dropped.
  ///
  /// - Throws: `BenchError` naming the unknown name and listing the valid ones.
  public static func parseList(_ text: String) throws(BenchError) -> [BenchOp] {
    var out: [BenchOp] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
      let name = part.trimmingPrefix(while: { $0 == " " })
      guard let op = BenchOp(rawValue: String(name)) else {
        throw BenchError(
          "--ops: unknown operation '\(name)' (expected one of \(allCases.map(\.rawValue).joined(separator: ", ")))")
      }
      if !out.contains(op) { out.append(op) }
    }
    return out
  }

  /// What one item of the operation is.
  var unit: String {
    switch self {
    case .decode, .agree: "images"
    case .autofit: "boxes"
    case .masks, .iou: "objects"
    case .classifier: "rows"
    }
  }
}

/// `annota bench` could not run (bad option value, unreadable input).
public struct BenchError: Error, Sendable, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// Settings of a bench run.
public struct BenchOptions: Sendable {
  /// A folder of images (the decode and autofit inputs).
  public var images: String?
  /// A COCO file (autofit, masks, iou, agree, and the classifier's labels).
  public var annotations: String?
  /// Thread counts, each measured; default 1 and every core.
  public var threads: [Int] = BenchRun.defaultThreads
  public var ops: [BenchOp] = BenchOp.allCases
  /// Timed runs per operation and thread count (the median is reported).
  public var repeats = 3
  /// Untimed runs before them. The first also sets how many passes over the data one timed
  /// run makes, so that it lasts at least `minimumRunSeconds` (short operations would otherwise
  /// measure the timer and the scheduler); with no warm-up, one pass.
  public var warmup = 1
  public var minimumRunSeconds = 0.2
  /// Only the first this many images of the file (or folder) are used.
  public var maxImages = 200
  /// Generated data when no input is given: images, size, seed.
  public var generatedImages = 12
  public var generatedWidth = 640
  public var generatedHeight = 480
  public var seed: UInt64 = 0

  public init() {}
}

/// One measured (operation, thread count).
public struct BenchRow: Sendable, Equatable {
  public var op: String
  public var threads: Int
  /// Items per run, and what an item is ("images", "boxes", ...).
  public var items: Int
  public var unit: String
  /// Passes over the data per timed run (see `BenchOptions.minimumRunSeconds`).
  public var passes: Int
  /// Wall time of one timed run (`passes` passes over all items): median, fastest and slowest
  /// of the repeats.
  public var medianSeconds: Double
  public var minSeconds: Double
  public var maxSeconds: Double
  public var itemsPerSecond: Double
  /// Megapixels of decoded image per second (decode and autofit only).
  public var megapixelsPerSecond: Double?
  /// Median throughput over the one-thread median of the same operation (nil without a
  /// one-thread row).
  public var speedup: Double?
  /// Peak resident memory of the process while this row ran, in MiB (see `BenchReport.memoryNote`).
  public var peakMiB: Double
  /// (slowest − fastest) / median.
  public var spread: Double { medianSeconds > 0 ? (maxSeconds - minSeconds) / medianSeconds : 0 }
}

/// Where auto-fit's time goes, measured at one thread.
public struct AutofitBreakdown: Sendable, Equatable {
  /// The decode scale autofit uses (it decodes at full resolution today).
  public var decodeScale: String
  /// Shares of the one-thread autofit time (they sum to 1).
  public var decodeShare: Double
  public var edgesShare: Double
  public var fittingShare: Double
  /// Milliseconds per image to decode at 1/1, 1/2, 1/4 (keys "1/1", ...).
  public var decodeMilliseconds: [String: Double]
  /// Share of the boxes whose fitter window is already downsampled by at least 2 (resp. 4): a
  /// decode at that scale would give them the same working resolution.
  public var boxesAtHalf: Double
  public var boxesAtQuarter: Double
}

/// Everything `annota bench` measured and concluded.
public struct BenchReport: Sendable, Equatable {
  public var source: String
  public var cores: Int
  public var loadStart: Double
  public var loadEnd: Double
  public var repeats: Int
  public var warmup: Int
  public var rows: [BenchRow]
  public var autofit: AutofitBreakdown?
  /// Spread over 10% on some row, or a load average at the start above half the cores.
  public var noisy: Bool
  public var recommendations: [String]
  /// Operations skipped and why.
  public var notes: [String]
  public var totalSeconds: Double
  /// How peak memory was measured.
  public var memoryNote: String

  /// The JSON form (`--json`).
  public var json: JSONValue {
    func number(_ v: Double?) -> JSONValue { v.map { .double($0) } ?? .null }
    var autofitJSON = JSONValue.null
    if let a = autofit {
      autofitJSON = .object([
        ("decodeScale", .string(a.decodeScale)), ("decodeShare", .double(a.decodeShare)),
        ("edgesShare", .double(a.edgesShare)), ("fittingShare", .double(a.fittingShare)),
        ("decodeMilliseconds", .object(a.decodeMilliseconds.sorted { $0.key < $1.key }.map { ($0.key, .double($0.value)) })),
        ("boxesAtHalf", .double(a.boxesAtHalf)), ("boxesAtQuarter", .double(a.boxesAtQuarter)),
      ])
    }
    return .object([
      ("version", .int(1)), ("source", .string(source)), ("cores", .int(Int64(cores))),
      ("loadStart", .double(loadStart)), ("loadEnd", .double(loadEnd)), ("repeats", .int(Int64(repeats))),
      ("warmup", .int(Int64(warmup))), ("totalSeconds", .double(totalSeconds)), ("noisy", .bool(noisy)),
      ("memoryNote", .string(memoryNote)),
      ("rows", .array(rows.map { r in
        .object([
          ("op", .string(r.op)), ("threads", .int(Int64(r.threads))), ("items", .int(Int64(r.items))),
          ("unit", .string(r.unit)), ("passes", .int(Int64(r.passes))), ("medianSeconds", .double(r.medianSeconds)),
          ("minSeconds", .double(r.minSeconds)), ("maxSeconds", .double(r.maxSeconds)),
          ("itemsPerSecond", .double(r.itemsPerSecond)), ("megapixelsPerSecond", number(r.megapixelsPerSecond)),
          ("speedup", number(r.speedup)), ("spread", .double(r.spread)), ("peakMiB", .double(r.peakMiB)),
        ])
      })),
      ("autofit", autofitJSON),
      ("recommendations", .array(recommendations.map { .string($0) })),
      ("notes", .array(notes.map { .string($0) })),
    ])
  }

  /// Reads the JSON form back.
  ///
  /// - Throws: `BenchError` naming the first missing or mistyped field.
  public init(json: JSONValue) throws(BenchError) {
    func field(_ o: JSONValue, _ key: String, _ at: String) throws(BenchError) -> JSONValue {
      guard let v = o[key] else { throw BenchError("\(at).\(key) is missing") }
      return v
    }
    func double(_ o: JSONValue, _ key: String, _ at: String) throws(BenchError) -> Double {
      guard let v = try field(o, key, at).number else { throw BenchError("\(at).\(key) is not a number") }
      return v
    }
    func optionalDouble(_ o: JSONValue, _ key: String, _ at: String) throws(BenchError) -> Double? {
      let v = try field(o, key, at)
      if v == .null { return nil }
      guard let d = v.number else { throw BenchError("\(at).\(key) is not a number") }
      return d
    }
    func int(_ o: JSONValue, _ key: String, _ at: String) throws(BenchError) -> Int {
      guard let v = try field(o, key, at).integer else { throw BenchError("\(at).\(key) is not an integer") }
      return Int(v)
    }
    func string(_ o: JSONValue, _ key: String, _ at: String) throws(BenchError) -> String {
      guard case .string(let s) = try field(o, key, at) else { throw BenchError("\(at).\(key) is not a string") }
      return s
    }
    func strings(_ o: JSONValue, _ key: String, _ at: String) throws(BenchError) -> [String] {
      guard case .array(let items) = try field(o, key, at) else { throw BenchError("\(at).\(key) is not an array") }
      var out: [String] = []
      for item in items {
        guard case .string(let s) = item else { throw BenchError("\(at).\(key) holds a non-string") }
        out.append(s)
      }
      return out
    }
    source = try string(json, "source", "$")
    cores = try int(json, "cores", "$")
    loadStart = try double(json, "loadStart", "$")
    loadEnd = try double(json, "loadEnd", "$")
    repeats = try int(json, "repeats", "$")
    warmup = try int(json, "warmup", "$")
    totalSeconds = try double(json, "totalSeconds", "$")
    guard case .bool(let n) = try field(json, "noisy", "$") else { throw BenchError("$.noisy is not a boolean") }
    noisy = n
    memoryNote = try string(json, "memoryNote", "$")
    guard case .array(let rowItems) = try field(json, "rows", "$") else { throw BenchError("$.rows is not an array") }
    rows = []
    for (i, r) in rowItems.enumerated() {
      let at = "$.rows[\(i)]"
      rows.append(BenchRow(
        op: try string(r, "op", at), threads: try int(r, "threads", at), items: try int(r, "items", at),
        unit: try string(r, "unit", at), passes: try int(r, "passes", at), medianSeconds: try double(r, "medianSeconds", at),
        minSeconds: try double(r, "minSeconds", at), maxSeconds: try double(r, "maxSeconds", at),
        itemsPerSecond: try double(r, "itemsPerSecond", at),
        megapixelsPerSecond: try optionalDouble(r, "megapixelsPerSecond", at),
        speedup: try optionalDouble(r, "speedup", at), peakMiB: try double(r, "peakMiB", at)))
    }
    let a = try field(json, "autofit", "$")
    if a == .null {
      autofit = nil
    } else {
      guard case .object(let scales)? = a["decodeMilliseconds"] else {
        throw BenchError("$.autofit.decodeMilliseconds is not an object")
      }
      var ms: [String: Double] = [:]
      for (k, v) in scales {
        guard let d = v.number else { throw BenchError("$.autofit.decodeMilliseconds.\(k) is not a number") }
        ms[k] = d
      }
      autofit = AutofitBreakdown(
        decodeScale: try string(a, "decodeScale", "$.autofit"), decodeShare: try double(a, "decodeShare", "$.autofit"),
        edgesShare: try double(a, "edgesShare", "$.autofit"), fittingShare: try double(a, "fittingShare", "$.autofit"),
        decodeMilliseconds: ms, boxesAtHalf: try double(a, "boxesAtHalf", "$.autofit"),
        boxesAtQuarter: try double(a, "boxesAtQuarter", "$.autofit"))
    }
    recommendations = try strings(json, "recommendations", "$")
    notes = try strings(json, "notes", "$")
  }

  init(
    source: String, cores: Int, loadStart: Double, loadEnd: Double, repeats: Int, warmup: Int,
    rows: [BenchRow], autofit: AutofitBreakdown?, noisy: Bool, recommendations: [String], notes: [String],
    totalSeconds: Double, memoryNote: String
  ) {
    self.source = source
    self.cores = cores
    self.loadStart = loadStart
    self.loadEnd = loadEnd
    self.repeats = repeats
    self.warmup = warmup
    self.rows = rows
    self.autofit = autofit
    self.noisy = noisy
    self.recommendations = recommendations
    self.notes = notes
    self.totalSeconds = totalSeconds
    self.memoryNote = memoryNote
  }

  /// The table `annota bench` prints.
  public var table: String {
    var s = "data: \(source)\n"
    s += "machine: \(cores) cores, load average \(fixed(loadStart, 2)) at start, \(fixed(loadEnd, 2)) at end; "
    s += "\(warmup) warm-up + \(repeats) timed runs per row, median shown\n\n"
    s += "op          threads    items  unit        items/s       MP/s  speed-up   spread  peak MiB\n"
    for r in rows {
      s += [
        r.op.padding(11), String(r.threads).leftPad(8), String(r.items).leftPad(8), " " + r.unit.padding(8),
        fixed(r.itemsPerSecond, r.itemsPerSecond < 100 ? 1 : 0).leftPad(12),
        (r.megapixelsPerSecond.map { fixed($0, 1) } ?? "–").leftPad(10),
        (r.speedup.map { fixed($0, 2) + "x" } ?? "–").leftPad(9),
        (fixed(100 * r.spread, 1) + "%").leftPad(8) + (r.spread > BenchRun.noisySpread ? "!" : " "),
        fixed(r.peakMiB, 0).leftPad(8),
      ].joined(separator: " ") + "\n"
    }
    if let a = autofit {
      s += "\nautofit at 1 thread: decode scale \(a.decodeScale); time in decode \(AutoFitRun.pct(a.decodeShare)), "
      s += "candidates (window resample, Sobel, Canny, features) \(AutoFitRun.pct(a.edgesShare)), "
      s += "scoring (trees, decision, guards) \(AutoFitRun.pct(a.fittingShare))\n"
      let scales = ["1/1", "1/2", "1/4"].compactMap { k in a.decodeMilliseconds[k].map { "\(k) \(fixed($0, 2)) ms" } }
      s += "  decode per image: " + scales.joined(separator: ", ") + "\n"
      s += "  boxes the fitter already works on at ≤ 1/2 resolution: \(AutoFitRun.pct(a.boxesAtHalf)), "
      s += "at ≤ 1/4: \(AutoFitRun.pct(a.boxesAtQuarter))\n"
    }
    s += "\nitems: per pass over the data; a timed run makes as many passes as last \(fixed(BenchRun.minimumRunSecondsNote, 1)) s or more.\n"
    s += "spread = (slowest − fastest) / median of the timed runs; ! marks rows over \(Int(100 * BenchRun.noisySpread))%.\n"
    s += "peak MiB: \(memoryNote)\n"
    s += "machine looked \(noisy ? "NOISY (other processes or frequency changes): treat small differences as noise" : "quiet")\n"
    for note in notes { s += "note: \(note)\n" }
    s += "\nrecommendation:\n"
    for r in recommendations { s += "  - \(r)\n" }
    s += "\ntotal \(fixed(totalSeconds, 1)) s\n"
    return s
  }
}

/// `annota bench`: throughput of the pipeline's operations on the user's data at several thread
/// counts, where auto-fit's time goes, and the settings to use.
public enum BenchRun {
  /// 1 and every core (just 1 on a one-core machine).
  public static var defaultThreads: [Int] {
    FileIO.processorCount > 1 ? [1, FileIO.processorCount] : [1]
  }

  /// The default `BenchOptions.minimumRunSeconds`, for the table's legend.
  static let minimumRunSecondsNote = BenchOptions().minimumRunSeconds

  /// A row whose spread is over this share of its median marks the machine as noisy.
  public static let noisySpread = 0.10

  /// Runs the benchmark. `log` receives one line per measured row (progress).
  ///
  /// - Throws: `BenchError` when an input cannot be read or an option is invalid.
  public static func run(_ options: BenchOptions, log: @Sendable (String) -> Void = { _ in }) async throws(BenchError)
    -> BenchReport
  {
    guard !options.threads.isEmpty, options.threads.allSatisfy({ $0 >= 1 }) else {
      throw BenchError("--threads: every count must be at least 1")
    }
    guard options.repeats >= 1 else { throw BenchError("--repeats must be at least 1") }
    guard !options.ops.isEmpty else { throw BenchError("--ops: no operation given") }
    let clock = ContinuousClock()
    let start = clock.now
    let loadStart = loadAverage()
    var data: BenchData
    if options.images == nil && options.annotations == nil {
      data = try BenchData.generate(
        count: options.generatedImages, width: options.generatedWidth, height: options.generatedHeight,
        seed: options.seed)
    } else {
      data = try BenchData.load(images: options.images, annotations: options.annotations, maxImages: options.maxImages)
    }
    defer { data.cleanUp() }
    let threads = Array(Set(options.threads)).sorted()
    var rows: [BenchRow] = []
    var notes: [String] = []
    var breakdown: AutofitBreakdown?
    let memoryReset = resetPeakMemory()
    for op in options.ops {
      guard let workload = try await prepare(op, data: data, notes: &notes) else { continue }
      var oneThread: Double?
      for t in threads {
        _ = resetPeakMemory()
        var passes = 1
        for w in 0..<options.warmup {
          let t0 = clock.now
          await workload.body(t)
          if w == 0 {
            let once = max(seconds(clock.now - t0), 1e-6)
            passes = max(1, min(10_000, Int((options.minimumRunSeconds / once).rounded(.up))))
          }
        }
        var times: [Double] = []
        for _ in 0..<options.repeats {
          let t0 = clock.now
          for _ in 0..<passes { await workload.body(t) }
          times.append(seconds(clock.now - t0))
        }
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        let rate = Double(workload.items * passes) / max(median, 1e-9)
        if t == 1 { oneThread = rate }
        let row = BenchRow(
          op: op.rawValue, threads: t, items: workload.items, unit: op.unit, passes: passes, medianSeconds: median,
          minSeconds: times.first!, maxSeconds: times.last!, itemsPerSecond: rate,
          megapixelsPerSecond: workload.megapixels.map { $0 * Double(passes) / max(median, 1e-9) },
          speedup: oneThread.map { rate / $0 }, peakMiB: peakMemoryMiB())
        rows.append(row)
        log("\(op.rawValue) at \(t) thread\(t == 1 ? "" : "s"): \(fixed(row.itemsPerSecond, 1)) \(op.unit)/s")
      }
      if op == .autofit, let row = rows.last(where: { $0.op == "autofit" && $0.threads == 1 }) {
        breakdown = autofitBreakdown(data: data, totalSeconds: row.medianSeconds / Double(row.passes), repeats: options.repeats)
      } else if op == .autofit {
        notes.append("autofit: the time breakdown needs a 1-thread row (add 1 to --threads)")
      }
    }
    BLAS.threads = 1
    let loadEnd = loadAverage()
    let noisy = rows.contains { $0.spread > noisySpread } || loadStart > 0.5 * Double(FileIO.processorCount)
    let memoryNote =
      memoryReset
      ? "the process's resident-memory high-water mark (VmHWM), reset before each row, so it is that row's peak; it includes what was already resident (the loaded inputs, about the same for every row of an operation)"
      : "the process's resident-memory high-water mark (VmHWM) since it started (this kernel did not let it be reset), so it only grows down the table"
    var report = BenchReport(
      source: data.source, cores: FileIO.processorCount, loadStart: loadStart, loadEnd: loadEnd,
      repeats: options.repeats, warmup: options.warmup, rows: rows, autofit: breakdown, noisy: noisy,
      recommendations: [], notes: notes, totalSeconds: 0, memoryNote: memoryNote)
    report.recommendations = recommend(report)
    report.totalSeconds = seconds(clock.now - start)
    return report
  }

  // MARK: Workloads

  /// One operation ready to run: its inputs are loaded; `body(threads)` does one timed run.
  struct Workload: Sendable {
    var items: Int
    var megapixels: Double?
    var body: @Sendable (Int) async -> Void
  }

  static func prepare(_ op: BenchOp, data: BenchData, notes: inout [String]) async throws(BenchError) -> Workload? {
    switch op {
    case .decode:
      guard !data.imagePaths.isEmpty else {
        notes.append("decode: skipped (no images; give --images DIR)")
        return nil
      }
      // One untimed pass finds the readable files and their size.
      var paths: [String] = []
      var pixels = 0
      for path in data.imagePaths {
        if let decoded = try? ImageFiles.decode(path) {
          paths.append(path)
          pixels += decoded.image.pixelCount
        } else {
          notes.append("decode: \(path) could not be read or decoded and was left out")
        }
      }
      guard !paths.isEmpty else { return nil }
      let list = paths
      return Workload(items: list.count, megapixels: Double(pixels) / 1e6) { threads in
        await BatchRunner(maxConcurrency: threads).forEach(list, { path in
          try ImageFiles.decode(path).image.pixelCount
        }) { _, _ in }
      }
    case .autofit:
      guard let dataset = data.dataset, let directory = data.imagesDirectory else {
        notes.append("autofit: skipped (needs --images DIR and --annotations ANN.json)")
        return nil
      }
      let boxes = dataset.annotations.filter { eligible($0) && dataset.imageIndex[$0.imageID] != nil }
      guard !boxes.isEmpty else {
        notes.append("autofit: skipped (no box of at least \(Int(FitProtocol.minimumSide)) px a side)")
        return nil
      }
      let withBoxes = Set(boxes.map(\.imageID))
      let pixels = dataset.images.filter { withBoxes.contains($0.id) }.reduce(0) { $0 + $1.width * $1.height }
      return Workload(items: boxes.count, megapixels: Double(pixels) / 1e6) { threads in
        _ = await AutoFitRun.fit(
          dataset, imagesDirectory: directory, fitter: .learned(BuiltInFitModel.model), minimumConfidence: 0,
          runner: BatchRunner(maxConcurrency: threads), progress: nil)
      }
    case .masks:
      guard let dataset = data.dataset else {
        notes.append("masks: skipped (needs --annotations ANN.json)")
        return nil
      }
      let count = dataset.annotations.filter { $0.segmentation != nil }.count
      return Workload(items: count, megapixels: nil) { threads in
        _ = await MaskConversion.run(dataset, to: .rle, runner: BatchRunner(maxConcurrency: threads))
      }
    case .iou:
      guard let dataset = data.dataset else {
        notes.append("iou: skipped (needs --annotations ANN.json)")
        return nil
      }
      let other = try BenchData.perturbed(dataset, copy: 1)
      return Workload(items: dataset.annotations.count, megapixels: nil) { threads in
        await Pairing.run(
          dataset, other, options: Pairing.Options(kind: .mask), runner: BatchRunner(maxConcurrency: threads)
        ) { _, _ in }
      }
    case .agree:
      guard let dataset = data.dataset else {
        notes.append("agree: skipped (needs --annotations ANN.json)")
        return nil
      }
      let copies = [dataset, try BenchData.perturbed(dataset, copy: 2), try BenchData.perturbed(dataset, copy: 3)]
      var options = AgreeOptions()
      options.kind = .mask
      options.bootstrap = 100
      let agreeOptions = options
      return Workload(items: dataset.images.count, megapixels: nil) { threads in
        _ = await AgreementRun.run(
          files: ["annotator-1", "annotator-2", "annotator-3"], datasets: copies, gold: nil,
          options: agreeOptions, runner: BatchRunner(maxConcurrency: threads))
      }
    case .classifier:
      var (x, labels, classes) = generatedFeatures()
      if let dataset = data.dataset, let directory = data.imagesDirectory {
        let result = await dataset.cropFeatures(
          imagesDirectory: directory, includeCrowd: false,
          runner: BatchRunner(maxConcurrency: FileIO.processorCount), progress: nil)
        let categories = Array(Set(result.ids.compactMap(\.category))).sorted()
        if categories.count >= 2 && result.features.rows == result.ids.count {
          let index = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, $0) })
          x = result.features
          labels = result.ids.map { index[$0.category ?? categories[0]] ?? 0 }
          classes = categories.count
        } else {
          notes.append("classifier: the file has fewer than two categories; generated features used")
        }
      } else {
        notes.append("classifier: generated features (2,000 x 64, 10 classes); with --images and --annotations it uses the crop descriptors")
      }
      let features = x
      let y = labels
      let k = classes
      let rows = Array(0..<features.rows)
      return Workload(items: features.rows, megapixels: nil) { threads in
        BLAS.threads = threads
        let model = SoftmaxRegression.fit(features, rows: rows, labels: y, classes: k).model
        _ = UncertaintyMeasure.entropy.scores(model.probabilities(features))
      }
    }
  }

  /// Whether autofit fits this annotation (the rule of `AutoFitRun`: not crowd, a box of at least
  /// `FitProtocol.minimumSide` a side).
  static func eligible(_ a: COCOAnnotation) -> Bool {
    guard !a.isCrowd, let b = a.bbox else { return false }
    return b.width >= FitProtocol.minimumSide && b.height >= FitProtocol.minimumSide
  }

  /// Gaussian blobs: 2,000 rows of 64 features around 10 seeded centres.
  static func generatedFeatures() -> (Matrix<Float>, [Int], Int) {
    var rng = SplitMix64(seed: 6)
    func gaussian() -> Double {
      let u = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-300)
      let v = Double(rng.next() >> 11) / Double(1 << 53)
      return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
    let (n, d) = (2_000, 64)
    let centres = (0..<10).map { _ in (0..<d).map { _ in gaussian() * 0.6 } }
    var x = Matrix<Float>(rows: n, columns: d)
    var y = [Int](repeating: 0, count: n)
    for i in 0..<n {
      y[i] = i % 10
      for j in 0..<d { x[i, j] = Float(centres[y[i]][j] + gaussian()) }
    }
    return (x, y, 10)
  }

  // MARK: Auto-fit breakdown

  /// Decode time (at 1/1, 1/2, 1/4), candidate time and the rest, one thread, for the images
  /// with eligible boxes. The candidate stage is the learned fitter's first half (window
  /// resample, Sobel, Canny, the candidates' features: `SideCandidates`), timed on its own; the
  /// rest (the trees' scoring and the decision) is what remains of the whole run.
  static func autofitBreakdown(data: BenchData, totalSeconds: Double, repeats: Int) -> AutofitBreakdown? {
    guard let dataset = data.dataset, let directory = data.imagesDirectory else { return nil }
    let clock = ContinuousClock()
    var decodeTimes: [DecodeScale: Double] = [:]
    var edgeSeconds = 0.0
    var images = 0
    var boxCount = 0
    var half = 0
    var quarter = 0
    for (imageID, annotations) in dataset.annotationsByImage() {
      let boxes = annotations.filter(eligible).compactMap(\.bbox)
      guard !boxes.isEmpty, let ii = dataset.imageIndex[imageID], let name = dataset.images[ii].fileName else { continue }
      let path = DedupRun.join(directory, name)
      guard let bytes = try? FileIO.read(path), let decoded = try? ImageDecoder.decode(bytes) else { continue }
      images += 1
      for scale in [DecodeScale.full, .half, .quarter] {
        var best = Double.infinity
        for _ in 0..<repeats {
          let t0 = clock.now
          // As autofit reads it: the file, then the decode.
          if let b = try? FileIO.read(path) { _ = try? ImageDecoder.decode(b, options: DecodeOptions(scale: scale)) }
          best = min(best, seconds(clock.now - t0))
        }
        decodeTimes[scale, default: 0] += best
      }
      var edges = [Double](repeating: 0, count: repeats)
      for r in 0..<repeats {
        let t0 = clock.now
        for (i, box) in boxes.enumerated() {
          let others = boxes.indices.filter { $0 != i }.map { boxes[$0] }
          precondition(SideCandidates(image: decoded.image, rough: box, others: others) != nil || box.width < 4 || box.height < 4)
        }
        edges[r] = seconds(clock.now - t0)
      }
      edgeSeconds += edges.min()!
      for box in boxes {
        boxCount += 1
        let factor = max(1, Int((max(box.width, box.height) / Double(SideCandidates.boxSize)).rounded(.down)))
        if factor >= 2 { half += 1 }
        if factor >= 4 { quarter += 1 }
      }
    }
    guard images > 0, totalSeconds > 0 else { return nil }
    let decode = min(decodeTimes[.full] ?? 0, totalSeconds)
    let edges = min(edgeSeconds, totalSeconds - decode)
    let fitting = max(0, totalSeconds - decode - edges)
    var ms: [String: Double] = [:]
    for (scale, t) in decodeTimes { ms[scale.description] = 1000 * t / Double(images) }
    return AutofitBreakdown(
      decodeScale: DecodeScale.full.description, decodeShare: decode / totalSeconds, edgesShare: edges / totalSeconds,
      fittingShare: fitting / totalSeconds, decodeMilliseconds: ms,
      boxesAtHalf: Double(half) / Double(max(1, boxCount)), boxesAtQuarter: Double(quarter) / Double(max(1, boxCount)))
  }

  // MARK: Recommendation

  /// Settings drawn from the rows: per operation the fewest threads within 10% of its best
  /// throughput, one `--threads` for the pipeline, BLAS threads, decode scale, noise.
  static func recommend(_ report: BenchReport) -> [String] {
    var out: [String] = []
    var choice: [String: Int] = [:]
    var ops: [String] = []
    for row in report.rows where !ops.contains(row.op) { ops.append(row.op) }
    for op in ops {
      let rows = report.rows.filter { $0.op == op }
      guard let best = rows.map(\.itemsPerSecond).max() else { continue }
      choice[op] = rows.filter { $0.itemsPerSecond >= 0.9 * best }.map(\.threads).min() ?? 1
    }
    let batchOps = ops.filter { $0 != BenchOp.classifier.rawValue }
    if !batchOps.isEmpty {
      var votes: [Int: [String]] = [:]
      for op in batchOps { votes[choice[op]!, default: []].append(op) }
      let pick = votes.max { a, b in a.value.count != b.value.count ? a.value.count < b.value.count : a.key > b.key }!.key
      let maxMeasured = report.rows.map(\.threads).max() ?? 1
      var line = "--threads \(pick) for \(votes[pick]!.joined(separator: ", "))"
      if pick == maxMeasured && maxMeasured > 1 {
        line += ": throughput still grew up to the most threads measured"
      } else if pick < maxMeasured {
        line += ": more threads gained under 10% here"
      }
      let others = votes.filter { $0.key != pick }.sorted { $0.key < $1.key }
      for (t, names) in others { line += "; \(names.joined(separator: ", ")) did best with \(t)" }
      let speedups = batchOps.compactMap { op in
        report.rows.last { $0.op == op && $0.threads == maxMeasured }?.speedup.map { "\(op) \(fixed($0, 2))x" }
      }
      if maxMeasured > 1 && !speedups.isEmpty {
        line += " (speed-up at \(maxMeasured) threads: \(speedups.joined(separator: ", ")))"
      }
      out.append(line)
    }
    if choice[BenchOp.classifier.rawValue] != nil {
      let rows = report.rows.filter { $0.op == BenchOp.classifier.rawValue }
      let top = rows.max { $0.threads < $1.threads }
      let gain = top?.speedup.map { "\(fixed($0, 2))x at \(top!.threads) BLAS threads" } ?? "one thread count measured"
      out.append(
        "classifier: \(gain) on these features. Nothing to set: rank and simulate run OpenBLAS on one thread, because a second one rounds some products differently and the model would depend on the thread count")
    }
    if let a = report.autofit {
      let full = a.decodeMilliseconds["1/1"] ?? 0
      let halfMs = a.decodeMilliseconds["1/2"] ?? full
      let saved = full > 0 ? (full - halfMs) / full * a.decodeShare : 0
      var line = "decode scale for autofit: keep 1/1 (autofit decodes at full resolution; it has no scale option yet). "
      line += "A 1/2 decode would cut autofit's time by about \(AutoFitRun.pct(saved)) "
      line += "and leave \(AutoFitRun.pct(a.boxesAtHalf)) of these boxes at the resolution the fitter uses anyway"
      if a.boxesAtHalf >= 0.9 { line += ": worth adding for this data" }
      out.append(line)
    }
    if report.noisy {
      var line = "the machine was noisy ("
      if let worst = report.rows.max(by: { $0.spread < $1.spread }), worst.spread > noisySpread {
        line += "spread up to \(AutoFitRun.pct(worst.spread)) on \(worst.op) at \(worst.threads) thread\(worst.threads == 1 ? "" : "s"); "
      }
      line += "load average \(fixed(report.loadStart, 2)) on \(report.cores) cores at the start): other processes took CPU time, "
      line += "so the speed-ups above understate what idle cores give. Rerun when the machine is idle, or with more --repeats (now \(report.repeats)), before settling --threads"
      out.append(line)
    } else {
      out.append("the machine was quiet (every spread under \(Int(100 * noisySpread))%): \(report.repeats) repeats are enough")
    }
    return out
  }

  // MARK: System facts

  static func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
  }

  /// The one-minute load average, or 0 when unreadable.
  static func loadAverage() -> Double {
    guard let text = readSystemFile("/proc/loadavg") else { return 0 }
    return text.split(separator: " ").first.flatMap { Double($0) } ?? 0
  }

  /// Resets the kernel's resident-memory high-water mark of this process (`5` into
  /// `/proc/self/clear_refs`, Linux 4.0+); false if not possible.
  @discardableResult
  static func resetPeakMemory() -> Bool {
    let fd = open("/proc/self/clear_refs", O_WRONLY)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return write(fd, "5", 1) == 1
  }

  /// A small file of /proc (whose stat size is 0, so `FileIO.read` would read nothing).
  static func readSystemFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      out += buffer[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// `VmHWM` of `/proc/self/status`, in MiB (0 when unreadable).
  static func peakMemoryMiB() -> Double {
    guard let text = readSystemFile("/proc/self/status") else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
      let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) }
      return (kb ?? 0) / 1024
    }
    return 0
  }
}
