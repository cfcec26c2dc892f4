import AnnotaTestSupport
import Foundation
import Testing

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()
private let mini = root.deletingLastPathComponent().appendingPathComponent("shared/data/coco-val-mini")
private let haveMini = FileManager.default.fileExists(atPath: mini.appendingPathComponent("annotations.json").path)

private let cocoPython = pythonWith("pycocotools")

private func json(_ url: URL) throws -> [String: Any] {
  try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
}

private func write(_ object: Any, _ url: URL) throws {
  try JSONSerialization.data(withJSONObject: object).write(to: url)
}

/// A small COCO file with known problems, and the JSON paths each one must be reported at.
private func badDataset(_ dir: URL) throws -> URL {
  let url = dir.appendingPathComponent("bad.json")
  let text = """
    {"info":{"note":"kept"},"custom_top":[1,2],
     "images":[{"id":1,"width":20,"height":10,"file_name":"a.png","extra":"x"},{"id":2,"width":8,"height":8,"file_name":"missing.png"}],
     "categories":[{"id":1,"name":"cat"}],
     "annotations":[
      {"id":10,"image_id":1,"category_id":1,"segmentation":[[1,1,8,1,8,6,1,6]],"bbox":[1,1,7,5],"area":35,"iscrowd":0,"my_key":{"deep":[1]}},
      {"id":11,"image_id":1,"category_id":1,"segmentation":[[1,1,5,5]],"bbox":[1,1,4,4],"area":16,"iscrowd":0},
      {"id":12,"image_id":1,"category_id":1,"segmentation":[[1,1,5,1,NaN,5]],"bbox":[1,1,4,4],"area":16,"iscrowd":0},
      {"id":13,"image_id":1,"category_id":1,"segmentation":{"size":[10,20],"counts":"0 bad"},"bbox":[0,0,1,1],"area":1,"iscrowd":1},
      {"id":14,"image_id":1,"category_id":1,"segmentation":{"size":[10,20],"counts":[5,10]},"bbox":[0,0,1,1],"area":10,"iscrowd":1},
      {"id":15,"image_id":99,"category_id":1,"segmentation":[[1,1,4,1,4,4]],"bbox":[1,1,3,3],"area":4,"iscrowd":0},
      {"id":16,"image_id":1,"category_id":7,"segmentation":[[0,0,30,0,30,3]],"bbox":[-1,0,30,3],"area":40,"iscrowd":0},
      {"id":10,"image_id":2,"category_id":1,"segmentation":{"size":[8,8],"counts":[3,2,59]},"bbox":[0,3,1,2],"area":2,"iscrowd":0}
     ]}
    """
  try Data(text.utf8).write(to: url)
  return url
}

@Suite("annota masks, iou, validate end to end")
struct COCOCommandTests {
  @Test("masks matches pycocotools on every annotation of coco-val-mini (RLE string, area, bbox)",
        .enabled(if: haveMini, "../shared/data/coco-val-mini is absent: skipped"),
        .enabled(if: cocoPython != nil, "no Python with pycocotools (set ANNOTA_PYTHON): skipped"))
  func masksMatchPycocotools() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = mini.appendingPathComponent("annotations.json")
    let out = dir.appendingPathComponent("rle.json")
    let run = try annota(["masks", input.path, "--out", out.path, "--threads", "2"])
    #expect(run.status == 0, "\(run.stderr)")
    let reference = dir.appendingPathComponent("ref.json")
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [cocoPython!, root.appendingPathComponent("Tests/scripts/coco_reference.py").path, input.path, reference.path]
    try p.run()
    p.waitUntilExit()
    try #require(p.terminationStatus == 0)
    let ours = try json(out)["annotations"] as! [[String: Any]]
    let theirs = try json(reference)["annotations"] as! [[String: Any]]
    #expect(ours.count == 815 && theirs.count == 815)
    var mismatches = 0
    for (a, b) in zip(ours, theirs) {
      let segmentation = a["segmentation"] as! [String: Any]
      if segmentation["counts"] as? String != b["counts"] as? String
        || (segmentation["size"] as! [Int]) != (b["size"] as! [Int])
        || (a["area"] as! Double) != (b["area"] as! Double)
        || (a["bbox"] as! [Double]) != (b["bbox"] as! [Double])
      {
        mismatches += 1
      }
    }
    #expect(mismatches == 0)
    // Everything else is kept.
    let original = try json(input)
    let converted = try json(out)
    #expect(Set(original.keys) == Set(converted.keys))
    #expect((original["images"] as! NSArray) == (converted["images"] as! NSArray))
    #expect((original["categories"] as! NSArray) == (converted["categories"] as! NSArray))
  }

  @Test("RLE → polygons → RLE reproduces every mask of coco-val-mini exactly",
        .enabled(if: haveMini, "../shared/data/coco-val-mini is absent: skipped"))
  func polygonRoundTrip() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = mini.appendingPathComponent("annotations.json").path
    let rle = dir.appendingPathComponent("rle.json"), poly = dir.appendingPathComponent("poly.json")
    let back = dir.appendingPathComponent("back.json")
    #expect(try annota(["masks", input, "--out", rle.path, "--quiet"]).status == 0)
    // Make every non-crowd mask an RLE first, then trace polygons and rasterize them again.
    #expect(try annota(["masks", rle.path, "--out", poly.path, "--to", "polygon", "--quiet"]).status == 0)
    #expect(try annota(["masks", poly.path, "--out", back.path, "--quiet"]).status == 0)
    let polygons = try json(poly)["annotations"] as! [[String: Any]]
    #expect(polygons.filter { $0["segmentation"] is [Any] }.count >= 800)
    let a = try json(rle)["annotations"] as! [[String: Any]]
    let b = try json(back)["annotations"] as! [[String: Any]]
    for (x, y) in zip(a, b) {
      #expect((x["segmentation"] as! NSDictionary) == (y["segmentation"] as! NSDictionary), "annotation \(x["id"]!)")
    }
    // The same masks compared with `iou --type mask`: all IoU 1.
    let summary = dir.appendingPathComponent("s.json")
    #expect(try annota(["iou", rle.path, poly.path, "--out", dir.appendingPathComponent("p.csv").path,
                        "--type", "mask", "--summary", summary.path, "--quiet"]).status == 0)
    let s = try json(summary)
    #expect(s["matched"] as? Int == 815)
    #expect(s["meanIoU"] as? Double == 1)
  }

  @Test("masks reports every bad annotation by JSON path and id, converts the rest, keeps unknown keys")
  func masksBadData() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = try badDataset(dir)
    let out = dir.appendingPathComponent("out.json")
    let run = try annota(["masks", input.path, "--out", out.path])
    #expect(run.status == 1)
    for expected in ["annotations[1].segmentation[0] (annotation id 11)", "annotations[2].segmentation[0][4] (annotation id 12)",
                     "annotations[3].segmentation.counts (annotation id 13)", "annotations[4].segmentation.counts (annotation id 14)",
                     "annotations[5].image_id (annotation id 15)", "annotations[7].id (annotation id 10)"] {
      #expect(run.stderr.contains(expected), "missing: \(expected)\n\(run.stderr)")
    }
    // The failing annotation keeps its NaN, written as Python writes it; Foundation cannot read it.
    let text = try String(contentsOf: out, encoding: .utf8)
    #expect(text.contains("NaN"))
    let result = try JSONSerialization.jsonObject(with: Data(text.replacingOccurrences(of: "NaN", with: "null").utf8)) as! [String: Any]
    #expect((result["info"] as? [String: Any])?["note"] as? String == "kept")
    #expect(result["custom_top"] as? [Int] == [1, 2])
    let annotations = result["annotations"] as! [[String: Any]]
    #expect(annotations.count == 8)
    let first = annotations[0]
    #expect((first["my_key"] as? [String: Any])?["deep"] as? [Int] == [1])
    #expect((first["segmentation"] as? [String: Any])?["counts"] is String)
    #expect(first["area"] as? Double == 35)
    #expect(first["bbox"] as? [Double] == [1, 1, 7, 5])
    // A failing annotation is left exactly as it was.
    #expect((annotations[1]["segmentation"] as? [[Int]]) == [[1, 1, 5, 5]])
    // Polygons partly outside the image are clipped, not a crash.
    #expect((annotations[6]["segmentation"] as? [String: Any])?["size"] as? [Int] == [10, 20])
  }

  @Test("validate lists each problem with its JSON path and exits 1")
  func validateBadData() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = try badDataset(dir)
    let run = try annota(["validate", input.path, "--images", dir.path])
    #expect(run.status == 1)
    let lines = run.stdout.split(separator: "\n").map(String.init)
    for expected in ["error: annotations[1].segmentation[0] (annotation id 11)", "error: annotations[5].image_id",
                     "error: annotations[6].bbox", "error: annotations[6].category_id", "error: annotations[7].id",
                     "error: images[0].file_name", "error: images[1].file_name", "error: annotations[2].segmentation[0][4]"] {
      #expect(lines.contains { $0.hasPrefix(expected) }, "missing: \(expected)\n\(run.stdout)")
    }
  }

  @Test("validate passes coco-val-mini with its images",
        .enabled(if: haveMini, "../shared/data/coco-val-mini is absent: skipped"))
  func validateMini() throws {
    let run = try annota(["validate", mini.appendingPathComponent("annotations.json").path,
                          "--images", mini.appendingPathComponent("images").path])
    #expect(run.status == 0, "\(run.stdout)")
    #expect(!run.stdout.contains("error:"))
  }

  @Test("iou matches shifted boxes one-to-one, honours threshold, categories and class-agnostic mode")
  func iouBoxes() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let images: [[String: Any]] = [["id": 1, "width": 100, "height": 100]]
    let a: [String: Any] = ["images": images, "annotations": [
      ["id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10]],
      ["id": 2, "image_id": 1, "category_id": 1, "bbox": [50, 50, 20, 20]],
      ["id": 3, "image_id": 1, "category_id": 2, "bbox": [80, 0, 10, 10]],
    ]]
    let b: [String: Any] = ["images": images, "annotations": [
      ["id": 7, "image_id": 1, "category_id": 1, "bbox": [51, 50, 20, 20]],  // IoU 19/21 with a2
      ["id": 8, "image_id": 1, "category_id": 1, "bbox": [5, 0, 10, 10]],  // IoU 1/3 with a1: under 0.5
      ["id": 9, "image_id": 1, "category_id": 1, "bbox": [80, 0, 10, 10]],  // same box as a3, other category
    ]]
    try write(a, dir.appendingPathComponent("a.json"))
    try write(b, dir.appendingPathComponent("b.json"))
    let out = dir.appendingPathComponent("p.csv")
    var run = try annota(["iou", dir.appendingPathComponent("a.json").path, dir.appendingPathComponent("b.json").path, "--out", out.path])
    #expect(run.status == 0, "\(run.stderr)")
    var rows = try String(contentsOf: out, encoding: .utf8).split(separator: "\n").map(String.init)
    #expect(rows[0] == "image_id,category_id,a_id,b_id,iou,dice")
    let intersection: Double = 19 * 20
    let iou: Double = intersection / (800 - intersection)
    let dice: Double = 2 * intersection / 800
    #expect(rows.contains("1,1,2,7,\(iou),\(dice)"))
    #expect(rows.contains("1,1,1,,,"))
    #expect(rows.contains("1,1,,8,,"))
    #expect(rows.contains("1,2,3,,,") && rows.contains("1,1,,9,,"))
    run = try annota(["iou", dir.appendingPathComponent("a.json").path, dir.appendingPathComponent("b.json").path, "--out", out.path,
                      "--class-agnostic", "--threshold", "0.3"])
    rows = try String(contentsOf: out, encoding: .utf8).split(separator: "\n").map(String.init)
    #expect(rows.contains("1,2,3,9,1.0,1.0"))
    #expect(rows.contains { $0.hasPrefix("1,1,1,8,0.333") })
    #expect(rows.count == 4)
  }

  @Test("iou --type mask: an image with a bad object or another size fails alone, naming it; objects without a partner are not read")
  func iouMaskErrors() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let square: [Double] = [2, 2, 12, 2, 12, 12, 2, 12]
    let images: [[String: Any]] = [
      ["id": 1, "width": 20, "height": 20], ["id": 2, "width": 20, "height": 20],
      ["id": 3, "width": 20, "height": 20], ["id": 4, "width": 20, "height": 20],
    ]
    var imagesB = images
    imagesB[3] = ["id": 4, "width": 30, "height": 20]
    let a: [String: Any] = ["images": images, "annotations": [
      ["id": 1, "image_id": 1, "category_id": 1, "segmentation": [square]],
      ["id": 2, "image_id": 1, "category_id": 2, "segmentation": [square]],
      // No segmentation, with a partner in its category: image 2 fails.
      ["id": 3, "image_id": 2, "category_id": 1, "bbox": [0, 0, 5, 5]],
      // No segmentation, but nothing in B shares its category: unmatched, never read.
      ["id": 4, "image_id": 3, "category_id": 5, "bbox": [0, 0, 5, 5]],
      ["id": 5, "image_id": 3, "category_id": 1, "segmentation": [square]],
      ["id": 6, "image_id": 4, "category_id": 1, "segmentation": [square]],
    ]]
    let b: [String: Any] = ["images": imagesB, "annotations": [
      ["id": 11, "image_id": 1, "category_id": 1, "segmentation": [square]],
      ["id": 12, "image_id": 1, "category_id": 2, "segmentation": [[2, 2, 12, 2, 12, 7, 2, 7]]],
      ["id": 13, "image_id": 2, "category_id": 1, "segmentation": [square]],
      ["id": 15, "image_id": 3, "category_id": 1, "segmentation": [square]],
      ["id": 16, "image_id": 4, "category_id": 1, "segmentation": [square]],
    ]]
    let pathA = dir.appendingPathComponent("a.json"), pathB = dir.appendingPathComponent("b.json")
    try write(a, pathA)
    try write(b, pathB)
    let out = dir.appendingPathComponent("p.csv")
    let run = try annota(["iou", pathA.path, pathB.path, "--out", out.path, "--type", "mask", "--threads", "2"])
    #expect(run.status == 1, "\(run.stderr)")
    #expect(run.stderr.contains("annotations[2].segmentation") && run.stderr.contains("image 2 skipped"), "\(run.stderr)")
    #expect(run.stderr.contains("image 4 skipped") && run.stderr.contains("20x20 in A but 30x20 in B"), "\(run.stderr)")
    let rows = try String(contentsOf: out, encoding: .utf8).split(separator: "\n").map(String.init)
    #expect(rows.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).prefix(4).joined(separator: ",") }
      == ["1,1,1,11", "1,2,2,12", "3,1,5,15", "3,5,4,"])
    #expect(rows.contains("1,1,1,11,1.0,1.0") && rows.contains("1,2,2,12,0.5,\(2.0 / 3)"))
  }

  @Test("iou --type mask: the same matched pairs and IoUs as the pycocotools loop, coco-val-mini against a noisy copy",
        .enabled(if: haveMini, "../shared/data/coco-val-mini is absent: skipped"),
        .enabled(if: pythonWith("pycocotools, scipy") != nil, "no Python with pycocotools and scipy: skipped"))
  func iouMatchesPycocotools() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let py = pythonWith("pycocotools, scipy")!
    func run(_ arguments: [String]) throws -> String { try runPython(py, arguments) }
    let input = mini.appendingPathComponent("annotations.json").path
    // Jittered, dropped, added and relabelled objects: many have no partner near them, and those
    // polygons are not rasterized (their IoUs are 0 without it).
    _ = try run([root.appendingPathComponent("Tests/scripts/noisy_annotators.py").path, input, dir.path])
    let noisy = dir.appendingPathComponent("annotator1.json").path
    let pymasks = root.appendingPathComponent("Benchmarks/baselines/pymasks.py").path
    for (a, b) in [(input, noisy), (noisy, input)] {
      let ours = dir.appendingPathComponent("ours.csv"), theirs = dir.appendingPathComponent("theirs.csv")
      let status = try annota(["iou", a, b, "--out", ours.path, "--type", "mask", "--quiet"]).status
      #expect(status == 0)
      _ = try run([pymasks, "iou-loop", a, b, theirs.path])
      let verdict = try run([pymasks, "check-iou", ours.path, theirs.path])
      #expect(verdict.hasPrefix("same=1"), "\(verdict)")
      let rows = try String(contentsOf: ours, encoding: .utf8).split(separator: "\n")
      #expect(rows.filter { $0.hasSuffix(",,") }.count > 50, "unmatched objects")
    }
  }

  @Test("bad COCO files exit 2 naming the file; bad options exit 64")
  func fileErrors() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let broken = dir.appendingPathComponent("broken.json")
    try Data("{\"annotations\": [1, 2,".utf8).write(to: broken)
    let run = try annota(["masks", broken.path, "--out", dir.appendingPathComponent("o.json").path])
    #expect(run.status == 2)
    #expect(run.stderr.contains(broken.path) && run.stderr.contains("line 1"))
    #expect(try annota(["validate", dir.appendingPathComponent("none.json").path]).status == 2)
    #expect(try annota(["masks", broken.path, "--out", "x", "--to", "mesh"]).status == 64)
    #expect(try annota(["iou", "a", "b", "--out", "x", "--threshold", "2"]).status == 64)
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o.json").path))
  }
}
