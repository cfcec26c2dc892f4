import Foundation
import Testing

/// The built `annota` binary, next to the test bundle (or $ANNOTA_BIN).
private let annotaBinary: URL = {
  if let path = ProcessInfo.processInfo.environment["ANNOTA_BIN"] { return URL(fileURLWithPath: path) }
  var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  if dir.lastPathComponent == "MacOS" || dir.path.hasSuffix(".xctest/Contents/MacOS") {
    dir = dir.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  }
  return dir.appendingPathComponent("annota")
}()

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()
private let images = root.appendingPathComponent("testdata/images")

struct Run {
  var status: Int32
  var stdout: String
  var stderr: String
}

func annota(_ arguments: [String]) throws -> Run {
  let process = Process()
  process.executableURL = annotaBinary
  process.arguments = arguments
  // Both streams go to files: reading two pipes one after the other deadlocks once the child
  // fills the second pipe's buffer (64 KiB of error lines) while we wait on the first.
  let dir = FileManager.default.temporaryDirectory
  let outURL = dir.appendingPathComponent("annota-out-\(UUID().uuidString)")
  let errURL = dir.appendingPathComponent("annota-err-\(UUID().uuidString)")
  _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
  _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
  defer {
    try? FileManager.default.removeItem(at: outURL)
    try? FileManager.default.removeItem(at: errURL)
  }
  process.standardOutput = try FileHandle(forWritingTo: outURL)
  process.standardError = try FileHandle(forWritingTo: errURL)
  try process.run()
  process.waitUntilExit()
  let stdout = try Data(contentsOf: outURL)
  let stderr = try Data(contentsOf: errURL)
  #expect(process.terminationReason == .exit, "annota \(arguments) died from a signal")
  return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
             stderr: String(decoding: stderr, as: UTF8.self))
}

func tempDir() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("annota-cli-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

@Suite("annota CLI end to end")
struct CLITests {
  @Test("info prints one JSON object a line, in input order")
  func info() throws {
    let files = ["jpeg_exif_orient6.jpg", "png_rgb16.png", "jpeg_gray.jpg"].map { images.appendingPathComponent($0).path }
    let run = try annota(["info"] + files + ["--threads", "2"])
    #expect(run.status == 0, "\(run.stderr)")
    let lines = run.stdout.split(separator: "\n")
    #expect(lines.count == 3)
    let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    #expect(objects.map { $0["path"] as? String } == files)
    #expect(objects[0]["orientation"] as? Int == 6)
    #expect(objects[0]["format"] as? String == "jpeg")
    #expect(objects[1]["bitDepth"] as? Int == 16)
    #expect(objects[1]["width"] as? Int == 37 && objects[1]["height"] as? Int == 23)
    #expect(objects[2]["channels"] as? Int == 1)
    #expect(objects[2]["orientation"] is NSNull)
  }

  @Test("info reports bad files, goes on, and exits 1")
  func infoErrors() throws {
    let good = images.appendingPathComponent("png_rgb8.png").path
    let bad = images.appendingPathComponent("bad/png_bad_ihdr.png").path
    let missing = images.appendingPathComponent("does-not-exist.jpg").path
    let run = try annota(["info", bad, good, missing])
    #expect(run.status == 1)
    let lines = run.stdout.split(separator: "\n")
    #expect(lines.count == 3)
    #expect(lines[0].contains("\"error\""))
    #expect(lines[1].contains("\"width\":37"))
    #expect(run.stderr.contains(bad))
    #expect(run.stderr.contains(missing))
  }

  @Test("convert writes a PNG that decodes to the same pixels, scaled and cropped")
  func convert() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out.png").path
    let run = try annota(["convert", images.appendingPathComponent("jpeg_large_420.jpg").path, out,
                          "--scale", "1/2", "--region", "20,10,60,40"])
    #expect(run.status == 0, "\(run.stderr)")
    let info = try annota(["info", out])
    let object = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as! [String: Any]
    #expect(object["format"] as? String == "png")
    #expect(object["width"] as? Int == 30 && object["height"] as? Int == 20)
    let gray = try annota(["convert", images.appendingPathComponent("png_rgba8.png").path, out, "--gray"])
    #expect(gray.status == 0)
    let grayInfo = try JSONSerialization.jsonObject(with: Data(try annota(["info", out]).stdout.utf8)) as! [String: Any]
    #expect(grayInfo["channels"] as? Int == 1)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.png"])
  }

  @Test("convert of every corrupt file exits 1 with the file named, never a signal")
  func convertCorrupt() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out.png").path
    for name in try FileManager.default.contentsOfDirectory(atPath: images.appendingPathComponent("bad").path).sorted() {
      let input = images.appendingPathComponent("bad/\(name)").path
      let run = try annota(["convert", input, out])
      #expect(run.status == 1, "\(name): \(run.stderr)")
      #expect(run.stderr.contains(input), "\(name)")
      #expect(!FileManager.default.fileExists(atPath: out), "\(name) left an output")
    }
    // fail-on none accepts a truncated file, with a warning.
    let run = try annota(["convert", images.appendingPathComponent("bad/truncated_baseline.jpg").path, out, "--fail-on", "none"])
    #expect(run.status == 0)
    #expect(run.stderr.contains("truncated"))
  }

  @Test("a missing input or an unwritable output exits 2; a usage error exits 64")
  func exitCodes() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let missing = try annota(["convert", "/nonexistent/in.jpg", dir.appendingPathComponent("o.png").path])
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("/nonexistent/in.jpg"))
    let unwritable = try annota(["convert", images.appendingPathComponent("png_rgb8.png").path, "/nonexistent-dir/o.png"])
    #expect(unwritable.status == 2)
    #expect(try annota(["convert", "a", "b", "--scale", "1/3"]).status == 64)
    #expect(try annota(["convert", "a", "b", "--region", "1,2,3"]).status == 64)
    #expect(try annota(["info"]).status == 64)
    #expect(try annota(["info", "x.jpg", "--threads", "0"]).status == 64)
    #expect(try annota(["no-such-command"]).status == 64)
  }
}
