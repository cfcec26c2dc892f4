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

  public init(
    scorer: BoostedTrees, minimumSideProbability: Double = 0.6, probabilityPerTenth: Double = 0.05,
    provenance: String = ""
  ) {
    precondition(scorer.features == SideCandidates.featureCount, "the scorer expects \(scorer.features) features, candidates have \(SideCandidates.featureCount)")
    self.scorer = scorer
    self.minimumSideProbability = minimumSideProbability
    self.probabilityPerTenth = probabilityPerTenth
    self.provenance = provenance
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
/// `minimumSideProbability` plus `probabilityPerTenth` per 10% of the box's size moved. The box's confidence is the smallest such probability over the
/// sides that moved: a fit is only as sure as its least sure side.
public enum LearnedFitter {
  public static func fit(_ image: Image, rough: Box, others: [Box], model: FitModel) -> FitDecision {
    var none = FitDecision(
      box: rough, moves: [0, 0, 0, 0], accepted: [false, false, false, false],
      reasons: ["no evidence", "no evidence", "no evidence", "no evidence"], confidence: 0)
    guard let candidates = SideCandidates(image: image, rough: rough, others: others) else {
      none.reasons = ["too small", "too small", "too small", "too small"]
      return none
    }
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
