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
      "autofit", ann, "--images", images, "--out", out, "--report", report,
      "--render", render.path, "--quiet",
    ])
    #expect(run.status == 0, "\(run.stderr)")
    // One overlay per image with eligible boxes (all 80), each a PNG.
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

  @Test("autofit --train writes a model that autofit --model and eval-fit use; eval-fit --folds cross-validates by image")
  func train() throws {
    let dir = try tempDir()
    // A subset of 12 images keeps the test quick.
    var doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ann))) as! [String: Any]
    let images12 = Array((doc["images"] as! [[String: Any]]).prefix(12))
    let ids = Set(images12.map { ($0["id"] as! NSNumber).intValue })
    doc["images"] = images12
    doc["annotations"] = (doc["annotations"] as! [[String: Any]]).filter { ids.contains(($0["image_id"] as! NSNumber).intValue) }
    let subset = dir.appendingPathComponent("subset.json")
    try JSONSerialization.data(withJSONObject: doc).write(to: subset)
    let model = dir.appendingPathComponent("model.json").path
    let trained = try annota(["autofit", "--train", subset.path, "--images", images, "--model", model, "--train-seeds", "5",
                              "--calibration-folds", "2"])
    #expect(trained.status == 0, "\(trained.stderr)")
    #expect(trained.stderr.contains("confidence calibrated on") && trained.stderr.contains(" → \(model)"), "\(trained.stderr.suffix(300))")
    let m = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: model))) as! [String: Any]
    #expect(m["format"] as? String == "annota-fit")
    let calibration = m["calibration"] as? [String: Any]
    let rates = (calibration?["improved"] as? [NSNumber])?.map(\.doubleValue) ?? []
    #expect(!rates.isEmpty && zip(rates, rates.dropFirst()).allSatisfy { $0 <= $1 }, "\(String(describing: calibration))")
    #expect((m["provenance"] as! String).contains("subset.json"))
    let fitted = try annota(["autofit", subset.path, "--images", images, "--model", model, "--out", dir.appendingPathComponent("o.json").path, "--quiet"])
    #expect(fitted.status == 0, "\(fitted.stderr)")
    let cv = try annota(["eval-fit", subset.path, "--images", images, "--folds", "2", "--train-seeds", "5", "--settings", "loose", "--quiet"])
    #expect(cv.status == 0, "\(cv.stderr)")
    #expect(cv.stdout.split(separator: "\n").contains { $0.hasPrefix("loose") })
    // A corrupt model file is an error that names it.
    let bad = dir.appendingPathComponent("bad.json")
    try Data("{\"format\": \"annota-fit\"}".utf8).write(to: bad)
    let refused = try annota(["autofit", subset.path, "--images", images, "--model", bad.path, "--out", dir.appendingPathComponent("x.json").path, "--quiet"])
    #expect(refused.status != 0)
    #expect(refused.stderr.contains("bad.json"), "\(refused.stderr)")
  }
}

@Suite("autofit on the generated demo scene")
struct AutoFitSceneTests {
  @Test("every rough box of testdata/fit/scene.json gets closer to its true box")
  func scene() throws {
    let dir = try tempDir()
    let fit = repoRoot.appendingPathComponent("testdata/fit")
    let report = dir.appendingPathComponent("r.jsonl").path
    let run = try annota([
      "autofit", fit.appendingPathComponent("scene.json").path, "--images", fit.path,
      "--out", dir.appendingPathComponent("o.json").path, "--report", report, "--quiet",
    ])
    #expect(run.status == 0, "\(run.stderr)")
    let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: fit.appendingPathComponent("scene.json"))) as! [String: Any]
    let truths = (doc["annotations"] as! [[String: Any]]).map { ($0["true_bbox"] as! [NSNumber]).map(\.doubleValue) }
    let lines = try String(contentsOfFile: report, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == truths.count)
    func iou(_ a: [Double], _ b: [Double]) -> Double {
      let w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
      let h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
      return w * h / (a[2] * a[3] + b[2] * b[3] - w * h)
    }
    for (line, truth) in zip(lines, truths) {
      let r = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
      let before = (r["before"] as! [NSNumber]).map(\.doubleValue)
      let after = (r["after"] as! [NSNumber]).map(\.doubleValue)
      #expect(iou(after, truth) > iou(before, truth) + 0.05, "\(r)")
    }
  }

  @Test("--categories fits only those categories' boxes and refuses ids the file does not have")
  func categories() throws {
    let dir = try tempDir()
    let fit = repoRoot.appendingPathComponent("testdata/fit")
    var doc = try JSONSerialization.jsonObject(with: Data(contentsOf: fit.appendingPathComponent("scene.json"))) as! [String: Any]
    doc["categories"] = [["id": 1, "name": "object"], ["id": 2, "name": "other"]]
    doc["annotations"] = (doc["annotations"] as! [[String: Any]]).map { a in
      var a = a
      if (a["id"] as! NSNumber).intValue % 2 == 0 { a["category_id"] = 2 }
      return a
    }
    let ann = dir.appendingPathComponent("two.json")
    try JSONSerialization.data(withJSONObject: doc).write(to: ann)
    let out = dir.appendingPathComponent("o.json").path
    let report = dir.appendingPathComponent("r.jsonl").path
    let run = try annota(["autofit", ann.path, "--images", fit.path, "--out", out, "--report", report, "--categories", "1", "--quiet"])
    #expect(run.status == 0, "\(run.stderr)")
    let ids = try String(contentsOfFile: report, encoding: .utf8).split(separator: "\n").map {
      ((try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["id"] as! NSNumber).intValue
    }
    #expect(ids == [1, 3])
    let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as! [String: Any]
    for (a, b) in zip(doc["annotations"] as! [[String: Any]], written["annotations"] as! [[String: Any]])
    where (a["id"] as! NSNumber).intValue % 2 == 0 {
      #expect((a["bbox"] as! [NSNumber]) == (b["bbox"] as! [NSNumber]))
    }
    let refused = try annota(["autofit", ann.path, "--images", fit.path, "--out", out, "--categories", "1,7", "--quiet"])
    #expect(refused.status != 0 && refused.status != 1)
    #expect(refused.stderr.contains("7 is not in") && refused.stderr.contains("two.json"), "\(refused.stderr)")
  }
}
