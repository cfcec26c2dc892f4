@testable import AnnotaGeometry
import Testing

@Suite("Polygons kept as upsampled coordinates")
struct UpsampledPolygonTests {
  @Test("random rings: the same masks, boxes and areas as the polygon, and a bound holding every pixel")
  func sameMasks() {
    var rng = SplitMix64(seed: 19)
    var bounded = 0, packed = 0, unpacked = 0
    for trial in 0..<6_000 {
      let (h, w) = randomImageSize(&rng)
      let rings = (0..<[1, 1, 1, 2, 3][trial % 5]).map { r in
        randomRing(kind: (trial + r) % 7, h: max(h, 1), w: max(w, 1), &rng)
      }.filter { $0.count >= 6 }
      guard !rings.isEmpty else { continue }
      let polygon = Polygon(rings: rings)
      let upsampled = UpsampledPolygon(polygon)
      if upsampled.isPacked { packed += 1 } else { unpacked += 1 }
      #expect(upsampled.ringCount == rings.count)
      for (r, ring) in rings.enumerated() {
        #expect(Array(upsampled.ring(r)) == ring.map { Int32(PolygonRasterizer.upsample($0)) }, "trial \(trial)")
      }
      let a = polygon.maskIntervals(height: h, width: w), b = upsampled.maskIntervals(height: h, width: w)
      #expect(a.intervals == b.intervals && a.area == b.area && a.box == b.box, "trial \(trial): \(h)x\(w) \(rings)")
      let (rle, box) = upsampled.rleWithBox(height: h, width: w)
      #expect(rle == polygon.rle(height: h, width: w) && box == rle.boundingBox, "trial \(trial)")
      if let bound = upsampled.pixelBound() {
        bounded += 1
        if rle.area > 0 {
          #expect(Double(bound.x0) <= box.x && Double(bound.y0) <= box.y, "trial \(trial): \(bound) \(box)")
          #expect(box.x + box.width - 1 <= Double(bound.x1) && box.y + box.height - 1 <= Double(bound.y1),
                  "trial \(trial): \(bound) \(box)")
        }
        // Never looser than a few pixels around the polygon's own bound.
        if let own = polygon.pixelBound() {
          #expect(abs(bound.x0 - own.x0) <= 1 && abs(bound.x1 - own.x1) <= 1, "trial \(trial)")
          #expect(abs(bound.y0 - own.y0) <= 1 && abs(bound.y1 - own.y1) <= 1, "trial \(trial)")
        }
      }
    }
    #expect(bounded > 1_000)
    // Both layouts: 16-bit offsets, and pairs for the far-flung rings.
    #expect(packed > 1_000 && unpacked > 100, "packed \(packed), unpacked \(unpacked)")
  }

  @Test("points kept as 16-bit offsets up to an extent of 65,535 upsampled units, as pairs beyond")
  func packingBoundary() {
    for (extentX, extentY) in [(65_535, 0), (65_535, 65_535), (65_536, 10), (10, 65_536), (0, 0)] {
      for origin in [Int32(-70_000), 0, 123_456] {
        // A triangle with the given extents, and a second ring inside its box.
        let x0 = origin, y0 = origin / 2
        let ring1: [Int32] = [x0, y0, x0 + Int32(extentX), y0 + Int32(extentY / 2), x0 + Int32(extentX / 3), y0 + Int32(extentY)]
        let ring2: [Int32] = [x0 + 1, y0 + 2, x0 + 3, y0, x0, y0 + 5]
        let xy = ring1 + ring2, ends: [Int32] = [6, 12]
        let polygon = xy.withUnsafeBufferPointer { xy in
          ends.withUnsafeBufferPointer { ends in try! UpsampledPolygon(coordinates: xy, ringEnds: ends) }
        }
        #expect(polygon.isPacked == (extentX < 65_536 && extentY < 65_536 && 5 < 65_536), "\(extentX) \(extentY)")
        #expect(polygon.ring(0) == ring1 && polygon.ring(1) == ring2, "\(extentX) \(extentY) \(origin)")
        // Pixel coordinates whose upsampled values are these: (int)(5 · v/5 + .5) is v for v ≥ 0,
        // and (int)(5 · (v - .5)/5 + .5) is v for v < 0 (truncation toward zero).
        let rings = [ring1, ring2].map { $0.map { $0 >= 0 ? Double($0) / 5 : (Double($0) - 0.5) / 5 } }
        let reference = Polygon(rings: rings)
        #expect(UpsampledPolygon(reference) == polygon)
        let h = 240, w = 320
        let a = reference.maskIntervals(height: h, width: w), b = polygon.maskIntervals(height: h, width: w)
        #expect(a.intervals == b.intervals && a.area == b.area && a.box == b.box, "\(extentX) \(extentY) \(origin)")
        #expect(polygon.rle(height: h, width: w) == reference.rle(height: h, width: w))
      }
    }
  }

  @Test("rings are checked as Polygon.validated() checks them")
  func validation() {
    func make(_ xy: [Int32], _ ends: [Int32]) -> GeometryError? {
      do {
        _ = try xy.withUnsafeBufferPointer { xy throws(GeometryError) in
          try ends.withUnsafeBufferPointer { ends throws(GeometryError) in try UpsampledPolygon(coordinates: xy, ringEnds: ends) }
        }
        return nil
      } catch {
        return error
      }
    }
    let six: [Int32] = [0, 0, 10, 0, 10, 10]
    #expect(make(six, [6]) == nil)
    #expect(make(six + six, [6, 12]) == nil)
    #expect(make(six + [1, 2, 3], [6, 9]) == .oddCoordinateCount(ring: 1, numbers: 3))
    #expect(make(six + [1, 2, 3, 4], [6, 10]) == .tooFewPoints(ring: 1, numbers: 4))
  }
}
