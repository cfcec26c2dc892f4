import Testing

@testable import AnnotaEngine

/// The reader's 128-bit powers of 5^-k, recomputed by long division.
@Suite("Number reader tables")
struct PowerTableTests {
  @Test("5^-k for k = 0 ... 22: ⌊2^(127 + b) / 5^k⌋ + 1, normalised to 128 bits")
  func powersOfFive() {
    let table = JSONReader.powersOfFive
    #expect(table.count == 46)
    #expect(table[0] == 1 << 63 && table[1] == 0)
    for k in 1...22 {
      var five: UInt64 = 1
      for _ in 0..<k { five *= 5 }
      let b = 64 - (five - 1).leadingZeroBitCount  // the smallest b with 2^b ≥ 5^k
      // 2^(127 + b) as three 64-bit words, most significant first, divided word by word.
      var words: [UInt64] = [0, 0, 0]
      words[2 - (127 + b) / 64] = 1 << UInt64((127 + b) % 64)
      var remainder: UInt64 = 0
      var quotient: [UInt64] = []
      for word in words {
        let (q, r) = five.dividingFullWidth((high: remainder, low: word))
        quotient.append(q)
        remainder = r
      }
      #expect(quotient[0] == 0 && quotient[1] >> 63 == 1, "5^-\(k) is not normalised")
      let (low, carry) = quotient[2].addingReportingOverflow(1)
      #expect(table[2 * k] == quotient[1] &+ (carry ? 1 : 0), "5^-\(k), high word")
      #expect(table[2 * k + 1] == low, "5^-\(k), low word")
    }
  }

  /// The reader's runs of long decimals send every mantissa, small ones too, to Eisel and
  /// Lemire's method; it must round each exactly as `strtod` does.
  @Test("Eisel–Lemire conversion of mantissas of every length, 1 to 2^64 - 1, at scales 0 to -22")
  func longDecimalEveryLength() {
    var state: UInt64 = 0x5EED
    func next() -> UInt64 {
      state = state &* 6364136223846793005 &+ 1442695040888963407
      return state ^ (state >> 29)
    }
    for bits in 1...64 {
      for _ in 0..<400 {
        // A mantissa of exactly `bits` bits, at times with its low bits all zero or all one.
        var mantissa = next() >> UInt64(64 - bits) | 1 << UInt64(bits - 1)
        switch next() % 4 {
        case 0: mantissa &= ~UInt64(0) << UInt64(min(bits - 1, 20))
        case 1: mantissa |= (1 << UInt64(min(bits - 1, 20))) - 1
        default: break
        }
        let scale = Int(next() % 23)
        let expected = Double("\(mantissa)e-\(scale)")!
        let got = JSONReader.longDecimal(mantissa: mantissa, scale: -scale)
        #expect(got?.bitPattern == expected.bitPattern, "\(mantissa)e-\(scale): \(String(describing: got)) ≠ \(expected)")
      }
    }
  }
}
