import AnnotaClassifier
import AnnotaEngine
import AnnotaGeometry
import AnnotaImage
import Foundation
import Testing

@testable import AnnotaFit

/// A 240×200 RGB scene: a textured grey background and a bright, textured object.
private func scene(object: Box = Box(left: 70, top: 50, right: 170, bottom: 150), seed: UInt64 = 3) -> Image {
  var rng = SplitMix64(seed: seed)
  var pixels = [UInt8](repeating: 0, count: 240 * 200 * 3)
  for y in 0..<200 {
    for x in 0..<240 {
      let inside = Double(x) >= object.x && Double(x) < object.right && Double(y) >= object.y && Double(y) < object.bottom
      let noise = Int(rng.next() % 11) - 5
      let rgb = inside ? [190, 120, 60] : [70, 80, 90]
      for c in 0..<3 { pixels[(y * 240 + x) * 3 + c] = UInt8(clamping: rgb[c] + noise) }
    }
  }
  return Image(width: 240, height: 200, format: .rgb, pixels: pixels)
}

private func iou(_ a: Box, _ b: Box) -> Double {
  let i = a.intersectionArea(b)
  return i / (a.width * a.height + b.width * b.height - i)
}

@Suite("Learned box fitter")
struct LearnedFitTests {
  let truth = Box(left: 70, top: 50, right: 170, bottom: 150)

  @Test("candidates: one per working pixel within ±30% of each side, offset 0 on the rough side, none beyond the image")
  func candidates() throws {
    let rough = Box(left: 80, top: 60, right: 160, bottom: 140)
    let c = try #require(SideCandidates(image: scene(), rough: rough, others: []))
    for side in 0..<4 {
      let s = c.sides[side]
      #expect(s.offsets.count == 2 * SideCandidates.searchRange + 1)
      #expect(s.features.count == s.offsets.count * SideCandidates.featureCount)
      #expect(s.features.allSatisfy { $0.isFinite })
      let zero = try #require(s.offsets.firstIndex(of: 0))
      #expect(abs(s.positions[zero] - rough[side: side]) < 1e-9)
      // One working pixel is 1% of the box across the side.
      let step = (side % 2 == 0 ? rough.width : rough.height) / Double(SideCandidates.boxSize)
      let outward = side >= 2 ? 1.0 : -1.0
      for i in s.offsets.indices {
        #expect(abs(s.positions[i] - (rough[side: side] + outward * Double(s.offsets[i]) * step)) < 1e-9)
      }
    }
    // A box at the image's left edge: no candidate lies left of x = 0.
    let edge = try #require(SideCandidates(image: scene(), rough: Box(left: 0, top: 60, right: 100, bottom: 140), others: []))
    #expect(edge.sides[0].positions.allSatisfy { $0 >= -0.5 })
    #expect(edge.sides[0].offsets.max() == 0)
    #expect(SideCandidates(image: scene(), rough: Box(x: 10, y: 10, width: 3, height: 30), others: []) == nil)
  }

  @Test("the decision: median of the side's distribution, and the mass that makes moving there help")
  func decision() {
    let offsets = [-2, -1, 0, 1, 2, 3, 4]
    // All mass at +3: move there, surely.
    var d = LearnedFitter.decide(offsets: offsets, probabilities: [0, 0, 0, 0, 0, 1, 0])
    #expect(d.index == 5 && d.help == 1)
    // Median at 0: stay.
    d = LearnedFitter.decide(offsets: offsets, probabilities: [0.1, 0.1, 0.6, 0.1, 0.1, 0, 0])
    #expect(d.index == 2 && d.help == 0)
    // Median at +2 with mass 0.3 at 0 and the rest beyond +1: help = 0.7.
    d = LearnedFitter.decide(offsets: offsets, probabilities: [0, 0, 0.3, 0, 0.4, 0.3, 0])
    #expect(d.index == 4)
    #expect(abs(d.help - 0.7) < 1e-6)
    // More mass beyond the move never lowers the help.
    let more = LearnedFitter.decide(offsets: offsets, probabilities: [0, 0, 0.2, 0, 0.4, 0.4, 0])
    #expect(more.help >= d.help)
  }

  @Test("the built-in model tightens a loose box on a clear object and leaves the true box within 1 px")
  func builtIn() throws {
    let model = BuiltInFitModel.model
    #expect(!model.provenance.isEmpty)
    let image = scene()
    let loose = Box(left: 58, top: 40, right: 185, bottom: 162)
    let fit = LearnedFitter.fit(image, rough: loose, others: [], model: model)
    #expect(iou(fit.box, truth) > iou(loose, truth) + 0.05, "\(fit)")
    #expect(fit.confidence > 0)
    let exact = LearnedFitter.fit(image, rough: truth, others: [], model: model)
    for side in 0..<4 { #expect(abs(exact.box[side: side] - truth[side: side]) <= 1, "\(exact)") }
  }

  @Test("model files round-trip; a model for other features is refused with a clear error")
  func modelFile() throws {
    let model = BuiltInFitModel.model
    let bytes = FitModelFile.json(model).serializedBytes()
    let back = try FitModelFile.parse(bytes, path: "m.json")
    #expect(back.scorer == model.scorer)
    #expect(back.minimumSideProbability == model.minimumSideProbability)
    #expect(back.calibration == model.calibration)
    let text = String(decoding: bytes, as: UTF8.self).replacingFirst("\"step1_mean\"", with: "\"something_else\"")
    do {
      _ = try FitModelFile.parse(Array(text.utf8), path: "m.json")
      Issue.record("a model for other features was accepted")
    } catch {
      #expect("\(error)".contains("m.json") && "\(error)".contains("retrain"))
    }
  }
}

@Suite("Confidence calibration")
struct ConfidenceCalibrationTests {
  @Test("isotonic fit: non-decreasing, recovers a known rate curve, blocks of at least 20, interpolated and clamped")
  func isotonic() throws {
    // Outcomes whose true improvement rate is 0.3 + 0.6·c, drawn with a fixed generator.
    var rng = SplitMix64(seed: 7)
    var outcomes: [(confidence: Double, improved: Bool)] = []
    for _ in 0..<20_000 {
      let c = 0.5 + 0.5 * Double(rng.next() >> 11) / Double(1 << 53)
      let u = Double(rng.next() >> 11) / Double(1 << 53)
      outcomes.append((c, u < 0.3 + 0.6 * c))
    }
    let cal = try #require(ConfidenceCalibration.fit(outcomes))
    #expect(zip(cal.raw, cal.raw.dropFirst()).allSatisfy { $0 < $1 })
    #expect(zip(cal.improved, cal.improved.dropFirst()).allSatisfy { $0 <= $1 })
    for c in stride(from: 0.55, through: 0.95, by: 0.1) {
      #expect(abs(cal(c) - (0.3 + 0.6 * c)) < 0.04, "at \(c): \(cal(c))")
    }
    #expect(cal(0) == cal.improved[0] && cal(2) == cal.improved.last!)
    // Few outcomes: no calibration. A tiny extreme group cannot claim certainty.
    #expect(ConfidenceCalibration.fit(Array(outcomes.prefix(49))) == nil)
    let skewed = (0..<100).map { i in (confidence: Double(i) / 100, improved: i >= 97) }
    let top = try #require(ConfidenceCalibration.fit(skewed))
    #expect(top(0.99) < 0.3, "\(top)")
  }

  @Test("a calibrated model reports the mapped confidence; the decision is the raw one's")
  func applied() throws {
    let image = scene()
    var model = BuiltInFitModel.model
    model.calibration = nil
    let rough = Box(left: 58, top: 40, right: 185, bottom: 162)
    let raw = LearnedFitter.fit(image, rough: rough, others: [], model: model)
    model.calibration = ConfidenceCalibration(raw: [0, 1], improved: [0.2, 0.4])
    let mapped = LearnedFitter.fit(image, rough: rough, others: [], model: model)
    #expect(raw.confidence > 0)
    #expect(mapped.box == raw.box)
    #expect(abs(mapped.confidence - (0.2 + 0.2 * raw.confidence)) < 1e-12)
  }
}

extension String {
  fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
    guard let r = range(of: target) else { return self }
    return replacingCharacters(in: r, with: replacement)
  }
}
