@testable import AnnotaGeometry
import Testing

@Suite("Polygons kept as upsampled coordinates")
struct UpsampledPolygonTests {
  @Test("random rings: the same masks, boxes and areas as the polygon, and a bound holding every pixel")
  func sameMasks() {
    var rng = SplitMix64(seed: 19)
    var bounded = 0
    for trial in 0..<6_000 {
      let (h, w) = randomImageSize(&rng)
      let rings = (0..<[1, 1, 1, 2, 3][trial % 5]).map { r in
        randomRing(kind: (trial + r) % 7, h: max(h, 1), w: max(w, 1), &rng)
      }.filter { $0.count >= 6 }
      guard !rings.isEmpty else { continue }
      let polygon = Polygon(rings: rings)
      let upsampled = UpsampledPolygon(polygon)
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
