import Foundation
import Testing

@Suite("annota bench end to end")
struct BenchCLITests {
  @Test("bench on generated data prints the table and writes JSON with every op x thread row")
  func generated() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let json = dir.appendingPathComponent("bench.json").path
    let run = try annota([
      "bench", "--ops", "decode,masks,iou", "--threads", "1,2", "--repeats", "1", "--warmup", "0",
      "--generated-images", "2", "--json", json, "--quiet",
    ])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("items/s"))
    #expect(run.stdout.contains("recommendation:"))
    #expect(run.stdout.contains("total "))
    #expect(run.stderr.isEmpty)
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
    let rows = object["rows"] as! [[String: Any]]
    #expect(rows.map { "\($0["op"]!)@\($0["threads"]!)" } == ["decode@1", "decode@2", "masks@1", "masks@2", "iou@1", "iou@2"])
    for row in rows {
      let rate = row["itemsPerSecond"] as! Double
      #expect(rate.isFinite && rate > 0)
    }
  }

  @Test("an unknown --ops name is a usage error (exit 64) naming it")
  func badOps() throws {
    let run = try annota(["bench", "--ops", "decode,warp"])
    #expect(run.status == 64)
    #expect(run.stderr.contains("'warp'"))
    #expect(run.stdout.isEmpty)
  }

  @Test("bad --threads and a missing annotation file are refused with clear errors")
  func badInputs() throws {
    let threads = try annota(["bench", "--threads", "1,zero"])
    #expect(threads.status == 64)
    #expect(threads.stderr.contains("--threads"))
    let missing = try annota(["bench", "--annotations", "/nonexistent/a.json", "--ops", "masks"])
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("/nonexistent/a.json"))
  }
}
