/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast, seedable generator. Used wherever a
/// result must be reproducible for a given seed (bootstrap resampling, test data, benchmarks).
/// Not for cryptography.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  public var state: UInt64

  public init(seed: UInt64) { state = seed }

  /// - Complexity: O(1).
  @inlinable
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// The remainder of 64-bit numbers by one fixed divisor, with three multiplications instead of a
/// division instruction (tens of cycles). Exact for every dividend: the method of Lemire, Kaser
/// and Kurz ("Faster remainder by direct computation", 2019) with a 128-bit reciprocal
/// `M = ⌈2^128 / d⌉`, where `x mod d = ⌊(M·x mod 2^128) · d / 2^128⌋`.
///
/// Resampling draws `next() % n` millions of times for one `n` (the bootstrap); this gives the
/// same indices, faster.
public struct FixedDivisor: Sendable {
  public let divisor: UInt64
  /// M = ⌊(2^128 − 1) / d⌋ + 1, modulo 2^128, in two words.
  @usableFromInline let reciprocalHigh: UInt64, reciprocalLow: UInt64

  /// - Precondition: `divisor > 0`.
  public init(_ divisor: UInt64) {
    precondition(divisor > 0, "division by zero")
    self.divisor = divisor
    let high = UInt64.max / divisor
    let low = divisor.dividingFullWidth((high: UInt64.max % divisor, low: UInt64.max)).quotient
    let (sum, carry) = low.addingReportingOverflow(1)
    reciprocalLow = sum
    reciprocalHigh = high &+ (carry ? 1 : 0)
  }

  /// `x % divisor`. Inlinable: the bootstrap calls it millions of times from another module.
  @inlinable @inline(__always)
  public func remainder(_ x: UInt64) -> UInt64 {
    // The fractional part of x / d, as 128 bits: M·x mod 2^128.
    let product = reciprocalLow.multipliedFullWidth(by: x)
    let fractionLow = product.low
    let fractionHigh = product.high &+ reciprocalHigh &* x
    // Its integer part once multiplied by d: bits 128 and up of the 192-bit product.
    let low = fractionLow.multipliedFullWidth(by: divisor)
    let high = fractionHigh.multipliedFullWidth(by: divisor)
    let (_, carry) = low.high.addingReportingOverflow(high.low)
    return high.high &+ (carry ? 1 : 0)
  }
}
