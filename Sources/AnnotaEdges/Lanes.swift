// Lane-width conversions for the SIMD kernels.
//
// The standard library's generic `SIMD8(truncatingIfNeeded:)` is sometimes left as an outlined
// call (seen in `suppressRow` once `runCanny` grew), which then costs more than the arithmetic
// around it. Written lane by lane and always inlined, these become single vector sign-extends
// and packs.

extension SIMD8 where Scalar == Int32 {
  /// Sign-extends eight `Int16` lanes.
  @inline(__always)
  init(widening v: SIMD8<Int16>) {
    self.init(
      Int32(v[0]), Int32(v[1]), Int32(v[2]), Int32(v[3]),
      Int32(v[4]), Int32(v[5]), Int32(v[6]), Int32(v[7]))
  }
}

extension SIMD8 where Scalar == Int16 {
  /// Keeps the low 16 bits of eight `Int32` lanes.
  @inline(__always)
  init(truncating v: SIMD8<Int32>) {
    self.init(
      Int16(truncatingIfNeeded: v[0]), Int16(truncatingIfNeeded: v[1]),
      Int16(truncatingIfNeeded: v[2]), Int16(truncatingIfNeeded: v[3]),
      Int16(truncatingIfNeeded: v[4]), Int16(truncatingIfNeeded: v[5]),
      Int16(truncatingIfNeeded: v[6]), Int16(truncatingIfNeeded: v[7]))
  }
}

extension SIMD8 where Scalar == UInt8 {
  /// Keeps the low 8 bits of eight `Int32` lanes.
  @inline(__always)
  init(truncating v: SIMD8<Int32>) {
    self.init(
      UInt8(truncatingIfNeeded: v[0]), UInt8(truncatingIfNeeded: v[1]),
      UInt8(truncatingIfNeeded: v[2]), UInt8(truncatingIfNeeded: v[3]),
      UInt8(truncatingIfNeeded: v[4]), UInt8(truncatingIfNeeded: v[5]),
      UInt8(truncatingIfNeeded: v[6]), UInt8(truncatingIfNeeded: v[7]))
  }
}
