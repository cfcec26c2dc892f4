import AnnotaImage
import AnnotaImageIO
import AnnotaTestSupport
import Foundation
import Testing

/// A Python with Pillow: $ANNOTA_PYTHON, or python3 if it imports PIL.
private let pillowPython = pythonWith("PIL")

private let haveSharedPhotos = FileManager.default.fileExists(atPath: sharedImages.path)

@Suite("Real COCO photos against Pillow")
struct PillowTests {
  @Test(
    "every photo in ../shared/data/coco-val-mini decodes and matches Pillow within 1 grey level",
    .enabled(if: haveSharedPhotos, "../shared/data/coco-val-mini is absent: skipped"),
    .enabled(if: pillowPython != nil, "no Python with Pillow (set ANNOTA_PYTHON): skipped"))
  func matchesPillow() throws {
    let python = try #require(pillowPython)
    let files = try FileManager.default.contentsOfDirectory(atPath: sharedImages.path)
      .filter { $0.hasSuffix(".jpg") || $0.hasSuffix(".png") }.sorted()
    #expect(files.count >= 80)
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("annota-pillow-\(getpid())")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: out) }
    let script = repoRoot.appendingPathComponent("Tests/scripts/pillow_decode.py").path
    _ = try runPython(python, [script, sharedImages.path, out.path])

    var worst = 0
    var differing = 0
    var total = 0
    for file in files {
      let data = [UInt8](try Data(contentsOf: sharedImages.appendingPathComponent(file)))
      let ours = try ImageDecoder.decode(data).image.converted(to: .rgb)
      let theirs = [UInt8](try Data(contentsOf: out.appendingPathComponent(file + ".rgb")))
      try #require(theirs.count == ours.pixels.count, "\(file): size differs")
      total += theirs.count
      if ours.pixels == theirs { continue }
      for (a, b) in zip(ours.pixels, theirs) {
        let d = abs(Int(a) - Int(b))
        worst = max(worst, d)
        if d != 0 { differing += 1 }
      }
    }
    print("Pillow cross-check: \(files.count) photos, \(total) samples, \(differing) differ, max difference \(worst)")
    #expect(worst <= 1)
  }
}
