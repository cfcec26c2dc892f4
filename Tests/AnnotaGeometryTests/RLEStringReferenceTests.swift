import AnnotaGeometry
import Testing

/// The compressed-string reader has a fast path for well-formed strings and falls back to the
/// general decoder for anything else. This compares it with the general algorithm, kept here as a
/// reference, on valid strings and on strings with every kind of defect: the same counts, or the
/// same error.
@Suite("Compressed RLE strings against the reference decoder")
struct RLEStringReferenceTests {
  /// The decoder as it was before the fast path (pycocotools' `rleFrString` with validation).
  static func reference(height: Int, width: Int, _ string: String) -> Result<RLE, GeometryError> {
    let chars = Array(string.utf8)
    var counts: [Int] = []
    var p = 0
    while p < chars.count {
      var x = 0
      var k = 0
      var more = true
      while more {
        guard p < chars.count else { return .failure(.unterminatedCount) }
        let raw = chars[p]
        guard raw >= 48 && raw <= 111 else { return .failure(.invalidCharacter(offset: p)) }
        let c = Int(raw - 48)
        if k == 12 {
          if (c >> 3) & 1 != (c >> 4) & 1 { return .failure(.countOverflow(index: counts.count)) }
        } else if k > 12 {
          return .failure(.countOverflow(index: counts.count))
        }
        x |= (c & 0x1F) << (5 * k)
        more = (c & 0x20) != 0
        p += 1
        k += 1
        if !more && (c & 0x10) != 0 && 5 * k < 64 { x |= -1 << (5 * k) }
      }
      if counts.count > 2 {
        let (sum, overflow) = x.addingReportingOverflow(counts[counts.count - 2])
        if overflow { return .failure(.countOverflow(index: counts.count)) }
        x = sum
      }
      counts.append(x)
    }
    do { return .success(try RLE(height: height, width: width, counts: counts)) } catch { return .failure(error) }
  }

  static func actual(height: Int, width: Int, _ string: String) -> Result<RLE, GeometryError> {
    do { return .success(try RLE(height: height, width: width, compressed: string)) } catch {
      return .failure(error)
    }
  }

  @Test("valid strings and every kind of defect give the reference's counts or error")
  func againstReference() {
    var rng = SplitMix64(seed: 2026)
    func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    var checked = 0
    for _ in 0..<20_000 {
      // A random mask: runs of any length, up to huge ones (multi-group counts).
      let height = 1 + below(600), width = 1 + below(600)
      var counts: [Int] = []
      var left = height * width
      while left > 0 {
        let run = min(left, below(4) == 0 ? below(left + 1) : below(40))
        counts.append(run)
        left -= run
      }
      if counts.count % 2 == 0 && below(2) == 0 { counts.append(0) }
      let valid = (try? RLE(height: height, width: width, counts: counts))!.compressedString
      var variants = [valid]
      var chars = Array(valid.utf8)
      if !chars.isEmpty {
        // One character changed, anywhere, to anything (in range or not).
        var changed = chars
        changed[below(changed.count)] = UInt8(truncatingIfNeeded: 32 + below(96))
        variants.append(String(decoding: changed, as: UTF8.self))
        // Truncated, and extended.
        variants.append(String(decoding: chars.prefix(below(chars.count)), as: UTF8.self))
        chars.append(UInt8(48 + below(64)))
        variants.append(String(decoding: chars, as: UTF8.self))
      }
      // Random strings over the alphabet, with long continuation runs (overflow) now and then.
      var random: [UInt8] = []
      for _ in 0..<below(30) { random.append(UInt8(48 + (below(5) == 0 ? 32 + below(32) : below(64)))) }
      variants.append(String(decoding: random, as: UTF8.self))
      for string in variants {
        for (h, w) in [(height, width), (below(50), below(50))] {
          let expected = Self.reference(height: h, width: w, string)
          let got = Self.actual(height: h, width: w, string)
          switch (expected, got) {
          case let (.success(a), .success(b)): #expect(a == b, "\(string)")
          case let (.failure(a), .failure(b)): #expect(a == b, "\(string): \(a) vs \(b)")
          default: Issue.record("\(string) (\(h)x\(w)): reference \(expected), reader \(got)")
          }
          checked += 1
        }
      }
    }
    #expect(checked > 150_000)
  }

  @Test("the longest counts: 12 and 13 groups, at the edge of 64 bits")
  func longCounts() {
    let big = Int.max / 2
    for counts in [[big, 1], [0, big, 2], [1, 2, big, 4], [Int.max - 10, 10]] {
      let rle = try? RLE(height: 1, width: counts.reduce(0, +), counts: counts)
      guard let rle else { continue }
      let string = rle.compressedString
      #expect(Self.actual(height: 1, width: rle.width, string) == Self.reference(height: 1, width: rle.width, string))
    }
  }
}
