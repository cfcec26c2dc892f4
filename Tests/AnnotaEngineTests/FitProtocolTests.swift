import AnnotaEngine
import AnnotaGeometry
import Testing

@Suite("Auto-fit evaluation protocol")
struct FitProtocolTests {
  let truth = Box(x: 100, y: 50, width: 200, height: 80)

  @Test("rough sides move within the setting's range of the box size, inside the image", arguments: JitterSetting.allCases)
  func jitterRanges(setting: JitterSetting) {
    let (lo, hi) = setting.range
    var seen = Set<Box>()
    for id in Int64(0)..<500 {
      let r = FitProtocol.jitter(truth, annotationID: id, imageWidth: 640, imageHeight: 480, setting: setting, seed: 7)
      seen.insert(r)
      let left = (truth.x - r.x) / truth.width
      let right = (r.x + r.width - truth.x - truth.width) / truth.width
      let top = (truth.y - r.y) / truth.height
      let bottom = (r.y + r.height - truth.y - truth.height) / truth.height
      for m in [left, right, top, bottom] { #expect(m >= lo - 1e-12 && m <= hi + 1e-12) }
      #expect(r.x >= 0 && r.y >= 0 && r.x + r.width <= 640 && r.y + r.height <= 480)
      // Same seed, setting and id: same rough box.
      #expect(FitProtocol.jitter(truth, annotationID: id, imageWidth: 640, imageHeight: 480, setting: setting, seed: 7) == r)
    }
    #expect(seen.count > 490, "draws vary with the annotation id")
    // Clipping: a box at the image corner never leaves the image.
    let corner = FitProtocol.jitter(Box(x: 0, y: 0, width: 50, height: 50), annotationID: 1, imageWidth: 50, imageHeight: 50, setting: .loose, seed: 1)
    #expect(corner == Box(x: 0, y: 0, width: 50, height: 50))
  }

  @Test("summary of a fitter that changes nothing, and of a perfect one")
  func summaries() {
    var unchanged: [FitOutcome] = []
    var perfect: [FitOutcome] = []
    for id in Int64(0)..<200 {
      let r = FitProtocol.jitter(truth, annotationID: id, imageWidth: 640, imageHeight: 480, setting: .mixed10, seed: 3)
      unchanged.append(FitOutcome(truth: truth, rough: r, fitted: r, suggestion: r, confidence: 0, accepted: false))
      perfect.append(FitOutcome(truth: truth, rough: r, fitted: truth, suggestion: truth, confidence: 0.95, accepted: true))
    }
    let u = FitSummary(unchanged)
    #expect(u.meanIoUBefore == u.meanIoUAfter && u.worsened == 0 && u.improved == 0 && u.fallback == 1)
    #expect(u.meanIoUBefore > 0.7 && u.meanIoUBefore < 0.95)
    let p = FitSummary(perfect)
    #expect(p.meanIoUAfter == 1 && p.improved == 1 && p.fallback == 0 && p.sidesWithin1After == 1)
    #expect(p.buckets[9].count == 200 && p.buckets[9].helpful == 1)
    #expect(p.reviewerIoU[9].meanIoU == 1 && p.reviewerIoU[9].acceptedShare == 1)
    #expect(abs(p.buckets[9].meanGain - (1 - p.meanIoUBefore)) < 1e-12)
    // Calibration error: confidence 0.95 and every suggestion helps → 0.05; nothing moved → 0.
    #expect(abs(p.calibrationError - 0.05) < 1e-12)
    #expect(u.calibrationError == 0 && u.movedBins.allSatisfy { $0.count == 0 })
    // Half of the 0.7 suggestions help: |0.7 − 0.5| = 0.2.
    let half = (0..<100).map { i in
      let r = unchanged[i].rough
      return FitOutcome(truth: truth, rough: r, fitted: r, suggestion: i % 2 == 0 ? truth : r, confidence: 0.7, accepted: true)
    }
    #expect(abs(FitSummary(half).calibrationError - 0.2) < 1e-12)
  }
}
