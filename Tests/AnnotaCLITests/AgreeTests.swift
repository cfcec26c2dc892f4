import AnnotaTestSupport
import Foundation
import Testing

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()
private let mini = root.deletingLastPathComponent().appendingPathComponent("shared/data/coco-val-mini")
private let haveMini = FileManager.default.fileExists(atPath: mini.appendingPathComponent("annotations.json").path)



private let statsPython = pythonWith("statsmodels, krippendorff, sklearn")

private func object(_ url: URL) throws -> [String: Any] {
  try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
}

/// Noisy annotator copies of coco-val-mini in `dir`.
private func annotators(_ dir: URL) throws -> [String] {
  _ = try runPython("python3", [root.appendingPathComponent("Tests/scripts/noisy_annotators.py").path,
                             mini.appendingPathComponent("annotations.json").path, dir.path])
  return (1...3).map { dir.appendingPathComponent("annotator\($0).json").path }
}

@Suite("annota agree end to end", .enabled(if: haveMini, "../shared/data/coco-val-mini is absent: skipped"))
struct AgreeTests {
  @Test("κ, α and Cohen's κ equal statsmodels, krippendorff and scikit-learn on the same clusters",
        .enabled(if: statsPython != nil, "no Python with statsmodels, krippendorff, scikit-learn: skipped"))
  func statisticsMatchReferences() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let files = try annotators(dir)
    for (set, type) in [(files, "box"), (Array(files.prefix(2)), "mask")] {
      let report = dir.appendingPathComponent("report-\(set.count)-\(type).json")
      let run = try annota(["agree"] + set + ["--out", dir.appendingPathComponent("c.json").path, "--report", report.path,
                                              "--type", type, "--bootstrap", "200", "--quiet"])
      #expect(run.status == 0, "\(run.stderr)")
      let ours = try object(report)["dataset"] as! [String: Any]
      let reference = try JSONSerialization.jsonObject(
        with: Data(try runPython(statsPython!, [root.appendingPathComponent("Tests/scripts/agreement_reference.py").path, report.path]).utf8)) as! [String: Any]
      for key in ["fleissKappa", "krippendorffAlpha"] + (set.count == 2 ? ["cohenKappa"] : []) {
        let a = try #require(ours[key] as? Double, "\(key) missing")
        let b = try #require(reference[key] as? Double, "\(key) missing in the reference")
        #expect(abs(a - b) <= 1e-9, "\(key): \(a) vs \(b)")
      }
      let interval = (ours["confidence95"] as! [String: Any])["meanIoU"] as! [Double]
      let mean = ours["meanIoU"] as! Double
      #expect(interval[0] <= mean && mean <= interval[1])
    }
  }

  @Test("same clusters and figures whatever the order of files and the thread count")
  func determinism() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let files = try annotators(dir)
    var reports: [[String: Any]] = []
    var consensus: [NSArray] = []
    for (i, (order, threads)) in [(files, "1"), (Array(files.reversed()), "2"), ([files[1], files[2], files[0]], "2")].enumerated() {
      let report = dir.appendingPathComponent("r\(i).json"), out = dir.appendingPathComponent("c\(i).json")
      let run = try annota(["agree"] + order + ["--out", out.path, "--report", report.path, "--type", "mask",
                                                "--threads", threads, "--quiet"])
      #expect(run.status == 0, "\(run.stderr)")
      reports.append(try object(report))
      consensus.append(try object(out)["annotations"] as! NSArray)
    }
    for i in 1..<3 {
      #expect((reports[i]["objects"] as! NSArray) == (reports[0]["objects"] as! NSArray))
      #expect((reports[i]["dataset"] as! NSDictionary) == (reports[0]["dataset"] as! NSDictionary))
      #expect(consensus[i] == consensus[0])
    }
  }

  @Test("identical annotators: everything accepted, κ = α = 1, IoU = 1")
  func identical() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let source = mini.appendingPathComponent("annotations.json")
    let copies = (1...3).map { dir.appendingPathComponent("same\($0).json") }
    for c in copies { try FileManager.default.copyItem(at: source, to: c) }
    let report = dir.appendingPathComponent("r.json")
    let run = try annota(["agree"] + copies.map(\.path) + ["--out", dir.appendingPathComponent("c.json").path,
                                                           "--report", report.path, "--type", "mask", "--quiet"])
    #expect(run.status == 0, "\(run.stderr)")
    let dataset = try object(report)["dataset"] as! [String: Any]
    #expect(dataset["fleissKappa"] as? Double == 1)
    #expect(dataset["krippendorffAlpha"] as? Double == 1)
    #expect(dataset["meanIoU"] as? Double == 1)
    let tiers = dataset["tiers"] as! [String: Int]
    #expect(tiers["review"] == 0 && tiers["escalate"] == 0)
    #expect(tiers["accept"] == 815)
  }

  /// Pairs that cannot reach the threshold are not walked while matching; a cluster linked a–b and
  /// b–c still needs a–c's IoU (for its score and its decision), which must be the exact one.
  @Test("a chain cluster's unlinked pair has its exact IoU in the score")
  func chainCluster() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    // Rectangles 40 x 20 shifted by 10: IoU 0.6 with the next one, 1/3 two apart (their boxes
    // bound it under 0.5, so the matrices skip that pair).
    var files: [String] = []
    for (k, x) in [0.0, 10, 20].enumerated() {
      let ring = [x, 0, x + 40, 0, x + 40, 20, x, 20]
      let document: [String: Any] = [
        "images": [["id": 1, "width": 100, "height": 100]],
        "annotations": [["id": 1, "image_id": 1, "category_id": 1, "segmentation": [ring]]],
      ]
      let path = dir.appendingPathComponent("ann\(k).json").path
      try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: path))
      files.append(path)
    }
    // The three IoUs, from `annota iou` with a threshold low enough to match every pair.
    func iou(_ a: String, _ b: String) throws -> Double {
      let csv = dir.appendingPathComponent("p.csv")
      let run = try annota(["iou", a, b, "--out", csv.path, "--type", "mask", "--threshold", "0.01", "--quiet"])
      try #require(run.status == 0, "\(run.stderr)")
      let row = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")[1].split(separator: ",")
      return try #require(Double(row[4]))
    }
    let ab = try iou(files[0], files[1]), bc = try iou(files[1], files[2]), ac = try iou(files[0], files[2])
    #expect(ab >= 0.5 && bc >= 0.5 && ac > 0 && ac < 0.5, "\(ab) \(bc) \(ac)")
    let report = dir.appendingPathComponent("r.json")
    let run = try annota(["agree"] + files + ["--out", dir.appendingPathComponent("c.json").path,
                                              "--report", report.path, "--type", "mask", "--quiet"])
    #expect(run.status == 0, "\(run.stderr)")
    let objects = try object(report)["objects"] as! [[String: Any]]
    try #require(objects.count == 1)
    #expect(objects[0]["tier"] as? String == "review")
    let score = try #require(objects[0]["score"] as? Double)
    #expect(abs(score - (ab + bc + ac) / 3) < 1e-12, "score \(score), IoUs \(ab) \(bc) \(ac)")
  }

  @Test("an image missing from one file, or with another size, is reported and skipped; exit 1")
  func perImageErrors() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let images: [[String: Any]] = [["id": 1, "width": 50, "height": 40], ["id": 2, "width": 50, "height": 40],
                                   ["id": 3, "width": 50, "height": 40]]
    let anns: [[String: Any]] = [["id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10]],
                                 ["id": 2, "image_id": 2, "category_id": 1, "bbox": [0, 0, 10, 10]],
                                 ["id": 3, "image_id": 3, "category_id": 1, "bbox": [5, 5, 10, 10]]]
    var other = images
    other.remove(at: 1)
    other[1]["width"] = 60
    try JSONSerialization.data(withJSONObject: ["images": images, "annotations": anns]).write(to: dir.appendingPathComponent("a.json"))
    try JSONSerialization.data(withJSONObject: ["images": other, "annotations": [anns[0]]]).write(to: dir.appendingPathComponent("b.json"))
    let report = dir.appendingPathComponent("r.json")
    let run = try annota(["agree", dir.appendingPathComponent("a.json").path, dir.appendingPathComponent("b.json").path,
                          "--out", dir.appendingPathComponent("c.json").path, "--report", report.path])
    #expect(run.status == 1)
    #expect(run.stderr.contains("image 2 is missing from"))
    #expect(run.stderr.contains("image 3 is 60x40"))
    let dataset = try object(report)["dataset"] as! [String: Any]
    #expect(dataset["images"] as? Int == 1 && dataset["failedImages"] as? Int == 2)
    #expect(try annota(["agree", dir.appendingPathComponent("a.json").path, "--out", "x", "--report", "y"]).status == 64)
  }
}
