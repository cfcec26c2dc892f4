public import AnnotaGeometry
public import AnnotaImage
import AnnotaEdges
import RealModule

/// Candidate positions for the four sides of a rough box, each with a feature vector that a
/// learned scorer turns into "the object's boundary is here".
///
/// The window around the rough box is resampled so that the box becomes `boxSize` × `boxSize`
/// working pixels (anisotropically: one working pixel is 1% of the box's width across and 1% of
/// its height down, for the default size 100). Each side then has candidates every working pixel
/// within ±`searchRange` × `boxSize` of its rough position. All four sides are handled in one
/// frame: the window is mirrored or transposed so that the side is a "left" side, the object to
/// the right (inside, growing t) and the background to the left (outside).
///
/// Features per candidate (``SideCandidates/featureNames`` lists them): colour steps across the
/// line at three widths (mean and 90th percentile along the side), Canny edges on the line
/// (share, longest run), gradient strength across the line (mean, 90th percentile), gradient
/// energy and edge density in bands just inside, further inside, just outside and further
/// outside, edges that straddle the line, the tightness prior (share of rows whose outermost edge
/// is on the line, and beyond it), a colour-histogram foreground probability inside and outside
/// the line, the offset from the rough side, the box's size and aspect, the side, the distance to
/// the image border, the other annotated boxes of the image (the line inside another box, near a
/// side of another box, a move that crosses another box's side) and the candidate's strength
/// relative to the side's other candidates.
public struct SideCandidates: Sendable {
  /// Working pixels per box side.
  public static let boxSize = 100
  /// Candidates reach this many working pixels out and in from the rough side.
  public static let searchRange = 30
  /// Working-window margin around the box.
  static let margin = 45
  /// Rows along a side are sampled every this many working pixels.
  static let rowStep = 2
  /// The number of features per candidate.
  public static var featureCount: Int { featureNames.count }
  /// Names of the features, in order.
  public static let featureNames: [String] = [
    "step1_mean", "step1_rms", "step3_mean", "step3_rms", "step8_mean", "step8_rms",
    "edge_line", "edge_run", "grad_mean", "grad_rms",
    "energy_in_near", "energy_in_far", "energy_out_near", "energy_out_far",
    "edges_in_near", "edges_out_near", "edges_out_far", "straddle",
    "outermost_on_line", "outermost_beyond",
    "fg_in", "fg_out", "fg_step", "fg_out_rows", "fg_out_far",
    "offset", "abs_offset", "log_size", "log_span", "log_aspect",
    "side_left", "side_top", "side_right", "side_bottom",
    "border_distance", "rough_at_border",
    "neighbour_cover", "neighbour_side", "neighbour_crossed",
    "edge_line_rel", "step3_rel", "grad_rel", "step3_local_max", "step3_from_best",
    "window_gradient", "window_edges",
  ]

  /// One side's candidates.
  public struct Side: Sendable {
    /// Full-resolution coordinate of each candidate line (x for left/right, y for top/bottom).
    public var positions: [Double]
    /// Outward move of each candidate from the rough side, in working pixels (1% of the box).
    public var offsets: [Int]
    /// Row-major features, `positions.count × featureCount`.
    public var features: [Float]
  }

  /// Left, top, right, bottom.
  public var sides: [Side]
  /// Full-resolution size of one working pixel across each side (box width or height / boxSize).
  public var step: [Double]

  /// Computes the candidates of `rough` in `image`. Returns nil for boxes under 4 pixels a side.
  ///
  /// - Parameters:
  ///   - image: the full image (grey, RGB or RGBA).
  ///   - rough: the box to fit, in image pixels.
  ///   - others: the image's other boxes.
  /// - Complexity: O(boxSize² + the source pixels under the window, capped at 3 taps per working
  ///   pixel and axis).
  public init?(image: Image, rough: Box, others: [Box]) {
    guard rough.width >= 4, rough.height >= 4, image.width > 0, image.height > 0 else { return nil }
    let s = Self.boxSize
    let m = Self.margin
    let n = s + 2 * m
    let window = WorkingWindow(image: image, rough: rough, size: n, boxSize: s, margin: m)
    let gradients = EdgeDetector.sobel(window.rgb)
    let magnitude = gradients.magnitudeL1()
    let automatic = CannyThresholds.automatic(for: gradients)
    let edges = EdgeDetector.canny(gradients, low: max(automatic.low, 40), high: max(automatic.high, 100))
    // The magnitudes are whole numbers and so is every partial sum (far below 2^53): an integer
    // sum converts to the same Double as adding them one by one in Double.
    var magnitudeSum = 0
    magnitude.withUnsafeBufferPointer { m in
      for v in m { magnitudeSum &+= Int(v) }
    }
    let meanGradient = Double(magnitudeSum) / Double(magnitude.count)
    var edgeCount = 0
    edges.pixels.withUnsafeBufferPointer { e in
      for v in e { edgeCount &+= v != 0 ? 1 : 0 }
    }
    let windowEdges = Double(edgeCount) / Double(n * n)
    let foreground = window.foregroundProbability()
    var sides: [Side] = []
    for side in 0..<4 {
      let frame = SideFrame(
        side: side, window: window, gradients: gradients, edges: edges, foreground: foreground,
        meanGradient: meanGradient)
      sides.append(
        frame.candidates(
          rough: rough, others: others, imageWidth: image.width, imageHeight: image.height,
          windowGradient: meanGradient, windowEdges: windowEdges))
    }
    self.sides = sides
    self.step = [rough.width / Double(s), rough.height / Double(s), rough.width / Double(s), rough.height / Double(s)]
  }
}

/// The resampled window: `size` × `size` RGB, the rough box at [margin, margin + boxSize) on both
/// axes.
struct WorkingWindow {
  var rgb: Image
  let size: Int
  let boxSize: Int
  let margin: Int

  init(image: Image, rough: Box, size n: Int, boxSize s: Int, margin m: Int) {
    self.size = n
    self.boxSize = s
    self.margin = m
    let sx = rough.width / Double(s)
    let sy = rough.height / Double(s)
    let xTaps = Self.taps(origin: rough.x - Double(m) * sx, scale: sx, count: n, limit: image.width)
    let yTaps = Self.taps(origin: rough.y - Double(m) * sy, scale: sy, count: n, limit: image.height)
    let channels = image.format.channels
    let colour = channels >= 3
    var out = [UInt8](repeating: 0, count: n * n * 3)
    // Vertical pass into a float row buffer, then the horizontal pass. The buffer holds either
    // every source column from the leftmost to the rightmost tap (when that is short: boxes
    // under the working size) or only the tapped columns, one slot per tap (large boxes).
    let x0 = xTaps.index.min() ?? 0
    let x1 = (xTaps.index.max() ?? 0) + 1
    let byTap = x1 - x0 > xTaps.index.count
    let columns = byTap ? xTaps.index : Array(x0..<x1)
    let slot = byTap ? Array(0..<xTaps.index.count) : xTaps.index.map { $0 - x0 }
    let width = columns.count
    var row = [Float](repeating: 0, count: width * 3)
    let wy = 1 / Float(yTaps.k)
    let wx = 1 / Float(xTaps.k)
    // Each sum starts from its first tap (the same as adding that tap to 0: every term is
    // non-negative) and adds the others in tap order.
    image.pixels.withUnsafeBufferPointer { src in
      row.withUnsafeMutableBufferPointer { row in
        out.withUnsafeMutableBufferPointer { out in
          columns.withUnsafeBufferPointer { columns in
            slot.withUnsafeBufferPointer { slot in
              yTaps.index.withUnsafeBufferPointer { yIndex in
                let ky = yTaps.k
                let kx = xTaps.k
                for v in 0..<n {
                  let base = yIndex.baseAddress! + v * ky
                  let first = base[0] * image.stride
                  if channels == 3 && !byTap {
                    // RGB over a run of whole columns: the row buffer is the source bytes
                    // x0 * 3 ..< x1 * 3 of the tapped rows, sample for sample.
                    let start = src.baseAddress! + x0 * 3
                    let top = start + first
                    for e in 0..<(width * 3) { row[e] = wy * Float(top[e]) }
                    for j in 1..<max(1, ky) {
                      let line = start + base[j] * image.stride
                      for e in 0..<(width * 3) { row[e] += wy * Float(line[e]) }
                    }
                  } else if colour {
                    for x in 0..<width {
                      let p = columns[x] * channels
                      var r = wy * Float(src[first + p])
                      var g = wy * Float(src[first + p + 1])
                      var b = wy * Float(src[first + p + 2])
                      for j in 1..<max(1, ky) {
                        let q = base[j] * image.stride + p
                        r += wy * Float(src[q])
                        g += wy * Float(src[q + 1])
                        b += wy * Float(src[q + 2])
                      }
                      row[x * 3] = r
                      row[x * 3 + 1] = g
                      row[x * 3 + 2] = b
                    }
                  } else {
                    for x in 0..<width {
                      let p = columns[x] * channels
                      var grey = wy * Float(src[first + p])
                      for j in 1..<max(1, ky) { grey += wy * Float(src[base[j] * image.stride + p]) }
                      row[x * 3] = grey
                      row[x * 3 + 1] = grey
                      row[x * 3 + 2] = grey
                    }
                  }
                  for u in 0..<n {
                    let taps = slot.baseAddress! + u * kx
                    let q0 = taps[0] * 3
                    var r = wx * row[q0]
                    var g = wx * row[q0 + 1]
                    var b = wx * row[q0 + 2]
                    for j in 1..<max(1, kx) {
                      let q = taps[j] * 3
                      r += wx * row[q]
                      g += wx * row[q + 1]
                      b += wx * row[q + 2]
                    }
                    // Round half up (values are non-negative).
                    let o = (v * n + u) * 3
                    out[o] = UInt8(min(255, max(0, r)) + 0.5)
                    out[o + 1] = UInt8(min(255, max(0, g)) + 0.5)
                    out[o + 2] = UInt8(min(255, max(0, b)) + 0.5)
                  }
                }
              }
            }
          }
        }
      }
    }
    rgb = Image(width: n, height: n, format: .rgb, pixels: out)
  }

  /// Source samples and weights for each working pixel: the pixel's footprint
  /// [origin + i·scale, origin + (i+1)·scale) averaged with at most three evenly spaced taps
  /// (replicating the image's border pixels outside it).
  static func taps(origin: Double, scale: Double, count: Int, limit: Int) -> (index: [Int], k: Int) {
    let k = min(3, max(1, Int(scale.rounded(.up))))
    var index = [Int](repeating: 0, count: count * k)
    for i in 0..<count {
      for j in 0..<k {
        let c = origin + (Double(i) + (Double(j) + 0.5) / Double(k)) * scale
        index[i * k + j] = min(limit - 1, max(0, Int(c.rounded(.down))))
      }
    }
    return (index, k)
  }

  /// Per working pixel, the probability that its colour belongs to the object: a histogram
  /// colour model (8 levels per channel) with the centre half of the rough box as object and the
  /// window's outer ring, beyond the search range, as background.
  func foregroundProbability() -> [Float] {
    let n = size
    let c0 = margin + boxSize / 4
    let c1 = margin + boxSize * 3 / 4
    let ring = margin - SideCandidates.searchRange
    // Counts are whole numbers far below 2^24, so counting in integers gives the same Floats as
    // counting in Floats.
    var fg = [Int](repeating: 0, count: 512)
    var bg = [Int](repeating: 0, count: 512)
    var nf = 0
    var nb = 0
    var bins = [UInt16](repeating: 0, count: n * n)
    rgb.pixels.withUnsafeBufferPointer { p in
      bins.withUnsafeMutableBufferPointer { bins in
        fg.withUnsafeMutableBufferPointer { fg in
          bg.withUnsafeMutableBufferPointer { bg in
            for i in 0..<(n * n) {
              bins[i] = UInt16(p[i * 3] >> 5) << 6 | UInt16(p[i * 3 + 1] >> 5) << 3 | UInt16(p[i * 3 + 2] >> 5)
            }
            // The centre square lies inside the ring's hole, so no pixel is both.
            precondition(ring <= c0 && c1 <= n - ring, "the object square must lie inside the background ring")
            for v in c0..<c1 {
              for u in c0..<c1 { fg[Int(bins[v * n + u])] &+= 1 }
            }
            nf = (c1 - c0) * (c1 - c0)
            for v in 0..<n {
              let line = bins.baseAddress! + v * n
              if v < ring || v >= n - ring {
                for u in 0..<n { bg[Int(line[u])] &+= 1 }
                nb &+= n
              } else {
                for u in 0..<ring { bg[Int(line[u])] &+= 1 }
                for u in (n - ring)..<n { bg[Int(line[u])] &+= 1 }
                nb &+= 2 * ring
              }
            }
          }
        }
      }
    }
    var table = [Float](repeating: 0.5, count: 512)
    let fgTotal = Float(nf) + 256
    let bgTotal = Float(nb) + 256
    for b in 0..<512 {
      let pf = (Float(fg[b]) + 0.5) / fgTotal
      let pb = (Float(bg[b]) + 0.5) / bgTotal
      table[b] = pf / (pf + pb)
    }
    return [Float](unsafeUninitializedCapacity: n * n) { out, initialized in
      table.withUnsafeBufferPointer { table in
        bins.withUnsafeBufferPointer { bins in
          for i in 0..<(n * n) { (out.baseAddress! + i).initialize(to: table[Int(bins[i])]) }
        }
      }
      initialized = n * n
    }
  }
}

/// One side seen as a left side: t runs across the side (0 = window edge outside, growing
/// inward), r along it over the rough box's extent.
/// One side seen as a left side: t runs across the side (0 = window edge outside, growing
/// inward), r along it over the rough box's extent.
///
/// The frame holds what the candidates read, computed once per side: per row, prefix sums along
/// t (for band means), the gradient across the side, and where edges run across or along it.
struct SideFrame {
  let side: Int
  let t: Int  // positions across
  let rows: Int  // rows along the side (the rough box's span)
  let margin: Int
  /// Float planes, one after another: prefix sums along t per row (`rows × (t + 1)` values each,
  /// every row starting at 0) of the red, green and blue colour (0–1), of the gradient across the
  /// side, of any edge and of the foreground probability; then the gradient across the side
  /// itself per (r, t) (`rows × t`).
  var planes: [Float]
  /// Per (r, t): 1 where an edge runs across the side; then a second `rows × t` plane, 1 where
  /// an edge runs along it.
  var flags: [UInt8]

  /// `Float(v) / 255` for every byte v.
  static let unit: [Float] = (0..<256).map { Float($0) / 255 }

  init(side: Int, window: WorkingWindow, gradients: Gradients, edges: EdgeMap, foreground: [Float], meanGradient: Double) {
    self.side = side
    let n = window.size
    let s = window.boxSize
    let m = window.margin
    t = n
    rows = s / SideCandidates.rowStep
    margin = m
    let rowCount = rows
    let w1 = n + 1
    let plane = rowCount * w1
    let vertical = side % 2 == 0
    let mirrored = side >= 2
    let norm = Float(1 / (meanGradient + 1))
    var planes = [Float](repeating: 0, count: plane * 6 + rowCount * n)
    var flags = [UInt8](repeating: 0, count: 2 * rowCount * n)
    window.rgb.pixels.withUnsafeBufferPointer { px in
      gradients.gx.withUnsafeBufferPointer { gxs in
        gradients.gy.withUnsafeBufferPointer { gys in
          edges.pixels.withUnsafeBufferPointer { ep in
            foreground.withUnsafeBufferPointer { fp in
              Self.unit.withUnsafeBufferPointer { unit in
                planes.withUnsafeMutableBufferPointer { planes in
                  flags.withUnsafeMutableBufferPointer { flags in
                    let red = planes.baseAddress!
                    let green = red + plane
                    let blue = green + plane
                    let pa = blue + plane
                    let pe = pa + plane
                    let pf = pe + plane
                    let ac = pf + plane
                    let edgeAcross = flags.baseAddress!
                    let edgeAlong = edgeAcross + rowCount * n
                    // The samples at position k across, row r along: colour (0–1), gradient
                    // across, edge, foreground; the edge flags are set here.
                    @inline(__always) func sample(_ r: Int, _ k: Int) -> (Float, Float, Float, Float, Float, Float) {
                      // (u, v) of the working pixel at position k across, row r along.
                      let along = m + r * SideCandidates.rowStep
                      let across = mirrored ? n - 1 - k : k
                      let i = vertical ? along * n + across : across * n + along
                      let o = r * n + k
                      let gx = abs(Int(gxs[i]))
                      let gy = abs(Int(gys[i]))
                      let normal = vertical ? gx : gy
                      let parallel = vertical ? gy : gx
                      let value = Float(normal) * norm
                      ac[o] = value
                      let edge = ep[i] != 0
                      if edge {
                        if normal >= parallel { edgeAcross[o] = 1 } else { edgeAlong[o] = 1 }
                      }
                      return (
                        unit[Int(px[i * 3])], unit[Int(px[i * 3 + 1])], unit[Int(px[i * 3 + 2])], value,
                        edge ? 1 : 0, fp[i]
                      )
                    }
                    // Each prefix is the previous one plus the sample, `p[k + 1] = p[k] + x[k]`.
                    // Rows of a left or right side run along the window's rows: one row at a
                    // time, the running sums in registers. Those of a top or bottom side run
                    // down its columns: all rows at once, one position across at a time, so
                    // that the window is still read row by row.
                    if vertical {
                      for r in 0..<rowCount {
                        var sums: (Float, Float, Float, Float, Float, Float) = (0, 0, 0, 0, 0, 0)
                        for k in 0..<n {
                          let x = sample(r, k)
                          let q = r * w1 + k + 1
                          sums.0 += x.0
                          sums.1 += x.1
                          sums.2 += x.2
                          sums.3 += x.3
                          sums.4 += x.4
                          sums.5 += x.5
                          red[q] = sums.0
                          green[q] = sums.1
                          blue[q] = sums.2
                          pa[q] = sums.3
                          pe[q] = sums.4
                          pf[q] = sums.5
                        }
                      }
                    } else {
                      for k in 0..<n {
                        for r in 0..<rowCount {
                          let x = sample(r, k)
                          let q = r * w1 + k
                          red[q + 1] = red[q] + x.0
                          green[q + 1] = green[q] + x.1
                          blue[q + 1] = blue[q] + x.2
                          pa[q + 1] = pa[q] + x.3
                          pe[q + 1] = pe[q] + x.4
                          pf[q + 1] = pf[q] + x.5
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    self.planes = planes
    self.flags = flags
  }

  /// Sums over the rows, per candidate (index `j` in `count` candidates): the Float sums in lane
  /// `j % 8` of `sums[k * chunks + j / 8]` and the counts in `counts[k * count + j]`, each
  /// accumulated row by row in row order.
  private enum Sum: Int, CaseIterable {
    case d1, d3, d8, squareD1, squareD3, squareD8, gradient, squareGradient
    case energyInNear, energyInFar, energyOutNear, energyOutFar
    case edgesInNear, edgesOutNear, edgesOutFar
    case fgInside, fgOutside, fgOutFar
  }
  private enum Count: Int, CaseIterable {
    case onLine, run, bestRun, straddle, outerOn, outerBeyond
  }

  func candidates(
    rough: Box, others: [Box], imageWidth: Int, imageHeight: Int, windowGradient: Double,
    windowEdges: Double
  ) -> SideCandidates.Side {
    let n = t
    let s = SideCandidates.boxSize
    let range = SideCandidates.searchRange
    let vertical = side % 2 == 0
    let size = vertical ? rough.width : rough.height
    let spanSize = vertical ? rough.height : rough.width
    let step = size / Double(s)
    let outward = side >= 2 ? 1.0 : -1.0
    let roughSide = rough[side: side]
    let w1 = n + 1
    let rowCount = rows
    // The image border in this frame: candidates beyond it are impossible.
    let scale = Double(s) / size
    let border: Double = {
      // Working position of the image edge on this side, as a boundary index.
      let edge = side == 0 ? 0.0 : side == 1 ? 0.0 : side == 2 ? Double(imageWidth) : Double(imageHeight)
      return Double(margin) + (roughSide - edge) * scale * outward
    }()
    // Candidates b in [first, last]: the range less those beyond the border (a prefix of it).
    let last = margin + range
    var first = margin - range
    while first <= last && !(Double(first) >= border - 0.5) { first += 1 }
    let count = max(0, last - first + 1)
    let fc = SideCandidates.featureCount
    guard count > 0 else { return SideCandidates.Side(positions: [], offsets: [], features: []) }
    // Other boxes in this frame: [t0, t1) across, [r0, r1) along.
    let spanScale = Double(s) / spanSize
    let perpendicularStart = vertical ? rough.y : rough.x
    let frameBoxes: [(t0: Double, t1: Double, cover: Double)] = others.compactMap { o in
      let a0 = vertical ? o.x : o.y
      let a1 = vertical ? o.right : o.bottom
      let p0 = ((vertical ? o.y : o.x) - perpendicularStart) * spanScale
      let p1 = ((vertical ? o.bottom : o.right) - perpendicularStart) * spanScale
      let cover = max(0, min(Double(s), p1) - max(0, p0)) / Double(s)
      guard cover > 0 else { return nil }
      // Across coordinate: boundary index of a full-res position x is margin + (roughSide − x)·scale·outward.
      let b0 = Double(margin) + (roughSide - a0) * scale * outward
      let b1 = Double(margin) + (roughSide - a1) * scale * outward
      return (min(b0, b1), max(b0, b1), cover)
    }
    let roughAtBorder = abs(border - Double(margin)) <= 1 ? Float(1) : 0
    // Candidates go eight at a time (lanes of a SIMD8; the last group padded with boundaries
    // past `last`, computed and dropped). Every lane does the scalar arithmetic of its candidate
    // in the same order, so the sums keep their bits. The widest band reaches 15 samples either
    // side of a boundary; the window's margin keeps every band of every (padded) candidate inside
    // the row, so the bands need no clamping.
    let chunks = (count + 7) / 8
    precondition(first >= 15 && first + 8 * chunks + 14 <= n, "candidate bands must lie inside the window")
    var sums = [SIMD8<Float>](repeating: SIMD8(), count: Sum.allCases.count * chunks)
    var outsideRows = [SIMD8<Int32>](repeating: SIMD8(), count: chunks)
    var counts = [Int](repeating: 0, count: Count.allCases.count * count)
    planes.withUnsafeBufferPointer { planes in
      flags.withUnsafeBufferPointer { flags in
        sums.withUnsafeMutableBufferPointer { sums in
          outsideRows.withUnsafeMutableBufferPointer { outsideRows in
            counts.withUnsafeMutableBufferPointer { counts in
              let plane = rowCount * w1
              let sum = sums.baseAddress!
              let tally = counts.baseAddress!
              @inline(__always) func sumAt(_ k: Sum) -> UnsafeMutablePointer<SIMD8<Float>> { sum + k.rawValue * chunks }
              @inline(__always) func countAt(_ k: Count) -> UnsafeMutablePointer<Int> { tally + k.rawValue * count }
              let (d1, d3, d8) = (sumAt(.d1), sumAt(.d3), sumAt(.d8))
              let (q1, q3, q8) = (sumAt(.squareD1), sumAt(.squareD3), sumAt(.squareD8))
              let (g, qg) = (sumAt(.gradient), sumAt(.squareGradient))
              let (eIn, eInFar, eOut, eOutFar) = (sumAt(.energyInNear), sumAt(.energyInFar), sumAt(.energyOutNear), sumAt(.energyOutFar))
              let (dIn, dOut, dOutFar) = (sumAt(.edgesInNear), sumAt(.edgesOutNear), sumAt(.edgesOutFar))
              let (fIn, fOut, fOutFar) = (sumAt(.fgInside), sumAt(.fgOutside), sumAt(.fgOutFar))
              let (onLine, run, bestRun, straddle) = (countAt(.onLine), countAt(.run), countAt(.bestRun), countAt(.straddle))
              let (outerOn, outerBeyond) = (countAt(.outerOn), countAt(.outerBeyond))
              let searchStart = margin - range
              for r in 0..<rowCount {
                // This row of each plane.
                let red = planes.baseAddress! + r * w1
                let green = red + plane
                let blue = green + plane
                let pa = blue + plane
                let pe = pa + plane
                let pf = pe + plane
                let ac = planes.baseAddress! + 6 * plane + r * n
                let ea = flags.baseAddress! + r * n
                let el = ea + rowCount * n
                /// Eight samples from `p[k]` on.
                @inline(__always) func load(_ p: UnsafePointer<Float>, _ k: Int) -> SIMD8<Float> {
                  UnsafeRawPointer(p + k).loadUnaligned(as: SIMD8<Float>.self)
                }
                for c in 0..<chunks {
                  let b = first + 8 * c  // the first lane's boundary
                  /// The colour step across the boundaries: the distance between the mean colours
                  /// of the w samples before and after each.
                  @inline(__always) func colourStep(_ w: Int) -> SIMD8<Float> {
                    let inv = 1 / Float(w)
                    let c0 = (load(red, b + w) - 2 * load(red, b) + load(red, b - w)) * inv
                    let c1 = (load(green, b + w) - 2 * load(green, b) + load(green, b - w)) * inv
                    let c2 = (load(blue, b + w) - 2 * load(blue, b) + load(blue, b - w)) * inv
                    return (c0 * c0 + c1 * c1 + c2 * c2).squareRoot()
                  }
                  /// The means of `p` over [b + lo, b + hi).
                  @inline(__always) func band(_ p: UnsafePointer<Float>, _ lo: Int, _ hi: Int) -> SIMD8<Float> {
                    (load(p, b + hi) - load(p, b + lo)) / Float(hi - lo)
                  }
                  let s1 = colourStep(1)
                  let s3 = colourStep(3)
                  let s8 = colourStep(8)
                  d1[c] += s1
                  d3[c] += s3
                  d8[c] += s8
                  q1[c] += s1 * s1
                  q3[c] += s3 * s3
                  q8[c] += s8 * s8
                  // The larger of the gradients either side, as `max(before, after)`.
                  let before = load(ac, b - 1)
                  let after = load(ac, b)
                  let gr = before.replacing(with: after, where: after .>= before)
                  g[c] += gr
                  qg[c] += gr * gr
                  eIn[c] += band(pa, 1, 6)
                  eInFar[c] += band(pa, 6, 15)
                  eOut[c] += band(pa, -6, -1)
                  eOutFar[c] += band(pa, -15, -6)
                  dIn[c] += band(pe, 1, 6)
                  dOut[c] += band(pe, -6, -1)
                  dOutFar[c] += band(pe, -15, -6)
                  let fo = band(pf, -4, 0)
                  fIn[c] += band(pf, 0, 4)
                  fOut[c] += fo
                  fOutFar[c] += band(pf, -15, -4)
                  outsideRows[c] &+= SIMD8<Int32>().replacing(with: 1, where: fo .> 0.5)
                }
                // Edge counts, candidate by candidate.
                var outermost = Int.max
                for k in searchStart..<n where ea[k] != 0 {
                  outermost = k
                  break
                }
                for j in 0..<count {
                  let b = first + j
                  if ea[b - 1] != 0 || ea[b] != 0 {
                    onLine[j] += 1
                    run[j] += 1
                    bestRun[j] = max(bestRun[j], run[j])
                  } else {
                    run[j] = 0
                  }
                  if el[b - 1] != 0 || el[b] != 0 { straddle[j] += 1 }
                  if outermost != Int.max {
                    if abs(outermost - b) <= 1 { outerOn[j] += 1 } else if outermost < b - 1 { outerBeyond[j] += 1 }
                  }
                }
              }
            }
          }
        }
      }
    }
    var positions = [Double](repeating: 0, count: count)
    var offsets = [Int](repeating: 0, count: count)
    var features = [Float](repeating: 0, count: count * fc)
    let nr = Float(rows)
    let logSize = Float(Double.log2(max(1, size)))
    let logSpan = Float(Double.log2(max(1, spanSize)))
    let logAspect = Float(Double.log2(rough.width / rough.height))
    let logWindowGradient = Float(Double.log2(windowGradient + 1))
    sums.withUnsafeBufferPointer { sums in
      counts.withUnsafeBufferPointer { counts in
        features.withUnsafeMutableBufferPointer { features in
          @inline(__always) func total(_ k: Sum, _ j: Int) -> Float { sums[k.rawValue * chunks + j / 8][j % 8] }
          @inline(__always) func tally(_ k: Count, _ j: Int) -> Int { counts[k.rawValue * count + j] }
          for j in 0..<count {
            let b = first + j
            let f = features.baseAddress! + j * fc
            f[0] = total(.d1, j) / nr
            f[1] = (total(.squareD1, j) / nr).squareRoot()
            f[2] = total(.d3, j) / nr
            f[3] = (total(.squareD3, j) / nr).squareRoot()
            f[4] = total(.d8, j) / nr
            f[5] = (total(.squareD8, j) / nr).squareRoot()
            f[6] = Float(tally(.onLine, j)) / nr
            f[7] = Float(tally(.bestRun, j)) / nr
            f[8] = total(.gradient, j) / nr
            f[9] = (total(.squareGradient, j) / nr).squareRoot()
            f[10] = total(.energyInNear, j) / nr
            f[11] = total(.energyInFar, j) / nr
            f[12] = total(.energyOutNear, j) / nr
            f[13] = total(.energyOutFar, j) / nr
            f[14] = total(.edgesInNear, j) / nr
            f[15] = total(.edgesOutNear, j) / nr
            f[16] = total(.edgesOutFar, j) / nr
            f[17] = Float(tally(.straddle, j)) / nr
            f[18] = Float(tally(.outerOn, j)) / nr
            f[19] = Float(tally(.outerBeyond, j)) / nr
            let inside = total(.fgInside, j)
            let outside = total(.fgOutside, j)
            f[20] = inside / nr
            f[21] = outside / nr
            f[22] = (inside - outside) / nr
            f[23] = Float(outsideRows[j / 8][j % 8]) / nr
            f[24] = total(.fgOutFar, j) / nr
            let offset = margin - b  // outward positive
            f[25] = Float(offset) / Float(s)
            f[26] = abs(f[25])
            f[27] = logSize
            f[28] = logSpan
            f[29] = logAspect
            f[30 + side] = 1
            f[34] = Float(min(1, (Double(b) - border) / Double(s)))
            f[35] = roughAtBorder
            // Neighbours: the line inside another box, near another box's side, or a move across one.
            var cover: Double = 0
            var nearest = 0.5
            var crossed: Float = 0
            let bd = Double(b)
            let lo = Double(min(b, margin))
            let hi = Double(max(b, margin))
            for box in frameBoxes {
              if bd > box.t0 + 0.5 && bd < box.t1 - 0.5 { cover = max(cover, box.cover) }
              if box.cover >= 0.3 {
                nearest = min(nearest, abs(bd - box.t0) / Double(s), abs(bd - box.t1) / Double(s))
                if box.t0 > lo + 0.5 && box.t0 < hi - 0.5 { crossed = 1 }
                if box.t1 > lo + 0.5 && box.t1 < hi - 0.5 { crossed = 1 }
              }
            }
            f[36] = Float(cover)
            f[37] = Float(nearest)
            f[38] = crossed
            f[44] = logWindowGradient
            f[45] = Float(windowEdges)
            positions[j] = roughSide + outward * Double(offset) * step
            offsets[j] = offset
          }
          // Relative features over the side's candidates.
          @inline(__always) func stepAt(_ j: Int) -> Float { features[j * fc + 2] }
          var maxStep: Float = stepAt(0)
          var maxLine: Float = features[6]
          var maxGrad: Float = features[8]
          var bestIndex = 0
          for j in 1..<max(1, count) {
            let f = features.baseAddress! + j * fc
            // As `Sequence.max()`: a later value replaces the maximum only when greater.
            if maxStep < f[2] { maxStep = f[2] }
            if maxLine < f[6] { maxLine = f[6] }
            if maxGrad < f[8] { maxGrad = f[8] }
            if stepAt(bestIndex) < f[2] { bestIndex = j }
          }
          maxStep = max(maxStep, 1e-6)
          maxLine = max(maxLine, 1e-6)
          maxGrad = max(maxGrad, 1e-6)
          for j in 0..<count {
            let f = features.baseAddress! + j * fc
            f[39] = f[6] / maxLine
            f[40] = f[2] / maxStep
            f[41] = f[8] / maxGrad
            var localMax = true
            for i in max(0, j - 2)...min(count - 1, j + 2) where i != j && stepAt(i) > stepAt(j) { localMax = false }
            f[42] = localMax ? 1 : 0
            f[43] = Float(offsets[j] - offsets[bestIndex]) / Float(s)
          }
        }
      }
    }
    return SideCandidates.Side(positions: positions, offsets: offsets, features: features)
  }
}
