/// xxHash64 (Yann Collet's XXH64, the published algorithm and constants): a fast, well-defined
/// 64-bit non-cryptographic hash. Used for exact-duplicate keys over file bytes and decoded pixels.
///
/// Known values: `XXHash64.hash([], seed: 0) == 0xEF46_DB37_51D8_E999`,
/// `XXHash64.hash(Array("a".utf8), seed: 0) == 0xD24E_C4F1_A98C_6E5B`. Not for cryptography.
public enum XXHash64 {
  static let p1: UInt64 = 11_400_714_785_074_694_791
  static let p2: UInt64 = 14_029_467_366_897_019_727
  static let p3: UInt64 = 1_609_587_929_392_839_161
  static let p4: UInt64 = 9_650_029_242_287_828_579
  static let p5: UInt64 = 2_870_177_450_012_600_261

  /// The XXH64 of `bytes` with `seed`.
  ///
  /// - Complexity: O(n), about 4 bytes per cycle (four independent lanes).
  public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
    let n = bytes.count
    var i = 0
    var h: UInt64
    @inline(__always) func word64(_ at: Int) -> UInt64 {
      UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }
    @inline(__always) func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
      rotl(acc &+ input &* p2, 31) &* p1
    }
    if n >= 32 {
      var v1 = seed &+ p1 &+ p2
      var v2 = seed &+ p2
      var v3 = seed
      var v4 = seed &- p1
      while i + 32 <= n {
        v1 = round(v1, word64(i))
        v2 = round(v2, word64(i + 8))
        v3 = round(v3, word64(i + 16))
        v4 = round(v4, word64(i + 24))
        i += 32
      }
      h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
      for v in [v1, v2, v3, v4] {
        h ^= round(0, v)
        h = h &* p1 &+ p4
      }
    } else {
      h = seed &+ p5
    }
    h &+= UInt64(n)
    while i + 8 <= n {
      h ^= round(0, word64(i))
      h = rotl(h, 27) &* p1 &+ p4
      i += 8
    }
    if i + 4 <= n {
      let w = UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
      h ^= w &* p1
      h = rotl(h, 23) &* p2 &+ p3
      i += 4
    }
    while i < n {
      h ^= UInt64(bytes[i]) &* p5
      h = rotl(h, 11) &* p1
      i += 1
    }
    h ^= h >> 33
    h = h &* p2
    h ^= h >> 29
    h = h &* p3
    h ^= h >> 32
    return h
  }

  /// The XXH64 of `bytes` with `seed`.
  public static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
    bytes.withUnsafeBytes { hash($0, seed: seed) }
  }

  @inline(__always) static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 {
    (x << r) | (x >> (64 - r))
  }
}
