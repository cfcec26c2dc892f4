import AnnotaImage
@testable import AnnotaImageIO
import Foundation
import Testing

/// The outcome of one decode, comparable across the two JPEG paths.
private enum Outcome: Equatable {
  case image(Image, warnings: Int, truncated: Bool)
  case failure(DecodeError)
}

private func outcome(_ bytes: [UInt8], failOn: FailOn, libjpegOnly: Bool) -> Outcome {
  var options = DecodeOptions(scale: .eighth, gray: true, failOn: failOn)
  options.libjpegOnly = libjpegOnly
  do {
    let d = try ImageDecoder.decode(bytes, options: options)
    return .image(d.image, warnings: d.warnings, truncated: d.truncated)
  } catch {
    return .failure(error)
  }
}

/// Decodes `bytes` with the DC-only scan allowed and with libjpeg alone; records a mismatch.
private func expectSamePaths(_ bytes: [UInt8], _ name: String, failOn: FailOn = .truncated) {
  let fast = outcome(bytes, failOn: failOn, libjpegOnly: false)
  let reference = outcome(bytes, failOn: failOn, libjpegOnly: true)
  #expect(fast == reference, "\(name) (fail-on \(failOn.rawValue)): the DC-only scan differs from libjpeg")
}

private let haveSharedPhotos = FileManager.default.fileExists(atPath: sharedImages.path)

@Suite("1/8 grey JPEG decodes: the DC-only scan against libjpeg")
struct DCScanTests {
  @Test("every generated JPEG (4:2:0, 4:2:2, 4:4:4, grey, restart markers, progressive, CMYK, bad files)")
  func generated() throws {
    let dirs = ["images", "images/bad"]
    var count = 0
    for dir in dirs {
      let names = try FileManager.default.contentsOfDirectory(
        atPath: testdata.appendingPathComponent(dir).path
      ).filter { $0.hasSuffix(".jpg") }.sorted()
      for name in names {
        let data = try bytes("\(dir)/\(name)")
        for failOn in FailOn.allCases { expectSamePaths(data, name, failOn: failOn) }
        count += 1
      }
    }
    #expect(count >= 10)
  }

  @Test(
    "the COCO photos, whole, cut short at several points, and with corrupted bytes",
    .enabled(if: haveSharedPhotos, "../shared/data/coco-val-mini is absent: skipped"))
  func photos() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: sharedImages.path)
      .filter { $0.hasSuffix(".jpg") }.sorted()
    #expect(files.count >= 80)
    var rng = SplitMix(seed: 9)
    for (i, file) in files.enumerated() {
      let data = [UInt8](try Data(contentsOf: sharedImages.appendingPathComponent(file)))
      expectSamePaths(data, file)
      guard i % 4 == 0 else { continue }
      // Cut short: inside the scan, just before the EOI, and one byte short.
      for cut in [data.count / 2, data.count - 2, data.count - 1] {
        for failOn in FailOn.allCases {
          expectSamePaths(Array(data.prefix(cut)), "\(file) cut at \(cut)", failOn: failOn)
        }
      }
      // Corrupted entropy-coded bytes (past the first 2 KiB of headers): random values, a
      // stray marker, and junk between the scan and the EOI.
      var corrupt = data
      for _ in 0..<4 {
        let at = 2048 + Int(rng.next() % UInt64(data.count - 2050))
        corrupt[at] = UInt8(truncatingIfNeeded: rng.next())
      }
      expectSamePaths(corrupt, "\(file) with 4 random bytes", failOn: .none)
      var marker = data
      let at = data.count / 3
      marker[at] = 0xFF
      marker[at + 1] = 0xD3
      expectSamePaths(marker, "\(file) with a stray RST3", failOn: .none)
      let junk = Array(data.dropLast(2)) + [0x12, 0x34, 0xFF, 0xD9]
      expectSamePaths(junk, "\(file) with junk before the EOI", failOn: .none)
    }
  }
}

/// A small seeded generator (SplitMix64) for the corruption positions.
private struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
