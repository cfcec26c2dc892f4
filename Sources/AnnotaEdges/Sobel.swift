public import AnnotaImage

/// Namespace of the edge-detection operations: Gaussian smoothing, Sobel gradients and Canny.
///
/// All of them work on 8-bit `Image`s in integer or fixed-point arithmetic, allocate their
/// output and a small scratch area only, and are safe to call from any number of threads.
public enum EdgeDetector {}

/// How the two components of a gradient combine into one strength.
public enum GradientNorm: Sendable, Hashable, CaseIterable {
  /// |gx| + |gy| (OpenCV's default for Canny).
  case l1
  /// √(gx² + gy²); compared in squared form, gx² + gy², so that it stays exact in integers.
  case l2
}

/// How a 3×3 filter reads the pixels just outside the image.
public enum SobelBorder: Sendable, Hashable, CaseIterable {
  /// The edge pixel repeated, `aa|abc` (OpenCV's `BORDER_REPLICATE`): what `cv2.Canny` uses.
  case replicate
  /// Mirrored without repeating the edge pixel, `b|abc` (`BORDER_REFLECT_101`): the default of
  /// `cv2.Sobel`.
  case reflect101
}

/// Sobel gradients of an image: per pixel, the horizontal and vertical derivatives `gx`, `gy`.
///
/// `gx` is the 3×3 Sobel kernel `[-1 0 1; -2 0 2; -1 0 1]` (positive where the image gets
/// brighter to the right), `gy` its transpose (positive where it gets brighter downwards). Both
/// are exact integers in [−1020, 1020] for 8-bit input. Rows are `width` values apart.
public struct Gradients: Sendable, Equatable {
  /// Width in pixels.
  public let width: Int
  /// Height in pixels.
  public let height: Int
  /// Horizontal derivative, row-major, `width × height` values.
  public var gx: [Int16]
  /// Vertical derivative (y grows downwards), row-major, `width × height` values.
  public var gy: [Int16]

  /// Wraps precomputed derivatives.
  ///
  /// - Precondition: both arrays hold `width × height` values.
  public init(width: Int, height: Int, gx: [Int16], gy: [Int16]) {
    precondition(width >= 0 && height >= 0, "negative gradient size \(width)x\(height)")
    precondition(
      gx.count == width * height && gy.count == width * height,
      "gradients of \(gx.count) and \(gy.count) values cannot form a \(width)x\(height) image")
    self.width = width
    self.height = height
    self.gx = gx
    self.gy = gy
  }

  /// |gx| + |gy| per pixel, in [0, 2040]: the strength Canny compares with its thresholds for
  /// `.l1`.
  ///
  /// - Complexity: O(width × height).
  public func magnitudeL1() -> [Int32] {
    map { x, y in Int32(x < 0 ? 0 &- x : x) &+ Int32(y < 0 ? 0 &- y : y) }
  }

  /// gx² + gy² per pixel, in [0, 2080800]: the squared strength Canny compares with the squared
  /// thresholds for `.l2`.
  ///
  /// - Complexity: O(width × height).
  public func squaredMagnitudeL2() -> [Int32] {
    map { x, y in Int32(x) &* Int32(x) &+ Int32(y) &* Int32(y) }
  }

  /// √(gx² + gy²) per pixel, in [0, 1442.5], correctly rounded to `Float`.
  ///
  /// - Complexity: O(width × height).
  public func magnitudeL2() -> [Float] {
    map { x, y in Float(Int32(x) &* Int32(x) &+ Int32(y) &* Int32(y)).squareRoot() }
  }

  /// The gradient direction per pixel, `atan2(gy, gx)` in radians in [−π, π], within 5e-7 (two
  /// `Float` ulps at π).
  ///
  /// Image coordinates: y grows downwards, so a positive angle turns clockwise on screen. 0 means
  /// brighter to the right, π/2 brighter downwards. A zero gradient has direction 0.
  ///
  /// - Complexity: O(width × height).
  public func direction() -> [Float] {
    map { x, y in EdgeMath.atan2(Float(y), Float(x)) }
  }

  /// Applies `body` to every (gx, gy) pair, in row-major order.
  private func map<T>(_ body: (Int16, Int16) -> T) -> [T] {
    let count = width * height
    return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
      gx.withUnsafeBufferPointer { xs in
        gy.withUnsafeBufferPointer { ys in
          guard let out = buffer.baseAddress, count > 0 else { return }
          let px = xs.baseAddress!
          let py = ys.baseAddress!
          for i in 0..<count { (out + i).initialize(to: body(px[i], py[i])) }
        }
      }
      initialized = count
    }
  }
}

extension EdgeDetector {
  /// Sobel 3×3 gradients of `image`. The default border replicates the edge pixels, as OpenCV's
  /// Canny does, so that `canny(sobel(image), …)` equals `canny(image, …)`.
  ///
  /// Grey images give their own derivatives. For colour images (RGB, or RGBA with alpha
  /// ignored) each pixel takes gx and gy from the channel with the strongest gradient under
  /// `channelSelection` — the first such channel (R, then G, then B) on a tie — as OpenCV's Canny
  /// does for 3-channel input. An image whose three channels are equal gives exactly the grey
  /// result.
  ///
  /// Equal to `cv2.Sobel(image, cv2.CV_16S, 1, 0, ksize=3, borderType=b)` and its `0, 1` twin
  /// on grey images, for `b` = `BORDER_REPLICATE` (`.replicate`) or the default
  /// `BORDER_REFLECT_101` (`.reflect101`). The two differ only in the first and last row and
  /// column.
  ///
  /// - Parameters:
  ///   - image: any 8-bit image; an empty image gives empty gradients.
  ///   - channelSelection: the norm that ranks the channels of a colour pixel (unused for grey).
  ///   - border: how the pixels outside the image are read.
  /// - Complexity: O(width × height × channels).
  public static func sobel(
    _ image: Image, channelSelection: GradientNorm = .l2, border: SobelBorder = .replicate
  ) -> Gradients {
    let width = image.width
    let height = image.height
    let count = width * height
    if count == 0 { return Gradients(width: width, height: height, gx: [], gy: []) }
    // Every value is written below, so the arrays start uninitialised.
    var gy: [Int16] = []
    let gx = [Int16](unsafeUninitializedCapacity: count) { xs, xCount in
      gy = [Int16](unsafeUninitializedCapacity: count) { ys, yCount in
        image.pixels.withUnsafeBufferPointer { source in
          SobelRows.withRows(
            source.baseAddress!, stride: image.stride, width: width, height: height,
            channels: image.format.channels, border: border, extra: width
          ) { rows, norms in
            for y in 0..<height {
              rows.compute(
                row: y, gx: xs.baseAddress! + y * width, gy: ys.baseAddress! + y * width,
                norm: norms, l2: channelSelection == .l2)
            }
          }
        }
        yCount = count
      }
      xCount = count
    }
    return Gradients(width: width, height: height, gx: gx, gy: gy)
  }
}

/// The row kernel shared by `sobel` and `canny`: computes one row of gx, gy and the chosen norm
/// (|gx| + |gy|, or gx² + gy²) from three source rows, the border replicated or reflected.
///
/// The 3×3 Sobel kernels are separable: a vertical pass gives, per sample, the smoothed column
/// `a + 2b + c` and the difference `c − a` of the rows above, at and below; a horizontal pass
/// then takes `gx = s[x+1] − s[x−1]` and `gy = d[x−1] + 2d[x] + d[x+1]`. Every intermediate fits
/// in 16 bits (|values| ≤ 1020), so the loops run on `Int16` lanes and vectorise. Colour rows
/// are split into one plane per channel by the vertical pass; each plane then goes through the
/// grey horizontal pass, and a pointwise select keeps the strongest channel.
struct SobelRows {
  let source: UnsafePointer<UInt8>
  let stride: Int
  let width: Int
  let height: Int
  let channels: Int
  /// Reflect (`BORDER_REFLECT_101`) instead of replicating the edge pixels.
  let reflect: Bool
  /// Scratch: per channel used (1 or 3) a row of vertical sums and one of differences, each
  /// `width + 2` long with a pad on both sides; for colour, then a row each of gx and gy and a
  /// row of norms (`Int32`) for the channel being compared.
  let scratch: UnsafeMutablePointer<Int16>

  /// `Int16`s of scratch for rows of `width` pixels of `channels` samples (always even, so that
  /// what follows stays 4-byte aligned).
  static func scratchCount(width: Int, channels: Int) -> Int {
    channels == 1 ? 2 * (width + 2) : 6 * (width + 2) + 4 * width
  }

  /// Runs `body` with a row kernel whose scratch rows live for the duration of the call, and
  /// `extra` more uninitialised `Int32`s of scratch for the caller: one allocation in all.
  static func withRows<R>(
    _ source: UnsafePointer<UInt8>, stride: Int, width: Int, height: Int, channels: Int,
    border: SobelBorder = .replicate, extra: Int,
    _ body: (SobelRows, UnsafeMutablePointer<Int32>) -> R
  ) -> R {
    let own = scratchCount(width: width, channels: channels) / 2
    return withUnsafeTemporaryAllocation(of: Int32.self, capacity: own + extra) { scratch in
      let base = scratch.baseAddress!
      let halves = UnsafeMutableRawPointer(base).bindMemory(to: Int16.self, capacity: 2 * own)
      let rows = SobelRows(
        source: source, stride: stride, width: width, height: height, channels: channels,
        reflect: border == .reflect101, scratch: halves)
      return body(rows, base + own)
    }
  }

  /// Fills `gx[0..<width]`, `gy[0..<width]` and `norm[0..<width]` for image row `row`.
  @inline(__always)
  func compute(
    row: Int, gx: UnsafeMutablePointer<Int16>, gy: UnsafeMutablePointer<Int16>,
    norm: UnsafeMutablePointer<Int32>, l2: Bool
  ) {
    // Rows −1 and `height` are row 0 and the last row (replicate), or row 1 and the one before
    // the last (reflect); a single row is its own neighbour either way.
    let outside = reflect ? 1 : 0
    let above = source + (row > 0 ? row - 1 : min(outside, height - 1)) * stride
    let centre = source + row * stride
    let below = source + (row < height - 1 ? row + 1 : max(height - 1 - outside, 0)) * stride
    let plane = width + 2
    if channels == 1 {
      let s = scratch + 1
      let d = scratch + plane + 1
      vertical(above, centre, below, step: 1, smooth: s, difference: d)
      horizontal(smooth: s, difference: d, gx: gx, gy: gy, norm: norm, l2: l2)
      return
    }
    // Colour: planes of vertical sums and differences, channel 0 straight into the outputs,
    // channels 1 and 2 into scratch rows and kept where they are strictly stronger (so the
    // first channel wins a tie, as in OpenCV).
    for c in 0..<3 {
      let s = scratch + 2 * c * plane + 1
      let d = s + plane
      if channels == 3 {
        vertical(above + c, centre + c, below + c, step: 3, smooth: s, difference: d)
      } else {
        vertical(above + c, centre + c, below + c, step: 4, smooth: s, difference: d)
      }
    }
    horizontal(
      smooth: scratch + 1, difference: scratch + plane + 1, gx: gx, gy: gy, norm: norm, l2: l2)
    let otherX = scratch + 6 * plane
    let otherY = otherX + width
    let otherNorm = UnsafeMutableRawPointer(otherY + width)
      .bindMemory(to: Int32.self, capacity: width)
    for c in 1..<3 {
      let s = scratch + 2 * c * plane + 1
      horizontal(
        smooth: s, difference: s + plane, gx: otherX, gy: otherY, norm: otherNorm, l2: l2)
      keepStronger(
        gx: gx, gy: gy, norm: norm, otherX: otherX, otherY: otherY, otherNorm: otherNorm)
    }
  }

  /// Vertical pass over one channel (samples `step` apart): `smooth[x] = a + 2b + c`,
  /// `difference[x] = c − a`, and the pads filled by replicating or reflecting the row.
  @inline(__always)
  private func vertical(
    _ above: UnsafePointer<UInt8>, _ centre: UnsafePointer<UInt8>, _ below: UnsafePointer<UInt8>,
    step: Int, smooth s: UnsafeMutablePointer<Int16>, difference d: UnsafeMutablePointer<Int16>
  ) {
    for x in 0..<width {
      let i = x &* step
      let a = Int16(above[i])
      let c = Int16(below[i])
      s[x] = a &+ (Int16(centre[i]) &<< 1) &+ c
      d[x] = c &- a
    }
    let first = reflect ? min(1, width - 1) : 0
    let last = reflect ? max(width - 2, 0) : width - 1
    s[-1] = s[first]
    d[-1] = d[first]
    s[width] = s[last]
    d[width] = d[last]
  }

  /// Horizontal pass over one plane: gx, gy and their norm.
  @inline(__always)
  private func horizontal(
    smooth s: UnsafeMutablePointer<Int16>, difference d: UnsafeMutablePointer<Int16>,
    gx: UnsafeMutablePointer<Int16>, gy: UnsafeMutablePointer<Int16>,
    norm: UnsafeMutablePointer<Int32>, l2: Bool
  ) {
    for x in 0..<width {
      gx[x] = s[x + 1] &- s[x - 1]
      gy[x] = d[x - 1] &+ (d[x] &<< 1) &+ d[x + 1]
    }
    if l2 {
      for x in 0..<width {
        let u = Int32(gx[x])
        let v = Int32(gy[x])
        norm[x] = u &* u &+ v &* v
      }
    } else {
      for x in 0..<width {
        let u = Int32(gx[x])
        let v = Int32(gy[x])
        norm[x] = (u < 0 ? 0 &- u : u) &+ (v < 0 ? 0 &- v : v)
      }
    }
  }

  /// Where `otherNorm` is strictly greater than `norm`, takes the other channel's gx, gy and
  /// norm; eight pixels at a time.
  @inline(__always)
  private func keepStronger(
    gx: UnsafeMutablePointer<Int16>, gy: UnsafeMutablePointer<Int16>,
    norm: UnsafeMutablePointer<Int32>, otherX: UnsafePointer<Int16>,
    otherY: UnsafePointer<Int16>, otherNorm: UnsafePointer<Int32>
  ) {
    typealias Wide = SIMD8<Int32>
    typealias Narrow = SIMD8<Int16>
    var x = 0
    while x + 8 <= width {
      let current = UnsafeRawPointer(norm + x).loadUnaligned(as: Wide.self)
      let other = UnsafeRawPointer(otherNorm + x).loadUnaligned(as: Wide.self)
      let stronger = other .> current
      let u = Wide(widening: UnsafeRawPointer(gx + x).loadUnaligned(as: Narrow.self))
        .replacing(
          with: Wide(widening: UnsafeRawPointer(otherX + x).loadUnaligned(as: Narrow.self)),
          where: stronger)
      let v = Wide(widening: UnsafeRawPointer(gy + x).loadUnaligned(as: Narrow.self))
        .replacing(
          with: Wide(widening: UnsafeRawPointer(otherY + x).loadUnaligned(as: Narrow.self)),
          where: stronger)
      UnsafeMutableRawPointer(norm + x).storeBytes(
        of: current.replacing(with: other, where: stronger), as: Wide.self)
      UnsafeMutableRawPointer(gx + x).storeBytes(of: Narrow(truncating: u), as: Narrow.self)
      UnsafeMutableRawPointer(gy + x).storeBytes(of: Narrow(truncating: v), as: Narrow.self)
      x += 8
    }
    while x < width {
      if otherNorm[x] > norm[x] {
        norm[x] = otherNorm[x]
        gx[x] = otherX[x]
        gy[x] = otherY[x]
      }
      x += 1
    }
  }
}
