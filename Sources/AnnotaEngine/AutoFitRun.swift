public import AnnotaEdges
public import AnnotaFit
public import AnnotaGeometry
import AnnotaImage
import AnnotaImageIO

/// One setting's evaluation result.
public struct FitEvaluation: Sendable {
  public var setting: JitterSetting
  public var summary: FitSummary
}

/// The result of `eval-fit`.
public struct FitEvaluationResult: Sendable {
  public var settings: [FitEvaluation]
  /// Boxes fitted per second of wall time, decoding included (each image decoded once for all
  /// its boxes and settings).
  public var boxesPerSecond: Double
  public var issues: [COCOIssue]
}

/// One fitted box of `autofit`.
public struct FittedBox: Sendable {
  public var annotationIndex: Int
  public var annotationID: Int64
  public var before: Box
  public var after: Box
  public var decision: FitDecision
  /// Whether the fit replaced the box (some side moved and confidence ≥ the minimum).
  public var applied: Bool
}

/// `eval-fit` and `autofit` over a COCO dataset.
public enum AutoFitRun {
  /// Decodes each image once and hands its boxes to `body`.
  static func perImage<Output: Sendable>(
    _ dataset: COCODataset, imagesDirectory: String, runner: BatchRunner,
    progress: ProgressReporter?,
    body: @escaping @Sendable (AnnotaImage.Image, COCOImage, [COCOAnnotation]) -> Output
  ) async -> (outputs: [Output], issues: [COCOIssue]) {
    let groups = dataset.annotationsByImage()
    let images = dataset.images
    let imageIndex = dataset.imageIndex
    var outputs: [Output] = []
    var issues: [COCOIssue] = []
    await runner.forEach(groups, { (imageID, annotations) -> Result<Output, COCOIssue> in
      guard let ii = imageIndex[imageID] else {
        return .failure(COCOIssue(path: annotations[0].path + ".image_id", annotationID: annotations[0].id, message: "image \(imageID) is not in the file"))
      }
      let image = images[ii]
      guard let name = image.fileName else {
        return .failure(COCOIssue(path: "images[\(image.index)].file_name", message: "image \(imageID) has no file_name"))
      }
      let file = imagesDirectory.hasSuffix("/") ? imagesDirectory + name : imagesDirectory + "/" + name
      do {
        let decoded = try ImageFiles.decode(file)
        return .success(body(decoded.image, image, annotations))
      } catch {
        return .failure(COCOIssue(path: "images[\(image.index)].file_name", message: "\(error) (its \(annotations.count) annotations were not fitted)"))
      }
    }) { _, result in
      switch result {
      case .success(.success(let o)):
        outputs.append(o)
        progress?.advance()
      case .success(.failure(let issue)):
        issues.append(issue)
        progress?.advance(failed: true)
      case .failure(let e):
        issues.append(COCOIssue(path: "images", message: "\(e)"))
        progress?.advance(failed: true)
      }
    }
    return (outputs, issues)
  }

  /// Whether the protocol fits this annotation (not crowd, box at least 16 px a side).
  static func eligible(_ a: COCOAnnotation) -> Bool {
    guard !a.isCrowd, let b = a.bbox else { return false }
    return b.width >= FitProtocol.minimumSide && b.height >= FitProtocol.minimumSide
  }

  /// The DESIGN protocol: jitter every eligible gold box per setting, fit, compare.
  ///
  /// - Parameter fitter: the fitter for the boxes of an image (by image id), so that a
  ///   cross-validation can fit each image with a model not trained on it.
  public static func evaluate(
    _ dataset: COCODataset, imagesDirectory: String, settings: [JitterSetting], seed: UInt64,
    fitter: @escaping @Sendable (Int64) -> Fitter, minimumConfidence: Double, runner: BatchRunner,
    progress: ProgressReporter?
  ) async -> FitEvaluationResult {
    let clock = ContinuousClock()
    let start = clock.now
    let (outputs, issues) = await perImage(dataset, imagesDirectory: imagesDirectory, runner: runner, progress: progress) {
      image, info, annotations -> [[FitOutcome]] in
      let boxes = annotations.filter(eligible)
      let fitter = fitter(info.id)
      return settings.map { setting in
        let rough = boxes.map {
          FitProtocol.jitter($0.bbox!, annotationID: $0.id, imageWidth: info.width, imageHeight: info.height, setting: setting, seed: seed)
        }
        return boxes.indices.map { i in
          // The neighbours are the other rough boxes, as an annotation file would hold them.
          let others = rough.indices.filter { $0 != i }.map { rough[$0] }
          let d = fitter.fit(image, rough: rough[i], others: others)
          let moved = d.accepted.contains(true)
          let apply = moved && d.confidence >= minimumConfidence
          return FitOutcome(
            truth: boxes[i].bbox!, rough: rough[i], fitted: apply ? d.box : rough[i],
            suggestion: d.box, confidence: d.confidence, accepted: apply)
        }
      }
    }
    let elapsed = clock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    var perSetting = [[FitOutcome]](repeating: [], count: settings.count)
    for o in outputs { for (k, list) in o.enumerated() { perSetting[k] += list } }
    let total = perSetting.map(\.count).reduce(0, +)
    return FitEvaluationResult(
      settings: zip(settings, perSetting).map { FitEvaluation(setting: $0, summary: FitSummary($1)) },
      boxesPerSecond: Double(total) / max(seconds, 1e-9), issues: issues)
  }

  /// Fits every eligible box of the file; returns the fits in annotation order.
  ///
  /// - Parameter renderDirectory: when given, each image with fitted boxes is also written there
  ///   as `<file name>.png` with the rough boxes in red and the applied fits in green, labelled
  ///   with their confidence.
  /// - Parameter categories: when given, only boxes of these categories are fitted (the others
  ///   still count as neighbours).
  public static func fit(
    _ dataset: COCODataset, imagesDirectory: String, fitter: Fitter,
    minimumConfidence: Double, categories: Set<Int64>? = nil, renderDirectory: String? = nil, runner: BatchRunner,
    progress: ProgressReporter?
  ) async -> (fits: [FittedBox], issues: [COCOIssue]) {
    let (outputs, issues) = await perImage(dataset, imagesDirectory: imagesDirectory, runner: runner, progress: progress) {
      image, info, annotations -> ([FittedBox], COCOIssue?) in
      let all = annotations.compactMap(\.bbox)
      let wanted = annotations.filter { a in
        eligible(a) && (categories.map { set in a.categoryID.map(set.contains) ?? false } ?? true)
      }
      let fits = wanted.map { a in
        let mine = a.bbox!
        var skipped = false
        let others = all.filter { o in
          if !skipped && o == mine { skipped = true; return false }
          return true
        }
        let d = fitter.fit(image, rough: mine, others: others)
        let apply = d.accepted.contains(true) && d.confidence >= minimumConfidence
        return FittedBox(
          annotationIndex: a.index, annotationID: a.id, before: a.bbox!,
          after: apply ? d.box : a.bbox!, decision: d, applied: apply)
      }
      guard let renderDirectory, !fits.isEmpty, let name = info.fileName else { return (fits, nil) }
      var boxes: [(box: Box, colour: Overlay.Colour, label: String?)] = fits.map { ($0.before, .rough, nil) }
      for f in fits where f.applied { boxes.append((f.after, .fitted, fixed(f.decision.confidence, 2))) }
      let base = name.split(separator: "/").last.map(String.init) ?? name
      let path = (renderDirectory.hasSuffix("/") ? renderDirectory : renderDirectory + "/") + base + ".png"
      do { try ImageFiles.writePNG(Overlay.draw(image, boxes: boxes), to: path) } catch {
        return (fits, COCOIssue(path: "images[\(info.index)]", message: "\(error)"))
      }
      return (fits, nil)
    }
    return (
      outputs.flatMap(\.0).sorted { $0.annotationIndex < $1.annotationIndex },
      issues + outputs.compactMap(\.1)
    )
  }

  /// The table `eval-fit` prints.
  public static func table(_ result: FitEvaluationResult) -> String {
    var s = "setting   boxes  IoU before  IoU after   gain   improved  worsened  worse>0.05  sides≤1px  sides≤2px  fallback\n"
    for e in result.settings {
      let m = e.summary
      let cols = [
        e.setting.rawValue.padding(8), String(m.boxes).leftPad(6), fixed(m.meanIoUBefore, 4).leftPad(11),
        fixed(m.meanIoUAfter, 4).leftPad(10), fixed(m.meanIoUAfter - m.meanIoUBefore, 4).leftPad(7),
        pct(m.improved).leftPad(10), pct(m.worsened).leftPad(9), pct(m.worsenedBadly).leftPad(11),
        (pct(m.sidesWithin1Before) + "→" + pct(m.sidesWithin1After)).leftPad(13),
        (pct(m.sidesWithin2Before) + "→" + pct(m.sidesWithin2After)).leftPad(13), pct(m.fallback).leftPad(9),
      ]
      s += cols.joined(separator: " ") + "\n"
    }
    s += "boxes per second (decoding included): \(fixed(result.boxesPerSecond, 0))\n"
    s += "\nsuggestions by confidence (all settings): bucket, count, mean confidence, share that help, mean IoU change\n"
    var counts = [Int](repeating: 0, count: 10)
    var confidence = [Double](repeating: 0, count: 10)
    var helpful = [Double](repeating: 0, count: 10)
    var gain = [Double](repeating: 0, count: 10)
    for e in result.settings {
      for (k, b) in e.summary.buckets.enumerated() {
        counts[k] += b.count
        confidence[k] += b.meanConfidence * Double(b.count)
        helpful[k] += b.helpful * Double(b.count)
        gain[k] += b.meanGain * Double(b.count)
      }
    }
    for k in 0..<10 where counts[k] > 0 {
      let n = Double(counts[k])
      s += "  \(fixed(Double(k) / 10, 1))–\(fixed(Double(k + 1) / 10, 1))  \(String(counts[k]).leftPad(6))  \(fixed(confidence[k] / n, 3).leftPad(6))  \(pct(helpful[k] / n).leftPad(6))  \(fixed(gain[k] / n, 4).leftPad(8))\n"
    }
    var pooled = [(count: Int, confidenceSum: Double, helped: Int)](repeating: (0, 0, 0), count: 10)
    for e in result.settings {
      for (k, b) in e.summary.movedBins.enumerated() {
        pooled[k].count += b.count
        pooled[k].confidenceSum += b.confidenceSum
        pooled[k].helped += b.helped
      }
    }
    let movedCount = pooled.reduce(0) { $0 + $1.count }
    if movedCount > 0 {
      s += "calibration error of the \(movedCount) suggestions that move a side (deciles, weighted |mean confidence − share that help|): \(fixed(FitSummary.calibrationError(pooled), 4))\n"
    }
    s += "\nreviewer accepting suggestions with confidence ≥ t: mean IoU per setting\n  t    " + result.settings.map { $0.setting.rawValue.leftPad(9) }.joined() + "\n"
    for t in 0..<10 {
      s += "  \(fixed(Double(t) / 10, 1))  " + result.settings.map { fixed($0.summary.reviewerIoU[t].meanIoU, 4).leftPad(9) }.joined() + "\n"
    }
    return s
  }

  static func pct(_ v: Double) -> String { fixed(100 * v, 1) + "%" }
}

extension String {
  func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
  func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
