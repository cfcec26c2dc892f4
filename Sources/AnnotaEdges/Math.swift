// Small pure-Swift replacements for the libm functions this module needs (`exp`, `atan2`,
// round-half-even), so that it imports neither Foundation nor C.

/// Helpers with documented accuracy; internal to the module.
enum EdgeMath {
  /// e^x for finite `x`, within 2 ulp of the exact value.
  ///
  /// Cody–Waite reduction `x = k·ln 2 + r`, |r| ≤ ln 2 / 2, then the Taylor series of e^r to
  /// degree 14 (truncation error below 1e-18 relative) and an exact scaling by 2^k.
  static func exp(_ x: Double) -> Double {
    if x.isNaN { return x }
    if x < -745.2 { return 0 }
    if x > 709.8 { return .infinity }
    let t = x * 1.442_695_040_888_963_4
    let k = Int(t < 0 ? t - 0.5 : t + 0.5)
    // ln 2 split in a high part with trailing zero bits (so k·ln2Hi is exact) and the rest.
    let ln2Hi = 6.931_471_803_691_238_164_90e-01
    let ln2Lo = 1.908_214_929_270_587_700_02e-10
    let r = (x - Double(k) * ln2Hi) - Double(k) * ln2Lo
    var sum = 1.0
    var n = 14.0
    while n >= 1 {
      sum = 1 + r * sum / n
      n -= 1
    }
    return Double(sign: .plus, exponent: k, significand: sum)
  }

  /// `v` rounded to the nearest integer, ties to even (C's `lrint` in the default mode).
  ///
  /// - Precondition: |v| < 2^62.
  static func roundHalfEven(_ v: Double) -> Int {
    let truncated = Int(v)
    let fraction = v - Double(truncated)
    if fraction > 0.5 || (fraction == 0.5 && truncated & 1 != 0) { return truncated + 1 }
    if fraction < -0.5 || (fraction == -0.5 && truncated & 1 != 0) { return truncated - 1 }
    return truncated
  }

  /// The largest integer not above `v`.
  ///
  /// - Precondition: |v| < 2^62.
  static func floor(_ v: Double) -> Int {
    let truncated = Int(v)
    return Double(truncated) > v ? truncated - 1 : truncated
  }

  /// The angle of the vector (x, y) in radians, in [−π, π]: atan2(y, x), with atan2(0, 0) = 0.
  ///
  /// The arctangent of the reduced argument t ∈ [0, 1] is the polynomial of Abramowitz & Stegun
  /// 4.4.49 (absolute error ≤ 2e-8), evaluated in `Float`: the result is within 5e-7 radians
  /// (measured 3.6e-7 worst; the final `π − angle` alone can round by an ulp, 2.4e-7).
  @inline(__always)
  static func atan2(_ y: Float, _ x: Float) -> Float {
    let ax = x < 0 ? -x : x
    let ay = y < 0 ? -y : y
    let big = max(ax, ay)
    if big == 0 { return 0 }
    let t = min(ax, ay) / big
    let s = t * t
    var p: Float = -0.004_054_058_0
    p = p * s + 0.021_861_228_8
    p = p * s - 0.055_909_886_1
    p = p * s + 0.096_420_044_1
    p = p * s - 0.139_085_335_1
    p = p * s + 0.199_465_359_9
    p = p * s - 0.333_298_560_5
    p = p * s + 0.999_999_332_9
    var angle = p * t
    if ay > ax { angle = Float.pi / 2 - angle }
    if x < 0 { angle = Float.pi - angle }
    return y < 0 ? -angle : angle
  }

  /// ⌊√v⌋ for v ≥ 0, exact.
  ///
  /// Below 2^21 (every squared Sobel magnitude: at most 2080800) the `Float` square root
  /// truncated is exact: `Float(v)` is exact, the root is correctly rounded, and √(k² − 1) lies
  /// more than 1/(2k) ≥ 1/2900 below k, far more than half an ulp of k (≤ 2^-14), so rounding
  /// never reaches the next integer. Larger values take a corrected double root.
  @inline(__always)
  static func isqrt(_ v: Int32) -> Int32 {
    if v < 1 << 21 { return Int32(Float(v).squareRoot()) }
    let wide = Int64(v)
    var r = Int64(Double(wide).squareRoot())
    if r * r > wide { r -= 1 }
    if (r + 1) * (r + 1) <= wide { r += 1 }
    return Int32(r)
  }
}
