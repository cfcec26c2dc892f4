public import AnnotaGeometry
public import AnnotaImage

/// Settings of ``BoxFitter``.
public struct FitOptions: Sendable, Hashable {
  /// Candidate side positions within this share of the box's size of the rough side.
  public var searchRange = 0.25
  /// The window is resampled so the rough box's longer side is at most this many pixels.
  public var workingSize = 160
  /// Width of the bands compared across a candidate line, as a share of the box size.
  public var band = 0.06
  /// A side moves only when its evidence beats staying by at least this much (edge-density
  /// contrast, 0...1).
  public var minimumGain = 0.8
  /// Floors of the Canny thresholds (L1 Sobel magnitude), over the window's automatic ones.
  public var lowFloor = 40.0
  public var highFloor = 100.0
  /// A side moving outward may not sweep over more than this share of another box.
  public var neighbourOverlap = 0.2

  public init() {}
}

/// What the fitter decided for one box.
public struct FitDecision: Sendable, Hashable {
  /// The suggested box (every side's best candidate that passed the guards).
  public var box: Box
  /// Per side (left, top, right, bottom): the move in pixels (outward positive) and whether it
  /// was accepted.
  public var moves: [Double]
  public var accepted: [Bool]
  /// Why each side did or did not move.
  public var reasons: [String]
  /// Confidence that the suggestion improves the box, in [0, 1] (0 when nothing moved).
  public var confidence: Double

  public init(box: Box, moves: [Double], accepted: [Bool], reasons: [String], confidence: Double) {
    self.box = box
    self.moves = moves
    self.accepted = accepted
    self.reasons = reasons
    self.confidence = confidence
  }
}

/// Snaps the sides of a rough box to the object's boundary, guarded.
///
/// Per side, candidate lines within ±`searchRange` of the rough side are scored by a gap cue:
/// the density of Canny edges whose gradient is normal to the side, just inside the line minus
/// just outside it, with at least one such edge on the line itself (a side is set by the
/// object's extreme point: any touch counts, not the mean along the side). A side moves to its
/// best candidate only when that beats staying put by `minimumGain`, the move does not sweep
/// into another annotated box, and the box keeps a sane size. Sides without clear evidence stay
/// where the annotator put them.
public enum BoxFitter {
  /// Fits `rough` in `image` (full resolution, any pixel format). `others` are the image's other
  /// boxes (the neighbour guard).
  public static func fit(
    _ image: Image, rough: Box, others: [Box], options: FitOptions = FitOptions()
  ) -> FitDecision {
    let none = FitDecision(
      box: rough, moves: [0, 0, 0, 0], accepted: [false, false, false, false],
      reasons: ["no evidence", "no evidence", "no evidence", "no evidence"], confidence: 0)
    guard rough.width >= 4 && rough.height >= 4 else { return none }
    // Window: the rough box plus the search range (and the band) on every side.
    let mx = rough.width * (options.searchRange + options.band) + 2
    let my = rough.height * (options.searchRange + options.band) + 2
    let wx0 = max(0, Int((rough.x - mx).rounded(.down)))
    let wy0 = max(0, Int((rough.y - my).rounded(.down)))
    let wx1 = min(image.width, Int((rough.right + mx).rounded(.up)))
    let wy1 = min(image.height, Int((rough.bottom + my).rounded(.up)))
    guard wx1 - wx0 >= 8 && wy1 - wy0 >= 8 else { return none }
    var window = image.cropped(to: PixelRect(x: wx0, y: wy0, width: wx1 - wx0, height: wy1 - wy0))
    let factor = max(1, Int((max(rough.width, rough.height) / Double(options.workingSize)).rounded(.up)))
    if factor > 1 { window = window.downsampled(by: factor) }
    if window.format == .rgba { window = window.converted(to: .rgb) }
    let f = Double(factor)
    let gradients = EdgeDetector.sobel(window)
    // The window's own gradient quantiles, floored so that sensor noise on a flat background
    // (where the quantiles sit at the noise level) does not count as edges.
    let automatic = CannyThresholds.automatic(for: gradients)
    let edges = EdgeDetector.canny(
      gradients, low: max(automatic.low, options.lowFloor), high: max(automatic.high, options.highFloor))
    let w = window.width
    let h = window.height
    // Box in window coordinates.
    let box = [
      (rough.x - Double(wx0)) / f, (rough.y - Double(wy0)) / f,
      (rough.right - Double(wx0)) / f, (rough.bottom - Double(wy0)) / f,
    ]
    var out = rough
    var moves = [0.0, 0.0, 0.0, 0.0]
    var accepted = [false, false, false, false]
    var reasons = ["", "", "", ""]
    var gains: [Double] = []
    for side in 0..<4 {
      let vertical = side % 2 == 0  // left/right: lines are columns
      let size = vertical ? box[2] - box[0] : box[3] - box[1]
      let lineCount = vertical ? w : h
      // Span along the side: the rough extent of the perpendicular sides.
      let a = max(0, Int((vertical ? box[1] : box[0]).rounded()))
      let b = min(vertical ? h : w, Int((vertical ? box[3] : box[2]).rounded()))
      guard b - a >= 3 else {
        reasons[side] = "too small"
        continue
      }
      // Normal edges per line: edge pixels whose gradient is mostly across the side.
      var count = [Double](repeating: 0, count: lineCount)
      for t in 0..<lineCount {
        var c = 0
        for s in a..<b {
          let (x, y) = vertical ? (t, s) : (s, t)
          let i = y * w + x
          guard edges.pixels[i] != 0 else { continue }
          let gx = abs(Int(gradients.gx[i]))
          let gy = abs(Int(gradients.gy[i]))
          if vertical ? gx >= gy : gy >= gx { c += 1 }
        }
        count[t] = Double(c) / Double(b - a)
      }
      let outward = side >= 2 ? 1.0 : -1.0  // right/bottom grow with the coordinate
      let band = max(2, Int((options.band * size).rounded()))
      func peak(_ from: Int, _ to: Int) -> Double {
        let lo = max(0, from)
        let hi = min(lineCount, to)
        guard hi > lo else { return 0 }
        var m = 0.0
        for t in lo..<hi { m = max(m, count[t]) }
        return m
      }
      // Score of a side on line position q (the first line inside the box on that side): the
      // share of the span where an edge across the side lies on the line, minus the strongest
      // such line in the band beyond it (a background gap scores high, a neighbour's or the
      // background's edges low). Maxima, not means: the object may touch its side at one point.
      func score(_ q: Int) -> Double {
        guard q >= 0 && q < lineCount, count[q] > 0 else { return -1 }
        let line = max(count[q], outward > 0 ? peak(q - 1, q) : peak(q + 1, q + 2))
        if outward > 0 { return line - peak(q + 2, q + 2 + band) }
        return line - peak(q - 1 - band, q - 1)
      }
      let p0 = side >= 2 ? Int((box[side] - 1).rounded()) : Int(box[side].rounded())
      let range = Int((options.searchRange * size).rounded())
      var best = p0
      var bestScore = -Double.infinity
      for q in (p0 - range)...(p0 + range) {
        let s = score(q)
        // Ties go to the candidate nearest the rough side.
        if s > bestScore || (s == bestScore && abs(q - p0) < abs(best - p0)) {
          bestScore = s
          best = q
        }
      }
      // Staying is judged by the best line within one band of the rough side.
      var stay = -1.0
      for q in (p0 - 1)...(p0 + 1) { stay = max(stay, score(q)) }
      let gain = bestScore - max(stay, 0)
      guard best != p0, gain >= options.minimumGain else {
        reasons[side] = best == p0 ? "already on the edge" : "weak evidence"
        continue
      }
      // Back to full resolution. Canny marks one of the two pixels of a step (which one depends
      // on the side, from non-maximum suppression's tie rule), so the side goes through the
      // middle of the edge line: at most half a working pixel off either way.
      let position = Double(vertical ? wx0 : wy0) + (Double(best) + 0.5) * f
      let move = (position - rough[side: side]) * outward
      var candidate = out
      candidate[side: side] = position
      // Neighbour guard: an outward move must not sweep over another box.
      if move > 0 {
        var swept = rough
        if side >= 2 {
          swept[side: side - 2] = rough[side: side]
          swept[side: side] = position
        } else {
          swept[side: side + 2] = rough[side: side]
          swept[side: side] = position
        }
        let blocked = others.contains { o in
          let area = o.width * o.height
          return area > 0 && swept.intersectionArea(o) > options.neighbourOverlap * area
            * min(1, (swept.width * swept.height) / area)
        }
        if blocked {
          reasons[side] = "would sweep over another box"
          continue
        }
      }
      out = candidate
      moves[side] = move
      accepted[side] = true
      reasons[side] = move > 0 ? "edge with background beyond" : "edge inside the rough side"
      gains.append(gain)
    }
    // Size sanity: the fit may not change the area by more than a factor of two either way.
    let ratio = (out.width * out.height) / (rough.width * rough.height)
    if out.width < 2 || out.height < 2 || ratio < 0.5 || ratio > 2 {
      var r = none
      r.reasons = ["area sanity", "area sanity", "area sanity", "area sanity"]
      return r
    }
    let confidence = gains.isEmpty ? 0 : min(1, gains.min()! / (2 * options.minimumGain) + 0.25)
    return FitDecision(box: out, moves: moves, accepted: accepted, reasons: reasons, confidence: confidence)
  }
}
