public import AnnotaImage
import RealModule
import Synchronization

/// Perceptual and exact hashes of an image, following Python imagehash 4.3's definitions.
///
/// Both perceptual hashes are 64 bits. Bit `i` (row-major over the 8×8 grid) is bit `63 - i` of
/// the `UInt64`, so `hex(_:)` prints the same string as imagehash's `str(hash)`.
/// - `difference` (dHash): grey, Lanczos resize to 9×8, bit = right neighbour > left pixel
///   (imagehash: `pixels[:, 1:] > pixels[:, :-1]`).
/// - `dct` (pHash): grey, Lanczos resize to 32×32, unnormalised 2-D DCT-II (rows then columns,
///   as `scipy.fftpack.dct` on axis 0 then 1), the top-left 8×8 coefficients, bit = coefficient
///   > their median (mean of the two middle values; the DC term included).
///
/// The Lanczos resize reproduces Pillow's `Image.resize(..., LANCZOS)` on 8-bit images: support
/// 3 scaled by the reduction factor, normalised weights, a horizontal pass rounded to 8 bits, then
/// a vertical pass. Callers hash a DCT-scaled decode (1/8 for large JPEGs) rather than the full
/// image; the antialiasing filter spans 20+ source pixels per output pixel either way, so the
/// hashes mostly agree bit for bit with imagehash on the full decode (see README for the measured
/// agreement).
public enum PerceptualHash {
  /// Side of the pHash thumbnail (hash size 8 × highfreq factor 4).
  public static let dctSide = 32

  /// The difference hash (dHash, 64 bits) of an image (converted to grey if needed).
  ///
  /// - Complexity: O(width × height).
  public static func difference(_ image: Image) -> UInt64 {
    let p = lanczosResized(gray(image), width: 9, height: 8)
    var h: UInt64 = 0
    for r in 0..<8 {
      for c in 0..<8 {
        h <<= 1
        if p[r * 9 + c + 1] > p[r * 9 + c] { h |= 1 }
      }
    }
    return h
  }

  /// The DCT hash (pHash, 64 bits) of an image (converted to grey if needed).
  ///
  /// - Complexity: O(width × height) for the resize, plus 8×32×32 + 8×8×32 multiplies.
  public static func dct(_ image: Image) -> UInt64 {
    let n = dctSide
    let p = lanczosResized(gray(image), width: n, height: n)
    let c = cosineTable
    // rows[k][x] = Σ_y C[k][y] · X[y][x]  (DCT along axis 0, first 8 frequencies)
    var rows = [Double](repeating: 0, count: 8 * n)
    for k in 0..<8 {
      for y in 0..<n {
        let w = c[k * n + y]
        for x in 0..<n { rows[k * n + x] += w * Double(p[y * n + x]) }
      }
    }
    var low = [Double](repeating: 0, count: 64)
    for k in 0..<8 {
      for l in 0..<8 {
        var s = 0.0
        for x in 0..<n { s += c[l * n + x] * rows[k * n + x] }
        low[k * 8 + l] = 4 * s  // scipy's unnormalised DCT-II has a factor 2 per axis
      }
    }
    let sorted = low.sorted()
    let median = (sorted[31] + sorted[32]) / 2
    var h: UInt64 = 0
    for v in low {
      h <<= 1
      if v > median { h |= 1 }
    }
    return h
  }

  /// Windows of a `width × height` image for crop-tolerant matching: sides 90% and 80% of the
  /// image's, each at the 3×3 grid of positions (corners, edge midpoints, centre); 18 windows.
  /// Hashing them lets a crop that removes up to about 25% of each side match its original.
  ///
  /// - Complexity: O(1).
  public static func cropWindows(width: Int, height: Int) -> [PixelRect] {
    var out: [PixelRect] = []
    for fraction in [9, 8] {
      let w = max(1, width * fraction / 10)
      let h = max(1, height * fraction / 10)
      for gy in 0..<3 {
        for gx in 0..<3 {
          out.append(PixelRect(x: (width - w) * gx / 2, y: (height - h) * gy / 2, width: w, height: h))
        }
      }
    }
    return out
  }

  /// `cos(π k (2n + 1) / 64)` for k in 0..<8, n in 0..<32.
  static let cosineTable: [Double] = {
    let n = dctSide
    var t = [Double](repeating: 0, count: 8 * n)
    for k in 0..<8 {
      for i in 0..<n { t[k * n + i] = Double.cos(Double.pi * Double(k * (2 * i + 1)) / Double(2 * n)) }
    }
    return t
  }()

  /// The number of differing bits between two hashes, in 0...64. Symmetric; 0 iff equal.
  @inlinable public static func distance(_ a: UInt64, _ b: UInt64) -> Int { (a ^ b).nonzeroBitCount }

  /// 16 lower-case hex digits, as imagehash prints a 64-bit hash.
  public static func hex(_ h: UInt64) -> String {
    let s = String(h, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
  }

  /// Parses 16 hex digits (the inverse of `hex(_:)`); nil if malformed.
  public static func parseHex(_ s: String) -> UInt64? {
    guard s.utf8.count == 16 else { return nil }
    return UInt64(s, radix: 16)
  }

  /// An exact-content key of decoded pixels: XXH64 over the packed rows (padding excluded),
  /// seeded with the XXH64 of `[width, height, channels]` as three little-endian UInt64s, so
  /// images of different shape or format never share a key by construction of the input.
  ///
  /// - Complexity: O(width × height × channels).
  public static func pixelHash(_ image: Image) -> UInt64 {
    var header = [UInt8]()
    for v in [UInt64(image.width), UInt64(image.height), UInt64(image.format.channels)] {
      withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) }
    }
    let seed = XXHash64.hash(header)
    let packed = image.packed()
    return packed.pixels.withUnsafeBytes { raw in
      XXHash64.hash(UnsafeRawBufferPointer(rebasing: raw[0..<(packed.rowBytes * packed.height)]), seed: seed)
    }
  }

  /// A focus measure: the variance of the 4-neighbour Laplacian of the grey image (interior
  /// pixels), in grey levels². Higher is sharper; 0 for a flat image or one smaller than 3×3.
  ///
  /// - Complexity: O(width × height).
  public static func sharpness(_ image: Image) -> Double {
    let g = gray(image)
    guard g.width >= 3 && g.height >= 3 else { return 0 }
    var sum = 0.0
    var sumSquares = 0.0
    g.pixels.withUnsafeBufferPointer { p in
      for y in 1..<(g.height - 1) {
        let row = y * g.stride
        for x in 1..<(g.width - 1) {
          let i = row + x
          let l = Int(p[i - 1]) + Int(p[i + 1]) + Int(p[i - g.stride]) + Int(p[i + g.stride])
            - 4 * Int(p[i])
          sum += Double(l)
          sumSquares += Double(l * l)
        }
      }
    }
    let count = Double((g.width - 2) * (g.height - 2))
    let mean = sum / count
    return max(0, sumSquares / count - mean * mean)
  }

  static func gray(_ image: Image) -> Image {
    image.format == .gray ? image : image.converted(to: .gray)
  }

  /// Pillow's 8-bit LANCZOS resize of a grey image to `width × height` (row-major, packed).
  ///
  /// - Precondition: the image is grey and not empty; `width`, `height` ≥ 1.
  /// - Complexity: O((width_in + width) × height_in + width × height × support).
  public static func lanczosResized(_ image: Image, width: Int, height: Int) -> [UInt8] {
    precondition(image.format == .gray && image.width > 0 && image.height > 0, "non-empty grey image")
    precondition(width >= 1 && height >= 1, "output size must be positive")
    let hx = cachedCoefficients(inSize: image.width, outSize: width)
    let hy = cachedCoefficients(inSize: image.height, outSize: height)
    // Horizontal pass: every input row → `width` samples, rounded to 8 bits as Pillow does.
    // Each sum runs over k ascending from 0.0, as Pillow's, so the values are exact; four
    // independent sums (four rows, or four columns below) advance together so that the additions
    // overlap instead of waiting on one another. The weights lie inside the image by
    // construction of `coefficients`.
    let inHeight = image.height
    let inStride = image.stride
    var temp = [UInt8](repeating: 0, count: width * inHeight)
    temp.withUnsafeMutableBufferPointer { t in
      image.pixels.withUnsafeBufferPointer { p in
        for x in 0..<width {
          let (start, weights) = hx[x]
          weights.withUnsafeBufferPointer { w in
            var y = 0
            while y + 4 <= inHeight {
              let r0 = y * inStride + start
              let r1 = r0 + inStride, r2 = r1 + inStride, r3 = r2 + inStride
              var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
              for k in 0..<w.count {
                let wk = w[k]
                s0 += wk * Double(p[r0 + k])
                s1 += wk * Double(p[r1 + k])
                s2 += wk * Double(p[r2 + k])
                s3 += wk * Double(p[r3 + k])
              }
              t[y * width + x] = clip8(s0)
              t[(y + 1) * width + x] = clip8(s1)
              t[(y + 2) * width + x] = clip8(s2)
              t[(y + 3) * width + x] = clip8(s3)
              y += 4
            }
            while y < inHeight {
              let row = y * inStride + start
              var s = 0.0
              for k in 0..<w.count { s += w[k] * Double(p[row + k]) }
              t[y * width + x] = clip8(s)
              y += 1
            }
          }
        }
      }
    }
    var out = [UInt8](repeating: 0, count: width * height)
    out.withUnsafeMutableBufferPointer { o in
      temp.withUnsafeBufferPointer { t in
        for y in 0..<height {
          let (start, weights) = hy[y]
          weights.withUnsafeBufferPointer { w in
            var x = 0
            while x + 4 <= width {
              var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
              for k in 0..<w.count {
                let wk = w[k]
                let i = (start + k) * width + x
                s0 += wk * Double(t[i])
                s1 += wk * Double(t[i + 1])
                s2 += wk * Double(t[i + 2])
                s3 += wk * Double(t[i + 3])
              }
              o[y * width + x] = clip8(s0)
              o[y * width + x + 1] = clip8(s1)
              o[y * width + x + 2] = clip8(s2)
              o[y * width + x + 3] = clip8(s3)
              x += 4
            }
            while x < width {
              var s = 0.0
              for k in 0..<w.count { s += w[k] * Double(t[(start + k) * width + x]) }
              o[y * width + x] = clip8(s)
              x += 1
            }
          }
        }
      }
    }
    return out
  }

  @inline(__always) static func clip8(_ v: Double) -> UInt8 {
    let r = (v + 0.5).rounded(.down)
    return r <= 0 ? 0 : (r >= 255 ? 255 : UInt8(r))
  }

  /// Filter weights by `inSize << 32 | outSize`. A pool's images come in few sizes, and the
  /// weights (two sines each) cost about as much as the resize itself.
  private static let coefficientCache = Mutex<[Int: [(Int, [Double])]]>([:])

  /// `coefficients(inSize:outSize:)`, computed once per size pair (the same values).
  static func cachedCoefficients(inSize: Int, outSize: Int) -> [(Int, [Double])] {
    let key = inSize << 32 | outSize
    if let hit = coefficientCache.withLock({ $0[key] }) { return hit }
    let computed = coefficients(inSize: inSize, outSize: outSize)
    coefficientCache.withLock { cache in
      if cache.count >= 1024 { cache.removeAll() }  // bounded: many distinct sizes just recompute
      cache[key] = computed
    }
    return computed
  }

  /// Pillow's `precompute_coeffs` for the Lanczos filter (support 3): for each output sample,
  /// the first input index and the normalised weights.
  static func coefficients(inSize: Int, outSize: Int) -> [(Int, [Double])] {
    let scale = Double(inSize) / Double(outSize)
    let filterScale = max(scale, 1)
    let support = 3 * filterScale
    var result: [(Int, [Double])] = []
    result.reserveCapacity(outSize)
    for xx in 0..<outSize {
      let center = (Double(xx) + 0.5) * scale
      let xmin = max(Int(center - support + 0.5), 0)
      let xmax = min(Int(center + support + 0.5), inSize)
      var weights: [Double] = []
      var total = 0.0
      for x in xmin..<max(xmax, xmin) {
        let w = lanczos((Double(x) - center + 0.5) / filterScale)
        weights.append(w)
        total += w
      }
      if total != 0 { for i in weights.indices { weights[i] /= total } }
      result.append((xmin, weights))
    }
    return result
  }

  static func lanczos(_ x: Double) -> Double {
    if x <= -3 || x >= 3 { return 0 }
    return sinc(x) * sinc(x / 3)
  }

  static func sinc(_ x: Double) -> Double {
    if x == 0 { return 1 }
    let px = Double.pi * x
    return Double.sin(px) / px
  }
}
