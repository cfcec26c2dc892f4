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
    var meanGradient = 0.0
    for v in magnitude { meanGradient += Double(v) }
    meanGradient /= Double(magnitude.count)
    let windowEdges = Double(edges.edgeCount) / Double(n * n)
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
    image.pixels.withUnsafeBufferPointer { src in
      row.withUnsafeMutableBufferPointer { row in
        out.withUnsafeMutableBufferPointer { out in
          columns.withUnsafeBufferPointer { columns in
            slot.withUnsafeBufferPointer { slot in
              for v in 0..<n {
                for i in 0..<row.count { row[i] = 0 }
                for j in 0..<yTaps.k {
                  let base = yTaps.index[v * yTaps.k + j] * image.stride
                  if colour {
                    for x in 0..<width {
                      let p = base + columns[x] * channels
                      row[x * 3] += wy * Float(src[p])
                      row[x * 3 + 1] += wy * Float(src[p + 1])
                      row[x * 3 + 2] += wy * Float(src[p + 2])
                    }
                  } else {
                    for x in 0..<width {
                      let g = wy * Float(src[base + columns[x] * channels])
                      row[x * 3] += g
                      row[x * 3 + 1] += g
                      row[x * 3 + 2] += g
                    }
                  }
                }
                for u in 0..<n {
                  var r: Float = 0
                  var g: Float = 0
                  var b: Float = 0
                  for j in 0..<xTaps.k {
                    let q = slot[u * xTaps.k + j] * 3
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
    var fg = [Float](repeating: 0, count: 512)
    var bg = [Float](repeating: 0, count: 512)
    let c0 = margin + boxSize / 4
    let c1 = margin + boxSize * 3 / 4
    let ring = margin - SideCandidates.searchRange
    var bins = [Int](repeating: 0, count: n * n)
    rgb.pixels.withUnsafeBufferPointer { p in
      for i in 0..<(n * n) {
        bins[i] = Int(p[i * 3] >> 5) << 6 | Int(p[i * 3 + 1] >> 5) << 3 | Int(p[i * 3 + 2] >> 5)
      }
    }
    var nf: Float = 0
    var nb: Float = 0
    for v in 0..<n {
      for u in 0..<n {
        let b = bins[v * n + u]
        if u >= c0 && u < c1 && v >= c0 && v < c1 {
          fg[b] += 1
          nf += 1
        } else if u < ring || u >= n - ring || v < ring || v >= n - ring {
          bg[b] += 1
          nb += 1
        }
      }
    }
    var table = [Float](repeating: 0.5, count: 512)
    for b in 0..<512 {
      let pf = (fg[b] + 0.5) / (nf + 256)
      let pb = (bg[b] + 0.5) / (nb + 256)
      table[b] = pf / (pf + pb)
    }
    return bins.map { table[$0] }
  }
}

/// One side seen as a left side: t runs across the side (0 = window edge outside, growing
/// inward), r along it over the rough box's extent.
struct SideFrame {
  let side: Int
  let t: Int  // positions across
  let rows: Int  // rows along the side (the rough box's span)
  let margin: Int
  // Per (r, t): colour (3), gradient across the side, any edge, edge across, edge along, fg.
  var colour: [Float]
  var across: [Float]
  var edgeAny: [UInt8]
  var edgeAcross: [UInt8]
  var edgeAlong: [UInt8]
  var fg: [Float]

  init(side: Int, window: WorkingWindow, gradients: Gradients, edges: EdgeMap, foreground: [Float], meanGradient: Double) {
    self.side = side
    let n = window.size
    let s = window.boxSize
    let m = window.margin
    t = n
    rows = s / SideCandidates.rowStep
    margin = m
    let count = rows * t
    var colour = [Float](repeating: 0, count: count * 3)
    var acrossValues = [Float](repeating: 0, count: count)
    var edgeAny = [UInt8](repeating: 0, count: count)
    var edgeAcross = [UInt8](repeating: 0, count: count)
    var edgeAlong = [UInt8](repeating: 0, count: count)
    var fg = [Float](repeating: 0, count: count)
    let vertical = side % 2 == 0
    let norm = Float(1 / (meanGradient + 1))
    let rowCount = rows
    window.rgb.pixels.withUnsafeBufferPointer { px in
      gradients.gx.withUnsafeBufferPointer { gxs in
        gradients.gy.withUnsafeBufferPointer { gys in
          edges.pixels.withUnsafeBufferPointer { ep in
            foreground.withUnsafeBufferPointer { fp in
              colour.withUnsafeMutableBufferPointer { colour in
                acrossValues.withUnsafeMutableBufferPointer { acrossValues in
                  fg.withUnsafeMutableBufferPointer { fg in
                    for r in 0..<rowCount {
                      let along = m + r * SideCandidates.rowStep
                      for k in 0..<n {
                        // (u, v) of the working pixel at position k across, row r along.
                        let across = side >= 2 ? n - 1 - k : k
                        let i = vertical ? along * n + across : across * n + along
                        let o = r * n + k
                        colour[o * 3] = Float(px[i * 3]) / 255
                        colour[o * 3 + 1] = Float(px[i * 3 + 1]) / 255
                        colour[o * 3 + 2] = Float(px[i * 3 + 2]) / 255
                        let gx = abs(Int(gxs[i]))
                        let gy = abs(Int(gys[i]))
                        let normal = vertical ? gx : gy
                        let parallel = vertical ? gy : gx
                        acrossValues[o] = Float(normal) * norm
                        fg[o] = fp[i]
                        if ep[i] != 0 {
                          edgeAny[o] = 1
                          if normal >= parallel { edgeAcross[o] = 1 } else { edgeAlong[o] = 1 }
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
    self.colour = colour
    self.across = acrossValues
    self.edgeAny = edgeAny
    self.edgeAcross = edgeAcross
    self.edgeAlong = edgeAlong
    self.fg = fg
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
    // Prefix sums along t per row, for band means.
    let w1 = n + 1
    var pc = [Float](repeating: 0, count: rows * w1 * 3)
    var pa = [Float](repeating: 0, count: rows * w1)
    var pe = [Float](repeating: 0, count: rows * w1)
    var pf = [Float](repeating: 0, count: rows * w1)
    for r in 0..<rows {
      for k in 0..<n {
        let o = r * n + k
        let q = r * w1 + k
        for c in 0..<3 { pc[(q + 1) * 3 + c] = pc[q * 3 + c] + colour[o * 3 + c] }
        pa[q + 1] = pa[q] + across[o]
        pe[q + 1] = pe[q] + Float(edgeAny[o])
        pf[q + 1] = pf[q] + fg[o]
      }
    }
    // Outermost across-edge per row, from the start of the search range inward.
    let first = margin - range
    var outermost = [Int](repeating: Int.max, count: rows)
    for r in 0..<rows {
      for k in first..<n where edgeAcross[r * n + k] != 0 {
        outermost[r] = k
        break
      }
    }
    // The image border in this frame: candidates beyond it are impossible.
    let scale = Double(s) / size
    let border: Double = {
      // Working position of the image edge on this side, as a boundary index.
      let edge = side == 0 ? 0.0 : side == 1 ? 0.0 : side == 2 ? Double(imageWidth) : Double(imageHeight)
      return Double(margin) + (roughSide - edge) * scale * outward
    }()
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
    var positions: [Double] = []
    var offsets: [Int] = []
    var rowsOut: [[Float]] = []
    var stepProfile: [Float] = []
    var lineProfile: [Float] = []
    var gradProfile: [Float] = []
    let fc = SideCandidates.featureCount
    for b in (margin - range)...(margin + range) {
      guard Double(b) >= border - 0.5 else { continue }
      var f = [Float](repeating: 0, count: fc)
      var onLine = 0
      var run = 0
      var bestRun = 0
      var straddle = 0
      var outerOn = 0
      var outerBeyond = 0
      var fgOutRows = 0
      var sums = (d1: Float(0), d3: Float(0), d8: Float(0), g: Float(0))
      var squares = (d1: Float(0), d3: Float(0), d8: Float(0), g: Float(0))
      var energy = (inNear: Float(0), inFar: Float(0), outNear: Float(0), outFar: Float(0))
      var dens = (inNear: Float(0), outNear: Float(0), outFar: Float(0))
      var fgs = (inside: Float(0), outside: Float(0), outFar: Float(0))
      pc.withUnsafeBufferPointer { pc in
        pa.withUnsafeBufferPointer { pa in
          pe.withUnsafeBufferPointer { pe in
            pf.withUnsafeBufferPointer { pf in
              edgeAcross.withUnsafeBufferPointer { ea in
                edgeAlong.withUnsafeBufferPointer { el in
                  across.withUnsafeBufferPointer { ac in
                    @inline(__always) func band(_ p: UnsafeBufferPointer<Float>, _ r: Int, _ a: Int, _ b: Int) -> Float {
                      let lo = max(0, min(n, a))
                      let hi = max(lo, min(n, b))
                      guard hi > lo else { return 0 }
                      return (p[r * w1 + hi] - p[r * w1 + lo]) / Float(hi - lo)
                    }
                    @inline(__always) func step(_ r: Int, _ w: Int) -> Float {
                      let q0 = (r * w1 + max(0, b - w)) * 3
                      let q1 = (r * w1 + b) * 3
                      let q2 = (r * w1 + min(n, b + w)) * 3
                      let inv = 1 / Float(w)
                      let d0 = (pc[q2] - 2 * pc[q1] + pc[q0]) * inv
                      let d1 = (pc[q2 + 1] - 2 * pc[q1 + 1] + pc[q0 + 1]) * inv
                      let d2 = (pc[q2 + 2] - 2 * pc[q1 + 2] + pc[q0 + 2]) * inv
                      return (d0 * d0 + d1 * d1 + d2 * d2).squareRoot()
                    }
                    for r in 0..<rows {
                      let s1 = step(r, 1)
                      let s3 = step(r, 3)
                      let s8 = step(r, 8)
                      sums.d1 += s1
                      sums.d3 += s3
                      sums.d8 += s8
                      squares.d1 += s1 * s1
                      squares.d3 += s3 * s3
                      squares.d8 += s8 * s8
                      let o = r * n
                      if ea[o + b - 1] != 0 || (b < n && ea[o + b] != 0) {
                        onLine += 1
                        run += 1
                        bestRun = max(bestRun, run)
                      } else {
                        run = 0
                      }
                      if el[o + b - 1] != 0 || (b < n && el[o + b] != 0) { straddle += 1 }
                      let gr = max(ac[o + b - 1], b < n ? ac[o + b] : 0)
                      sums.g += gr
                      squares.g += gr * gr
                      energy.inNear += band(pa, r, b + 1, b + 6)
                      energy.inFar += band(pa, r, b + 6, b + 15)
                      energy.outNear += band(pa, r, b - 6, b - 1)
                      energy.outFar += band(pa, r, b - 15, b - 6)
                      dens.inNear += band(pe, r, b + 1, b + 6)
                      dens.outNear += band(pe, r, b - 6, b - 1)
                      dens.outFar += band(pe, r, b - 15, b - 6)
                      let fi = band(pf, r, b, b + 4)
                      let fo = band(pf, r, b - 4, b)
                      fgs.inside += fi
                      fgs.outside += fo
                      fgs.outFar += band(pf, r, b - 15, b - 4)
                      if fo > 0.5 { fgOutRows += 1 }
                      let ot = outermost[r]
                      if ot != Int.max {
                        if abs(ot - b) <= 1 { outerOn += 1 } else if ot < b - 1 { outerBeyond += 1 }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
      let nr = Float(rows)
      f[0] = sums.d1 / nr
      f[1] = (squares.d1 / nr).squareRoot()
      f[2] = sums.d3 / nr
      f[3] = (squares.d3 / nr).squareRoot()
      f[4] = sums.d8 / nr
      f[5] = (squares.d8 / nr).squareRoot()
      f[6] = Float(onLine) / nr
      f[7] = Float(bestRun) / nr
      f[8] = sums.g / nr
      f[9] = (squares.g / nr).squareRoot()
      f[10] = energy.inNear / nr
      f[11] = energy.inFar / nr
      f[12] = energy.outNear / nr
      f[13] = energy.outFar / nr
      f[14] = dens.inNear / nr
      f[15] = dens.outNear / nr
      f[16] = dens.outFar / nr
      f[17] = Float(straddle) / nr
      f[18] = Float(outerOn) / nr
      f[19] = Float(outerBeyond) / nr
      f[20] = fgs.inside / nr
      f[21] = fgs.outside / nr
      f[22] = (fgs.inside - fgs.outside) / nr
      f[23] = Float(fgOutRows) / nr
      f[24] = fgs.outFar / nr
      let offset = margin - b  // outward positive
      f[25] = Float(offset) / Float(s)
      f[26] = abs(f[25])
      f[27] = Float(Double.log2(max(1, size)))
      f[28] = Float(Double.log2(max(1, spanSize)))
      f[29] = Float(Double.log2(rough.width / rough.height))
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
          for e in [box.t0, box.t1] where e > lo + 0.5 && e < hi - 0.5 { crossed = 1 }
        }
      }
      f[36] = Float(cover)
      f[37] = Float(nearest)
      f[38] = crossed
      f[44] = Float(Double.log2(windowGradient + 1))
      f[45] = Float(windowEdges)
      positions.append(roughSide + outward * Double(offset) * step)
      offsets.append(offset)
      stepProfile.append(f[2])
      lineProfile.append(f[6])
      gradProfile.append(f[8])
      rowsOut.append(f)
    }
    // Relative features over the side's candidates.
    let maxStep = max(stepProfile.max() ?? 0, 1e-6)
    let maxLine = max(lineProfile.max() ?? 0, 1e-6)
    let maxGrad = max(gradProfile.max() ?? 0, 1e-6)
    let bestIndex = stepProfile.indices.max { stepProfile[$0] < stepProfile[$1] } ?? 0
    var features: [Float] = []
    features.reserveCapacity(rowsOut.count * fc)
    for (i, var f) in rowsOut.enumerated() {
      f[39] = f[6] / maxLine
      f[40] = f[2] / maxStep
      f[41] = f[8] / maxGrad
      var localMax = true
      for j in max(0, i - 2)...min(rowsOut.count - 1, i + 2) where j != i && stepProfile[j] > stepProfile[i] { localMax = false }
      f[42] = localMax ? 1 : 0
      f[43] = Float(offsets[i] - offsets[bestIndex]) / Float(s)
      features += f
    }
    return SideCandidates.Side(positions: positions, offsets: offsets, features: features)
  }
}
