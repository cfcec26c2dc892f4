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
    var text = String(string)
    let parsed: Result<[Int], GeometryError> = text.withUTF8 { chars in
      RLE.parseCounts(chars)
    }
    try self.init(height: height, width: width, counts: try parsed.get())
  }

  /// Decodes the counts of a compressed string; locals only and a pre-sized output (every count
  /// takes at least one character), so the loop stays in registers.
  static func parseCounts(_ chars: UnsafeBufferPointer<UInt8>) -> Result<[Int], GeometryError> {
    let n = chars.count
    var failure: GeometryError?
    let counts = [Int](unsafeUninitializedCapacity: n) { out, written in
      var m = 0
      var p = 0
      while p < n {
        var x = 0
        var k = 0
        var more = true
        while more {
          guard p < n else {
            failure = .unterminatedCount
            written = m
            return
          }
          let raw = chars[p]
          guard raw >= 48 && raw <= 111 else {
            failure = .invalidCharacter(offset: p)
            written = m
            return
          }
          let c = Int(raw &- 48)
          if k == 12 {
            // The 13th group supplies bits 60–64: its bits 3 and 4 (value bits 63 and 64) must
            // agree, or the count does not fit in 64 bits.
            if (c >> 3) & 1 != (c >> 4) & 1 {
              failure = .countOverflow(index: m)
              written = m
              return
            }
          } else if k > 12 {
            failure = .countOverflow(index: m)
            written = m
            return
          }
          x |= (c & 0x1F) << (5 &* k)
          more = (c & 0x20) != 0
          p &+= 1
          k &+= 1
          if !more && (c & 0x10) != 0 && 5 &* k < 64 { x |= -1 << (5 &* k) }
        }
        if m > 2 {
          let (sum, overflow) = x.addingReportingOverflow(out[m &- 2])
          if overflow {
            failure = .countOverflow(index: m)
            written = m
            return
          }
          x = sum
        }
        out[m] = x
        m &+= 1
      }
      written = m
    }
    if let failure { return .failure(failure) }
    return .success(counts)
  }
}
