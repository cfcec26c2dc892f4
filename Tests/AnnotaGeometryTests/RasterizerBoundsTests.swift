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
        for _ in 0..<[0, 0, 1, 2, 2, 3, 4][Int.random(in: 0...6, using: &rng)] {
          rows.append([0, h, Int.random(in: 0...h, using: &rng)][Int.random(in: 0...2, using: &rng)])
        }
        fill.append(rows.count)
        rows.append(-1)  // a bucket's spare slot, as when a column receives fewer than it could
      }
      start.append(rows.count)
      let (rle, bounds) = PolygonRasterizer.runs(
        rows: &rows, start: &start, fill: &fill, lowColumn: lowColumn, span: span,
        crossings: rows.count, height: h, width: w, findBounds: true)
      #expect(bounds.box == rle.boundingBox, "trial \(trial): \(h)x\(w) from \(lowColumn) \(rows) \(rle.counts)")
      let withoutBounds = PolygonRasterizer.runs(
        rows: &rows, start: &start, fill: &fill, lowColumn: lowColumn, span: span,
        crossings: rows.count, height: h, width: w, findBounds: false)
      #expect(withoutBounds.rle == rle, "trial \(trial)")
    }
  }
}
