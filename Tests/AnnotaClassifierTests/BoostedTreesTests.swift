import AnnotaClassifier
import AnnotaGeometry
import Foundation
import Testing

@Suite("Gradient-boosted trees")
struct BoostedTreesTests {
  /// Rows of two uniform features and an XOR label, which no linear model separates.
  func xor(_ n: Int, seed: UInt64) -> (x: [Float], y: [UInt8]) {
    var rng = SplitMix64(seed: seed)
    var x: [Float] = []
    var y: [UInt8] = []
    for _ in 0..<n {
      let a = Float(rng.next() >> 40) / Float(1 << 24)
      let b = Float(rng.next() >> 40) / Float(1 << 24)
      x += [a, b]
      y.append((a > 0.5) != (b > 0.5) ? 1 : 0)
    }
    return (x, y)
  }

  @Test("learns XOR and generalises to new rows; training is deterministic")
  func learnsXOR() {
    let train = xor(4000, seed: 1)
    let test = xor(2000, seed: 2)
    var o = BoostedTrees.Options()
    o.trees = 60
    let model = BoostedTrees.fit(train.x, features: 2, labels: train.y, options: o)
    let p = model.probabilities(test.x)
    let correct = zip(p, test.y).filter { ($0 > 0.5) == ($1 == 1) }.count
    #expect(Double(correct) / Double(test.y.count) > 0.97)
    #expect(BoostedTrees.fit(train.x, features: 2, labels: train.y, options: o) == model)
    // The flat predictor agrees with walking each tree.
    test.x.withUnsafeBufferPointer { px in
      for r in 0..<50 {
        let z = model.logit(UnsafeBufferPointer(rebasing: px[(2 * r)..<(2 * r + 2)]))
        #expect(abs(Float(1 / (1 + exp(Double(-z)))) - p[r]) < 1e-5)
      }
    }
  }

  @Test("a feature with few distinct values, in long runs of ties, still gets a bin per value")
  func ties() {
    // 31 values, each ~3% of the rows: quantile cuts would land inside runs of equal values.
    var x: [Float] = []
    var y: [UInt8] = []
    for i in 0..<6200 {
      let v = Float(i % 31) / 100
      x.append(v)
      y.append(i % 31 == 7 ? 1 : 0)
    }
    var o = BoostedTrees.Options()
    o.trees = 30
    o.subsample = 1
    let model = BoostedTrees.fit(x, features: 1, labels: y, options: o)
    let p = model.probabilities([0.06, 0.07, 0.08])
    #expect(p[1] > 0.9 && p[0] < 0.1 && p[2] < 0.1, "\(p)")
  }
}
