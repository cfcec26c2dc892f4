import Foundation
import Testing

private let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()
private let cocoMini = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/coco-val-mini")

@Suite("autofit and eval-fit on coco-val-mini",
       .enabled(if: FileManager.default.fileExists(atPath: cocoMini.appendingPathComponent("annotations.json").path),
                "../shared/data/coco-val-mini is absent: skipped"))
struct AutoFitCLITests {
  let ann = cocoMini.appendingPathComponent("annotations.json").path
  let images = cocoMini.appendingPathComponent("images").path

  @Test("eval-fit prints one row per setting; the table does not depend on --threads")
  func evalFit() throws {
    var tables: [String] = []
    for threads in ["1", "2"] {
      let run = try annota(["eval-fit", ann, "--images", images, "--settings", "mixed5,loose", "--threads", threads, "--quiet"])
      #expect(run.status == 0, "\(run.stderr)")
      tables.append(run.stdout.split(separator: "\n").filter { !$0.hasPrefix("boxes per second") }.joined(separator: "\n"))
    }
    #expect(tables[0] == tables[1])
    let rows = tables[0].split(separator: "\n").filter { $0.hasPrefix("mixed5") || $0.hasPrefix("loose") }
    #expect(rows.count == 2)
    // 644 eligible boxes: non-crowd, at least 16 px a side.
    #expect(rows.allSatisfy { $0.split(separator: " ", omittingEmptySubsequences: true)[1] == "644" })
  }

  @Test("autofit keeps every field, changes bbox only where applied, reports every box; missing images are per-item errors")
  func autofit() throws {
    let dir = try tempDir()
    let out = dir.appendingPathComponent("out.json").path
    let report = dir.appendingPathComponent("fit.jsonl").path
    let render = dir.appendingPathComponent("render")
    try FileManager.default.createDirectory(at: render, withIntermediateDirectories: true)
    let run = try annota([
      "autofit", ann, "--images", images, "--out", out, "--report", report, "--min-gain", "0.4",
      "--render", render.path, "--quiet",
    ])
    #expect(run.status == 0, "\(run.stderr)")
    // One overlay per image with fitted boxes (all 80), each a PNG of the photo's size.
    let pictures = try FileManager.default.contentsOfDirectory(atPath: render.path).filter { $0.hasSuffix(".jpg.png") }
    #expect(pictures.count == 80)
    let png = try Data(contentsOf: render.appendingPathComponent(pictures.sorted()[0]))
    #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
    let input = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ann))) as! [String: Any]
    let output = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as! [String: Any]
    #expect(Set(input.keys) == Set(output.keys))
    let a = input["annotations"] as! [[String: Any]]
    let b = output["annotations"] as! [[String: Any]]
    #expect(a.count == b.count)
    let lines = try String(contentsOfFile: report, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 644)
    var applied: [Int: [Double]] = [:]
    for line in lines {
      let r = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
      if r["applied"] as! Bool { applied[(r["id"] as! NSNumber).intValue] = (r["after"] as! [NSNumber]).map(\.doubleValue) }
      #expect((r["reasons"] as! [String]).count == 4)
    }
    #expect(!applied.isEmpty)
    for (x, y) in zip(a, b) {
      #expect(Set(x.keys) == Set(y.keys))
      let id = (x["id"] as! NSNumber).intValue
      let before = (x["bbox"] as! [NSNumber]).map(\.doubleValue)
      let after = (y["bbox"] as! [NSNumber]).map(\.doubleValue)
      if let fitted = applied[id] { #expect(after == fitted) } else { #expect(after == before) }
    }
    let missing = try annota(["autofit", ann, "--images", dir.path, "--out", dir.appendingPathComponent("m.json").path, "--quiet"])
    #expect(missing.status == 1)
    #expect(missing.stderr.contains(".jpg") && missing.stderr.contains("not fitted"), "\(missing.stderr.prefix(300))")
  }
}
