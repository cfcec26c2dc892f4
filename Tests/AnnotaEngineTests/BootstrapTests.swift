import AnnotaGeometry
import Testing

@testable import AnnotaEngine

/// The bootstrap sums each resample from how often each image was drawn; these tests redo it the
/// plain way, one draw after another, adding the drawn images' statistics (dictionaries and all),
/// and compare the figures.
@Suite("Bootstrap over images")
struct BootstrapTests {
  /// Per-image statistics with a few labels each (nil among them), as `Stats.add` leaves them.
  static func randomStats(images: Int, seed: UInt64) -> [AgreementRun.Stats] {
    var rng = SplitMix64(seed: seed)
    let labels: [Int64?] = [nil, 1, 2, 3, 7, 90]
    return (0..<images).map { _ in
      var s = AgreementRun.Stats()
      s.pairs = Int.random(in: 0...6, using: &rng)
      s.iouSum = (0..<s.pairs).reduce(0) { sum, _ in sum + Double.random(in: 0.5...1, using: &rng) }
      s.diceSum = (0..<s.pairs).reduce(0) { sum, _ in sum + Double.random(in: 0.6...1, using: &rng) }
      s.fleissSubjects = Int.random(in: 0...4, using: &rng)
      s.fleissPSum = Double(s.fleissSubjects) * Double.random(in: 0...1, using: &rng)
      for _ in 0..<Int.random(in: 0...3, using: &rng) {
        s.addLabel(labels.randomElement(using: &rng)!, fleiss: Double(Int.random(in: 1...3, using: &rng)), alpha: 0)
      }
      for _ in 0..<Int.random(in: 0...3, using: &rng) {
        s.addLabel(labels.randomElement(using: &rng)!, fleiss: 0, alpha: Double(Int.random(in: 1...3, using: &rng)))
      }
      s.alphaN = s.labelTotals.reduce(0) { $0 + $1.alpha }
      s.alphaDiagonal = s.alphaN * Double.random(in: 0...1, using: &rng)
      return s
    }
  }

  /// The resamples drawn one image at a time: image `next() % count`, statistics added up.
  static func byDraws(_ perImage: [AgreementRun.Stats], raters n: Int, resamples: Int, seed: UInt64) -> [[Double]] {
    var rng = SplitMix64(seed: seed)
    var samples: [[Double]] = [[], [], [], []]
    for _ in 0..<resamples {
      var total = AgreementRun.Stats()
      for _ in perImage.indices {
        let p = perImage[Int(rng.next() % UInt64(perImage.count))]
        total.iouSum += p.iouSum
        total.diceSum += p.diceSum
        total.pairs += p.pairs
        total.fleissPSum += p.fleissPSum
        total.fleissSubjects += p.fleissSubjects
        total.alphaN += p.alphaN
        total.alphaDiagonal += p.alphaDiagonal
        for t in p.labelTotals { total.addLabel(t.label, fleiss: t.fleiss, alpha: t.alpha) }
      }
      let f = total.figures(raters: n)
      for (i, v) in [f.iou, f.dice, f.kappa, f.alpha].enumerated() { if let v { samples[i].append(v) } }
    }
    return samples
  }

  @Test("the same figures as adding the drawn images one by one", arguments: [1, 2, 7, 300])
  func sameAsDraws(images: Int) {
    let perImage = Self.randomStats(images: images, seed: UInt64(images))
    for raters in [2, 3] {
      let fast = AgreementRun.bootstrap(perImage, raters: raters, resamples: 50, seed: 11)
      let plain = Self.byDraws(perImage, raters: raters, resamples: 50, seed: 11)
      #expect(fast.map(\.count) == plain.map(\.count))
      for (f, p) in zip(fast, plain) {
        for (a, b) in zip(f, p) { #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "\(a) vs \(b)") }
      }
      // Resamples differ from one another (the draws are not all the same image).
      if images > 1 { #expect(Set(fast[0]).count > 1) }
    }
  }

  @Test("label totals too large to share a word are summed apart, with the same figures")
  func largeTotals() {
    // Seven images, one with totals of 4·10^8 votes: seven draws of it pass 2^31.
    var perImage = Self.randomStats(images: 7, seed: 3)
    perImage[2].addLabel(5, fleiss: 400_000_000, alpha: 300_000_000)
    perImage[2].alphaN += 300_000_000
    let fast = AgreementRun.bootstrap(perImage, raters: 3, resamples: 40, seed: 2)
    let plain = Self.byDraws(perImage, raters: 3, resamples: 40, seed: 2)
    #expect(fast.map(\.count) == plain.map(\.count))
    for (f, p) in zip(fast, plain) {
      for (a, b) in zip(f, p) { #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "\(a) vs \(b)") }
    }
  }
}
