import Testing

@testable import AnnotaGeometry

@Suite("Remainder by a fixed divisor")
struct FixedDivisorTests {
  /// Dividends around the places where a wrong reciprocal shows: 0, multiples of d and their
  /// neighbours, the top of the range, and random ones.
  private func check(_ d: UInt64, _ rng: inout SplitMix64) {
    let divisor = FixedDivisor(d)
    var dividends: [UInt64] = [0, 1, d - 1, d, d &+ 1, UInt64.max, UInt64.max - 1, UInt64.max / d * d,
                               (UInt64.max / d) &* d &- 1, 1 << 63, (1 << 63) - 1]
    for _ in 0..<2_000 {
      let x = rng.next()
      dividends.append(x)
      dividends.append(x >> (x & 63))  // small ones too
      let multiple = (x % (UInt64.max / d)) &* d
      dividends.append(contentsOf: [multiple, multiple &- 1, multiple &+ 1])
    }
    for x in dividends where divisor.remainder(x) != x % d {
      Issue.record("\(x) % \(d): \(divisor.remainder(x)), expected \(x % d)")
      return
    }
  }

  @Test("equals % for edge-case divisors and every kind of dividend")
  func edgeDivisors() {
    var rng = SplitMix64(seed: 7)
    let divisors: [UInt64] = [1, 2, 3, 5, 7, 10, 641, 1000, 4999, 5000, 65537, (1 << 32) - 1, 1 << 32,
                              (1 << 32) + 1, 6_700_417, (1 << 63) - 1, 1 << 63, (1 << 63) + 1,
                              UInt64.max - 1, UInt64.max]
    for d in divisors { check(d, &rng) }
  }

  @Test("equals % for random divisors of every size")
  func randomDivisors() {
    var rng = SplitMix64(seed: 11)
    for _ in 0..<300 {
      let d = max(1, rng.next() >> (rng.next() % 64))
      check(d, &rng)
    }
  }
}
