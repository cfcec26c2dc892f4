public import AnnotaImage

/// A binary edge image: `width × height` bytes, row-major, 255 on an edge and 0 elsewhere
/// (OpenCV's `cv2.Canny` convention, so that it can be written as a grey PNG as it is).
public struct EdgeMap: Sendable, Equatable {
  /// Width in pixels.
  public let width: Int
  /// Height in pixels.
  public let height: Int
  /// Row-major samples, 255 = edge, 0 = no edge.
  public var pixels: [UInt8]

  /// Wraps existing samples (any nonzero value counts as an edge).
  ///
  /// - Precondition: `pixels.count == width × height`.
  public init(width: Int, height: Int, pixels: [UInt8]) {
    precondition(width >= 0 && height >= 0, "negative edge map size \(width)x\(height)")
    precondition(
      pixels.count == width * height,
      "\(pixels.count) samples cannot form a \(width)x\(height) edge map")
    self.width = width
    self.height = height
    self.pixels = pixels
  }

  /// True when the pixel at column `x`, row `y` is an edge.
  ///
  /// - Precondition: the coordinates are inside the map.
  @inlinable public subscript(x: Int, y: Int) -> Bool {
    precondition(x >= 0 && x < width && y >= 0 && y < height,
                 "pixel (\(x), \(y)) is outside the \(width)x\(height) edge map")
    return pixels[y * width + x] != 0
  }

  /// Number of edge pixels.
  ///
  /// - Complexity: O(width × height).
  public var edgeCount: Int {
    pixels.withUnsafeBufferPointer { buffer in
      var count = 0
      for value in buffer where value != 0 { count += 1 }
      return count
    }
  }

  /// The map as a grey image (0 and 255), e.g. to write it as a PNG.
  public var image: Image {
    Image(width: width, height: height, format: .gray, pixels: pixels)
  }
}

/// The two hysteresis thresholds of Canny, in gradient-magnitude units (|gx| + |gy| for L1,
/// √(gx² + gy²) for L2; the Sobel derivatives of an 8-bit image, so magnitudes lie in
/// [0, 2040] for L1 and [0, 1442.5] for L2).
///
/// A pixel that survives non-maximum suppression is a *strong* edge when its magnitude is above
/// `high`, a *weak* one when it is above `low`; weak pixels are kept only when they are
/// 8-connected, through other weak pixels, to a strong one.
public struct CannyThresholds: Sendable, Hashable {
  /// The lower threshold (weak edges are above it).
  public var low: Double
  /// The upper threshold (strong edges are above it).
  public var high: Double

  /// The thresholds, swapped if `low > high` (as OpenCV does).
  ///
  /// - Precondition: neither is NaN.
  public init(low: Double, high: Double) {
    precondition(!low.isNaN && !high.isNaN, "Canny thresholds must not be NaN")
    self.low = min(low, high)
    self.high = max(low, high)
  }

  /// The default share of nonzero gradient magnitudes at or below the strong threshold.
  public static let defaultHighQuantile = 0.8
  /// The default ratio of the weak to the strong threshold.
  public static let defaultLowRatio = 0.4

  /// Thresholds derived from the image's own gradient statistics.
  ///
  /// `high` is half a unit below `v`, the `highQuantile` quantile (nearest rank) of the
  /// **nonzero** gradient magnitudes (L1: |gx| + |gy|; L2: ⌊√(gx² + gy²)⌋), so every pixel with
  /// a magnitude of at least `v` — the strongest `1 − highQuantile` of the textured pixels, ties
  /// included — can seed an edge. `low = lowRatio × high`.
  ///
  /// Why these choices:
  /// - A quantile instead of a fixed value adapts to the window's contrast (a dim, low-contrast
  ///   crop still gets edges; a busy one is not flooded), which a fixed `(100, 200)` cannot.
  /// - Zero magnitudes are left out so that flat areas (sky, padding, a box that sticks out of
  ///   the photo) do not drag the quantile to 0. On textured photos almost every pixel has a
  ///   nonzero gradient, so there the choice changes little.
  /// - The defaults (0.8 and 0.4) follow MATLAB's `edge(I, "canny")` (70% of all pixels below
  ///   `high`, `low = 0.4 × high`), the quantile raised a little because zeros are excluded and
  ///   Canny's own 2:1–3:1 high-to-low advice sits around 0.4. On the 80 COCO photos of the
  ///   cross-check (grey, L1) they give a median 1.2× the edge pixels of a fixed 50/150, from
  ///   0.75× to 46×, the most on the lowest-contrast photos. Half a unit below `v` makes ties at
  ///   the quantile strong: a clean step edge, whose magnitudes are all equal, keeps its edge.
  ///
  /// Guarantees: `0 ≤ low ≤ high`; when some magnitude is nonzero,
  /// `minNonzero − 0.5 ≤ high ≤ max − 0.5` (L2: in ⌊√·⌋ units); `low = high = 0` otherwise
  /// (then Canny finds no edge).
  ///
  /// - Parameters:
  ///   - image: the window to threshold (grey or colour; colour pixels use the strongest channel
  ///     under `norm`, as `canny` does).
  ///   - norm: L1 or L2, the same as the `l2` flag later passed to `canny`.
  ///   - highQuantile: in [0, 1].
  ///   - lowRatio: in [0, 1].
  /// - Complexity: O(width × height × channels); memory O(width).
  public static func automatic(
    for image: Image, norm: GradientNorm = .l1, highQuantile: Double = defaultHighQuantile,
    lowRatio: Double = defaultLowRatio
  ) -> CannyThresholds {
    var histogram = MagnitudeHistogram(norm: norm)
    if image.width > 0 && image.height > 0 {
      image.pixels.withUnsafeBufferPointer { source in
        let width = image.width
        // Scratch after the kernel's own: one norm row, then gx and gy (Int16) in `width` more.
        SobelRows.withRows(
          source.baseAddress!, stride: image.stride, width: width, height: image.height,
          channels: image.format.channels, extra: 2 * width
        ) { rows, scratch in
          let gx = UnsafeMutableRawPointer(scratch + width)
            .bindMemory(to: Int16.self, capacity: 2 * width)
          for y in 0..<image.height {
            rows.compute(row: y, gx: gx, gy: gx + width, norm: scratch, l2: norm == .l2)
            histogram.add(UnsafeBufferPointer(start: scratch, count: width))
          }
        }
      }
    }
    return histogram.thresholds(highQuantile: highQuantile, lowRatio: lowRatio)
  }

  /// Thresholds derived from precomputed gradients; see
  /// `automatic(for:norm:highQuantile:lowRatio:)` for the rule and its guarantees.
  ///
  /// - Complexity: O(width × height).
  public static func automatic(
    for gradients: Gradients, norm: GradientNorm = .l1,
    highQuantile: Double = defaultHighQuantile, lowRatio: Double = defaultLowRatio
  ) -> CannyThresholds {
    var histogram = MagnitudeHistogram(norm: norm)
    let values = norm == .l2 ? gradients.squaredMagnitudeL2() : gradients.magnitudeL1()
    values.withUnsafeBufferPointer { histogram.add($0) }
    return histogram.thresholds(highQuantile: highQuantile, lowRatio: lowRatio)
  }
}

/// Counts of integer gradient magnitudes (L1, or ⌊√·⌋ of the squared L2 norm).
private struct MagnitudeHistogram {
  let norm: GradientNorm
  /// Bins 0...2040 cover every 8-bit Sobel magnitude; hand-made `Gradients` may grow them.
  var counts = [Int](repeating: 0, count: 2041)

  init(norm: GradientNorm) {
    self.norm = norm
  }

  /// The bin of one L1 norm or squared L2 norm; a negative value (a wrapped square, possible
  /// only for hand-made extremes) counts as 0.
  @inline(__always)
  func bin(_ v: Int32) -> Int {
    if v <= 0 { return 0 }
    return norm == .l2 ? Int(EdgeMath.isqrt(v)) : Int(v)
  }

  /// Adds L1 norms or squared L2 norms.
  mutating func add(_ values: UnsafeBufferPointer<Int32>) {
    var largest: Int32 = 0
    for v in values { largest = max(largest, v) }
    let top = bin(largest)
    if top >= counts.count { counts += [Int](repeating: 0, count: top + 1 - counts.count) }
    let l2 = norm == .l2
    counts.withUnsafeMutableBufferPointer { bins in
      let bins = bins.baseAddress!
      for v in values {
        let value = v <= 0 ? 0 : (l2 ? Int(EdgeMath.isqrt(v)) : Int(v))
        bins[value] += 1
      }
    }
  }

  func thresholds(highQuantile: Double, lowRatio: Double) -> CannyThresholds {
    precondition(
      highQuantile >= 0 && highQuantile <= 1, "highQuantile \(highQuantile) is outside [0, 1]")
    precondition(lowRatio >= 0 && lowRatio <= 1, "lowRatio \(lowRatio) is outside [0, 1]")
    let nonzero = counts.dropFirst().reduce(0, +)
    if nonzero == 0 { return CannyThresholds(low: 0, high: 0) }
    // Nearest rank: the smallest value with at least ceil(q · n) values at or below it.
    let exactRank = highQuantile * Double(nonzero)
    var rank = Int(exactRank)
    if Double(rank) < exactRank { rank += 1 }
    rank = min(max(rank, 1), nonzero)
    var cumulative = 0
    var value = 1
    while value < counts.count {
      cumulative += counts[value]
      if cumulative >= rank { break }
      value += 1
    }
    let high = Double(value) - 0.5
    return CannyThresholds(low: lowRatio * high, high: high)
  }
}

extension EdgeDetector {
  /// Canny edges of `image` with explicit thresholds: Sobel 3×3 gradients (border replicated),
  /// non-maximum suppression along the gradient direction, double threshold and hysteresis.
  ///
  /// Reproduces OpenCV's `cv2.Canny(image, low, high, apertureSize=3, L2gradient=l2)` exactly
  /// (grey and 3-channel input; the tests check it pixel for pixel on real photos):
  /// - magnitudes are integers, |gx| + |gy| or gx² + gy² (then the thresholds are squared,
  ///   after capping them at 32767), and the thresholds are floored;
  /// - the direction is quantised to 0°, 45°, 90°, 135° with the fixed-point tangent
  ///   tan 22.5° ≈ 13573 / 2^15; a pixel survives when it is greater than its neighbour on one
  ///   side and greater or equal on the other (strictly greater on both for diagonals), with
  ///   zero magnitude outside the image;
  /// - edges are the surviving pixels above `low` that are 8-connected to one above `high`.
  /// Colour pixels use the channel with the strongest gradient (see `sobel`). No smoothing is
  /// applied first; call `gaussian` for that.
  ///
  /// - Parameters:
  ///   - low, high: the hysteresis thresholds (swapped if `low > high`; not NaN).
  ///   - l2: use √(gx² + gy²) instead of |gx| + |gy|.
  /// - Complexity: O(width × height × channels) time. Memory: the output, and one scratch block
  ///   of about five bytes per pixel (the map, and a hysteresis stack sized for the worst case
  ///   of which only four bytes per edge pixel are ever touched) plus a few rows.
  public static func canny(_ image: Image, low: Double, high: Double, l2: Bool = false) -> EdgeMap {
    let limits = CannyLimits(low: low, high: high, l2: l2)
    let width = image.width
    let height = image.height
    if width == 0 || height == 0 { return EdgeMap(width: width, height: height, pixels: []) }
    return image.pixels.withUnsafeBufferPointer { source in
      SobelRows.withRows(
        source.baseAddress!, stride: image.stride, width: width, height: height,
        channels: image.format.channels, extra: cannyScratchCount(width: width, height: height)
      ) { rows, scratch in
        var input = SobelSource(rows: rows, l2: l2)
        return runCanny(
          width: width, height: height, limits: limits, source: &input, scratch: scratch)
      }
    }
  }

  /// Canny edges with the thresholds given as a pair; see `canny(_:low:high:l2:)`.
  ///
  /// - Complexity: O(width × height × channels).
  public static func canny(
    _ image: Image, thresholds: CannyThresholds, l2: Bool = false
  ) -> EdgeMap {
    canny(image, low: thresholds.low, high: thresholds.high, l2: l2)
  }

  /// Canny edges with thresholds derived from the image itself
  /// (`CannyThresholds.automatic(for:norm:highQuantile:lowRatio:)`), returned with the edges.
  ///
  /// - Complexity: O(width × height × channels); two passes over the gradients.
  public static func canny(
    _ image: Image, l2: Bool = false,
    highQuantile: Double = CannyThresholds.defaultHighQuantile,
    lowRatio: Double = CannyThresholds.defaultLowRatio
  ) -> (edges: EdgeMap, thresholds: CannyThresholds) {
    let thresholds = CannyThresholds.automatic(
      for: image, norm: l2 ? .l2 : .l1, highQuantile: highQuantile, lowRatio: lowRatio)
    return (canny(image, thresholds: thresholds, l2: l2), thresholds)
  }

  /// Canny edges from precomputed gradients (e.g. of a smoothed image, or computed once and
  /// thresholded several times). Same rules as `canny(_:low:high:l2:)`, which is this applied to
  /// `sobel(image, channelSelection: l2 ? .l2 : .l1)`.
  ///
  /// - Complexity: O(width × height).
  public static func canny(
    _ gradients: Gradients, low: Double, high: Double, l2: Bool = false
  ) -> EdgeMap {
    let limits = CannyLimits(low: low, high: high, l2: l2)
    let width = gradients.width
    let height = gradients.height
    if width == 0 || height == 0 { return EdgeMap(width: width, height: height, pixels: []) }
    return gradients.gx.withUnsafeBufferPointer { xs in
      gradients.gy.withUnsafeBufferPointer { ys in
        var input = PrecomputedSource(
          gx: xs.baseAddress!, gy: ys.baseAddress!, width: width, l2: l2)
        let count = cannyScratchCount(width: width, height: height)
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: count) { scratch in
          runCanny(
            width: width, height: height, limits: limits, source: &input,
            scratch: scratch.baseAddress!)
        }
      }
    }
  }
}

/// The integer thresholds OpenCV derives: L2 thresholds capped at 32767 and squared, then both
/// floored (and clamped to the `Int32` range, where OpenCV's `cvFloor` would overflow).
struct CannyLimits {
  let low: Int32
  let high: Int32

  init(low: Double, high: Double, l2: Bool) {
    let t = CannyThresholds(low: low, high: high)
    var lo = t.low
    var hi = t.high
    if l2 {
      lo = min(lo, 32767)
      hi = min(hi, 32767)
      if lo > 0 { lo *= lo }
      if hi > 0 { hi *= hi }
    }
    func floored(_ v: Double) -> Int32 {
      if v >= 2_147_483_647 { return .max }
      if v <= -2_147_483_648 { return .min }
      return Int32(EdgeMath.floor(v))
    }
    self.low = floored(lo)
    self.high = floored(hi)
  }
}

/// Supplies Canny with one row at a time of gx, gy and the norm.
protocol CannyRowSource {
  mutating func fill(
    row: Int, gx: UnsafeMutablePointer<Int16>, gy: UnsafeMutablePointer<Int16>,
    norm: UnsafeMutablePointer<Int32>)
}

/// Rows computed from the image on the fly (the fused path).
struct SobelSource: CannyRowSource {
  let rows: SobelRows
  let l2: Bool

  @inline(__always)
  mutating func fill(
    row: Int, gx: UnsafeMutablePointer<Int16>, gy: UnsafeMutablePointer<Int16>,
    norm: UnsafeMutablePointer<Int32>
  ) {
    rows.compute(row: row, gx: gx, gy: gy, norm: norm, l2: l2)
  }
}

/// Rows copied from precomputed gradients.
struct PrecomputedSource: CannyRowSource {
  let gx: UnsafePointer<Int16>
  let gy: UnsafePointer<Int16>
  let width: Int
  let l2: Bool

  @inline(__always)
  mutating func fill(
    row: Int, gx outX: UnsafeMutablePointer<Int16>, gy outY: UnsafeMutablePointer<Int16>,
    norm: UnsafeMutablePointer<Int32>
  ) {
    let xs = gx + row * width
    let ys = gy + row * width
    outX.update(from: xs, count: width)
    outY.update(from: ys, count: width)
    for x in 0..<width {
      let u = Int32(xs[x])
      let v = Int32(ys[x])
      norm[x] = l2 ? u &* u &+ v &* v : (u < 0 ? 0 &- u : u) &+ (v < 0 ? 0 &- v : v)
    }
  }
}

/// The `Int32`s of scratch `runCanny` needs for a `width × height` image.
func cannyScratchCount(width: Int, height: Int) -> Int {
  let mapStep = width + 2
  let mapCount = mapStep * (height + 2)
  return width * height + 4 * mapStep + 2 * width + (mapCount + 3) / 4
}

/// OpenCV's Canny on streamed gradient rows.
///
/// Layout of `scratch` (`cannyScratchCount` `Int32`s, one allocation shared with the row
/// source): the hysteresis stack of map offsets, `width × height` entries; four norm rows — a
/// row of zeros for above the first and below the last image row, then the previous, current
/// and next rows — each padded with a zero on both sides; two rows each of gx and gy (`Int16`);
/// the map of `(width + 2) × (height + 2)` bytes with a border of 1s, holding per pixel 1 = not
/// an edge, 0 = weak candidate, 2 = edge. Row r is suppressed once row r + 1's gradients exist.
/// Strong pixels go on the stack; the flood pops them and marks their weak 8-neighbours. Every
/// pixel is pushed at most once, so the stack never overflows.
func runCanny<Source: CannyRowSource>(
  width: Int, height: Int, limits: CannyLimits, source: inout Source,
  scratch: UnsafeMutablePointer<Int32>
) -> EdgeMap {
  let mapStep = width + 2
  let mapCount = mapStep * (height + 2)
  precondition(
    mapCount < Int(Int32.max), "image of \(width)x\(height) pixels is too large for Canny")
  let pixelCount = width * height
  let stack = scratch
  let normBase = scratch + pixelCount
  normBase.initialize(repeating: 0, count: 4 * mapStep)
  let zeroRow = UnsafePointer(normBase + 1)
  @inline(__always) func normRow(_ r: Int) -> UnsafeMutablePointer<Int32> {
    normBase + (1 + r % 3) * mapStep + 1
  }
  // gx of rows r and r + 1 (by parity), then gy likewise.
  let derivatives = UnsafeMutableRawPointer(normBase + 4 * mapStep)
    .bindMemory(to: Int16.self, capacity: 4 * width)
  @inline(__always) func gxRow(_ r: Int) -> UnsafeMutablePointer<Int16> {
    derivatives + (r & 1) * width
  }
  @inline(__always) func gyRow(_ r: Int) -> UnsafeMutablePointer<Int16> {
    derivatives + (2 + (r & 1)) * width
  }
  let map = UnsafeMutableRawPointer(normBase + 4 * mapStep + 2 * width)
    .bindMemory(to: UInt8.self, capacity: mapCount)
  map.initialize(repeating: 1, count: mapStep)
  (map + mapStep * (height + 1)).initialize(repeating: 1, count: mapStep)

  var top = 0
  source.fill(row: 0, gx: gxRow(0), gy: gyRow(0), norm: normRow(0))
  for r in 0..<height {
    if r + 1 < height {
      source.fill(row: r + 1, gx: gxRow(r + 1), gy: gyRow(r + 1), norm: normRow(r + 1))
    }
    let line = map + (r + 1) * mapStep
    line[0] = 1
    line[width + 1] = 1
    suppressRow(
      previous: r > 0 ? UnsafePointer(normRow(r + 2)) : zeroRow,
      current: UnsafePointer(normRow(r)),
      next: r + 1 < height ? UnsafePointer(normRow(r + 1)) : zeroRow,
      gx: UnsafePointer(gxRow(r)), gy: UnsafePointer(gyRow(r)),
      width: width, low: limits.low, high: limits.high, map: line + 1)
    top = collectStrong(
      line + 1, width: width, offset: (r + 1) * mapStep + 1, stack: stack, top: top)
  }
  hysteresis(map: map, mapStep: mapStep, stack: stack, top: top)

  let output = [UInt8](unsafeUninitializedCapacity: pixelCount) { out, initialized in
    let target = out.baseAddress!
    for y in 0..<height {
      let line = map + (y + 1) * mapStep + 1
      let dst = target + y * width
      for x in 0..<width { dst[x] = 0 &- (line[x] >> 1) }
    }
    initialized = pixelCount
  }
  return EdgeMap(width: width, height: height, pixels: output)
}

/// tan 22.5° in 15-bit fixed point, rounded as OpenCV rounds it.
private let tan22: Int32 = 13573

/// Non-maximum suppression and double threshold of one row, written to `map[0..<width]` as
/// 1 (not an edge), 0 (weak) or 2 (strong).
///
/// Eight pixels at a time in `SIMD8<Int32>` lanes, branch-free: every neighbour is loaded and the
/// pair to compare with is selected by the quantised direction (the norm rows are padded, so
/// `x − 1` and `x + 1` are always readable). A scalar loop with the same rules does the tail.
@inline(__always)
private func suppressRow(
  previous: UnsafePointer<Int32>, current: UnsafePointer<Int32>, next: UnsafePointer<Int32>,
  gx: UnsafePointer<Int16>, gy: UnsafePointer<Int16>, width: Int, low: Int32, high: Int32,
  map: UnsafeMutablePointer<UInt8>
) {
  typealias Lanes = SIMD8<Int32>
  @inline(__always) func load(_ p: UnsafePointer<Int32>) -> Lanes {
    UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
  }
  @inline(__always) func load(_ p: UnsafePointer<Int16>) -> Lanes {
    Lanes(widening: UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Int16>.self))
  }
  let lowLanes = Lanes(repeating: low)
  let highLanes = Lanes(repeating: high)
  let zero = Lanes(repeating: 0)
  let one = Lanes(repeating: 1)
  let two = Lanes(repeating: 2)
  var x = 0
  while x + 8 <= width {
    let m = load(current + x)
    let u = load(gx + x)
    let v = load(gy + x)
    let ax = u.replacing(with: zero &- u, where: u .< zero)
    let ay = v.replacing(with: zero &- v, where: v .< zero) &<< 15
    let t22 = ax &* tan22
    let t67 = t22 &+ (ax &<< 16)
    let horizontal = ay .< t22
    let vertical = ay .> t67
    let sameSign = (u ^ v) .>= zero
    // `first` must be strictly smaller, `second` smaller (diagonals) or not larger (axes).
    let diagonalFirst = load(previous + x + 1)
      .replacing(with: load(previous + x - 1), where: sameSign)
    let diagonalSecond = load(next + x - 1)
      .replacing(with: load(next + x + 1), where: sameSign)
    let first = diagonalFirst.replacing(with: load(previous + x), where: vertical)
      .replacing(with: load(current + x - 1), where: horizontal)
    let second = diagonalSecond.replacing(with: load(next + x) &- one, where: vertical)
      .replacing(with: load(current + x + 1) &- one, where: horizontal)
    let keep = (m .> first) .& (m .> second) .& (m .> lowLanes)
    let code = one.replacing(with: zero.replacing(with: two, where: m .> highLanes), where: keep)
    UnsafeMutableRawPointer(map + x).storeBytes(
      of: SIMD8<UInt8>(truncating: code), as: SIMD8<UInt8>.self)
    x += 8
  }
  while x < width {
    let m = current[x]
    let u = Int32(gx[x])
    let v = Int32(gy[x])
    let ax = u < 0 ? 0 &- u : u
    let ay = (v < 0 ? 0 &- v : v) &<< 15
    let t22 = ax &* tan22
    var first: Int32
    var second: Int32
    if ay < t22 {
      (first, second) = (current[x - 1], current[x + 1] &- 1)
    } else if ay > t22 &+ (ax &<< 16) {
      (first, second) = (previous[x], next[x] &- 1)
    } else if (u ^ v) >= 0 {
      (first, second) = (previous[x - 1], next[x + 1])
    } else {
      (first, second) = (previous[x + 1], next[x - 1])
    }
    map[x] = m > first && m > second && m > low ? (m > high ? 2 : 0) : 1
    x += 1
  }
}

/// Pushes the offsets of the strong (2) pixels of one map row onto the stack; returns the new
/// top. Eight bytes at a time: only a 2 has bit 1 set among 0, 1 and 2.
@inline(__always)
private func collectStrong(
  _ line: UnsafeMutablePointer<UInt8>, width: Int, offset: Int,
  stack: UnsafeMutablePointer<Int32>, top: Int
) -> Int {
  var top = top
  var x = 0
  let raw = UnsafeRawPointer(line)
  while x + 8 <= width {
    var bits = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: x, as: UInt64.self))
      & 0x0202_0202_0202_0202
    while bits != 0 {
      let index = bits.trailingZeroBitCount >> 3
      stack[top] = Int32(truncatingIfNeeded: offset + x + index)
      top += 1
      bits &= bits &- 1
    }
    x += 8
  }
  while x < width {
    if line[x] == 2 {
      stack[top] = Int32(truncatingIfNeeded: offset + x)
      top += 1
    }
    x += 1
  }
  return top
}

/// Grows edges from the strong pixels on the stack into 8-connected weak (0) pixels.
@inline(__always)
private func hysteresis(
  map: UnsafeMutablePointer<UInt8>, mapStep: Int, stack: UnsafeMutablePointer<Int32>, top: Int
) {
  var top = top
  let neighbours = (-1, 1, -mapStep - 1, -mapStep, -mapStep + 1, mapStep - 1, mapStep, mapStep + 1)
  @inline(__always) func visit(_ p: Int) {
    if map[p] == 0 {
      map[p] = 2
      stack[top] = Int32(truncatingIfNeeded: p)
      top += 1
    }
  }
  while top > 0 {
    top -= 1
    let p = Int(stack[top])
    visit(p + neighbours.0)
    visit(p + neighbours.1)
    visit(p + neighbours.2)
    visit(p + neighbours.3)
    visit(p + neighbours.4)
    visit(p + neighbours.5)
    visit(p + neighbours.6)
    visit(p + neighbours.7)
  }
}
