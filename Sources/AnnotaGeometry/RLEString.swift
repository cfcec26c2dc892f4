extension RLE {
  /// COCO's compressed RLE string (pycocotools' `rleToString`).
  ///
  /// Each count, from the fourth on, is written as the difference to the count two places
  /// before; each value is written 5 bits at a time, least significant first, with bit `0x20`
  /// meaning "more follows", and 48 added to each character. A value ends when the remaining
  /// bits are all copies of the sign bit of the last group.
  ///
  /// - Complexity: O(counts).
  public var compressedString: String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(counts.count * 2)
    for i in counts.indices {
      var x = counts[i]
      if i > 2 { x -= counts[i - 2] }
      var more = true
      while more {
        var c = UInt8(truncatingIfNeeded: x & 0x1F)
        x >>= 5
        more = (c & 0x10) != 0 ? x != -1 : x != 0
        if more { c |= 0x20 }
        bytes.append(c + 48)
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Parses a compressed RLE string (pycocotools' `rleFrString`), validating it.
  ///
  /// - Throws: `GeometryError` for a character outside ASCII 48–111, a string that ends inside a
  ///   count, a count that does not fit in 64 bits (or overflows when added to the count two
  ///   places before), a negative count, or counts that do not sum to h·w
  ///   (pycocotools returns uninitialised memory in that case).
  /// - Complexity: O(string length).
  public init(height: Int, width: Int, compressed string: some StringProtocol)
    throws(GeometryError)
  {
    var counts: [Int] = []
    var utf8 = Array(string.utf8)
    counts.reserveCapacity(utf8.count / 2 + 1)
    var p = 0
    let n = utf8.count
    try utf8.withUnsafeMutableBufferPointer { (chars) throws(GeometryError) in
      while p < n {
        var x = 0
        var k = 0
        var more = true
        while more {
          guard p < n else { throw GeometryError.unterminatedCount }
          let raw = chars[p]
          guard raw >= 48 && raw <= 111 else { throw GeometryError.invalidCharacter(offset: p) }
          let c = Int(raw - 48)
          guard 5 * k < 64 else { throw GeometryError.countOverflow(index: counts.count) }
          // The 13th group holds bits 60...64; the value fits in 64 bits only if bit 64 (the
          // group's sign) repeats bit 63. Otherwise the shift below would drop it silently.
          if k == 12 && (c & 0x18) != 0 && (c & 0x18) != 0x18 {
            throw GeometryError.countOverflow(index: counts.count)
          }
          x |= (c & 0x1F) << (5 * k)
          more = (c & 0x20) != 0
          p += 1
          k += 1
          if !more && (c & 0x10) != 0 && 5 * k < 64 { x |= -1 << (5 * k) }
        }
        if counts.count > 2 {
          let (sum, overflow) = x.addingReportingOverflow(counts[counts.count - 2])
          if overflow { throw GeometryError.countOverflow(index: counts.count) }
          x = sum
        }
        counts.append(x)
      }
    }
    utf8 = []
    try self.init(height: height, width: width, counts: counts)
  }
}
