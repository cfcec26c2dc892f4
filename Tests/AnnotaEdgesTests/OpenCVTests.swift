import AnnotaEdges
import AnnotaImage
import AnnotaImageIO
import AnnotaTestSupport
import Foundation
import Testing

private let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()

/// The real COCO photos beside the project (absent on machines without ../shared).
private let cocoImages = repoRoot.deletingLastPathComponent()
  .appendingPathComponent("shared/data/coco-val-mini/images")
private let haveCOCO = FileManager.default.fileExists(atPath: cocoImages.path)

private let opencvPython = pythonWith("cv2, numpy")

/// How two edge maps agree: exact Jaccard |A∩B| / |A∪B| of the edge pixels, and F1 when a pixel
/// within one pixel (8-neighbourhood) of the other map's edge counts as matched.
struct Agreement {
  var ours: Int
  var theirs: Int
  var jaccard: Double
  var f1: Double

  init(_ a: [UInt8], _ b: [UInt8], width: Int, height: Int) {
    precondition(a.count == width * height && b.count == width * height)
    var intersection = 0
    var union = 0
    ours = 0
    theirs = 0
    for i in 0..<a.count {
      let p = a[i] != 0
      let q = b[i] != 0
      if p { ours += 1 }
      if q { theirs += 1 }
      if p && q { intersection += 1 }
      if p || q { union += 1 }
    }
    jaccard = union == 0 ? 1 : Double(intersection) / Double(union)
    if a == b {  // the usual case; the neighbourhood scan below is slow in debug builds
      f1 = 1
      return
    }
    func near(_ map: [UInt8], _ x: Int, _ y: Int) -> Bool {
      for v in max(0, y - 1)...min(height - 1, y + 1) {
        for u in max(0, x - 1)...min(width - 1, x + 1) where map[v * width + u] != 0 { return true }
      }
      return false
    }
    var matchedA = 0
    var matchedB = 0
    for y in 0..<height {
      for x in 0..<width {
        if a[y * width + x] != 0 && near(b, x, y) { matchedA += 1 }
        if b[y * width + x] != 0 && near(a, x, y) { matchedB += 1 }
      }
    }
    let precision = ours == 0 ? 1 : Double(matchedA) / Double(ours)
    let recall = theirs == 0 ? 1 : Double(matchedB) / Double(theirs)
    f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
  }
}

/// One comparison: an image, a mode and the figures.
struct CrossCheckRow {
  var image: String
  var mode: String
  var agreement: Agreement
}

/// Runs Annota and OpenCV (through Tests/scripts/opencv_canny.py) on the same decoded pixels and
/// returns one row per (image, colour mode, norm, thresholds). Also checks Sobel and Gaussian
/// pixel for pixel.
private func crossCheck(_ files: [URL], python: String) throws -> [CrossCheckRow] {
  let dir = FileManager.default.temporaryDirectory
    .appendingPathComponent("annota-edges-\(getpid())-\(UUID().uuidString.prefix(8))")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }

  struct Job {
    var image: String
    var mode: String
    var input: Image
    var low: Double
    var high: Double
    var l2: Bool
    var output: String
  }
  var jobs: [Job] = []
  var lines: [String] = []
  var sobelChecks: [(name: String, image: Image, border: SobelBorder, output: String)] = []
  var gaussianChecks: [(name: String, image: Image, sigma: Double, output: String)] = []
  for (index, file) in files.enumerated() {
    let decoded = try ImageDecoder.decode([UInt8](try Data(contentsOf: file))).image
    let name = file.lastPathComponent
    var variants: [(String, Image)] = [("gray", decoded.converted(to: .gray))]
    if decoded.format != .gray { variants.append(("rgb", decoded.converted(to: .rgb))) }
    for (variant, image) in variants {
      let png = dir.appendingPathComponent("\(index)-\(variant).png").path
      try Data(try PNGEncoder.encode(image)).write(to: URL(fileURLWithPath: png))
      for l2 in [false, true] {
        let auto = CannyThresholds.automatic(for: image, norm: l2 ? .l2 : .l1)
        for (label, low, high) in [("50/150", 50.0, 150.0), ("100/200", 100, 200),
                                   ("auto", auto.low, auto.high)] {
          let out = dir.appendingPathComponent("\(index)-\(variant)-\(jobs.count).raw").path
          let mode = "\(variant) \(l2 ? "L2" : "L1") \(label)"
          jobs.append(
            Job(image: name, mode: mode, input: image, low: low, high: high, l2: l2, output: out))
          lines.append("canny\t\(png)\t\(low)\t\(high)\t\(l2 ? 1 : 0)\t\(out)")
        }
      }
      if variant == "gray" {
        for border in SobelBorder.allCases {
          let out = dir.appendingPathComponent("\(index)-\(variant)-sobel-\(border).raw").path
          sobelChecks.append(("\(name) \(variant)", image, border, out))
          lines.append("sobel\t\(png)\t\(border)\t\(out)")
        }
      }
      // Colour blurs only on the first image: SIMD code is slow in debug builds.
      if variant == "gray" || index == 0 {
        let sigma = variant == "gray" ? 1.4 : 2.0
        let gaussianOut = dir.appendingPathComponent("\(index)-\(variant)-gaussian.raw").path
        gaussianChecks.append(("\(name) \(variant)", image, sigma, gaussianOut))
        lines.append("gaussian\t\(png)\t\(sigma)\t\(gaussianOut)")
      }
    }
  }
  let jobFile = dir.appendingPathComponent("jobs.tsv")
  try (lines.joined(separator: "\n") + "\n").write(to: jobFile, atomically: true, encoding: .utf8)
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  let script = repoRoot.appendingPathComponent("Tests/scripts/opencv_canny.py").path
  process.arguments = [python, script, jobFile.path]
  try process.run()
  process.waitUntilExit()
  try #require(process.terminationStatus == 0, "opencv_canny.py failed")

  for check in sobelChecks {
    let raw = try Data(contentsOf: URL(fileURLWithPath: check.output))
    let values = raw.withUnsafeBytes {
      Array($0.bindMemory(to: Int16.self)).map { Int16(littleEndian: $0) }
    }
    let g = EdgeDetector.sobel(check.image, border: check.border)
    #expect(
      values == g.gx + g.gy, "Sobel (\(check.border)) differs from cv2.Sobel on \(check.name)")
  }
  for check in gaussianChecks {
    let theirs = [UInt8](try Data(contentsOf: URL(fileURLWithPath: check.output)))
    let ours = EdgeDetector.gaussian(check.image, sigma: check.sigma)
    #expect(
      ours.pixels == theirs,
      "Gaussian σ \(check.sigma) differs from cv2.GaussianBlur on \(check.name)")
  }
  return try jobs.map { job in
    let theirs = [UInt8](try Data(contentsOf: URL(fileURLWithPath: job.output)))
    let ours = EdgeDetector.canny(job.input, low: job.low, high: job.high, l2: job.l2)
    return CrossCheckRow(
      image: job.image, mode: job.mode,
      agreement: Agreement(ours.pixels, theirs, width: ours.width, height: ours.height))
  }
}

/// Prints the rows and returns the worst exact Jaccard.
private func report(_ rows: [CrossCheckRow], title: String) -> Double {
  var worst = 1.0
  print("\(title): \(rows.count) comparisons")
  print("  image                        mode                    ours   OpenCV  Jaccard  F1(1px)")
  for row in rows {
    let a = row.agreement
    worst = min(worst, a.jaccard)
    let image = row.image.padding(toLength: 28, withPad: " ", startingAt: 0)
    let mode = row.mode.padding(toLength: 22, withPad: " ", startingAt: 0)
    print("  \(image) \(mode) \(String(a.ours).leftPadded(6)) \(String(a.theirs).leftPadded(7))  "
      + "\(String(format: "%.4f", a.jaccard))   \(String(format: "%.4f", a.f1))")
  }
  return worst
}

extension String {
  fileprivate func leftPadded(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}

@Suite("Edge detection against OpenCV")
struct OpenCVTests {
  /// The project's own decoder test images: colour and grey JPEGs and PNGs, RGBA, tiny sizes
  /// (OpenCV switches to its own code below 4 pixels a side) and a single pixel.
  @Test(
    "Canny, Sobel and Gaussian equal OpenCV's on the project's test images",
    .enabled(if: opencvPython != nil, "no Python with cv2 (set ANNOTA_PYTHON): skipped"))
  func testImages() throws {
    let names = [
      "jpeg_large_420.jpg", "jpeg_large_progressive.jpg", "jpeg_baseline_444.jpg", "jpeg_gray.jpg",
      "jpeg_cmyk.jpg", "png_rgb8.png", "png_rgba8.png", "png_gray8.png", "png_pal4.png",
      "png_rgb8_adam7_3x2.png", "png_1x1.png",
    ]
    let files = names.map { repoRoot.appendingPathComponent("testdata/images/\($0)") }
    let rows = try crossCheck(files, python: try #require(opencvPython))
    let worst = report(rows, title: "OpenCV cross-check, testdata/images")
    #expect(worst >= 0.999, "worst exact Jaccard \(worst)")
  }

  /// Real photos: every sixteenth COCO val photo of `../shared/data/coco-val-mini` (5 photos,
  /// about 15 s in a debug build; ANNOTA_EDGES_ALL_PHOTOS=1 takes all 80, best with
  /// `swift test -c release`).
  @Test(
    "Canny, Sobel and Gaussian equal OpenCV's on real COCO photos",
    .enabled(if: haveCOCO, "../shared/data/coco-val-mini is absent: skipped"),
    .enabled(if: opencvPython != nil, "no Python with cv2 (set ANNOTA_PYTHON): skipped"))
  func cocoPhotos() throws {
    let all = try FileManager.default.contentsOfDirectory(atPath: cocoImages.path)
      .filter { $0.hasSuffix(".jpg") }.sorted()
    let everything = ProcessInfo.processInfo.environment["ANNOTA_EDGES_ALL_PHOTOS"] == "1"
    let chosen = everything ? all : stride(from: 0, to: all.count, by: 16).map { all[$0] }
    #expect(chosen.count >= 5)
    let rows = try crossCheck(chosen.map { cocoImages.appendingPathComponent($0) },
                              python: try #require(opencvPython))
    let worst = report(rows, title: "OpenCV cross-check, coco-val-mini")
    #expect(worst >= 0.999, "worst exact Jaccard \(worst)")
  }
}
