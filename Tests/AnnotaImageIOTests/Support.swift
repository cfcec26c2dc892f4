import AnnotaImage
import Foundation

/// The repository root, found from this file's path.
let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()

let testdata = repoRoot.appendingPathComponent("testdata")

/// The real COCO photos beside the project (absent on machines without ../shared).
let sharedImages = repoRoot.deletingLastPathComponent()
  .appendingPathComponent("shared/data/coco-val-mini/images")

func bytes(_ relative: String) throws -> [UInt8] {
  [UInt8](try Data(contentsOf: testdata.appendingPathComponent(relative)))
}

/// Reads a binary PAM (P7) file with MAXVAL 255 as an `Image`.
func loadPAM(_ relative: String) throws -> Image {
  let data = [UInt8](try Data(contentsOf: testdata.appendingPathComponent(relative)))
  guard let end = data.firstRange(of: Array("ENDHDR\n".utf8)) else {
    throw PAMError.malformed(relative)
  }
  let header = String(decoding: data[..<end.lowerBound], as: UTF8.self)
  var fields: [String: String] = [:]
  for line in header.split(separator: "\n").dropFirst() {
    let parts = line.split(separator: " ", maxSplits: 1)
    if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
  }
  guard let width = fields["WIDTH"].flatMap(Int.init), let height = fields["HEIGHT"].flatMap(Int.init),
    let depth = fields["DEPTH"].flatMap(Int.init), let format = PixelFormat(rawValue: depth)
  else { throw PAMError.malformed(relative) }
  let body = Array(data[end.upperBound...])
  guard body.count == width * height * depth else { throw PAMError.malformed(relative) }
  return Image(width: width, height: height, format: format, pixels: body)
}

enum PAMError: Error { case malformed(String) }

/// One expected decode from testdata/expected/manifest.json.
struct ManifestImage: Sendable, CustomTestStringConvertible {
  var file: String
  var expected: String
  var kind: String
  var scale: Int
  var grayOutput: Bool
  var exifOrientation: Int?
  var testDescription: String { "\(file) scale 1/\(scale)\(grayOutput ? " gray" : "")" }
}

struct ManifestBad: Sendable, CustomTestStringConvertible {
  var file: String
  var expectError: String
  var testDescription: String { file }
}

nonisolated(unsafe) private let manifest: [String: Any] = {  // read-only after init
  let url = testdata.appendingPathComponent("expected/manifest.json")
  guard let data = try? Data(contentsOf: url),
    let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
  else { return [:] }
  return object
}()

let manifestImages: [ManifestImage] = (manifest["images"] as? [[String: Any]] ?? []).map { entry in
  ManifestImage(
    file: entry["file"] as? String ?? "", expected: entry["expected"] as? String ?? "",
    kind: entry["kind"] as? String ?? "", scale: entry["scale"] as? Int ?? 1,
    grayOutput: entry["gray_output"] as? Bool ?? false,
    exifOrientation: entry["exif_orientation"] as? Int)
}

let manifestBad: [ManifestBad] = (manifest["bad"] as? [[String: Any]] ?? []).map { entry in
  ManifestBad(file: entry["file"] as? String ?? "", expectError: entry["expect_error"] as? String ?? "")
}

/// Peak resident memory of this process, in bytes.
func peakResidentBytes() -> Int {
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  return usage.ru_maxrss * 1024
}


import Testing
