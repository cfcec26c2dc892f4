public import AnnotaClassifier
public import AnnotaEdges
public import AnnotaGeometry
public import AnnotaImage

/// A trained side scorer and how it is applied.
public struct FitModel: Sendable {
  /// Scores a candidate line: P(the true side is within one working pixel of it).
  public var scorer: BoostedTrees
  /// A side moves only when the probability that moving it in the chosen direction helps is at
  /// least this, plus `probabilityPerTenth` for every 10% of the box's size that the side moves
  /// (a long jump needs more certainty than a nudge: on real photos most harm is a confident
  /// jump onto a neighbour's or a texture's edge).
  public var minimumSideProbability: Double
  public var probabilityPerTenth: Double
  /// Where the model came from (training file, images, boxes, draws, date), free text.
  public var provenance: String
  /// Maps the raw confidence (the least sure moved side's probability) to the share of such fits
  /// that improved the box in cross-validation; nil reports the raw confidence.
  public var calibration: ConfidenceCalibration?

  public init(
    scorer: BoostedTrees, minimumSideProbability: Double = 0.6, probabilityPerTenth: Double = 0.05,
    provenance: String = "", calibration: ConfidenceCalibration? = nil
  ) {
    precondition(scorer.features == SideCandidates.featureCount, "the scorer expects \(scorer.features) features, candidates have \(SideCandidates.featureCount)")
    self.scorer = scorer
    self.minimumSideProbability = minimumSideProbability
    self.probabilityPerTenth = probabilityPerTenth
    self.provenance = provenance
    self.calibration = calibration
  }
}

/// A non-decreasing map from a raw confidence to the probability that the fit improves the box,
/// fitted by isotonic regression (pool-adjacent-violators) on cross-validated outcomes and read
/// by linear interpolation between the pooled blocks' mean confidences (clamped at the ends).
public struct ConfidenceCalibration: Sendable, Equatable {
  /// Increasing raw confidences (each block's mean).
  public var raw: [Double]
  /// Non-decreasing improvement rates at `raw`, Laplace-smoothed ((k + 1) / (n + 2)).
  public var improved: [Double]

  /// - Precondition: equal non-zero lengths, `raw` increasing, `improved` non-decreasing in [0, 1].
  public init(raw: [Double], improved: [Double]) {
    precondition(!raw.isEmpty && raw.count == improved.count, "calibration knots must pair up")
    self.raw = raw
    self.improved = improved
  }

  /// The calibrated confidence of `x`.
  public func callAsFunction(_ x: Double) -> Double {
    if x <= raw[0] { return improved[0] }
    if x >= raw[raw.count - 1] { return improved[raw.count - 1] }
    var hi = 1
    while raw[hi] < x { hi += 1 }
    let t = (x - raw[hi - 1]) / (raw[hi] - raw[hi - 1])
    return improved[hi - 1] + t * (improved[hi] - improved[hi - 1])
  }

  /// Isotonic fit of `outcomes` (raw confidence, whether the fit improved the box); nil when
  /// there are fewer than `minimumCount` outcomes. Blocks hold at least `minimumBlock` outcomes
  /// (neighbours are pooled until they do), so a handful of fits cannot claim 0% or 100%.
  public static func fit(
    _ outcomes: [(confidence: Double, improved: Bool)], minimumCount: Int = 50, minimumBlock: Int = 20
  ) -> ConfidenceCalibration? {
    guard outcomes.count >= minimumCount else { return nil }
    let sorted = outcomes.sorted { $0.confidence < $1.confidence }
    // Blocks: (sum of confidences, improved count, size).
    var blocks: [(x: Double, y: Double, n: Double)] = []
    for o in sorted {
      blocks.append((o.confidence, o.improved ? 1 : 0, 1))
      while blocks.count >= 2 {
        let b = blocks[blocks.count - 1]
        let a = blocks[blocks.count - 2]
        // Pool when the order is violated, or the earlier block is still too small.
        guard a.y / a.n >= b.y / b.n || a.n < Double(minimumBlock) else { break }
        blocks.removeLast(2)
        blocks.append((a.x + b.x, a.y + b.y, a.n + b.n))
      }
    }
    // The last block may be small: pool it backwards, then restore the order.
    while blocks.count >= 2, blocks[blocks.count - 1].n < Double(minimumBlock) || blocks[blocks.count - 2].y / blocks[blocks.count - 2].n > blocks[blocks.count - 1].y / blocks[blocks.count - 1].n {
      let b = blocks.removeLast()
      let a = blocks.removeLast()
      blocks.append((a.x + b.x, a.y + b.y, a.n + b.n))
    }
    var raw: [Double] = []
    var improved: [Double] = []
    for b in blocks {
      let x = b.x / b.n
      let y = (b.y + 1) / (b.n + 2)
      if let last = raw.last, x <= last { continue }  // equal means: keep the first
      raw.append(x)
      improved.append(max(y, improved.last ?? 0))
    }
    return ConfidenceCalibration(raw: raw, improved: improved)
  }
}

/// The box fitter: the classical edge-gap rule or a learned side scorer.
public enum Fitter: Sendable {
  case edgeGap(FitOptions)
  case learned(FitModel)

  /// Fits `rough` in `image`; `others` are the image's other boxes.
  public func fit(_ image: Image, rough: Box, others: [Box]) -> FitDecision {
    switch self {
    case .edgeGap(let options): BoxFitter.fit(image, rough: rough, others: others, options: options)
    case .learned(let model): LearnedFitter.fit(image, rough: rough, others: others, model: model)
    }
  }
}

/// Fits boxes with a learned per-side scorer.
///
/// Per side, every candidate line (``SideCandidates``) gets the scorer's probability; normalised
/// over the side's candidates, they form a distribution of where the true side is. The side's
/// suggestion is that distribution's median (the position with the least expected distance to
/// the true side). It moves there only when the probability that the true side lies in that
/// direction, past half the move (so that moving reduces the error), reaches
/// `minimumSideProbability` plus `probabilityPerTenth` per 10% of the box's size moved. The box's
/// raw confidence is the smallest such probability over the sides that moved (a fit is only as
/// sure as its least sure side); with a ``ConfidenceCalibration`` the reported confidence is the
/// cross-validated share of fits with that raw confidence that improved the box.
public enum LearnedFitter {
  public static func fit(_ image: Image, rough: Box, others: [Box], model: FitModel) -> FitDecision {
    guard let candidates = SideCandidates(image: image, rough: rough, others: others) else {
      return FitDecision(
        box: rough, moves: [0, 0, 0, 0], accepted: [false, false, false, false],
        reasons: ["too small", "too small", "too small", "too small"], confidence: 0)
    }
    var decision = fit(candidates: candidates, rough: rough, model: model)
    if let calibration = model.calibration, decision.confidence > 0 {
      decision.confidence = calibration(decision.confidence)
    }
    return decision
  }

  /// The decision from computed candidates, with the raw confidence (the least sure moved
  /// side's probability that moving helps; 0 when nothing moved).
  public static func fit(candidates: SideCandidates, rough: Box, model: FitModel) -> FitDecision {
    var none = FitDecision(
      box: rough, moves: [0, 0, 0, 0], accepted: [false, false, false, false],
      reasons: ["no evidence", "no evidence", "no evidence", "no evidence"], confidence: 0)
    var out = rough
    var moves = [0.0, 0.0, 0.0, 0.0]
    var accepted = [false, false, false, false]
    var reasons = ["", "", "", ""]
    var confidence = 1.0
    for side in 0..<4 {
      let s = candidates.sides[side]
      guard !s.offsets.isEmpty else {
        reasons[side] = "no candidates"
        continue
      }
      let choice = decide(offsets: s.offsets, probabilities: model.scorer.probabilities(s.features))
      guard let index = choice.index, s.offsets[index] != 0 else {
        reasons[side] = "already on the boundary"
        continue
      }
      let required = model.minimumSideProbability + model.probabilityPerTenth * Double(abs(s.offsets[index])) / 10
      guard choice.help >= required else {
        reasons[side] = "unsure (\(Int((choice.help * 100).rounded()))% that moving helps)"
        continue
      }
      let outward = side >= 2 ? 1.0 : -1.0
      out[side: side] = s.positions[index]
      moves[side] = (s.positions[index] - rough[side: side]) * outward
      accepted[side] = true
      reasons[side] = moves[side] > 0 ? "boundary outside the rough side" : "boundary inside the rough side"
      confidence = min(confidence, choice.help)
    }
    guard accepted.contains(true) else { return FitDecision(box: rough, moves: moves, accepted: accepted, reasons: reasons, confidence: 0) }
    // Size sanity: the fit may not change the area by more than a factor of two either way.
    let ratio = (out.width * out.height) / (rough.width * rough.height)
    if out.width < 2 || out.height < 2 || ratio < 0.5 || ratio > 2 {
      none.reasons = ["area sanity", "area sanity", "area sanity", "area sanity"]
      return none
    }
    return FitDecision(box: out, moves: moves, accepted: accepted, reasons: reasons, confidence: confidence)
  }

  /// The median candidate of the normalised distribution and the probability that moving there
  /// helps: the mass on the same side of the rough position beyond half the move.
  static func decide(offsets: [Int], probabilities p: [Float]) -> (index: Int?, help: Double) {
    var total = 0.0
    for v in p { total += Double(v) }
    guard total > 0 else { return (nil, 0) }
    // Offsets are increasing outward when read in reverse (candidates run from outside in), so
    // sort by offset explicitly.
    let order = offsets.indices.sorted { offsets[$0] < offsets[$1] }
    var cumulative = 0.0
    var median = order[order.count - 1]
    for i in order {
      cumulative += Double(p[i]) / total
      if cumulative >= 0.5 {
        median = i
        break
      }
    }
    let m = offsets[median]
    guard m != 0 else { return (median, 0) }
    var help = 0.0
    for i in offsets.indices where (offsets[i] > 0) == (m > 0) && offsets[i] != 0 && 2 * abs(offsets[i]) > abs(m) {
      help += Double(p[i]) / total
    }
    return (median, help)
  }
}
