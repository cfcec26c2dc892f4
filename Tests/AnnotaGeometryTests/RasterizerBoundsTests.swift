@testable import AnnotaGeometry
import Testing

@Suite("The bounding box found while rasterizing")
struct RasterizerBoundsTests {
  /// Real rings put an odd number of crossings in a column only with coordinates near the clamp,
  /// so runs that wrap into the next column, or go on to the end of the mask, hardly occur in
  /// random polygons; here the buckets are made up directly, odd counts and rows 0 and h included.
  @Test("random buckets: the bounds equal boundingBox of the counts built from them")
  func randomBuckets() {
    var rng = SplitMix64(seed: 41)
    for trial in 0..<20_000 {
      let h = Int.random(in: 0...6, using: &rng), w = Int.random(in: 1...6, using: &rng)
      let lowColumn = Int.random(in: 0..<w, using: &rng)
      let span = Int.random(in: 1...(w - lowColumn), using: &rng)
      var rows: [Int] = []
      var start: [Int] = []
      var fill: [Int] = []
      for _ in 0..<span {
        start.append(rows.count)
        for _ in 0..<[0, 0, 1, 2, 2, 3, 4, 5, 6, 8, 9][Int.random(in: 0...10, using: &rng)] {
          let row = [0, h, Int.random(in: 0...h, using: &rng)][Int.random(in: 0...2, using: &rng)]
          rows.append((lowColumn + start.count - 1) * h + row)  // the position
        }
        fill.append(rows.count)
        rows.append(-1)  // a bucket's spare slot, as when a column receives fewer than it could
      }
      start.append(rows.count)
      let crossings = rows.count
      rows += Array(repeating: -7, count: PolygonRasterizer.sortSlack)
      var sorted = Array(repeating: -9, count: crossings + PolygonRasterizer.sortSlack)
      let (rle, bounds) = PolygonRasterizer.runs(
        positions: &rows, start: &start, fill: &fill, sorted: &sorted, lowColumn: lowColumn,
        span: span, crossings: crossings, height: h, width: w, findBounds: true)
      let all = (0..<span).flatMap { rows[start[$0] ..< fill[$0]] }
      #expect(rle.counts == pycocotoolsCounts(all, area: h * w), "trial \(trial)")
      #expect(bounds.box == rle.boundingBox, "trial \(trial): \(h)x\(w) from \(lowColumn) \(rows) \(rle.counts)")
      let withoutBounds = PolygonRasterizer.runs(
        positions: &rows, start: &start, fill: &fill, sorted: &sorted, lowColumn: lowColumn,
        span: span, crossings: crossings, height: h, width: w, findBounds: false)
      #expect(withoutBounds.rle == rle, "trial \(trial)")
      #expect(withoutBounds.bounds.box == PixelBounds.none.box, "trial \(trial)")
    }
  }
}

/// `rleFrPoly`'s last step as pycocotools writes it: sort every position, append h·w, take
/// differences, and fold each zero difference and the one after it into the previous count.
func pycocotoolsCounts(_ positions: [Int], area: Int) -> [Int] {
  let a = positions.sorted() + [area]
  var differences: [Int] = []
  var previous = 0
  for p in a {
    differences.append(p - previous)
    previous = p
  }
  var counts = [differences[0]]
  var j = 1
  while j < differences.count {
    if differences[j] > 0 {
      counts.append(differences[j])
      j += 1
    } else {
      j += 1
      if j < differences.count {
        counts[counts.count - 1] += differences[j]
        j += 1
      }
    }
  }
  return counts
}
