import AnnotaEngine
import Foundation
import Testing

/// Tiny generated data: 3 images of 96 x 72, every operation, 1 and 2 threads, one repeat.
private func tinyOptions(ops: [BenchOp] = BenchOp.allCases, threads: [Int] = [1, 2]) -> BenchOptions {
  var options = BenchOptions()
  options.ops = ops
  options.threads = threads
  options.repeats = 1
  options.warmup = 0
  options.generatedImages = 3
  options.generatedWidth = 96
  options.generatedHeight = 72
  return options
}

@Suite("annota bench (engine)")
struct BenchTests {
  @Test("the table has a row for every requested operation and thread count, with positive finite figures")
  func everyRow() async throws {
    let report = try await BenchRun.run(tinyOptions())
    let pairs = report.rows.map { "\($0.op)@\($0.threads)" }
    let expected = BenchOp.allCases.flatMap { op in [1, 2].map { "\(op.rawValue)@\($0)" } }
    #expect(pairs == expected)
    for row in report.rows {
      #expect(row.items > 0, "\(row.op)")
      for value in [row.medianSeconds, row.minSeconds, row.maxSeconds, row.itemsPerSecond, row.peakMiB] {
        #expect(value.isFinite && value > 0, "\(row.op)@\(row.threads): \(value)")
      }
      #expect(row.minSeconds <= row.medianSeconds && row.medianSeconds <= row.maxSeconds)
      #expect(row.speedup.map { $0.isFinite && $0 > 0 } ?? false, "\(row.op)@\(row.threads)")
      let hasPixels = row.op == "decode" || row.op == "autofit"
      #expect((row.megapixelsPerSecond != nil) == hasPixels, "\(row.op)")
      if let mp = row.megapixelsPerSecond { #expect(mp.isFinite && mp > 0) }
    }
    for row in report.rows where row.threads == 1 { #expect(row.speedup == 1) }
    let a = try #require(report.autofit)
    #expect(abs(a.decodeShare + a.edgesShare + a.fittingShare - 1) < 1e-9)
    for share in [a.decodeShare, a.edgesShare, a.fittingShare] { #expect(share >= 0 && share <= 1) }
    #expect(Set(a.decodeMilliseconds.keys) == ["1/1", "1/2", "1/4"])
    #expect(a.decodeScale == "1/1")
    #expect(!report.recommendations.isEmpty)
    #expect(report.recommendations.contains { $0.hasPrefix("--threads ") })
    #expect(report.totalSeconds > 0)
    let table = report.table
    for op in BenchOp.allCases { #expect(table.contains(op.rawValue)) }
    #expect(table.contains("recommendation:"))
  }

  @Test("the same data gives the same item counts whatever the thread count and run")
  func deterministicWork() async throws {
    let a = try await BenchRun.run(tinyOptions(ops: [.masks, .iou, .agree, .autofit], threads: [1]))
    let b = try await BenchRun.run(tinyOptions(ops: [.masks, .iou, .agree, .autofit], threads: [2]))
    #expect(a.rows.map(\.items) == b.rows.map(\.items))
    #expect(a.source == b.source)
  }

  @Test("the JSON form reads back to the same report")
  func jsonRoundTrip() async throws {
    let report = try await BenchRun.run(tinyOptions(ops: [.decode, .autofit, .classifier], threads: [1, 2]))
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("annota-bench-\(UUID().uuidString).json").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try FileIO.writeAtomically(report.json.serializedBytes(), to: dir)
    let parsed = try JSONReader.parse(try FileIO.read(dir))
    let back = try BenchReport(json: parsed)
    #expect(back == report)
  }

  @Test("a report with a missing field is refused, naming the field")
  func jsonMissingField() async throws {
    let report = try await BenchRun.run(tinyOptions(ops: [.masks], threads: [1]))
    guard case .object(let members) = report.json else { Issue.record("not an object"); return }
    let broken = JSONValue.object(members.filter { $0.0 != "rows" })
    #expect(throws: BenchError.self) { try BenchReport(json: broken) }
    do { _ = try BenchReport(json: broken) } catch { #expect(error.description.contains("rows")) }
  }

  @Test("operation names parse in order; an unknown one is an error naming it and the valid names")
  func parseOps() throws {
    #expect(try BenchOp.parseList("iou,decode,iou") == [.iou, .decode])
    do {
      _ = try BenchOp.parseList("decode,bogus")
      Issue.record("bogus was accepted")
    } catch {
      #expect(error.description.contains("'bogus'"))
      #expect(error.description.contains("autofit"))
    }
  }

  @Test("a missing annotation file is an error naming it")
  func missingInput() async {
    var options = tinyOptions(ops: [.masks], threads: [1])
    options.annotations = "/nonexistent/annotations.json"
    do {
      _ = try await BenchRun.run(options)
      Issue.record("no error")
    } catch {
      #expect(error.description.contains("/nonexistent/annotations.json"))
    }
  }

  @Test("with annotations only, operations that need images are skipped with a note")
  func skipsWithoutImages() async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("annota-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("a.json").path
    let coco = """
      {"images":[{"id":1,"width":40,"height":30,"file_name":"x.png"}],
       "annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[2,2,20,20],"iscrowd":0,
                       "segmentation":[[2,2,22,2,22,22,2,22]]}],
       "categories":[{"id":1,"name":"a"}]}
      """
    try FileIO.writeAtomically(coco, to: file)
    var options = tinyOptions(ops: [.decode, .autofit, .masks], threads: [1])
    options.annotations = file
    let report = try await BenchRun.run(options)
    #expect(report.rows.map(\.op) == ["masks"])
    #expect(report.notes.contains { $0.hasPrefix("decode: skipped") })
    #expect(report.notes.contains { $0.hasPrefix("autofit: skipped") })
  }
}
