import AnnotaEdges
import AnnotaGeometry
import AnnotaImage
import Testing

/// A 200×160 RGB scene: textured grey background, a bright object at [60, 40, 140, 120).
func scene(objectValue: UInt8 = 200, seed: UInt64 = 1) -> Image {
  var rng = SplitMix64(seed: seed)
  var pixels = [UInt8](repeating: 0, count: 200 * 160 * 3)
  for y in 0..<160 {
    for x in 0..<200 {
      let inside = x >= 60 && x < 140 && y >= 40 && y < 120
      let base = inside ? Int(objectValue) : 60
      let noise = Int(rng.next() % 9) - 4
      for c in 0..<3 { pixels[(y * 200 + x) * 3 + c] = UInt8(clamping: base + noise) }
    }
  }
  return Image(width: 200, height: 160, format: .rgb, pixels: pixels)
}

@Suite("Box fitter (guarded gap rule)")
struct BoxFitterTests {
  let truth = Box(left: 60, top: 40, right: 140, bottom: 120)
  /// The mechanics at a lower evidence bar than the shipped default (0.8, chosen on real photos
  /// for safety), where a clean synthetic object clears it.
  var permissive: FitOptions {
    var o = FitOptions()
    o.minimumGain = 0.4
    return o
  }

  func iou(_ a: Box, _ b: Box) -> Double {
    let i = a.intersectionArea(b)
    return i / (a.width * a.height + b.width * b.height - i)
  }

  @Test("a loose box on a clean object snaps to it")
  func snapsLoose() {
    let rough = Box(left: 50, top: 32, right: 152, bottom: 128)
    let d = BoxFitter.fit(scene(), rough: rough, others: [], options: permissive)
    #expect(iou(d.box, truth) > 0.97, "\(d.box) \(d.reasons)")
    #expect(iou(d.box, truth) > iou(rough, truth))
    #expect(d.confidence > 0)
  }

  @Test("an exact box is never moved by more than 1 px, at the default and the permissive bar")
  func exactStays() {
    for options in [FitOptions(), permissive] {
      let d = BoxFitter.fit(scene(), rough: truth, others: [], options: options)
      for side in 0..<4 { #expect(abs(d.box[side: side] - truth[side: side]) <= 1, "side \(side): \(d.box)") }
    }
  }

  @Test("a side does not sweep over a neighbour's box")
  func neighbourGuard() {
    // Too tight on the right; the neighbour's box covers the strip the side would sweep.
    let rough = Box(left: 60, top: 40, right: 125, bottom: 120)
    let neighbour = Box(left: 126, top: 30, right: 190, bottom: 130)
    let free = BoxFitter.fit(scene(), rough: rough, others: [], options: permissive)
    let guarded = BoxFitter.fit(scene(), rough: rough, others: [neighbour], options: permissive)
    #expect(free.box.right > 135, "\(free.box)")
    #expect(guarded.box.right == rough.right)
    #expect(guarded.reasons[2] == "would sweep over another box")
  }

  @Test("no evidence, no move: a flat image leaves the box alone with confidence 0")
  func flat() {
    let flat = Image(width: 100, height: 100, format: .gray, pixels: [UInt8](repeating: 90, count: 10_000))
    let rough = Box(left: 20, top: 20, right: 80, bottom: 70)
    let d = BoxFitter.fit(flat, rough: rough, others: [])
    #expect(d.box == rough && d.confidence == 0 && !d.accepted.contains(true))
  }
}
