public import AnnotaGeometry

/// The rough-box settings of the auto-fit evaluation protocol (DESIGN.md, "Auto-fit"): each side
/// of the true box moves independently by `U(lo, hi) ×` the box's width (left, right) or height
/// (top, bottom), outward positive, then the box is clipped to the image.
public enum JitterSetting: String, Sendable, Hashable, CaseIterable {
  /// ±5%: careful annotators. A fit must never hurt these.
  case mixed5
  /// ±10%.
  case mixed10
  /// ±20%.
  case mixed20
  /// 0..+20%: every side too far out.
  case loose
  /// −10%..0: every side cut into the object.
  case tight

  /// The range of the relative side move.
  public var range: (lo: Double, hi: Double) {
    switch self {
    case .mixed5: (-0.05, 0.05)
    case .mixed10: (-0.10, 0.10)
    case .mixed20: (-0.20, 0.20)
    case .loose: (0, 0.20)
    case .tight: (-0.10, 0)
    }
  }
}

/// One box of the protocol: the gold box and its rough version.
public struct JitteredBox: Sendable, Hashable {
  public var annotationID: Int64
  public var truth: Box
  public var rough: Box
}

/// The auto-fit evaluation protocol's box generation and scoring, independent of any fitter.
public enum FitProtocol {
  /// Boxes under this many pixels on a side are skipped, as crowd regions are.
  public static let minimumSide = 16.0

  /// The rough version of `truth` in an image of `width × height`. The draw depends only on the
  /// seed, the setting and the annotation id, so a box gets the same rough box whatever the
  /// order or thread count.
  public static func jitter(
    _ truth: Box, annotationID: Int64, imageWidth: Int, imageHeight: Int,
    setting: JitterSetting, seed: UInt64
  ) -> Box {
    let settingIndex = UInt64(JitterSetting.allCases.firstIndex(of: setting)!)
    var rng = SplitMix64(seed: seed ^ (UInt64(bitPattern: annotationID) &* 0x9E37_79B9_7F4A_7C15)
                         ^ (settingIndex &* 0xD1B5_4A32_D192_ED03))
    let (lo, hi) = setting.range
    func u() -> Double { lo + (hi - lo) * (Double(rng.next() >> 11) / Double(1 << 53)) }
    let x0 = max(0, truth.x - u() * truth.width)
    let x1 = min(Double(imageWidth), truth.x + truth.width + u() * truth.width)
    let y0 = max(0, truth.y - u() * truth.height)
    let y1 = min(Double(imageHeight), truth.y + truth.height + u() * truth.height)
    return Box(x: x0, y: y0, width: max(x1 - x0, 0), height: max(y1 - y0, 0))
  }

  /// IoU of two boxes (0 when both are empty).
  public static func iou(_ a: Box, _ b: Box) -> Double {
    let inter = a.intersectionArea(b)
    let union = a.area + b.area - inter
    return union > 0 ? inter / union : 0
  }

  /// Sides of `box` within `tolerance` pixels of the matching side of `truth` (0 to 4).
  public static func sidesWithin(_ tolerance: Double, _ box: Box, of truth: Box) -> Int {
    let d = [
      abs(box.x - truth.x), abs(box.y - truth.y),
      abs(box.x + box.width - truth.x - truth.width), abs(box.y + box.height - truth.y - truth.height),
    ]
    return d.filter { $0 <= tolerance }.count
  }
}

/// The outcome of fitting one rough box, for the evaluation table.
public struct FitOutcome: Sendable, Hashable {
  public var truth: Box
  public var rough: Box
  /// The box after the fit (the rough box when the fit was not accepted).
  public var fitted: Box
  /// The fitter's confidence that its suggestion improves the box, in [0, 1].
  public var confidence: Double
  /// Whether the fitter accepted its own suggestion (false: fell back to the rough box).
  public var accepted: Bool
  /// The suggestion shown to a reviewer (the fitted box before the acceptance threshold).
  public var suggestion: Box

  public init(truth: Box, rough: Box, fitted: Box, suggestion: Box, confidence: Double, accepted: Bool) {
    self.truth = truth
    self.rough = rough
    self.fitted = fitted
    self.suggestion = suggestion
    self.confidence = confidence
    self.accepted = accepted
  }
}

/// The figures of one setting of the protocol.
public struct FitSummary: Sendable {
  public var boxes: Int
  public var meanIoUBefore: Double
  public var meanIoUAfter: Double
  /// Shares of boxes whose IoU rose, fell, and fell by more than 0.05.
  public var improved: Double
  public var worsened: Double
  public var worsenedBadly: Double
  /// Shares of sides within 1 and 2 px of the truth, before and after.
  public var sidesWithin1Before: Double
  public var sidesWithin2Before: Double
  public var sidesWithin1After: Double
  public var sidesWithin2After: Double
  /// Share of boxes left as drawn.
  public var fallback: Double
  /// Calibration of suggestions per confidence decile: count, mean confidence, share that
  /// improve the box, and mean IoU change.
  public var buckets: [(lower: Double, count: Int, meanConfidence: Double, helpful: Double, meanGain: Double)]
  /// Suggestions that moved a side (confidence > 0), per confidence decile: count, sum of
  /// confidences, and how many improved the box; the calibration error comes from these.
  public var movedBins: [(count: Int, confidenceSum: Double, helped: Int)]
  /// Expected calibration error of the moved suggestions: `Σ (n_b/n)·|mean confidence_b − share
  /// that helped_b|` over the deciles (0 when nothing moved).
  public var calibrationError: Double { FitSummary.calibrationError(movedBins) }

  /// The calibration error of pooled bins.
  public static func calibrationError(_ bins: [(count: Int, confidenceSum: Double, helped: Int)]) -> Double {
    let n = bins.reduce(0) { $0 + $1.count }
    guard n > 0 else { return 0 }
    var e = 0.0
    for b in bins where b.count > 0 {
      e += abs(b.confidenceSum - Double(b.helped)) / Double(n)
    }
    return e
  }

  /// Mean IoU when a reviewer accepts every suggestion with confidence ≥ threshold, per
  /// threshold 0, 0.1, …, 0.9.
  public var reviewerIoU: [(threshold: Double, acceptedShare: Double, meanIoU: Double)]

  /// Summarises outcomes.
  public init(_ outcomes: [FitOutcome]) {
    let n = Double(max(outcomes.count, 1))
    boxes = outcomes.count
    var before = 0.0, after = 0.0, up = 0, down = 0, bad = 0, fb = 0
    var w1b = 0, w2b = 0, w1a = 0, w2a = 0
    var bucketCount = [Int](repeating: 0, count: 10)
    var bucketHelp = [Int](repeating: 0, count: 10)
    var bucketGain = [Double](repeating: 0, count: 10)
    var bucketConfidence = [Double](repeating: 0, count: 10)
    var moved = [(count: Int, confidenceSum: Double, helped: Int)](repeating: (0, 0, 0), count: 10)
    var reviewer = [(Double, Int)](repeating: (0, 0), count: 10)
    for o in outcomes {
      let b = FitProtocol.iou(o.rough, o.truth)
      let a = FitProtocol.iou(o.fitted, o.truth)
      before += b
      after += a
      if a > b + 1e-9 { up += 1 }
      if a < b - 1e-9 { down += 1 }
      if a < b - 0.05 { bad += 1 }
      if !o.accepted { fb += 1 }
      w1b += FitProtocol.sidesWithin(1, o.rough, of: o.truth)
      w2b += FitProtocol.sidesWithin(2, o.rough, of: o.truth)
      w1a += FitProtocol.sidesWithin(1, o.fitted, of: o.truth)
      w2a += FitProtocol.sidesWithin(2, o.fitted, of: o.truth)
      let s = FitProtocol.iou(o.suggestion, o.truth)
      let k = min(max(Int(o.confidence * 10), 0), 9)
      bucketCount[k] += 1
      if s > b + 1e-9 { bucketHelp[k] += 1 }
      bucketGain[k] += s - b
      bucketConfidence[k] += o.confidence
      if o.confidence > 0 {
        moved[k].count += 1
        moved[k].confidenceSum += o.confidence
        if s > b + 1e-9 { moved[k].helped += 1 }
      }
      for t in 0..<10 {
        let take = o.confidence >= Double(t) / 10
        reviewer[t].0 += take ? s : b
        if take { reviewer[t].1 += 1 }
      }
    }
    meanIoUBefore = before / n
    meanIoUAfter = after / n
    improved = Double(up) / n
    worsened = Double(down) / n
    worsenedBadly = Double(bad) / n
    sidesWithin1Before = Double(w1b) / (4 * n)
    sidesWithin2Before = Double(w2b) / (4 * n)
    sidesWithin1After = Double(w1a) / (4 * n)
    sidesWithin2After = Double(w2a) / (4 * n)
    fallback = Double(fb) / n
    var b: [(lower: Double, count: Int, meanConfidence: Double, helpful: Double, meanGain: Double)] = []
    var r: [(threshold: Double, acceptedShare: Double, meanIoU: Double)] = []
    for k in 0..<10 {
      let count = Double(max(bucketCount[k], 1))
      let helpful: Double = Double(bucketHelp[k]) / count
      let gain: Double = bucketGain[k] / count
      b.append((
        lower: Double(k) / 10, count: bucketCount[k], meanConfidence: bucketConfidence[k] / count, helpful: helpful,
        meanGain: gain))
      let share: Double = Double(reviewer[k].1) / n
      r.append((threshold: Double(k) / 10, acceptedShare: share, meanIoU: reviewer[k].0 / n))
    }
    buckets = b
    reviewerIoU = r
    movedBins = moved
  }
}
