import AnnotaDedup
import AnnotaGeometry
import AnnotaImage
import Testing

/// A random grey picture: a 10×10 grid of random levels, bilinearly interpolated, so its energy
/// lies in the low frequencies the perceptual hashes look at (like a photo's).
private func smoothImage(width: Int, height: Int, seed: UInt64) -> Image {
  var rng = SplitMix64(seed: seed)
  let g = 10
  let grid = (0..<(g * g)).map { _ in Double(rng.next() % 256) }
  var pixels = [UInt8](repeating: 0, count: width * height)
  for y in 0..<height {
    let fy = Double(y) / Double(height - 1) * Double(g - 1)
    let y0 = min(Int(fy), g - 2)
    let ty = fy - Double(y0)
    for x in 0..<width {
      let fx = Double(x) / Double(width - 1) * Double(g - 1)
      let x0 = min(Int(fx), g - 2)
      let tx = fx - Double(x0)
      let top = grid[y0 * g + x0] * (1 - tx) + grid[y0 * g + x0 + 1] * tx
      let bottom = grid[(y0 + 1) * g + x0] * (1 - tx) + grid[(y0 + 1) * g + x0 + 1] * tx
      pixels[y * width + x] = UInt8((top * (1 - ty) + bottom * ty).rounded())
    }
  }
  return Image(width: width, height: height, format: .gray, pixels: pixels)
}

@Suite("Dedup hashes")
struct HashTests {
  @Test("XXH64 known values")
  func xxh64() {
    #expect(XXHash64.hash([], seed: 0) == 0xEF46_DB37_51D8_E999)
    #expect(XXHash64.hash(Array("a".utf8), seed: 0) == 0xD24E_C4F1_A98C_6E5B)
    // Every tail length and the 32-byte stripes change the hash.
    let bytes = (0..<100).map { UInt8($0) }
    let all = Set((0...100).map { XXHash64.hash(Array(bytes.prefix($0))) })
    #expect(all.count == 101)
  }

  @Test("identical pixels give identical hashes, whatever the row padding")
  func identical() {
    let a = smoothImage(width: 200, height: 150, seed: 1)
    let b = smoothImage(width: 200, height: 150, seed: 1)
    #expect(PerceptualHash.dct(a) == PerceptualHash.dct(b))
    #expect(PerceptualHash.difference(a) == PerceptualHash.difference(b))
    #expect(PerceptualHash.pixelHash(a) == PerceptualHash.pixelHash(b))
    // The same pixels with a padded stride.
    var strided = [UInt8](repeating: 99, count: 208 * 150)
    for y in 0..<150 { for x in 0..<200 { strided[y * 208 + x] = a.pixels[y * 200 + x] } }
    let c = Image(width: 200, height: 150, format: .gray, stride: 208, pixels: strided)
    #expect(PerceptualHash.pixelHash(a) == PerceptualHash.pixelHash(c))
    #expect(PerceptualHash.dct(a) == PerceptualHash.dct(c))
    // One changed pixel changes the exact hash; the shape is part of the key.
    var changed = a.pixels
    changed[777] &+= 1
    #expect(PerceptualHash.pixelHash(Image(width: 200, height: 150, format: .gray, pixels: changed))
      != PerceptualHash.pixelHash(a))
    #expect(PerceptualHash.pixelHash(Image(width: 150, height: 200, format: .gray, pixels: a.pixels))
      != PerceptualHash.pixelHash(a))
  }

  @Test("small changes give small distances; different images large ones", arguments: [2, 3, 4, 5])
  func smallChanges(_ seed: UInt64) {
    let a = smoothImage(width: 240, height: 180, seed: seed)
    var rng = SplitMix64(seed: seed + 100)
    // ±3 grey-level noise and a +6 brightness shift.
    let noisy = a.pixels.map { v in UInt8(max(0, min(255, Int(v) + 6 + Int(rng.next() % 7) - 3))) }
    let b = Image(width: 240, height: 180, format: .gray, pixels: noisy)
    #expect(PerceptualHash.distance(PerceptualHash.dct(a), PerceptualHash.dct(b)) <= 6)
    #expect(PerceptualHash.distance(PerceptualHash.difference(a), PerceptualHash.difference(b)) <= 8)
    // A downsampled copy stays close.
    let half = a.downsampled(by: 2)
    #expect(PerceptualHash.distance(PerceptualHash.dct(a), PerceptualHash.dct(half)) <= 6)
    let other = smoothImage(width: 240, height: 180, seed: seed + 1000)
    #expect(PerceptualHash.distance(PerceptualHash.dct(a), PerceptualHash.dct(other)) > 10)
  }

  @Test("pHash has 32 bits set (median split of 64 distinct coefficients); hex round trip")
  func format() {
    let h = PerceptualHash.dct(smoothImage(width: 64, height: 64, seed: 9))
    #expect(h.nonzeroBitCount == 32)
    #expect(PerceptualHash.hex(0x0123_4567_89AB_CDEF) == "0123456789abcdef")
    #expect(PerceptualHash.parseHex(PerceptualHash.hex(h)) == h)
    #expect(PerceptualHash.parseHex("xyz") == nil)
  }

  @Test("crop windows: 18, inside the image, 90% and 80% of each side")
  func windows() {
    let w = PerceptualHash.cropWindows(width: 80, height: 60)
    #expect(w.count == 18)
    #expect(w.allSatisfy { $0.x >= 0 && $0.y >= 0 && $0.x + $0.width <= 80 && $0.y + $0.height <= 60 })
    #expect(w[4] == PixelRect(x: 4, y: 3, width: 72, height: 54))
    #expect(w[17] == PixelRect(x: 16, y: 12, width: 64, height: 48))
  }

  @Test("Lanczos resize: constant stays constant, sizes as asked, tiny inputs upsample")
  func lanczos() {
    let flat = Image(width: 50, height: 40, format: .gray, pixels: [UInt8](repeating: 77, count: 2000))
    #expect(PerceptualHash.lanczosResized(flat, width: 32, height: 32) == [UInt8](repeating: 77, count: 1024))
    let one = Image(width: 1, height: 1, format: .gray, pixels: [200])
    #expect(PerceptualHash.lanczosResized(one, width: 9, height: 8) == [UInt8](repeating: 200, count: 72))
    #expect(PerceptualHash.sharpness(flat) == 0)
    #expect(PerceptualHash.sharpness(smoothImage(width: 64, height: 64, seed: 3)) > 0)
  }
}

@Suite("Dedup search and groups")
struct IndexTests {
  /// Random hashes with planted neighbours at 0...16 bits.
  static func hashes(count: Int, seed: UInt64) -> [UInt64] {
    var rng = SplitMix64(seed: seed)
    var out: [UInt64] = []
    for i in 0..<count {
      if i > 0 && rng.next() % 3 == 0 {
        var h = out[Int(rng.next() % UInt64(i))]
        for _ in 0..<(rng.next() % 17) { h ^= 1 << (rng.next() % 64) }
        out.append(h)
      } else {
        out.append(rng.next())
      }
    }
    return out
  }

  @Test("multi-index search equals brute force", arguments: [0, 1, 3, 5, 8, 10, 12, 16, 24])
  func bruteForce(_ d: Int) {
    let h = IndexTests.hashes(count: 1500, seed: UInt64(d) + 1)
    let index = HammingIndex(h, maxDistance: d)
    let expected = HammingIndex.bruteForcePairs(h, maxDistance: d)
    #expect(index.allPairs() == expected)
    #expect(!expected.isEmpty)
    // The parts together give the same pairs, each once.
    let split = (0..<7).flatMap { index.pairs(part: $0, of: 7) }.sorted()
    #expect(split == expected)
    // With query flags: exactly the pairs that have a query, each once.
    let flags = h.indices.map { $0 % 3 == 0 }
    let some = (0..<3).flatMap { index.pairs(part: $0, of: 3, queries: flags) }
      .map { p in HammingPair(first: min(p.first, p.second), second: max(p.first, p.second), distance: p.distance) }
      .sorted()
    #expect(some == expected.filter { flags[$0.first] || flags[$0.second] })
  }

  @Test("groups are connected components, independent of pair order")
  func components() {
    let pairs = [
      HammingPair(first: 5, second: 6, distance: 1), HammingPair(first: 0, second: 3, distance: 2),
      HammingPair(first: 3, second: 7, distance: 0), HammingPair(first: 1, second: 2, distance: 4),
    ]
    let expected = [[0, 3, 7], [1, 2], [5, 6]]
    #expect(DuplicateGroups.components(count: 9, pairs: pairs) == expected)
    #expect(DuplicateGroups.components(count: 9, pairs: pairs.reversed()) == expected)
    #expect(DuplicateGroups.components(count: 3, pairs: []) == [])
  }

  @Test("keep rules")
  func keep() {
    let traits = [
      ItemTraits(pixels: 100, sharpness: 5), ItemTraits(pixels: 400, sharpness: 1),
      ItemTraits(pixels: 400, sharpness: 9), ItemTraits(pixels: 50, sharpness: 9),
    ]
    #expect(DuplicateGroups.representative(of: [1, 2, 3], rule: .first, traits: traits) == 1)
    #expect(DuplicateGroups.representative(of: [0, 1, 2], rule: .largest, traits: traits) == 1)
    #expect(DuplicateGroups.representative(of: [0, 1, 3, 2], rule: .sharpest, traits: traits) == 2)
  }
}
