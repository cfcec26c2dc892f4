import AnnotaEngine
import Testing

/// The reader's number conversion against the C library's (`Double(String)` is `strtod`, which is
/// correctly rounded): every literal must give the same double, bit for bit.
@Suite("JSON numbers")
struct JSONNumberTests {
  /// Reads `[literal]` and returns its number.
  private func read(_ literal: String) throws -> Double? {
    try JSONReader.parse("[\(literal)]").numberArray?.first
  }

  private func expectSame(_ literal: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let expected = Double(literal)!
    let got = try read(literal)
    #expect(got?.bitPattern == expected.bitPattern, "\(literal): \(String(describing: got)) ≠ \(expected)",
            sourceLocation: sourceLocation)
  }

  @Test("exact halfway cases round to even, across powers of two")
  func ties() throws {
    for literal in [
      "9007199254740993.0", "9007199254740995.0", "9007199254740993e0", "-9007199254740993.5",
      "4503599627370497.5", "4503599627370496.5", "4503599627370498.5", "18014398509481986.0",
      "18014398509481990.0", "9007199254740992.5", "9007199254740991.5", "2251799813685248.25",
      "2251799813685248.75", "1125899906842624.125", "1125899906842624.375", "562949953421312.0625",
      "562949953421312.1875", "-562949953421313.0625",
    ] {
      try expectSame(literal)
    }
  }

  @Test("hard cases: long mantissas, values near powers of two, every scale up to 10^-22")
  func hard() throws {
    for literal in [
      "0.1", "0.30000000000000004", "2.2250738585072014e-308", "1.7976931348623157e308",
      "4.9406564584124654e-324", "123456789012345678.9", "1234567890123456789", "0.000000000000000000001",
      "9999999999999999999", "18446744073709551615", "-9223372036854775809", "1e23", "8.98846567431158e307",
      "0.12345678901234567", "98765.43210987654321", "1.00000000000000011102230246251565404236316680908203125",
      "3.0000000000000004440892098500626", "0.9999999999999999444888487687421729788184165954589843749",
    ] {
      try expectSame(literal)
    }
    for k in 0...22 {
      try expectSame("1234567890123456789e-\(k)")
      try expectSame("9007199254740993e-\(k)")
      try expectSame("18446744073709551e-\(k)")
    }
  }

  @Test("mantissas of 16 to 19 digits at every scale down to 10^-22", arguments: [UInt64(31), 32])
  func longMantissas(_ seed: UInt64) throws {
    var state = seed
    func next() -> UInt64 {
      state = state &* 6364136223846793005 &+ 1442695040888963407
      return state ^ (state >> 29)
    }
    for _ in 0..<50_000 {
      // Above 2^53 (the fast path's limit) up to the largest 19-digit mantissa.
      let mantissa = (1 << 53) + next() % (9_999_999_999_999_999_999 - (1 << 53))
      let scale = Int(next() % 23)
      try expectSame("\(mantissa)e-\(scale)")
      var digits = String(mantissa)
      if scale < digits.count {
        digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
        if digits.hasSuffix(".") { digits += "0" }
        try expectSame(digits)
      }
    }
  }

  @Test("zeros with long fractions inside runs of long decimals keep their value and sign")
  func longZerosInRuns() throws {
    let literals = ["0.000000000", "-0.0000000000000", "1.0000000000000000", "0.00000000000000001",
                    "261.0784862086631", "232.82306035101553", "-0.00000000", "9.007199254740993", "0.1000000000000000"]
    let text = "[" + (0..<40).map { literals[$0 % literals.count] }.joined(separator: ", ") + "]"
    let numbers = try JSONReader.parse(text).numberArray
    #expect(numbers?.count == 40)
    for (i, value) in (numbers ?? []).enumerated() {
      let expected = Double(literals[i % literals.count])!
      #expect(value.bitPattern == expected.bitPattern, "\(literals[i % literals.count]): \(value)")
    }
  }

  @Test("random literals in every form JSON writers produce", arguments: [UInt64(1), 2, 3, 4])
  func random(_ seed: UInt64) throws {
    var state = seed &* 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    for _ in 0..<50_000 {
      let digits = 1 + Int(next() % 19)
      var text = ""
      for i in 0..<digits {
        let d = next() % 10
        text += String(i == 0 && d == 0 ? 1 : d)
      }
      let point = Int(next() % UInt64(digits + 1))
      var literal = point == digits ? text : String(text.prefix(max(point, 1))) + "." + text.dropFirst(max(point, 1))
      if literal.hasSuffix(".") { literal.removeLast() }
      switch next() % 4 {
      case 0: literal += "e-\(next() % 30)"
      case 1: literal += "E+\(next() % 30)"
      default: break
      }
      if next() % 2 == 0 { literal = "-" + literal }
      try expectSame(literal)
      // Doubles printed with their shortest round-trip form (17 digits or fewer).
      let value = Double(bitPattern: next() >> 2) * (next() % 2 == 0 ? 1 : -1)
      if value.isFinite { try expectSame("\(value)") }
      let scaled = Double(next() % 10_000_000_000) / Double(1 + next() % 1_000_000)
      try expectSame("\(scaled)")
    }
  }

  /// 19-digit decimals just below and just above the midpoint between two neighbouring doubles:
  /// where an approximate quotient lands on the midpoint, rounding it to a double goes the wrong
  /// way half of the time, so the reader must decide exactly.
  @Test("19-digit neighbours of midpoints between doubles")
  func nearMidpoints() throws {
    var state: UInt64 = 0x1234_5678
    func next() -> UInt64 {
      state = state &* 6364136223846793005 &+ 1442695040888963407
      return state
    }
    for _ in 0..<20_000 {
      // A double a = A·2^e with 1 ≤ a < 2^40; its upper midpoint (2A + 1)·2^(e−1) in decimal.
      let a = Double(1 + next() % (1 << 40)) + Double(next() % (1 << 20)) / Double(1 << 20)
      let significand = UInt128((1 << 52) | a.significandBitPattern)
      let shift = 52 - Int(a.exponent) + 1  // midpoint = (2A + 1) / 2^shift
      let numerator = 2 * significand + 1
      let integer = numerator >> UInt128(shift)
      var fraction = numerator & ((1 << UInt128(shift)) - 1)
      var digits = String(integer)
      let integerDigits = digits.count
      while fraction != 0 {
        fraction *= 10
        digits.append(String(fraction >> UInt128(shift)))
        fraction &= (1 << UInt128(shift)) - 1
      }
      guard digits.count > 19 else { continue }
      let head = String(digits.prefix(19))
      let below = UInt64(head)!
      for mantissa in [below, below + 1] {
        var text = String(mantissa)
        // Put the decimal point back (the 19 digits never run past it: integerDigits ≤ 13).
        text.insert(".", at: text.index(text.startIndex, offsetBy: integerDigits))
        try expectSame(text)
      }
    }
  }

  /// Numbers inside a long array take the reader's word-at-a-time path (it needs 16 bytes of
  /// look-ahead); every element must still read as `strtod` reads it, and integers stay integers.
  @Test("short numbers in long arrays", arguments: [UInt64(7), 8, 9])
  func shortInArrays(_ seed: UInt64) throws {
    var rng = Literals(state: seed)
    for _ in 0..<300 {
      var literals: [String] = []
      let decimals = rng.next() % 4 != 0  // some arrays of integers only
      for _ in 0..<(1 + Int(rng.next() % 60)) {
        let integerDigits = 1 + Int(rng.next() % 9)
        var text = rng.next() % 8 == 0 ? "0" : String(1 + rng.next() % 9)
        if text != "0" { for _ in 1..<integerDigits { text += String(rng.next() % 10) } }
        if decimals {
          text += "."
          for _ in 0..<(1 + Int(rng.next() % 9)) { text += String(rng.next() % 10) }
          if rng.next() % 10 == 0 { text += "e\(Int(rng.next() % 7) - 3)" }
        }
        if rng.next() % 3 == 0 { text = "-" + text }
        literals.append(text)
      }
      let separator = rng.next() % 2 == 0 ? "," : ", "
      let value = try JSONReader.parse("[" + literals.joined(separator: separator) + "]")
      let numbers: [Double]
      switch value {
      case .numbers(let values, let integral):
        #expect(integral == !decimals, "\(literals)")
        numbers = values
      case .array(let items):
        numbers = items.map { $0.number ?? .nan }
      default:
        Issue.record("not an array: \(value)")
        continue
      }
      #expect(numbers.count == literals.count)
      for (literal, number) in zip(literals, numbers) {
        // An integer literal is an integer (so -0 is 0, as Python's json reads it).
        let expected = decimals ? Double(literal)! : Double(Int64(literal)!)
        #expect(number.bitPattern == expected.bitPattern, "\(literal) read as \(number)")
      }
    }
  }

  /// Computed coordinates as Python's `json` writes them: the shortest round-trip text, 15–17
  /// significant digits, which the word path reads with a second fraction word. Also random
  /// digit strings of 8–17 fraction digits (long mantissas, not round-trip texts), some with an
  /// exponent right after the fraction, and leading-zero fractions.
  @Test("long fractions in long arrays", arguments: [UInt64(11), 12, 13])
  func longFractionsInArrays(_ seed: UInt64) throws {
    var rng = Literals(state: seed)
    for _ in 0..<400 {
      var literals: [String] = []
      for _ in 0..<(1 + Int(rng.next() % 60)) {
        var text: String
        switch rng.next() % 3 {
        case 0:
          // A coordinate-like double with full precision: shortest round-trip text.
          let magnitude = [1.0, 10, 100, 1000, 1e5, 1e7][Int(rng.next() % 6)]
          let value = Double(rng.next()) / Double(1 << 53) * magnitude
          text = "\(value)"
          if text.contains("e") { text = "0.5" }
        case 1:
          text = rng.next() % 5 == 0 ? "0" : String(1 + rng.next() % 9)
          for _ in 0..<Int(rng.next() % 7) where text != "0" { text += String(rng.next() % 10) }
          text += "."
          for _ in 0..<(8 + Int(rng.next() % 10)) { text += String(rng.next() % 10) }
        default:
          text = "0.0000000" + String(1 + rng.next() % 9)
          for _ in 0..<Int(rng.next() % 9) { text += String(rng.next() % 10) }
        }
        if rng.next() % 8 == 0 { text += "e\(Int(rng.next() % 9) - 4)" }
        if rng.next() % 3 == 0 { text = "-" + text }
        literals.append(text)
      }
      let separator = rng.next() % 2 == 0 ? "," : ", "
      let value = try JSONReader.parse("[" + literals.joined(separator: separator) + "]")
      let numbers = value.numberArray ?? []
      #expect(numbers.count == literals.count)
      for (literal, number) in zip(literals, numbers) {
        let expected = Double(literal)!
        #expect(number.bitPattern == expected.bitPattern, "\(literal) read as \(number)")
      }
    }
  }

  /// Runs of decimals separated by `", "` are read in one go (`decimalRun`); any other element or
  /// spacing hands over to the general path and back. Every element must read as `strtod` reads
  /// it, in every mix: fraction lengths 1 to 17 (the run takes 1–15), exponents, integers in
  /// between, other separators, and arrays that end close to the end of the document.
  @Test("runs of decimals broken by any element or spacing", arguments: [UInt64(21), 22, 23])
  func decimalRuns(_ seed: UInt64) throws {
    var rng = Literals(state: seed)
    for _ in 0..<600 {
      var text = "["
      var literals: [String] = []
      var integers = 0
      let separator = rng.next() % 2 == 0 ? ", " : ","  // as Python writes JSON, or compact
      for i in 0..<(1 + Int(rng.next() % 50)) {
        var literal: String
        if rng.next() % 12 == 0 {
          literal = String(rng.next() % 100_000)
          integers += 1
        } else {
          literal = rng.next() % 6 == 0 ? "0" : String(1 + rng.next() % 9)
          for _ in 0..<Int(rng.next() % 7) where literal != "0" { literal += String(rng.next() % 10) }
          literal += "."
          let fractionDigits = [1, 2, 2, 3, 5, 6, 7, 8, 13, 14, 15, 16, 17][Int(rng.next() % 13)]
          for _ in 0..<fractionDigits { literal += String(rng.next() % 10) }
          if rng.next() % 15 == 0 { literal += ["e3", "E-2", "e+1"][Int(rng.next() % 3)] }
        }
        if rng.next() % 3 == 0 { literal = "-" + literal }
        if i > 0 { text += rng.next() % 5 == 0 ? [",", " , ", ",\n", ",  ", ",\t"][Int(rng.next() % 5)] : separator }
        text += literal
        literals.append(literal)
      }
      text += "]"
      if rng.next() % 2 == 0 { text = "{\"a\": " + text + "}" }  // some arrays end close to the end
      let value = try JSONReader.parse(text)
      let array = value["a"] ?? value
      let numbers: [Double]
      switch array {
      case .numbers(let values, let integral):
        #expect(!integral || integers == literals.count, "\(text)")
        #expect(integral || integers == 0, "\(text)")
        numbers = values
      case .array(let items):
        #expect(integers > 0 && integers < literals.count, "\(text)")
        numbers = items.map { $0.number ?? .nan }
      default:
        Issue.record("not an array: \(text)")
        continue
      }
      #expect(numbers.count == literals.count, "\(text)")
      for (literal, number) in zip(literals, numbers) {
        let expected = literal.contains(".") ? Double(literal)! : Double(Int64(literal)!)
        #expect(number.bitPattern == expected.bitPattern, "\(literal) read as \(number) in \(text)")
      }
    }
  }

  @Test("malformed numbers inside long arrays are still reported with their index")
  func malformedInArrays() {
    for (text, index) in [("[1.25, 2.5, 012.5, 3.75, 4.5, 5.25]", 2), ("[1.25, 2.5, 3.75, 4., 5.5, 6.25]", 3),
                          ("[1.25, -, 3.75, 4.25, 5.5, 6.25]", 1), ("[10, 20, 30, 00, 40, 50, 60]", 3),
                          ("[1.25, 2.5, 3.75, -01.5, 5.5, 6.25, 7.75, 8.5, 9.25]", 3),
                          ("[1.25, 2.5, 3.75, 4.5, 5.5, 6.25, 7.75, 1.5e, 9.25, 10.5, 11.25, 12.5]", 7),
                          ("[1.25,2.5,012.5,3.75,4.5,5.25,6.5,7.25,8.75,9.5]", 2),
                          ("[1.25,2.5,3.75,4.,5.5,6.25,7.75,8.5,9.25,10.5]", 3),
                          ("[1.25,2.5,3.75,4.5,5.5,6.25,7.75,1.5e,9.25,10.5,11.25,12.5]", 7),
                          ("[1.25,2.5,3.75,4.5,5.5,6.25,7.75,8.5,9.25,10.5,11.25,--1.5]", 11)] {
      do {
        _ = try JSONReader.parse(text)
        Issue.record("\(text) parsed")
      } catch {
        #expect(error.path == "[\(index)]", "\(text): \(error)")
      }
    }
  }

  @Test("long arrays whose element types change anywhere keep every element's type")
  func longMixedArrays() throws {
    var rng = Literals(state: 99)
    for _ in 0..<400 {
      let count = 1 + Int(rng.next() % 200)
      let switchAt = Int(rng.next() % UInt64(count + 1))  // the first element of the other type
      let startsInteger = rng.next() % 2 == 0
      var literals: [String] = []
      for i in 0..<count {
        let integer = i < switchAt ? startsInteger : (rng.next() % 3 == 0 ? startsInteger : !startsInteger)
        literals.append(integer ? String(rng.next() % 1000) : "\(rng.next() % 1000).\(1 + rng.next() % 9)")
      }
      let text = "[" + literals.joined(separator: ",") + "]"
      #expect(try JSONReader.parse(text).serialized() == text)
    }
  }

  @Test("integer literals stay exact integers when they fit in 64 bits")
  func integers() throws {
    let value = try JSONReader.parse("[-9223372036854775808, 9223372036854775807, 0, -0, 9223372036854775808]")
    guard case .array(let items) = value else {
      Issue.record("expected a mixed array, got \(value)")
      return
    }
    #expect(items[0] == .int(Int64.min))
    #expect(items[1] == .int(Int64.max))
    #expect(items[2] == .int(0))
    #expect(items[3] == .int(0))
    #expect(items[4] == .double(9223372036854775808.0))
  }
}

/// The random literal tests' generator: a 64-bit LCG, its top 53 bits.
private struct Literals {
  var state: UInt64

  mutating func next() -> UInt64 {
    state = state &* 6364136223846793005 &+ 1442695040888963407
    return state >> 11
  }
}
