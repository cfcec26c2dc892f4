public import AnnotaClassifier
public import AnnotaFit
public import AnnotaGeometry
import AnnotaImage

/// One jittered gold box with its side candidates: a training or evaluation instance of the
/// learned fitter.
public struct FitInstance: Sendable {
  public var imageID: Int64
  public var annotationID: Int64
  public var setting: JitterSetting
  /// Which jitter draw of this setting (its seed).
  public var seed: UInt64
  public var truth: Box
  public var rough: Box
  public var candidates: SideCandidates

  /// The true side's move from the rough side, outward positive, in working pixels.
  public func truthOffset(side: Int) -> Double {
    let outward = side >= 2 ? 1.0 : -1.0
    return (truth[side: side] - rough[side: side]) * outward / candidates.step[side]
  }
}

/// Gathers learned-fitter instances from a gold set.
public enum FitTraining {
  /// Jitters every eligible gold box once per (setting, seed) draw, with the image's other rough
  /// boxes of the same draw as neighbours, and computes the side candidates.
  public static func collect(
    _ dataset: COCODataset, imagesDirectory: String, draws: [(setting: JitterSetting, seed: UInt64)],
    runner: BatchRunner, progress: ProgressReporter?
  ) async -> (instances: [FitInstance], issues: [COCOIssue]) {
    let (outputs, issues) = await AutoFitRun.perImage(
      dataset, imagesDirectory: imagesDirectory, runner: runner, progress: progress
    ) { image, info, annotations -> [FitInstance] in
      let boxes = annotations.filter(AutoFitRun.eligible)
      var out: [FitInstance] = []
      for draw in draws {
        let rough = boxes.map {
          FitProtocol.jitter(
            $0.bbox!, annotationID: $0.id, imageWidth: info.width, imageHeight: info.height,
            setting: draw.setting, seed: draw.seed)
        }
        for i in boxes.indices {
          let others = rough.indices.filter { $0 != i }.map { rough[$0] }
          guard let c = SideCandidates(image: image, rough: rough[i], others: others) else { continue }
          out.append(
            FitInstance(
              imageID: info.id, annotationID: boxes[i].id, setting: draw.setting, seed: draw.seed,
              truth: boxes[i].bbox!, rough: rough[i], candidates: c))
        }
      }
      return out
    }
    return (outputs.flatMap { $0 }, issues)
  }
}

extension FitTraining {
  /// Training draws: every protocol setting, each with these seeds (the evaluation uses seed 0 by
  /// default, so the default training seeds differ from it).
  public static func draws(seeds: [UInt64]) -> [(setting: JitterSetting, seed: UInt64)] {
    seeds.flatMap { s in JitterSetting.allCases.map { (setting: $0, seed: s) } }
  }

  /// Trains the side scorer: every candidate within one working pixel of the true side is a
  /// positive; a seeded `negativeShare` of the others are negatives.
  public static func train(
    _ instances: [FitInstance], options: BoostedTrees.Options = BoostedTrees.Options(),
    negativeShare: Double = 0.25
  ) -> BoostedTrees {
    let fc = SideCandidates.featureCount
    var x: [Float] = []
    var y: [UInt8] = []
    var rng = SplitMix64(seed: options.seed ^ 0x5EED)
    for inst in instances {
      for side in 0..<4 {
        let s = inst.candidates.sides[side]
        let t = inst.truthOffset(side: side)
        for c in s.offsets.indices {
          let positive = abs(Double(s.offsets[c]) - t) <= 1
          guard positive || Double(rng.next() >> 11) / Double(1 << 53) < negativeShare else { continue }
          x += s.features[(c * fc)..<((c + 1) * fc)]
          y.append(positive ? 1 : 0)
        }
      }
    }
    return BoostedTrees.fit(x, features: fc, labels: y, options: options)
  }
}

/// The learned fitter's model file: `{"format": "annota-fit", "version": 1, "features": [names],
/// "minimumSideProbability": p, "probabilityPerTenth": q, "provenance": "...",
/// "calibration": {"raw": [...], "improved": [...]} or null, "bias": b, "trees": [{"feature": [...],
/// "threshold": [...], "left": [...]}]}`.
public enum FitModelFile {
  public static func json(_ model: FitModel) -> JSONValue {
    .object([
      ("format", .string("annota-fit")), ("version", .int(1)),
      ("features", .array(SideCandidates.featureNames.map { .string($0) })),
      ("minimumSideProbability", .double(model.minimumSideProbability)),
      ("probabilityPerTenth", .double(model.probabilityPerTenth)),
      ("provenance", .string(model.provenance)),
      ("calibration", model.calibration.map { c in
        .object([
          ("raw", .numbers(c.raw, integral: false)), ("improved", .numbers(c.improved, integral: false)),
        ])
      } ?? .null),
      ("bias", .double(Double(model.scorer.bias))),
      ("trees", .array(model.scorer.trees.map { t in
        .object([
          ("feature", .numbers(t.feature.map(Double.init), integral: true)),
          ("threshold", .numbers(t.threshold.map(Double.init), integral: false)),
          ("left", .numbers(t.left.map(Double.init), integral: true)),
        ])
      })),
    ])
  }

  public static func read(_ path: String) throws(FileError) -> FitModel {
    let bytes = try FileIO.read(path)
    return try parse(bytes, path: path)
  }

  /// Parses a model document; errors name `path` and the field.
  public static func parse(_ bytes: [UInt8], path: String) throws(FileError) -> FitModel {
    let doc: JSONValue
    do { doc = try JSONReader.parse(bytes) } catch {
      throw FileError(path: path, message: "not JSON: \(error)")
    }
    func fail(_ m: String) -> FileError { FileError(path: path, message: m) }
    guard doc["format"] == .string("annota-fit") else { throw fail("not an annota-fit model (\"format\")") }
    guard case .array(let names)? = doc["features"],
      names == SideCandidates.featureNames.map({ JSONValue.string($0) })
    else { throw fail("\"features\" differ from this version's \(SideCandidates.featureCount) candidate features; retrain the model") }
    guard let bias = doc["bias"]?.number, bias.isFinite else { throw fail("\"bias\" must be a number") }
    guard case .array(let list)? = doc["trees"], !list.isEmpty else { throw fail("\"trees\" must be a non-empty array") }
    var trees: [BoostedTrees.Tree] = []
    let fc = SideCandidates.featureCount
    for (k, t) in list.enumerated() {
      guard let f = t["feature"]?.numberArray, let th = t["threshold"]?.numberArray, let l = t["left"]?.numberArray,
        !f.isEmpty, f.count == th.count, f.count == l.count, th.allSatisfy(\.isFinite)
      else { throw fail("trees[\(k)] needs \"feature\", \"threshold\" and \"left\" of one length") }
      // Every split must name a feature and point at two nodes after it (no cycles).
      for i in f.indices where f[i] >= 0 {
        guard f[i] < Double(fc), f[i] == f[i].rounded(), l[i] > Double(i), l[i] + 1 < Double(f.count) else {
          throw fail("trees[\(k)] node \(i) is invalid")
        }
      }
      trees.append(BoostedTrees.Tree(feature: f.map { Int32($0) }, threshold: th.map(Float.init), left: l.map { Int32(max(0, $0)) }))
    }
    let p = doc["minimumSideProbability"]?.number ?? 0.6
    guard p >= 0 && p <= 1 else { throw fail("\"minimumSideProbability\" must be in [0, 1]") }
    let perTenth = doc["probabilityPerTenth"]?.number ?? 0.05
    guard perTenth >= 0 && perTenth <= 1 else { throw fail("\"probabilityPerTenth\" must be in [0, 1]") }
    let provenance: String
    if case .string(let s)? = doc["provenance"] { provenance = s } else { provenance = "" }
    var calibration: ConfidenceCalibration?
    if let c = doc["calibration"], c != .null {
      guard let raw = c["raw"]?.numberArray, let improved = c["improved"]?.numberArray, !raw.isEmpty,
        raw.count == improved.count, zip(raw, raw.dropFirst()).allSatisfy({ $0 < $1 }),
        zip(improved, improved.dropFirst()).allSatisfy({ $0 <= $1 }),
        improved.allSatisfy({ $0 >= 0 && $0 <= 1 }), raw.allSatisfy(\.isFinite)
      else {
        throw fail("\"calibration\" needs \"raw\" (increasing) and \"improved\" (non-decreasing, in [0, 1]) of one length")
      }
      calibration = ConfidenceCalibration(raw: raw, improved: improved)
    }
    return FitModel(
      scorer: BoostedTrees(features: fc, bias: Float(bias), trees: trees), minimumSideProbability: p,
      probabilityPerTenth: perTenth, provenance: provenance, calibration: calibration)
  }
}

extension FitTraining {
  /// Collects training draws over `dataset` and trains a model; returns it with a one-line
  /// summary (also its provenance). With `calibrationFolds` ≥ 2, the confidence is calibrated
  /// on cross-validated outcomes: a model per fold of images is trained without it, every
  /// training draw of the fold is fitted with that model, and an isotonic map from raw
  /// confidence to "the fit improved the box" is fitted on those outcomes.
  public static func trainModel(
    _ dataset: COCODataset, source: String, imagesDirectory: String, seeds: [UInt64],
    minimumSideProbability: Double, probabilityPerTenth: Double = 0.05, calibrationFolds: Int = 0,
    runner: BatchRunner, progress: ProgressReporter?
  ) async throws -> (model: FitModel, summary: String, issues: [COCOIssue]) {
    let (instances, issues) = await collect(
      dataset, imagesDirectory: imagesDirectory, draws: draws(seeds: seeds), runner: runner, progress: progress)
    let scorer = train(instances)
    let images = Set(instances.map(\.imageID)).count
    let boxes = Set(instances.map(\.annotationID)).count
    var summary = "trained on \(boxes) boxes of \(images) images of \(source), \(instances.count) jittered boxes (settings \(JitterSetting.allCases.map(\.rawValue).joined(separator: ",")) × seeds \(seeds.map(String.init).joined(separator: ","))), \(scorer.trees.count) trees"
    var model = FitModel(
      scorer: scorer, minimumSideProbability: minimumSideProbability, probabilityPerTenth: probabilityPerTenth)
    if calibrationFolds >= 2 {
      let foldOf = folds(of: dataset, count: calibrationFolds)
      let foldModels = try await trainFolds(
        instances, foldOf: foldOf, count: calibrationFolds, minimumSideProbability: minimumSideProbability,
        probabilityPerTenth: probabilityPerTenth, runner: runner)
      let outcomes = outOfFoldOutcomes(instances, foldOf: foldOf, models: foldModels)
      model.calibration = ConfidenceCalibration.fit(outcomes.map { ($0.confidence, $0.improved) })
      summary += model.calibration == nil
        ? ", confidence not calibrated (\(outcomes.count) cross-validated fits, fewer than 50)"
        : ", confidence calibrated on \(outcomes.count) \(calibrationFolds)-fold cross-validated fits"
    }
    model.provenance = summary
    return (model, summary, issues)
  }

  /// One model per fold of images, for cross-validation.
  public struct FoldModels: Sendable {
    public var folds: [FitModel]
    public var foldOfImage: [Int64: Int]

    /// The model trained without `imageID`'s fold.
    public func model(for imageID: Int64) -> FitModel { folds[foldOfImage[imageID] ?? 0] }
  }

  /// The fold of an image: images sorted by id, dealt round-robin.
  public static func folds(of dataset: COCODataset, count: Int) -> [Int64: Int] {
    var map: [Int64: Int] = [:]
    for (k, id) in dataset.images.map(\.id).sorted().enumerated() { map[id] = k % count }
    return map
  }

  /// `count` models, each trained on the instances outside one fold (in parallel).
  static func trainFolds(
    _ instances: [FitInstance], foldOf: [Int64: Int], count: Int, minimumSideProbability: Double,
    probabilityPerTenth: Double, runner: BatchRunner
  ) async throws -> [FitModel] {
    try await runner.map(Array(0..<count)) { k -> FitModel in
      let mine = instances.filter { foldOf[$0.imageID] != k }
      return FitModel(
        scorer: train(mine), minimumSideProbability: minimumSideProbability,
        probabilityPerTenth: probabilityPerTenth, provenance: "fold \(k) of \(count)")
    }.map { try $0.get() }
  }

  /// Every instance fitted by the model that did not see its fold: the raw confidence of the
  /// fits that moved a side, and whether the fit improved the box's IoU with the truth.
  static func outOfFoldOutcomes(_ instances: [FitInstance], foldOf: [Int64: Int], models: [FitModel])
    -> [(fold: Int, confidence: Double, improved: Bool)]
  {
    var out: [(fold: Int, confidence: Double, improved: Bool)] = []
    for inst in instances {
      let k = foldOf[inst.imageID] ?? 0
      let d = LearnedFitter.fit(candidates: inst.candidates, rough: inst.rough, model: models[k])
      guard d.confidence > 0 else { continue }
      let improved = FitProtocol.iou(d.box, inst.truth) > FitProtocol.iou(inst.rough, inst.truth) + 1e-9
      out.append((k, d.confidence, improved))
    }
    return out
  }

  /// Trains `folds` models, each on the images outside one fold. Each fold model's confidence is
  /// calibrated on the other folds' out-of-fold fits only (cross-fitting), so an image's
  /// confidence never comes from outcomes on that image.
  public static func crossValidatedModels(
    _ dataset: COCODataset, imagesDirectory: String, folds count: Int, seeds: [UInt64],
    minimumSideProbability: Double, probabilityPerTenth: Double = 0.05, calibrate: Bool = true,
    runner: BatchRunner, quiet: Bool
  ) async throws -> FoldModels {
    let foldOf = folds(of: dataset, count: count)
    let progress = ProgressReporter(total: dataset.annotationsByImage().count, label: "training images", quiet: quiet)
    let (instances, _) = await collect(
      dataset, imagesDirectory: imagesDirectory, draws: draws(seeds: seeds), runner: runner, progress: progress)
    progress.finish()
    var models = try await trainFolds(
      instances, foldOf: foldOf, count: count, minimumSideProbability: minimumSideProbability,
      probabilityPerTenth: probabilityPerTenth, runner: runner)
    if calibrate {
      let outcomes = outOfFoldOutcomes(instances, foldOf: foldOf, models: models)
      for k in models.indices {
        models[k].calibration = ConfidenceCalibration.fit(
          outcomes.filter { $0.fold != k }.map { ($0.confidence, $0.improved) })
      }
    }
    return FoldModels(folds: models, foldOfImage: foldOf)
  }
}
