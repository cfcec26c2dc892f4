@testable import AnnotaGeometry
import Testing

@Suite("Sorting a column's crossings")
struct RasterizerSortTests {
  /// By the 0-1 principle, a comparator network that sorts every sequence of 0s and 1s sorts
  /// everything; random polygons rarely put an odd number of crossings in a column, so each
  /// network is checked here directly.
  @Test("every 0-1 sequence of length 2 to 12")
  func zeroOne() {
    for count in 2...12 {
      for bits in 0..<(1 << count) {
        var rows = (0..<count).map { (bits >> $0) & 1 }
        let expected = rows.sorted()
        rows.withUnsafeMutableBufferPointer { PolygonRasterizer.sortSmall($0.baseAddress!, count: count) }
        #expect(rows == expected, "\(count) bits \(bits)")
      }
    }
  }

  @Test("random rows with repeats, every length up to 40")
  func random() {
    var rng = SplitMix64(seed: 5)
    for count in 2...40 {
      for _ in 0..<200 {
        var rows = (0..<count).map { _ in Int.random(in: 0...(2 * count), using: &rng) }
        let expected = rows.sorted()
        rows.withUnsafeMutableBufferPointer { PolygonRasterizer.sortSmall($0.baseAddress!, count: count) }
        #expect(rows == expected, "\(count)")
      }
    }
  }
}
