@testable import AnnotaGeometry
import Testing

@Suite("Sorting a column's crossings")
struct RasterizerSortTests {
  /// By the 0-1 principle, a comparator network that sorts every sequence of 0s and 1s sorts
  /// everything; random polygons rarely put an odd number of crossings in a column, so each
  /// network is checked here directly.
  @Test("every 0-1 sequence of length 2 to 12")
  func zeroOne() {
    for count in 0...12 {
      for bits in 0..<(1 << count) {
        let rows = (0..<count).map { (bits >> $0) & 1 }
        let expected = rows.sorted()
        #expect(sortColumn(rows) == expected, "\(count) bits \(bits)")
      }
    }
  }

  @Test("random rows with repeats, every length up to 40")
  func random() {
    var rng = SplitMix64(seed: 5)
    for count in 1...40 {
      for _ in 0..<200 {
        let rows = (0..<count).map { _ in Int.random(in: 0...(2 * count), using: &rng) }
        let expected = rows.sorted()
        #expect(sortColumn(rows) == expected, "\(count)")
      }
    }
  }

  /// `sortColumn` from a bucket with spare slots (garbage) to a destination with spare slots, which
  /// it may overwrite; the slots before the destination are checked to stay untouched.
  func sortColumn(_ rows: [Int]) -> [Int] {
    let slack = PolygonRasterizer.sortSlack
    var source = rows + Array(repeating: -5, count: slack)
    var destination = Array(repeating: 77, count: 3 + rows.count + slack)
    source.withUnsafeMutableBufferPointer { source in
      destination.withUnsafeMutableBufferPointer { destination in
        PolygonRasterizer.sortColumn(source.baseAddress!, count: rows.count, into: destination.baseAddress! + 3)
      }
    }
    #expect(destination.prefix(3) == [77, 77, 77])
    return Array(destination[3 ..< 3 + rows.count])
  }
}
