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
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: RLE.maxCharactersPerCount * max(counts.count, 1)) { buffer in
      let out = buffer.baseAddress!
      var n = 0
      counts.withUnsafeBufferPointer { counts in
        for i in counts.indices {
          n &+= RLE.writeCount(i > 2 ? counts[i] &- counts[i - 2] : counts[i], to: out + n)
        }
      }
      return String(decoding: UnsafeBufferPointer(start: out, count: n), as: UTF8.self)
    }
  }

  /// The most characters one count takes (5 bits each, 64-bit values).
  static let maxCharactersPerCount = 13

  /// Writes one value of a compressed string at `out` (room for `maxCharactersPerCount` bytes)
  /// and returns how many characters it took: the fewest 5-bit groups that hold `x` in two's
  /// complement, least significant first, each but the last with `0x20` set, plus 48. (The
  /// loop in pycocotools stops once the bits left are all copies of the last group's sign bit:
  /// the same count.) Values of up to three groups, nearly all, are written without a loop.
  @inline(__always)
  static func writeCount(_ x: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
    // Magnitude bits of x (of ~x when negative), plus a sign bit, in groups of five.
    let magnitude = x ^ (x >> 63)
    let bits = Int.bitWidth - magnitude.leadingZeroBitCount + 1
    let groups = (bits + 4) / 5
    if groups <= 3 {
      // All three characters are stored; those past `groups` are overwritten by the next value.
      let more0: Int = groups > 1 ? 0x20 : 0, more1: Int = groups > 2 ? 0x20 : 0
      out[0] = UInt8(truncatingIfNeeded: (x & 0x1F | more0) &+ 48)
      out[1] = UInt8(truncatingIfNeeded: ((x >> 5) & 0x1F | more1) &+ 48)
      out[2] = UInt8(truncatingIfNeeded: ((x >> 10) & 0x1F) &+ 48)
      return groups
    }
    for g in 0..<groups {
      out[g] = UInt8(truncatingIfNeeded: ((x >> (5 * g)) & 0x1F | (g < groups - 1 ? 0x20 : 0)) &+ 48)
    }
    return groups
  }

  /// The compressed string, area and bounding box of the mask whose foreground is `intervals`
  /// (as `init(height:width:foregroundIntervals:)` takes them): equal to that mask's
  /// `compressedString`, `area` and `boundingBox`, found in one pass over the intervals without
  /// building the counts. A vote's consensus mask needs only these three.
  ///
  /// - Precondition: as `init(height:width:foregroundIntervals:)`.
  /// - Complexity: O(intervals).
  public static func summary(ofIntervals intervals: [Int], height h: Int, width w: Int)
    -> (compressed: String, area: Int, box: Box)
  {
    intervals.withUnsafeBufferPointer { intervals in
      summary(ofIntervals: intervals, height: h, width: w) { String(decoding: $0, as: UTF8.self) }
    }
  }

  /// `summary(ofIntervals:height:width:)` with the compressed string as the bytes of a JSON
  /// string literal (`jsonLiteral`), which a JSON writer appends as they are.
  public static func jsonSummary(ofIntervals intervals: [Int], height h: Int, width w: Int)
    -> (compressedLiteral: [UInt8], area: Int, box: Box)
  {
    intervals.withUnsafeBufferPointer { jsonSummary(ofIntervals: $0, height: h, width: w) }
  }

  /// `jsonSummary` of intervals in a buffer (a vote's result in its temporary storage).
  public static func jsonSummary(ofIntervals intervals: UnsafeBufferPointer<Int>, height h: Int, width w: Int)
    -> (compressedLiteral: [UInt8], area: Int, box: Box)
  {
    summary(ofIntervals: intervals, height: h, width: w, jsonLiteral)
  }

  /// A compressed string's characters (48–111) as a JSON string literal: quoted, with its
  /// backslashes (92, the only character of that range JSON escapes) doubled; exactly the bytes
  /// a JSON writer gives the string.
  public static func jsonLiteral(_ characters: UnsafeBufferPointer<UInt8>) -> [UInt8] {
    // Eight characters at a time: a byte of `word ^ 0x5C…` is zero exactly where the word holds
    // a backslash (bytes below 0x80: the sum of the low seven bits with 0x7F sets a byte's top
    // bit exactly when the byte is not zero).
    @inline(__always) func backslashBits(_ word: UInt64) -> UInt64 {
      let y = word ^ 0x5C5C_5C5C_5C5C_5C5C
      return ~((y & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F | y) & 0x8080_8080_8080_8080
    }
    let count = characters.count
    guard let source = characters.baseAddress else { return [UInt8(ascii: "\""), UInt8(ascii: "\"")] }
    var backslashes = 0
    var valid = true
    var k = 0
    while k + 8 <= count {
      let word = UnsafeRawPointer(source + k).loadUnaligned(as: UInt64.self)
      backslashes &+= backslashBits(word).nonzeroBitCount
      // Every byte in 48...111: (byte + 80) has its top bit set and (byte + 16) has not.
      valid = valid && (word &+ 0x5050_5050_5050_5050) & 0x8080_8080_8080_8080 == 0x8080_8080_8080_8080
        && (word &+ 0x1010_1010_1010_1010) & 0x8080_8080_8080_8080 == 0
      k &+= 8
    }
    while k < count {
      let c = source[k]
      backslashes &+= c == UInt8(ascii: "\\") ? 1 : 0
      valid = valid && c >= 48 && c <= 111
      k &+= 1
    }
    precondition(valid, "not a compressed RLE character")
    return [UInt8](unsafeUninitializedCapacity: count + backslashes + 2) { out, written in
      let out = out.baseAddress!
      out[0] = UInt8(ascii: "\"")
      var n = 1
      @inline(__always) func put(_ c: UInt8) {
        out[n] = c
        n &+= 1
        if c == UInt8(ascii: "\\") {
          out[n] = c
          n &+= 1
        }
      }
      var k = 0
      while k + 8 <= count {
        let word = UnsafeRawPointer(source + k).loadUnaligned(as: UInt64.self)
        if backslashBits(word) == 0 {
          UnsafeMutableRawPointer(out + n).storeBytes(of: word, as: UInt64.self)
          n &+= 8
        } else {
          for i in 0..<8 { put(source[k &+ i]) }
        }
        k &+= 8
      }
      while k < count {
        put(source[k])
        k &+= 1
      }
      out[n] = UInt8(ascii: "\"")
      written = n + 1
    }
  }

  /// The summary, with the compressed string's characters handed to `text` to keep.
  @inline(__always)
  static func summary<Text>(
    ofIntervals intervals: UnsafeBufferPointer<Int>, height h: Int, width w: Int,
    _ text: (UnsafeBufferPointer<UInt8>) -> Text
  ) -> (Text, Int, Box) {
    precondition(intervals.count % 2 == 0, "intervals come in start/end pairs")
    let total = h * w
    let last = intervals.last ?? 0
    precondition(last <= total, "interval beyond the mask")
    // The counts: the zeros before each interval, its ones, and the zeros after the last (kept
    // when there are any, or when there is no interval at all).
    let trailing = last < total || intervals.isEmpty
    let countCount = intervals.count + (trailing ? 1 : 0)
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxCharactersPerCount * countCount) { buffer in
      let out = buffer.baseAddress!
      var n = 0
      var index = 0, back1 = 0, back2 = 0  // counts written, and the last two
      @inline(__always) func put(_ count: Int) {
        n &+= writeCount(index > 2 ? count &- back2 : count, to: out + n)
        back2 = back1
        back1 = count
        index &+= 1
      }
      var area = 0
      // The box as `boundingBox` finds it from the counts: each interval's first and last pixel,
      // full height when it runs on into a later column; the column is tracked as in that walk.
      var xs = w, ys = h, xe = 0, ye = 0
      var x = 0, columnStart = 0
      @inline(__always) func locate(_ p: Int) -> (Int, Int) {
        var y = p &- columnStart
        if y >= h {
          if y &- h < h {
            x &+= 1
            columnStart &+= h
            y &-= h
          } else {
            (x, y) = p.quotientAndRemainder(dividingBy: h)
            columnStart = x &* h
          }
        }
        return (x, y)
      }
      var position = 0
      var previous = -1
      do {
        let v = intervals
        var i = 0
        while i < v.count {
          let start = v[i], end = v[i + 1]
          precondition(start > previous && end > start, "intervals must be sorted, non-empty, disjoint and not touching")
          previous = end
          put(start &- position)
          put(end &- start)
          position = end
          area &+= end &- start
          let (x0, y0) = locate(start)
          let (x1, y1) = locate(end &- 1)
          if x0 < x1 {
            ys = 0
            ye = h &- 1
          }
          xs = Swift.min(xs, x0)
          xe = Swift.max(xe, x1)
          ys = Swift.min(ys, Swift.min(y0, y1))
          ye = Swift.max(ye, Swift.max(y0, y1))
          i &+= 2
        }
      }
      if trailing { put(total &- position) }
      let box = intervals.isEmpty || h == 0
        ? Box(x: 0, y: 0, width: 0, height: 0)
        : Box(x: Double(xs), y: Double(ys), width: Double(xe - xs + 1), height: Double(ye - ys + 1))
      return (text(UnsafeBufferPointer(start: out, count: n)), area, box)
    }
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
    // Valid strings (nearly all) take the fast path; anything it does not accept is parsed again
    // by `parseCounts`, which finds and reports the first problem exactly as always.
    if let (counts, sum) = text.withUTF8({ RLE.parseValidCounts($0) }) {
      let pixels = try RLE.pixelCount(height: height, width: width)
      if sum != pixels { throw .countsSumMismatch(expected: pixels, actual: sum) }
      self.init(uncheckedHeight: height, width: width, counts: counts)
      return
    }
    let parsed: Result<[Int], GeometryError> = text.withUTF8 { chars in
      RLE.parseCounts(chars)
    }
    try self.init(height: height, width: width, counts: try parsed.get())
  }

  /// The counts of a well-formed compressed string and their sum, or `nil` if anything is off
  /// (a character outside 48–111, an unterminated count, more than 12 groups, an overflow, a
  /// negative count). One pass over the characters to check their range (no early exit, so it
  /// vectorises), then one decoding pass that reads the common one- and two-character counts
  /// without a loop and sums and checks the counts as it goes.
  static func parseValidCounts(_ chars: UnsafeBufferPointer<UInt8>) -> ([Int], Int)? {
    let n = chars.count
    guard let base = chars.baseAddress, n > 0 else { return n == 0 ? ([], 0) : nil }
    var outside: UInt8 = 0
    for i in 0..<n { outside |= (base[i] &- 48) & 0xC0 }  // c − 48 must be below 64
    if outside != 0 { return nil }
    var sum = 0
    var ok = true
    let counts = [Int](unsafeUninitializedCapacity: n) { out, written in
      var m = 0
      var p = 0
      while p < n {
        let c0 = Int(base[p] &- 48)
        var x: Int
        if c0 & 0x20 == 0 {
          x = (c0 << 59) >> 59  // one group: 5 bits, sign-extended from bit 4
          p &+= 1
        } else if p + 1 < n && Int(base[p + 1] &- 48) & 0x20 == 0 {
          let c1 = Int(base[p + 1] &- 48)
          x = (((c1 << 5) | (c0 & 0x1F)) << 54) >> 54  // two groups: 10 bits
          p &+= 2
        } else {
          x = 0
          var k = 0
          var more = true
          while more {
            guard p < n && k < 12 else {
              ok = false
              break
            }
            let c = Int(base[p] &- 48)
            x |= (c & 0x1F) << (5 &* k)
            more = (c & 0x20) != 0
            p &+= 1
            k &+= 1
            if !more && (c & 0x10) != 0 { x |= -1 << (5 &* k) }
          }
          if !ok { break }
        }
        if m > 2 {
          let (value, overflow) = x.addingReportingOverflow(out[m &- 2])
          if overflow {
            ok = false
            break
          }
          x = value
        }
        let (total, overflow) = sum.addingReportingOverflow(x)
        if x < 0 || overflow {
          ok = false
          break
        }
        sum = total
        out[m] = x
        m &+= 1
      }
      written = m
    }
    return ok ? (counts, sum) : nil
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
