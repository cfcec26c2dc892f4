import AnnotaConsensus
import AnnotaEngine
import AnnotaGeometry
import AnnotaTestSupport
import Foundation
import Testing

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()

private let sitkPython = pythonWith("SimpleITK")

@Suite("Fusion against SimpleITK")
struct SimpleITKTests {
  @Test("majority vote equals SimpleITK LabelVoting; STAPLE agrees with SimpleITK's STAPLE",
        .enabled(if: sitkPython != nil, "no Python with SimpleITK (set ANNOTA_PYTHON): skipped"))
  func againstSimpleITK() throws {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("annota-voting-\(getpid()).json")
    defer { try? FileManager.default.removeItem(at: out) }
    _ = try runPython(sitkPython!, [root.appendingPathComponent("Tests/scripts/voting_reference.py").path, out.path,
                                    "--cases", "20"])
    let document = try JSONReader.parse(try FileIO.read(out.path))
    guard case .array(let cases)? = document["cases"] else { Issue.record("no cases"); return }
    var stapleIoU: [Double] = []
    for c in cases {
      let h = Int(c["h"]!.integer!), w = Int(c["w"]!.integer!)
      func mask(_ v: JSONValue) -> RLE {
        guard case .string(let bits) = v else { fatalError("bits") }
        return RLE(Mask(height: h, width: w, columnMajor: bits.utf8.map { $0 == UInt8(ascii: "1") ? 1 : 0 }))
      }
      guard case .array(let raters)? = c["raters"] else { continue }
      let masks = raters.map(mask)
      #expect(Fusion.vote(masks) == mask(c["vote"]!))
      let ours = Fusion.staple(masks).mask
      let theirs = mask(c["staple"]!)
      stapleIoU.append(ours.area + theirs.area == 0 ? 1 : ours.iou(theirs))
    }
    // STAPLE here runs on the raters' bounding region with the prior estimated there, SimpleITK
    // on the whole image; the consensus masks agree (identical on this seed when measured).
    let mean = stapleIoU.reduce(0, +) / Double(stapleIoU.count)
    print("STAPLE vs SimpleITK: mean IoU \(mean), min \(stapleIoU.min()!) over \(stapleIoU.count) cases")
    #expect(mean >= 0.999)
    #expect(stapleIoU.min()! >= 0.99)
  }
}
