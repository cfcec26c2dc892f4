import AnnotaTestSupport
import Foundation
import Testing

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()
private let images = root.appendingPathComponent("testdata/images")
private let miniImages = root.deletingLastPathComponent()
  .appendingPathComponent("shared/data/coco-val-mini/images")

private func json(_ path: String) throws -> [String: Any] {
  try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
}

/// A pool: a.jpg, its byte copy b.jpg, a lossless PNG c.png, a half-size d.png, two encodings
/// of another picture (e.jpg baseline, f.jpg progressive), and a truncated file.
private func makePool() throws -> URL {
  let dir = try tempDir()
  let fm = FileManager.default
  let large = images.appendingPathComponent("jpeg_large_420.jpg")
  try fm.copyItem(at: large, to: dir.appendingPathComponent("a.jpg"))
  try fm.copyItem(at: large, to: dir.appendingPathComponent("b.jpg"))
  #expect(try annota(["convert", large.path, dir.appendingPathComponent("c.png").path]).status == 0)
  #expect(try annota(["convert", large.path, dir.appendingPathComponent("d.png").path, "--scale", "1/2"]).status == 0)
  try fm.copyItem(at: images.appendingPathComponent("jpeg_baseline_444.jpg"), to: dir.appendingPathComponent("e.jpg"))
  try fm.copyItem(at: images.appendingPathComponent("jpeg_progressive.jpg"), to: dir.appendingPathComponent("f.jpg"))
  try fm.copyItem(at: images.appendingPathComponent("bad/truncated_baseline.jpg"), to: dir.appendingPathComponent("g.jpg"))
  return dir
}

@Suite("annota dedup end to end")
struct DedupCLITests {
  @Test("groups copies, re-encodes and resizes; names the bad file; exits 1")
  func groups() throws {
    let dir = try makePool()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.path + "-groups.json"
    let keep = dir.path + "-keep.txt"
    let csv = dir.path + "-groups.csv"
    defer { for f in [out, keep, csv] { try? FileManager.default.removeItem(atPath: f) } }
    let run = try annota(["dedup", dir.path, "--out", out, "--csv", csv, "--write-keep", keep, "--pixel-hash"])
    #expect(run.status == 1, "\(run.stderr)")
    #expect(run.stderr.contains(dir.appendingPathComponent("g.jpg").path))
    let report = try json(out)
    let summary = report["summary"] as! [String: Int]
    #expect(summary["items"] == 7 && summary["failed"] == 1 && summary["hashed"] == 6)
    let errors = report["errors"] as! [[String: Any]]
    #expect(errors.count == 1 && (errors[0]["path"] as! String).hasSuffix("/g.jpg"))
    let groups = report["groups"] as! [[String: Any]]
    let names = groups.map { g in (g["members"] as! [[String: Any]]).map { URL(fileURLWithPath: $0["path"] as! String).lastPathComponent } }
    #expect(names.first == ["a.jpg", "b.jpg", "c.png", "d.png"])
    let members = groups[0]["members"] as! [[String: Any]]
    #expect(groups[0]["representative"] as? Int == 0)
    #expect(members.map { $0["exact"] as? String } == [nil, "bytes", "pixels", nil])
    #expect(members[0]["distance"] as? Int == 0)
    let kept = try String(contentsOfFile: keep, encoding: .utf8).split(separator: "\n").map { URL(fileURLWithPath: String($0)).lastPathComponent }
    #expect(kept.contains("a.jpg") && !kept.contains("b.jpg") && !kept.contains("c.png") && !kept.contains("d.png"))
    #expect(!kept.contains("g.jpg"))
    let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
    #expect(lines[0] == "group,path,image_id,representative,distance,exact")
    #expect(lines[2].hasSuffix(",0,0,bytes"))
    // --keep largest picks the full-size member; every image carries its hashes.
    let largest = try annota(["dedup", dir.path, "--out", out, "--keep", "largest", "--quiet"])
    #expect(largest.status == 1)
    let images = try json(out)["images"] as! [[String: Any]]
    #expect(images.count == 6 && images.allSatisfy { ($0["phash"] as? String)?.count == 16 })
  }

  @Test("the same groups whatever the thread count; the cache skips unchanged files")
  func deterministicAndCached() throws {
    let dir = try makePool()
    defer { try? FileManager.default.removeItem(at: dir) }
    try FileManager.default.removeItem(at: dir.appendingPathComponent("g.jpg"))
    let out1 = dir.path + "-1.json", out3 = dir.path + "-3.json", cache = dir.path + "-cache.json"
    defer { for f in [out1, out3, cache] { try? FileManager.default.removeItem(atPath: f) } }
    #expect(try annota(["dedup", dir.path, "--out", out1, "--threads", "1", "--distance", "12"]).status == 0)
    #expect(try annota(["dedup", dir.path, "--out", out3, "--threads", "3", "--distance", "12", "--cache", cache]).status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: out1)) == Data(contentsOf: URL(fileURLWithPath: out3)))
    // Second run: everything from the cache, same groups; a new file is the only one hashed.
    try FileManager.default.copyItem(at: images.appendingPathComponent("jpeg_cmyk.jpg"), to: dir.appendingPathComponent("h.jpg"))
    #expect(try annota(["dedup", dir.path, "--out", out3, "--distance", "12", "--cache", cache]).status == 0)
    let report = try json(out3)
    let summary = report["summary"] as! [String: Int]
    #expect(summary["items"] == 7 && summary["cached"] == 6)
    #expect((report["groups"] as! [Any]).count == (try json(out1)["groups"] as! [Any]).count)
  }

  @Test("a COCO pool: groups name image ids; the filtered COCO drops duplicates and their annotations")
  func coco() throws {
    let dir = try makePool()
    defer { try? FileManager.default.removeItem(at: dir) }
    let ann = dir.appendingPathComponent("ann.json").path
    let document = """
      {"info": {"note": "kept"}, "images": [
        {"id": 1, "file_name": "a.jpg", "width": 160, "height": 120, "extra": 1},
        {"id": 2, "file_name": "b.jpg", "width": 160, "height": 120},
        {"id": 3, "file_name": "e.jpg", "width": 67, "height": 45}],
       "annotations": [
        {"id": 10, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]},
        {"id": 11, "image_id": 2, "category_id": 1, "bbox": [1, 1, 5, 5]},
        {"id": 12, "image_id": 3, "category_id": 1, "bbox": [1, 1, 5, 5]}],
       "categories": [{"id": 1, "name": "thing"}]}
      """
    try document.write(toFile: ann, atomically: true, encoding: .utf8)
    let out = dir.path + "-coco-groups.json", filtered = dir.path + "-filtered.json"
    defer { for f in [out, filtered] { try? FileManager.default.removeItem(atPath: f) } }
    let run = try annota(["dedup", ann, "--out", out, "--write-coco", filtered])
    #expect(run.status == 0, "\(run.stderr)")
    let groups = try json(out)["groups"] as! [[String: Any]]
    #expect(groups.count == 1)
    #expect((groups[0]["members"] as! [[String: Any]]).map { $0["image_id"] as? Int } == [1, 2])
    let result = try json(filtered)
    #expect((result["images"] as! [[String: Any]]).map { $0["id"] as? Int } == [1, 3])
    #expect((result["images"] as! [[String: Any]])[0]["extra"] as? Int == 1)
    #expect((result["annotations"] as! [[String: Any]]).map { $0["id"] as? Int } == [10, 12])
    #expect((result["info"] as? [String: String])?["note"] == "kept")
  }

  @Test("--crops groups a 15% crop with its original; the cache keeps the windows")
  func crops() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let large = images.appendingPathComponent("jpeg_large_420.jpg")
    try FileManager.default.copyItem(at: large, to: dir.appendingPathComponent("a.jpg"))
    #expect(try annota(["convert", large.path, dir.appendingPathComponent("b.png").path,
                        "--region", "24,18,136,102"]).status == 0)
    try FileManager.default.copyItem(at: images.appendingPathComponent("jpeg_baseline_444.jpg"), to: dir.appendingPathComponent("c.jpg"))
    let out = dir.path + "-crops.json", cache = dir.path + "-crops-cache.json"
    defer { for f in [out, cache] { try? FileManager.default.removeItem(atPath: f) } }
    for _ in 0..<2 {
      let run = try annota(["dedup", dir.path, "--out", out, "--crops", "--hash", "both", "--distance", "14", "--cache", cache])
      #expect(run.status == 0, "\(run.stderr)")
      let report = try json(out)
      let groups = report["groups"] as! [[String: Any]]
      let names = groups.map { g in (g["members"] as! [[String: Any]]).map { URL(fileURLWithPath: $0["path"] as! String).lastPathComponent } }
      #expect(names == [["a.jpg", "b.png"]])
      #expect((report["settings"] as! [String: Any])["crops"] as? Bool == true)
    }
    #expect((try json(out)["summary"] as! [String: Int])["cached"] == 3)
  }

  @Test("usage errors exit 64; an unreadable input exits 2")
  func usage() throws {
    #expect(try annota(["dedup", images.path, "--out", "/tmp/x.json", "--distance", "65"]).status == 64)
    #expect(try annota(["dedup", images.path]).status == 64)
    #expect(try annota(["dedup", images.path, "--out", "/tmp/x.json", "--hash", "ahash"]).status == 64)
    #expect(try annota(["dedup", "/nonexistent/list.txt", "--out", "/tmp/x.json"]).status == 2)
  }

  @Test("hashes agree with imagehash on real photos (mean bit agreement)",
        .enabled(if: FileManager.default.fileExists(atPath: miniImages.path), "needs ../shared/data/coco-val-mini"))
  func imagehashAgreement() throws {
    guard let python = pythonWith("imagehash, PIL") else {
      print("skipped: no Python with imagehash (set ANNOTA_PYTHON)")
      return
    }
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("annota-dedup-\(UUID().uuidString).json").path
    defer { try? FileManager.default.removeItem(atPath: out) }
    #expect(try annota(["dedup", miniImages.path, "--out", out, "--quiet"]).status == 0)
    let ours = (try json(out)["images"] as! [[String: Any]])
    let script = """
      import imagehash, json, sys
      from PIL import Image
      out = {}
      for p in sys.argv[1:]:
          im = Image.open(p)
          out[p] = [str(imagehash.dhash(im)), str(imagehash.phash(im))]
      print(json.dumps(out))
      """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python, "-c", script] + ours.map { $0["path"] as! String }
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let reference = try JSONSerialization.jsonObject(with: data) as! [String: [String]]
    var agree = [0, 0]
    for image in ours {
      let ref = reference[image["path"] as! String]!
      for (k, key) in ["dhash", "phash"].enumerated() {
        let x = UInt64(image[key] as! String, radix: 16)! ^ UInt64(ref[k], radix: 16)!
        agree[k] += 64 - x.nonzeroBitCount
      }
    }
    let total = Double(64 * ours.count)
    // Measured: dHash 0.984, pHash 0.980 (README explains the differences).
    #expect(Double(agree[0]) / total >= 0.97)
    #expect(Double(agree[1]) / total >= 0.97)
  }
}
