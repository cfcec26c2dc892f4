import AnnotaEdges
import AnnotaImage
import Foundation
import Testing

/// A grey image from a function of (x, y).
func grayImage(width: Int, height: Int, _ value: (Int, Int) -> UInt8) -> Image {
  var pixels = [UInt8](repeating: 0, count: width * height)
  for y in 0..<height {
    for x in 0..<width { pixels[y * width + x] = value(x, y) }
  }
  return Image(width: width, height: height, format: .gray, pixels: pixels)
}

/// A deterministic textured grey image: smooth shapes plus hash noise (SplitMix-style).
func texturedImage(width: Int, height: Int, seed: UInt64) -> Image {
  grayImage(width: width, height: height) { x, y in
    var z = seed &+ UInt64(y * width + x) &* 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    let noise = Int((z ^ (z >> 31)) % 24)
    let disc = (x - width / 3) * (x - width / 3) + (y - height / 2) * (y - height / 2)
    let base = disc < (width * width) / 16 ? 170 : 60
    let band = (x + 2 * y) % 37 < 9 ? 50 : 0
    return UInt8(min(255, base + band + noise))
  }
}

@Suite("Edge detection: unit properties")
struct EdgeTests {
  @Test("a vertical step gives edges exactly on the step, in every row", arguments: [false, true])
  func verticalStep(l2: Bool) {
    let image = grayImage(width: 32, height: 24) { x, _ in x < 16 ? 20 : 200 }
    let edges = EdgeDetector.canny(image, low: 50, high: 150, l2: l2)
    // Sobel responds equally at x = 15 and x = 16; the suppression keeps the first (it must be
    // strictly greater than its left neighbour and at least its right one), as OpenCV does.
    for y in 0..<24 {
      for x in 0..<32 { #expect(edges[x, y] == (x == 15), "(\(x), \(y))") }
    }
    #expect(edges.edgeCount == 24)
  }

  @Test(
    "a horizontal step gives edges exactly on the step, in every column", arguments: [false, true])
  func horizontalStep(l2: Bool) {
    let image = grayImage(width: 30, height: 20) { _, y in y < 9 ? 240 : 10 }
    let edges = EdgeDetector.canny(image, low: 20, high: 60, l2: l2)
    for y in 0..<20 {
      for x in 0..<30 { #expect(edges[x, y] == (y == 8), "(\(x), \(y))") }
    }
  }

  @Test("a step too weak for the thresholds gives no edge; the automatic thresholds find it")
  func weakStep() {
    let image = grayImage(width: 20, height: 20) { x, _ in x < 10 ? 100 : 110 }
    #expect(EdgeDetector.canny(image, low: 50, high: 150).edgeCount == 0)
    let (edges, thresholds) = EdgeDetector.canny(image)
    #expect(thresholds.high == 39.5)  // every nonzero magnitude is 4 × 10
    #expect(edges.edgeCount == 20)
    for y in 0..<20 { #expect(edges[9, y]) }
  }

  @Test("a constant image has no edges, at any threshold and with automatic thresholds")
  func constantImage() {
    for value: UInt8 in [0, 77, 255] {
      let image = grayImage(width: 17, height: 11) { _, _ in value }
      for l2 in [false, true] {
        #expect(EdgeDetector.canny(image, low: 0, high: 0, l2: l2).edgeCount == 0)
        #expect(EdgeDetector.canny(image, low: 10, high: 30, l2: l2).edgeCount == 0)
        let (edges, thresholds) = EdgeDetector.canny(image, l2: l2)
        #expect(edges.edgeCount == 0)
        #expect(thresholds == CannyThresholds(low: 0, high: 0))
      }
      let gradients = EdgeDetector.sobel(image)
      #expect(gradients.gx.allSatisfy { $0 == 0 } && gradients.gy.allSatisfy { $0 == 0 })
    }
  }

  @Test("automatic thresholds lie within the range of the nonzero magnitudes", arguments: 0..<6)
  func automaticThresholdsInRange(seed: Int) {
    let image = texturedImage(width: 48 + seed * 7, height: 40 + seed * 3, seed: UInt64(seed))
    let gradients = EdgeDetector.sobel(image, channelSelection: .l1)
    for norm in GradientNorm.allCases {
      let magnitudes: [Int32] = norm == .l1
        ? gradients.magnitudeL1()
        : gradients.squaredMagnitudeL2().map { Int32(Double($0).squareRoot().rounded(.down)) }
      let nonzero = magnitudes.filter { $0 > 0 }.sorted()
      for quantile in [0.0, 0.5, 0.8, 0.95, 1.0] {
        let t = CannyThresholds.automatic(
          for: image, norm: norm, highQuantile: quantile, lowRatio: 0.4)
        #expect(t.high >= Double(nonzero.first!) - 0.5)
        #expect(t.high <= Double(nonzero.last!) - 0.5)
        #expect(t.low >= 0 && t.low <= t.high)
        #expect(abs(t.low - 0.4 * t.high) < 1e-12)
        // Nearest rank: at least `quantile` of the magnitudes are below high + 0.5 ...
        let atOrBelow = nonzero.filter { Double($0) <= t.high + 0.5 }.count
        #expect(Double(atOrBelow) >= quantile * Double(nonzero.count))
        // ... and the same from the gradients gives the same thresholds.
        #expect(CannyThresholds.automatic(
          for: gradients, norm: norm, highQuantile: quantile, lowRatio: 0.4) == t)
      }
      let median = CannyThresholds.automatic(for: image, norm: norm, highQuantile: 0.5)
      let top = CannyThresholds.automatic(for: image, norm: norm, highQuantile: 0.95)
      #expect(median.high <= top.high)
    }
  }

  @Test("colour mode on an image with identical channels equals grey mode", arguments: 0..<4)
  func identicalChannels(seed: Int) {
    let gray = texturedImage(width: 41 + seed, height: 33 + 2 * seed, seed: UInt64(100 + seed))
    for format in [PixelFormat.rgb, .rgba] {
      let colour = gray.converted(to: format)
      for l2 in [false, true] {
        #expect(EdgeDetector.canny(colour, low: 30, high: 90, l2: l2)
          == EdgeDetector.canny(gray, low: 30, high: 90, l2: l2))
        #expect(EdgeDetector.canny(colour, l2: l2).edges == EdgeDetector.canny(gray, l2: l2).edges)
      }
      for norm in GradientNorm.allCases {
        #expect(EdgeDetector.sobel(colour, channelSelection: norm) == EdgeDetector.sobel(gray))
      }
    }
  }

  @Test("colour mode takes each pixel's gradient from its strongest channel")
  func strongestChannel() {
    // Red steps at x = 8 (weak), blue at y = 6 (strong); green constant.
    var pixels = [UInt8]()
    for y in 0..<12 {
      for x in 0..<16 { pixels += [x < 8 ? 100 : 130, 50, y < 6 ? 0 : 200] }
    }
    let image = Image(width: 16, height: 12, format: .rgb, pixels: pixels)
    let g = EdgeDetector.sobel(image)
    // Away from the crossing, each step's own channel decides.
    #expect(g.gx[2 * 16 + 7] == 120 && g.gy[2 * 16 + 7] == 0)
    #expect(g.gx[5 * 16 + 2] == 0 && g.gy[5 * 16 + 2] == 800)
    // At the crossing, blue (800 vertical) beats red (30 horizontal at that row).
    #expect(g.gx[5 * 16 + 7] == 0 && g.gy[5 * 16 + 7] == 800)
  }

  @Test("Sobel derivatives on a ramp and at the replicated border")
  func sobelRamp() {
    let image = grayImage(width: 6, height: 4) { x, y in UInt8(10 * x + 3 * y) }
    let g = EdgeDetector.sobel(image)
    for y in 0..<4 {
      for x in 0..<6 {
        // Inside, gx = 4 × 2 × 10 and gy = 4 × 2 × 3; at a border the replicated pixel halves it.
        let expectedX: Int16 = (x == 0 || x == 5) ? 40 : 80
        let expectedY: Int16 = (y == 0 || y == 3) ? 12 : 24
        #expect(g.gx[y * 6 + x] == expectedX && g.gy[y * 6 + x] == expectedY, "(\(x), \(y))")
      }
    }
    // Reflected (cv2.Sobel's default border), the mirror image cancels the derivative at the edge.
    let reflected = EdgeDetector.sobel(image, border: .reflect101)
    for y in 0..<4 {
      for x in 0..<6 {
        let expectedX: Int16 = (x == 0 || x == 5) ? 0 : 80
        let expectedY: Int16 = (y == 0 || y == 3) ? 0 : 24
        #expect(reflected.gx[y * 6 + x] == expectedX && reflected.gy[y * 6 + x] == expectedY)
      }
    }
    #expect(g.magnitudeL1()[7] == 104)
    #expect(g.squaredMagnitudeL2()[7] == 80 * 80 + 24 * 24)
    #expect(g.magnitudeL2()[7] == Float(80 * 80 + 24 * 24).squareRoot())
  }

  @Test("gradient directions match atan2 within 5e-7 radians")
  func directions() {
    var xs: [Int16] = []
    var ys: [Int16] = []
    for u in stride(from: -1020, through: 1020, by: 17) {
      for v in stride(from: -1020, through: 1020, by: 13) {
        xs.append(Int16(u))
        ys.append(Int16(v))
      }
    }
    xs += [0, 5, -5, 0, 0]
    ys += [0, 0, 0, 7, -7]
    let g = Gradients(width: xs.count, height: 1, gx: xs, gy: ys)
    let angles = g.direction()
    var worst = 0.0
    for i in 0..<xs.count where xs[i] != 0 || ys[i] != 0 {
      worst = max(worst, abs(Double(angles[i]) - atan2(Double(ys[i]), Double(xs[i]))))
    }
    #expect(worst < 5e-7)
    let n = xs.count
    #expect(angles[n - 5] == 0 && angles[n - 4] == 0 && angles[n - 3] == Float.pi)
    #expect(angles[n - 2] == Float.pi / 2 && angles[n - 1] == -Float.pi / 2)
  }

  @Test("Canny from precomputed gradients equals Canny from the image", arguments: [false, true])
  func fromGradients(l2: Bool) {
    let image = texturedImage(width: 64, height: 48, seed: 7)
    let gradients = EdgeDetector.sobel(image, channelSelection: l2 ? .l2 : .l1)
    for (low, high) in [(20.0, 60.0), (50, 150), (0, 10)] {
      #expect(EdgeDetector.canny(gradients, low: low, high: high, l2: l2)
        == EdgeDetector.canny(image, low: low, high: high, l2: l2))
    }
  }

  @Test("row padding, swapped thresholds, tiny and empty images")
  func shapes() {
    let packed = texturedImage(width: 23, height: 19, seed: 3)
    var padded = [UInt8](repeating: 9, count: 30 * 19)
    for y in 0..<19 {
      for x in 0..<23 { padded[y * 30 + x] = packed.pixels[y * 23 + x] }
    }
    let strided = Image(width: 23, height: 19, format: .gray, stride: 30, pixels: padded)
    let reference = EdgeDetector.canny(packed, low: 20, high: 70)
    #expect(EdgeDetector.canny(strided, low: 20, high: 70) == reference)
    #expect(EdgeDetector.sobel(strided) == EdgeDetector.sobel(packed))
    #expect(EdgeDetector.gaussian(strided, sigma: 1.2) == EdgeDetector.gaussian(packed, sigma: 1.2))
    #expect(EdgeDetector.canny(packed, low: 70, high: 20) == reference)

    let empty = Image(width: 0, height: 0, format: .gray)
    #expect(EdgeDetector.canny(empty, low: 1, high: 2).pixels.isEmpty)
    #expect(EdgeDetector.sobel(empty).gx.isEmpty)
    #expect(EdgeDetector.gaussian(empty, sigma: 2).pixels.isEmpty)
    for (w, h) in [(1, 1), (1, 5), (5, 1), (2, 2)] {
      let tiny = grayImage(width: w, height: h) { x, y in UInt8((x * 97 + y * 41) % 256) }
      #expect(EdgeDetector.canny(tiny, low: 1, high: 2).pixels.count == w * h)
      #expect(EdgeDetector.gaussian(tiny, sigma: 3).pixels.count == w * h)
    }
  }

  @Test("Gaussian kernels: OpenCV's fixed-point weights, symmetric, summing to 256")
  func gaussianKernels() {
    // From cv2.GaussianBlur on an impulse (OpenCV 5.0, 8-bit bit-exact path).
    #expect(GaussianKernel(sigma: 1).weights == [1, 14, 62, 102, 62, 14, 1])
    #expect(GaussianKernel(sigma: 0.5).weights == [0, 27, 202, 27, 0])
    #expect(GaussianKernel(sigma: 1.4).weights == [1, 8, 26, 56, 74, 56, 26, 8, 1])
    // Error diffusion makes the tails of wide kernels ripple, exactly as in OpenCV.
    #expect(GaussianKernel(sigma: 7.5).weights.prefix(8) == [0, 0, 1, 0, 1, 0, 1, 2])
    for sigma in [0.3, 0.8, 1.0, 1.4, 2.0, 3.3, 7.5] {
      let k = GaussianKernel(sigma: sigma)
      #expect(k.size == k.radius * 2 + 1)
      #expect(k.weights.reduce(0) { $0 + Int($1) } == 256)
      #expect(k.weights == Array(k.weights.reversed()))
    }
    #expect(GaussianKernel(sigma: 0.05).weights == [256])
  }

  @Test("Gaussian blur keeps constants constant and smooths an impulse into the kernel")
  func gaussianBlur() {
    let constant = grayImage(width: 19, height: 13) { _, _ in 201 }
    #expect(EdgeDetector.gaussian(constant, sigma: 1.7) == constant)
    let impulse = grayImage(width: 15, height: 15) { x, y in x == 7 && y == 7 ? 255 : 0 }
    let blurred = EdgeDetector.gaussian(impulse, sigma: 1)
    let k = GaussianKernel(sigma: 1).weights.map(Int.init)
    for y in 0..<15 {
      for x in 0..<15 {
        let i = x - 4
        let j = y - 4
        let w = (0..<7).contains(i) && (0..<7).contains(j) ? k[i] * k[j] : 0
        #expect(Int(blurred[x, y, 0]) == (255 * w + 32768) >> 16, "(\(x), \(y))")
      }
    }
    let colour = impulse.converted(to: .rgba)
    #expect(EdgeDetector.gaussian(colour, sigma: 1).converted(to: .gray) == blurred)
  }
}
