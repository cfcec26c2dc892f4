// annota-masks-bench: times AnnotaGeometry's mask operations on the inputs that
// `baselines/pymasks.py gen DIR` writes (DIR/inputs.json, DIR/masks.bin), the same loop as
// `pymasks.py time` (warm-up, then the median of N), used by compare-masks.sh.
//
//   annota-masks-bench DIR [--threads N] [--iters N] [--warmup N]
//   annota-masks-bench --load COCO.json     (reads the file once: COCODataset.load, timed)
//   annota-masks-bench --rasterize COCO.json [ROUNDS]   (every polygon annotation to its mask and
//                                                        box, ROUNDS times after a warm-up; the
//                                                        rasterizer alone, without reading: once
//                                                        to counts, as `masks` does, once to
//                                                        intervals with one scratch, as `iou`
//                                                        and `agree` do)
//   annota-masks-bench --parse COCO.json [ROUNDS]       (reads the file ROUNDS times without the
//                                                        annotation objects, as `iou` and `agree`
//                                                        do; the lowest and median time)
//
// One line per operation: `op=NAME threads=N median_ms=… best_ms=… ok=0|1`, where ok says that the
// result equals pycocotools' (strings, pixels, or the IoU matrix's sum to 1e-9 relative).
//
// Each operation starts from the representation the pycocotools call takes and ends with what it
// returns (see pymasks.py), except `rle-iou-*`, which start from already-parsed RLEs (RLESet is
// built inside the timed region); `rle-iou-1000-parse` also parses the 2000 strings, as
// pycocotools' `iou` does internally.
//
// With --threads 1 every operation is a plain serial loop over the library calls. With N > 1, the
// operations over many items split them into N contiguous chunks run by AnnotaEngine's
// BatchRunner (an RLE IoU matrix by rows of detections, the ground-truth RLESet built once
// before); union-10 (a single merge) always runs serially.
import AnnotaEngine
import AnnotaGeometry

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func fail(_ message: String) -> Never {
  var text = "annota-masks-bench: \(message)\n"
  text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }  // stderr
  exit(64)
}

func nowNanoseconds() -> UInt64 {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// The inputs of every operation, as pymasks.py wrote them.
struct Inputs: Sendable {
  var height = 0
  var width = 0
  var masks: [Mask] = []
  var maskCounts: [String] = []
  var polygons: [[Double]] = []
  var dt: [String] = []
  var gt: [String] = []
  var crowd: [Bool] = []
  var dtBoxes: [Box] = []
  var gtBoxes: [Box] = []
  var union = 0
  var expected: [String: JSONValue] = [:]

  init(directory: String) {
    let json: JSONValue
    do {
      let bytes = try FileIO.read(directory + "/inputs.json")
      json = try JSONReader.parse(bytes)
    } catch {
      fail("\(directory)/inputs.json: \(error) (run baselines/pymasks.py gen \(directory))")
    }
    func strings(_ key: String) -> [String] {
      guard case .array(let items)? = json[key] else { fail("inputs.json: no \(key)") }
      return items.map { item in
        guard case .string(let s) = item else { fail("inputs.json: \(key) holds a non-string") }
        return s
      }
    }
    func arrays(_ key: String) -> [[Double]] {
      guard case .array(let items)? = json[key] else { fail("inputs.json: no \(key)") }
      return items.map { item in
        guard let numbers = item.numberArray else { fail("inputs.json: \(key) holds a non-number list") }
        return numbers
      }
    }
    func int(_ key: String) -> Int {
      guard let value = json[key]?.integer else { fail("inputs.json: no \(key)") }
      return Int(value)
    }
    height = int("height")
    width = int("width")
    maskCounts = strings("mask_counts")
    polygons = arrays("polygons")
    dt = strings("dt")
    gt = strings("gt")
    guard let flags = json["crowd"]?.numberArray else { fail("inputs.json: no crowd") }
    crowd = flags.map { $0 != 0 }
    dtBoxes = arrays("dt_boxes").map { Box(x: $0[0], y: $0[1], width: $0[2], height: $0[3]) }
    gtBoxes = arrays("gt_boxes").map { Box(x: $0[0], y: $0[1], width: $0[2], height: $0[3]) }
    union = int("union")
    guard case .object(let members)? = json["expected"] else { fail("inputs.json: no expected") }
    for (key, value) in members { expected[key] = value }
    let count = int("masks")
    let pixels = height * width
    let raw: [UInt8]
    do { raw = try FileIO.read(directory + "/masks.bin") } catch { fail("\(error)") }
    guard raw.count == count * pixels else { fail("masks.bin: \(raw.count) bytes, want \(count * pixels)") }
    masks = (0..<count).map { i in
      Mask(height: height, width: width, columnMajor: Array(raw[(i * pixels)..<((i + 1) * pixels)]))
    }
  }

  func expectedNumber(_ key: String) -> Double {
    guard let value = expected[key]?.number else { fail("inputs.json: no expected.\(key)") }
    return value
  }

  func parse(_ string: String) -> RLE {
    do throws(GeometryError) {
      return try RLE(height: height, width: width, compressed: string)
    } catch {
      fail("cannot parse \(string.prefix(40))…: \(error)")
    }
  }
}

/// `body` over 0..<n: directly with one thread, else over `threads` contiguous chunks in parallel
/// (results concatenated in order).
func chunked<Output: Sendable>(
  _ n: Int, threads: Int, _ body: @escaping @Sendable (Range<Int>) -> [Output]
) async -> [Output] {
  if threads == 1 { return body(0..<n) }
  let chunks = (0..<threads).map { t in (n * t / threads)..<(n * (t + 1) / threads) }
  let results = await BatchRunner(maxConcurrency: threads).map(chunks) { body($0) }
  var out: [Output] = []
  out.reserveCapacity(n)
  for result in results {
    switch result {
    case .success(let part): out.append(contentsOf: part)
    case .failure(let error): fail("\(error)")
    }
  }
  return out
}

func matrixSum(_ matrix: [[Double]]) -> Double { matrix.reduce(0) { $0 + $1.reduce(0, +) } }

func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(b)) }

struct Settings: Sendable {
  var directory = ""
  var threads = 1
  var iterations = 20
  var warmup = 3
  var only: String?
}

func parseArguments() -> Settings {
  var arguments = CommandLine.arguments.dropFirst()
  var settings = Settings()
  guard let directory = arguments.popFirst() else {
    fail("usage: annota-masks-bench DIR [--threads N] [--iters N] [--warmup N] [--only OP]")
  }
  settings.directory = directory
  while let flag = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
    switch flag {
    case "--threads", "--iters", "--warmup":
      guard let n = Int(value), n >= (flag == "--warmup" ? 0 : 1) else { fail("bad \(flag) \(value)") }
      if flag == "--threads" {
        settings.threads = n
      } else if flag == "--iters" {
        settings.iterations = n
      } else {
        settings.warmup = n
      }
    case "--only":
      settings.only = value
    default:
      fail("unknown option \(flag)")
    }
  }
  return settings
}

/// Runs `operation` warmup + iterations times, checks the first result, prints the median.
func measure<R>(
  _ name: String, _ settings: Settings, _ operation: () async -> R, check: (R) -> Bool
) async {
  if let only = settings.only, only != name { return }
  let (iterations, warmup) = (settings.iterations, settings.warmup)
  var times: [UInt64] = []
  times.reserveCapacity(iterations)
  var ok = false
  for iteration in 0..<(warmup + iterations) {
    let start = nowNanoseconds()
    let result = await operation()
    let elapsed = nowNanoseconds() - start
    if iteration >= warmup { times.append(elapsed) }
    if iteration == 0 { ok = check(result) }
  }
  times.sort()
  let median = times.count % 2 == 1
    ? Double(times[times.count / 2])
    : Double(times[times.count / 2 - 1] + times[times.count / 2]) / 2
  print("op=\(name) threads=\(settings.threads) median_ms=\(median / 1e6) best_ms=\(Double(times[0]) / 1e6) "
          + "ok=\(ok ? 1 : 0)")
}

func runAll(_ inputs: Inputs, _ settings: Settings) async {
  let threads = settings.threads
  let (h, w) = (inputs.height, inputs.width)
  let parsedDT = inputs.dt.map(inputs.parse)
  let parsedGT = inputs.gt.map(inputs.parse)

  await measure("encode-100", settings, {
    await chunked(inputs.masks.count, threads: threads) { range in
      range.map { RLE(inputs.masks[$0]).compressedString }
    }
  }, check: { $0 == inputs.maskCounts })

  await measure("decode-100", settings, {
    await chunked(inputs.maskCounts.count, threads: threads) { range in
      range.map { inputs.parse(inputs.maskCounts[$0]).decoded() }
    }
  }, check: { $0 == inputs.masks })

  await measure("parse-1000", settings, {
    await chunked(inputs.dt.count, threads: threads) { range in range.map { inputs.parse(inputs.dt[$0]) } }
  }, check: { $0 == parsedDT && $0.map(\.compressedString) == inputs.dt })

  await measure("polygons-1000", settings, {
    await chunked(inputs.polygons.count, threads: threads) { range in
      range.map { Polygon(rings: [inputs.polygons[$0]]).rle(height: h, width: w).compressedString }
    }
  }, check: { $0 == inputs.dt })

  // IoU of detections against ground truths: the ground truths' RLESet once, detections by rows.
  func iou(_ dt: @escaping @Sendable () -> [RLE], _ gt: [RLE], _ crowd: [Bool]) async -> [[Double]] {
    let truths = RLESet(gt)
    if threads == 1 { return RLESet(dt()).iouMatrix(truths, crowd: crowd) }
    let detections = dt()
    return await chunked(detections.count, threads: threads) { range in
      RLESet(Array(detections[range])).iouMatrix(truths, crowd: crowd)
    }
  }
  let dt100 = Array(parsedDT.prefix(100)), gt100 = Array(parsedGT.prefix(100))
  let crowd100 = Array(inputs.crowd.prefix(100))
  await measure("rle-iou-100", settings, { await iou({ dt100 }, gt100, crowd100) },
                check: { close(matrixSum($0), inputs.expectedNumber("rle_iou_100_sum")) })
  await measure("rle-iou-1000", settings, { await iou({ parsedDT }, parsedGT, inputs.crowd) },
                check: { close(matrixSum($0), inputs.expectedNumber("rle_iou_1000_sum")) })
  await measure("rle-iou-1000-parse", settings, {
    if threads == 1 {
      return RLESet(inputs.dt.map(inputs.parse)).iouMatrix(RLESet(inputs.gt.map(inputs.parse)),
                                                           crowd: inputs.crowd)
    }
    let truths = RLESet(await chunked(inputs.gt.count, threads: threads) { range in
      range.map { inputs.parse(inputs.gt[$0]) }
    })
    return await chunked(inputs.dt.count, threads: threads) { range in
      RLESet(range.map { inputs.parse(inputs.dt[$0]) }).iouMatrix(truths, crowd: inputs.crowd)
    }
  }, check: { close(matrixSum($0), inputs.expectedNumber("rle_iou_1000_sum")) })

  await measure("box-iou-1000", settings, {
    await chunked(inputs.dtBoxes.count, threads: threads) { range in
      Box.iouMatrix(Array(inputs.dtBoxes[range]), inputs.gtBoxes, crowd: inputs.crowd)
    }
  }, check: { close(matrixSum($0), inputs.expectedNumber("box_iou_1000_sum")) })

  if threads == 1 {
    let strings = Array(inputs.dt.prefix(inputs.union))
    guard case .string(let expected)? = inputs.expected["union_10"] else { fail("no expected.union_10") }
    await measure("union-10", settings, {
      RLE.union(strings.map(inputs.parse)).compressedString
    }, check: { $0 == expected })
  }
}

/// ROUNDS, the optional fourth argument (5 without it).
func roundsArgument() -> Int {
  let rounds = CommandLine.arguments.count == 4 ? Int(CommandLine.arguments[3]) ?? 0 : 5
  if rounds < 1 { fail("ROUNDS must be a positive integer") }
  return rounds
}

if (3...4).contains(CommandLine.arguments.count) && CommandLine.arguments[1] == "--parse" {
  var times: [UInt64] = []
  var annotations = 0
  for _ in 0..<roundsArgument() {
    let start = nowNanoseconds()
    do {
      annotations = try COCODataset.load(CommandLine.arguments[2], keepingAnnotationObjects: false).annotations.count
    } catch { fail("\(error)") }
    times.append(nowNanoseconds() - start)
  }
  times.sort()
  print("op=parse-coco lib=annota annotations=\(annotations) median_ms=\(Double(times[times.count / 2]) / 1e6) best_ms=\(Double(times[0]) / 1e6)")
} else if CommandLine.arguments.count == 3 && CommandLine.arguments[1] == "--load" {
  // One read of a COCO file in this process, so that /usr/bin/time's peak RSS is the reader's.
  let start = nowNanoseconds()
  let dataset: COCODataset
  do { dataset = try COCODataset.load(CommandLine.arguments[2]) } catch { fail("\(error)") }
  let seconds = Double(nowNanoseconds() - start) / 1e9
  print("op=load-coco lib=annota seconds=\(seconds) annotations=\(dataset.annotations.count)")
} else if (3...4).contains(CommandLine.arguments.count) && CommandLine.arguments[1] == "--rasterize" {
  let dataset: COCODataset
  do { dataset = try COCODataset.load(CommandLine.arguments[2]) } catch { fail("\(error)") }
  let rounds = roundsArgument()
  var jobs: [(Polygon, Int, Int)] = []
  for annotation in dataset.annotations {
    guard case .polygons(let polygon)? = annotation.segmentation,
      let image = dataset.image(of: annotation)
    else { continue }
    jobs.append((polygon, image.height, image.width))
  }
  // A checksum over every mask's run count, area and box, so that two builds can be compared.
  func rasterizeAll(toIntervals: Bool) -> (nanoseconds: UInt64, checksum: Int) {
    let start = nowNanoseconds()
    var checksum = 0
    let scratch = RasterizerScratch()
    for (polygon, height, width) in jobs {
      let (runs, area, box): (Int, Int, Box)
      if toIntervals {
        let mask = polygon.maskIntervals(height: height, width: width, scratch: scratch)
        (runs, area, box) = (mask.intervals.count, mask.area, mask.box)
      } else {
        let (rle, rleBox) = polygon.rleWithBox(height: height, width: width)
        (runs, area, box) = (rle.counts.count, rle.area, rleBox)
      }
      checksum = checksum &* 31 &+ runs &+ area &+ Int(box.x + 7 * box.y + 13 * box.width + 17 * box.height)
    }
    return (nowNanoseconds() - start, checksum)
  }
  for (name, toIntervals) in [("rasterize-coco", false), ("rasterize-coco-intervals", true)] {
    let reference = rasterizeAll(toIntervals: toIntervals).checksum
    var times: [UInt64] = []
    for _ in 0..<rounds {
      let (time, checksum) = rasterizeAll(toIntervals: toIntervals)
      if checksum != reference { fail("the masks differ between rounds") }
      times.append(time)
    }
    times.sort()
    print("op=\(name) lib=annota polygons=\(jobs.count) median_ms=\(Double(times[rounds / 2]) / 1e6) best_ms=\(Double(times[0]) / 1e6) checksum=\(reference)")
  }
} else {
  let settings = parseArguments()
  await runAll(Inputs(directory: settings.directory), settings)
}
