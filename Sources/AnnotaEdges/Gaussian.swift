public import AnnotaImage

/// A normalised 1-D Gaussian in 8-bit fixed point: integer weights that sum to exactly 256.
///
/// The weights are OpenCV's bit-exact 8-bit kernel (`getGaussianKernelBitExact` followed by the
/// error-diffusion rounding of `getGaussianKernelFixedPoint_ED` with 8 fraction bits): the
/// sampled Gaussian `exp(−i² / 2σ²)` for offsets `i = −r...r`, normalised to sum 1, scaled by 256
/// and rounded from the outside in while carrying each rounding error to the next tap; the
/// centre takes whatever keeps the sum at 256. The kernel is symmetric and its weights are
/// non-negative; the error diffusion can make the tails of wide kernels ripple by one unit
/// (σ = 7.5 starts `0, 0, 1, 0, 1, 0, 1, 2`), exactly as OpenCV's do.
public struct GaussianKernel: Sendable, Hashable {
  /// The standard deviation, in pixels.
  public let sigma: Double
  /// `size` weights, symmetric about the centre, summing to 256.
  public let weights: [UInt16]

  /// Number of taps (odd).
  public var size: Int { weights.count }

  /// Taps on each side of the centre.
  public var radius: Int { weights.count / 2 }

  /// The size OpenCV picks for an 8-bit image when given only sigma: `round(6σ + 1) | 1`
  /// (round half to even), so the kernel reaches about 3σ on each side.
  ///
  /// - Precondition: `sigma > 0` and finite.
  public static func defaultSize(sigma: Double) -> Int {
    precondition(sigma > 0 && sigma.isFinite, "Gaussian sigma must be positive and finite")
    precondition(sigma < 1e6, "Gaussian sigma \(sigma) is absurdly large")
    return EdgeMath.roundHalfEven(sigma * 3 * 2 + 1) | 1
  }

  /// The kernel of standard deviation `sigma` with `size` taps (default: `defaultSize(sigma:)`).
  ///
  /// - Precondition: `sigma > 0` and finite; `size` odd and positive.
  /// - Complexity: O(size).
  public init(sigma: Double, size: Int? = nil) {
    let n = size ?? GaussianKernel.defaultSize(sigma: sigma)
    precondition(sigma > 0 && sigma.isFinite, "Gaussian sigma must be positive and finite")
    precondition(n > 0 && n % 2 == 1, "Gaussian kernel size \(n) must be odd and positive")
    let half = n / 2
    // The sampled Gaussian at offsets 1 - n, 3 - n, ... in half-pixel units, as OpenCV does.
    let scale = -0.125 / (sigma * sigma)
    var values = [Double](repeating: 0, count: half)
    var sum = 0.0
    for i in 0..<half {
      let x = Double(2 * i + 1 - n)
      values[i] = EdgeMath.exp(x * x * scale)
      sum += values[i]
    }
    sum = sum * 2 + 1
    let normaliser = 1 / sum
    var weights = [UInt16](repeating: 0, count: n)
    var carried = 0.0
    var total = 0
    for i in 0..<half {
      let adjusted = values[i] * normaliser * 256 + carried
      let rounded = EdgeMath.roundHalfEven(adjusted)
      carried = adjusted - Double(rounded)
      weights[i] = UInt16(rounded)
      weights[n - 1 - i] = UInt16(rounded)
      total += rounded
    }
    // Only a kernel wider than 256 fixed-point units per side could overshoot (sigma ≳ 100).
    precondition(2 * total <= 256, "sigma \(sigma) is too large for an 8-bit fixed-point kernel")
    weights[half] = UInt16(256 - 2 * total)
    self.sigma = sigma
    self.weights = weights
  }
}

extension EdgeDetector {
  /// The image blurred by a Gaussian of standard deviation `sigma` (both directions), with a
  /// kernel of `GaussianKernel.defaultSize(sigma:)` taps.
  ///
  /// Identical to OpenCV's `cv2.GaussianBlur(image, (0, 0), sigma)` on 8-bit images (same
  /// fixed-point kernel, same exact integer arithmetic, same `BORDER_REFLECT_101` border:
  /// `gfedcb|abcdefgh|gfedcba`). Every channel is blurred, alpha included.
  ///
  /// - Precondition: `sigma > 0` and finite.
  /// - Complexity: O(width × height × channels × kernel size).
  public static func gaussian(_ image: Image, sigma: Double) -> Image {
    gaussian(image, kernel: GaussianKernel(sigma: sigma))
  }

  /// The image convolved with `kernel` horizontally and then vertically (separable Gaussian).
  ///
  /// Fixed point throughout: the horizontal pass sums `weight × sample` exactly in 16 bits
  /// (weights sum to 256, so a sum is at most 65280), the vertical pass sums `weight × row value`
  /// exactly, and the result is rounded once, `(sum + 2^15) >> 16`. The output therefore never
  /// leaves [0, 255], a constant image stays constant, and the result does not depend on the
  /// pass order. Borders are reflected without repeating the edge pixel (`BORDER_REFLECT_101`).
  ///
  /// Both passes run on 16 samples at a time in 16-bit lanes. The vertical sum would need 32
  /// bits, so each row value `v` is split as `256 h + l` and the two partial sums `Σ w·h` and
  /// `Σ w·l` (each at most 65280) are combined at the end: `(Σ w·h + (Σ w·l >> 8) + 128) >> 8`
  /// equals `(Σ w·v + 2^15) >> 16` exactly.
  ///
  /// - Complexity: O(width × height × channels × kernel size); memory O(kernel size × width).
  public static func gaussian(_ image: Image, kernel: GaussianKernel) -> Image {
    let width = image.width
    let height = image.height
    let channels = image.format.channels
    if kernel.size == 1 || width == 0 || height == 0 { return image.packed() }
    let radius = kernel.radius
    let rowLength = width * channels
    let lanes = 16
    let vectorLength = (rowLength + lanes - 1) / lanes * lanes
    let pad = radius * channels
    let paddedLength = vectorLength + 2 * pad
    let ringRows = kernel.size
    let taps = kernel.weights
    let output = [UInt8](unsafeUninitializedCapacity: rowLength * height) { target, initialized in
      // Scratch, in 16-bit units: the padded source row and the ring of horizontally filtered
      // rows, zeroed once so that the lanes past the row's end hold defined values; and the
      // ring rows of the current output row's taps.
      let paddedUnits = (paddedLength + 1) / 2
      let scratchUnits = paddedUnits + ringRows * vectorLength
      withUnsafeTemporaryAllocation(of: UInt16.self, capacity: scratchUnits) { scratch in
        withUnsafeTemporaryAllocation(of: UnsafeRawPointer.self, capacity: ringRows) { rows in
          let base = scratch.baseAddress!
          base.initialize(repeating: 0, count: scratchUnits)
          let padded = UnsafeMutableRawPointer(base)
            .bindMemory(to: UInt8.self, capacity: paddedLength)
          let ring = base + paddedUnits
          let tapRows = rows.baseAddress!
          image.pixels.withUnsafeBufferPointer { source in
            let src = source.baseAddress!
            let dst = target.baseAddress!
            var nextRow = 0
            for y in 0..<height {
              while nextRow <= min(height - 1, y + radius) {
                filterRow(
                  src + nextRow * image.stride, width: width, channels: channels, taps: taps,
                  padded: padded, vectorLength: vectorLength,
                  out: ring + (nextRow % ringRows) * vectorLength)
                nextRow += 1
              }
              // Ring rows of the taps, in order −r ... r (reflected at the top and bottom).
              for k in -radius...radius {
                let slot = reflect101(y + k, count: height) % ringRows
                tapRows[radius + k] = UnsafeRawPointer(ring + slot * vectorLength)
              }
              filterColumn(
                UnsafePointer(tapRows), taps: taps, out: dst + y * rowLength,
                rowLength: rowLength)
            }
          }
        }
      }
      initialized = rowLength * height
    }
    return Image(width: width, height: height, format: image.format, pixels: output)
  }
}

/// 16 lanes of 16-bit fixed point.
private typealias Lanes16 = SIMD16<UInt16>

/// The horizontal pass of one source row: `out[i] = Σ_k w_k · row[i + k·channels]` for
/// `i < vectorLength`, with the row reflected into `padded` first.
@inline(__always)
private func filterRow(
  _ line: UnsafePointer<UInt8>, width: Int, channels: Int, taps: [UInt16],
  padded: UnsafeMutablePointer<UInt8>, vectorLength: Int, out: UnsafeMutablePointer<UInt16>
) {
  let radius = taps.count / 2
  let pad = radius * channels
  (padded + pad).update(from: line, count: width * channels)
  for i in 1...radius {
    let left = reflect101(-i, count: width) * channels
    let right = reflect101(width - 1 + i, count: width) * channels
    for c in 0..<channels {
      padded[pad - i * channels + c] = line[left + c]
      padded[pad + (width - 1 + i) * channels + c] = line[right + c]
    }
  }
  let centred = UnsafeRawPointer(padded + pad)
  taps.withUnsafeBufferPointer { weights in
    let centre = Lanes16(repeating: weights[radius])
    var x = 0
    while x < vectorLength {
      var sum = centre &* Lanes16(truncatingIfNeeded: centred.loadUnaligned(
        fromByteOffset: x, as: SIMD16<UInt8>.self))
      for k in 1...radius {
        let before = Lanes16(truncatingIfNeeded: centred.loadUnaligned(
          fromByteOffset: x - k * channels, as: SIMD16<UInt8>.self))
        let after = Lanes16(truncatingIfNeeded: centred.loadUnaligned(
          fromByteOffset: x + k * channels, as: SIMD16<UInt8>.self))
        sum &+= Lanes16(repeating: weights[radius + k]) &* (before &+ after)
      }
      UnsafeMutableRawPointer(out + x).storeBytes(of: sum, as: Lanes16.self)
      x += 16
    }
  }
}

/// The vertical pass of one output row: `Σ_k w_k · rows[k][i]` over the ring rows of its
/// `2r + 1` taps, rounded to bytes into `out[0..<rowLength]`.
@inline(__always)
private func filterColumn(
  _ rows: UnsafePointer<UnsafeRawPointer>, taps: [UInt16], out: UnsafeMutablePointer<UInt8>,
  rowLength: Int
) {
  let radius = taps.count / 2
  let low = Lanes16(repeating: 0xFF)
  let middle = rows[radius]
  taps.withUnsafeBufferPointer { weights in
    let centre = Lanes16(repeating: weights[radius])
    var x = 0
    while x < rowLength {
      let offset = 2 * x
      let v = middle.loadUnaligned(fromByteOffset: offset, as: Lanes16.self)
      var high = centre &* (v &>> 8)
      var rest = centre &* (v & low)
      for k in 1...radius {
        let a = rows[radius - k].loadUnaligned(fromByteOffset: offset, as: Lanes16.self)
        let b = rows[radius + k].loadUnaligned(fromByteOffset: offset, as: Lanes16.self)
        let weight = Lanes16(repeating: weights[radius + k])
        high &+= weight &* ((a &>> 8) &+ (b &>> 8))
        rest &+= weight &* ((a & low) &+ (b & low))
      }
      let bytes = SIMD16<UInt8>(truncatingIfNeeded: (high &+ (rest &>> 8) &+ 128) &>> 8)
      if x + 16 <= rowLength {
        UnsafeMutableRawPointer(out + x).storeBytes(of: bytes, as: SIMD16<UInt8>.self)
      } else {
        for i in 0..<(rowLength - x) { out[x + i] = bytes[i] }
      }
      x += 16
    }
  }
}

/// OpenCV's `BORDER_REFLECT_101` index mapping (`borderInterpolate`): `gfedcb|abcdefgh|gfedcba`,
/// applied repeatedly for offsets beyond one image width.
@inline(__always)
func reflect101(_ index: Int, count: Int) -> Int {
  if count == 1 { return 0 }
  var p = index
  while p < 0 || p >= count {
    p = p < 0 ? -p : 2 * count - 2 - p
  }
  return p
}
