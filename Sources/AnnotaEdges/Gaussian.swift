public import AnnotaImage

/// A normalised 1-D Gaussian in 8-bit fixed point: integer weights that sum to exactly 256.
///
/// The weights are OpenCV's bit-exact 8-bit kernel (`getGaussianKernelBitExact` followed by the
/// error-diffusion rounding of `getGaussianKernelFixedPoint_ED` with 8 fraction bits): the
/// sampled Gaussian `exp(−i² / 2σ²)` for offsets `i = −r...r`, normalised to sum 1, scaled by 256
/// and rounded from the outside in while carrying each rounding error to the next tap; the
/// centre takes whatever keeps the sum at 256. The kernel is symmetric and its weights are
/// non-negative and non-increasing away from the centre (up to the error diffusion).
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
  /// (weights sum to 256), the vertical pass sums `weight × row value` exactly in 32 bits, and
  /// the result is rounded once, `(sum + 2^15) >> 16`. The output therefore never leaves
  /// [0, 255], a constant image stays constant, and the operation is independent of the pass
  /// order. Borders are reflected without repeating the edge pixel (`BORDER_REFLECT_101`).
  ///
  /// - Complexity: O(width × height × channels × kernel size); memory O(kernel size × width).
  public static func gaussian(_ image: Image, kernel: GaussianKernel) -> Image {
    let width = image.width
    let height = image.height
    let channels = image.format.channels
    if kernel.size == 1 || width == 0 || height == 0 { return image.packed() }
    let radius = kernel.radius
    let rowLength = width * channels
    let paddedLength = (width + 2 * radius) * channels
    let ringRows = kernel.size
    var output = [UInt8](repeating: 0, count: rowLength * height)
    // One scratch allocation: the padded source row, the ring of horizontally filtered rows
    // (UInt16) and the vertical accumulator (UInt32), each in 4-byte units.
    let paddedWords = (paddedLength + 3) / 4
    let ringWords = (ringRows * rowLength + 1) / 2
    let scratchWords = paddedWords + ringWords + rowLength
    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: scratchWords) { scratch in
      let base = UnsafeMutableRawPointer(scratch.baseAddress!)
      let padded = base.bindMemory(to: UInt8.self, capacity: paddedLength)
      let ring = (base + paddedWords * 4)
        .bindMemory(to: UInt16.self, capacity: ringRows * rowLength)
      let accumulator = (base + (paddedWords + ringWords) * 4)
        .bindMemory(to: UInt32.self, capacity: rowLength)
      let taps = kernel.weights.map { UInt16($0) }
      let centre = taps[radius]
      image.pixels.withUnsafeBufferPointer { source in
        output.withUnsafeMutableBufferPointer { target in
          let src = source.baseAddress!
          let dst = target.baseAddress!

          // Horizontal pass of source row `row` into ring slot `row % ringRows`.
          func filterRow(_ row: Int) {
            let line = src + row * image.stride
            (padded + radius * channels).update(from: line, count: rowLength)
            for i in 1...radius {
              let left = reflect101(-i, count: width) * channels
              let right = reflect101(width - 1 + i, count: width) * channels
              for c in 0..<channels {
                padded[(radius - i) * channels + c] = line[left + c]
                padded[(radius + width - 1 + i) * channels + c] = line[right + c]
              }
            }
            let centred = padded + radius * channels
            let out = ring + (row % ringRows) * rowLength
            for x in 0..<rowLength { out[x] = centre &* UInt16(centred[x]) }
            for k in 1...radius {
              let weight = taps[radius + k]
              let before = centred - k * channels
              let after = centred + k * channels
              for x in 0..<rowLength {
                out[x] &+= weight &* (UInt16(before[x]) &+ UInt16(after[x]))
              }
            }
          }

          var nextRow = 0
          for y in 0..<height {
            let lastNeeded = min(height - 1, y + radius)
            while nextRow <= lastNeeded {
              filterRow(nextRow)
              nextRow += 1
            }
            let middle = ring + (y % ringRows) * rowLength
            let centre32 = UInt32(centre)
            for x in 0..<rowLength { accumulator[x] = centre32 &* UInt32(middle[x]) }
            for k in 1...radius {
              let weight = UInt32(taps[radius + k])
              let above = ring + (reflect101(y - k, count: height) % ringRows) * rowLength
              let below = ring + (reflect101(y + k, count: height) % ringRows) * rowLength
              for x in 0..<rowLength {
                accumulator[x] &+= weight &* UInt32(above[x]) &+ weight &* UInt32(below[x])
              }
            }
            let out = dst + y * rowLength
            for x in 0..<rowLength {
              out[x] = UInt8(truncatingIfNeeded: (accumulator[x] &+ 0x8000) >> 16)
            }
          }
        }
      }
    }
    return Image(width: width, height: height, format: image.format, pixels: output)
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
