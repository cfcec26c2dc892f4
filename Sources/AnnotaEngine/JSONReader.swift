import AnnotaGeometry

/// Malformed JSON: where (line, column, and the JSON path being read) and why.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
  /// 1-based line and column of the offending byte.
  public var line: Int
  public var column: Int
  /// The path of the value being read, e.g. `annotations[812].segmentation[0]`.
  public var path: String
  public var message: String

  public var description: String {
    "line \(line), column \(column)\(path.isEmpty ? "" : " (in \(path))"): \(message)"
  }
}

/// A strict JSON reader (RFC 8259) that keeps object keys in order and every key it does not
/// know, and stores arrays of numbers compactly.
///
/// Integers that fit in 64 bits stay exact (`.int`); other numbers are `Double`. Duplicate keys
/// are kept as they appear. Nesting deeper than `maxDepth` is an error, not a stack overflow.
/// Like Python's `json` module, it also accepts `NaN`, `Infinity` and `-Infinity` (Python writes
/// them), so such values reach validation and are reported with their JSON path.
public struct JSONReader {
  /// Deepest nesting accepted.
  public static let maxDepth = 512

  /// Parses a whole document.
  ///
  /// - Throws: `JSONParseError` with line, column and JSON path.
  /// - Complexity: O(bytes).
  public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
    try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) in try parse(buffer) }
  }

  /// Parses a whole document held in `buffer`.
  public static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
    var reader = Parser(buffer)
    reader.skipWhitespace()
    let value = try reader.value(depth: 0)
    reader.skipWhitespace()
    if reader.position != buffer.count { throw reader.error("unexpected data after the document") }
    return value
  }

  /// Parses a UTF-8 string.
  public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
    try parse(Array(text.utf8))
  }

  enum PathComponent {
    case key(String)
    case index(Int)
  }

  struct Parser {
    /// The document, or with `window` the part of it the window holds.
    var bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    var path: [PathComponent] = []
    /// The numbers of the array being read, while all its elements so far are numbers. One
    /// buffer serves every array of the document (an array reads its elements into it only
    /// before it reads any nested value), so an array of n numbers costs one allocation of
    /// exactly n, not the log2(n) reallocations and copies of appending to a new array.
    var numberScratch: [Double] = []
    /// The coordinates and ring ends of the polygon `upsampledSegmentation` reads (COCOReader.swift),
    /// reused from one annotation to the next.
    var upsampledScratch: [Int32] = []
    var ringEndScratch: [Int32] = []
    /// Where those polygons are kept (one store per document, made with the first polygon).
    var polygonStore: UpsampledPolygonStore?
    /// With `readsCOCO`, the first top-level `annotations` member, when an array, is read by
    /// `annotationArray` into `annotationRecords` (see COCOReader.swift).
    var readsCOCO = false
    var sawAnnotations = false
    var annotationRecords: AnnotationRecords?
    /// Set when the document is read through a window (`JSONReader.parseCOCO(_: FileWindow)`):
    /// `bytes` is then the window, which `annotationArray` moves forward between elements.
    var window: FileWindow?

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
      self.bytes = bytes
    }

    /// An error at the current position; `index` is that of an array element being read whose
    /// index is not in `path` (numbers in arrays are read without pushing it).
    func error(_ message: String, index: Int? = nil) -> JSONParseError {
      // Through a window, an error only means "read the whole file instead" (the window no
      // longer holds the lines before it): no line count for it.
      if window != nil { return JSONParseError(line: 0, column: 0, path: "", message: message) }
      var line = 1
      var lineStart = 0
      for i in 0..<min(position, bytes.count) where bytes[i] == UInt8(ascii: "\n") {
        line += 1
        lineStart = i + 1
      }
      var rendered = JSONReader.render(path)
      if let index { rendered += "[\(index)]" }
      return JSONParseError(line: line, column: position - lineStart + 1, path: rendered, message: message)
    }

    @inline(__always)
    mutating func skipWhitespace() {
      while position < bytes.count {
        switch bytes[position] {
        case 0x20, 0x0A, 0x0D, 0x09: position += 1
        default: return
        }
      }
    }

    /// At a container's opening `[` or `{`: moves past it and any whitespace, and past the
    /// `closing` byte too when the container is empty; returns whether it is.
    @inline(__always)
    mutating func openContainer(closing: UInt8) -> Bool {
      position += 1
      skipWhitespace()
      if position < bytes.count && bytes[position] == closing {
        position += 1
        return true
      }
      return false
    }

    /// After an array element: moves past whitespace and the `,` before the next element
    /// (returns false) or the closing `]` (returns true).
    @inline(__always)
    mutating func endOfArrayElement() throws(JSONParseError) -> Bool {
      skipWhitespace()
      guard position < bytes.count else { throw error("unexpected end of data in an array") }
      if bytes[position] == UInt8(ascii: ",") {
        position += 1
        return false
      }
      guard bytes[position] == UInt8(ascii: "]") else { throw error("expected ',' or ']' in an array") }
      position += 1
      return true
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
      guard position < bytes.count else { throw error("unexpected end of data") }
      switch bytes[position] {
      case UInt8(ascii: "{"): return try object(depth: depth + 1)
      case UInt8(ascii: "["): return try array(depth: depth + 1)
      case UInt8(ascii: "\""): return .string(try string())
      case UInt8(ascii: "t"): try literal("true"); return .bool(true)
      case UInt8(ascii: "f"): try literal("false"); return .bool(false)
      case UInt8(ascii: "n"): try literal("null"); return .null
      case UInt8(ascii: "N"): try literal("NaN"); return .double(.nan)
      case UInt8(ascii: "I"): try literal("Infinity"); return .double(.infinity)
      case UInt8(ascii: "-") where position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: "I"):
        position += 1
        try literal("Infinity")
        return .double(-.infinity)
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        let (double, int) = try number()
        if let int { return .int(int) }
        return .double(double)
      default:
        throw error("unexpected character '\(Character(Unicode.Scalar(bytes[position])))'")
      }
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
      let count = word.utf8CodeUnitCount
      guard position + count <= bytes.count else { throw error("unexpected end of data") }
      for i in 0..<count where bytes[position + i] != word.utf8Start[i] {
        throw error("invalid literal")
      }
      position += count
    }

    mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
      if depth > JSONReader.maxDepth { throw error("nesting deeper than \(JSONReader.maxDepth)") }
      var members: [(String, JSONValue)] = []
      if openContainer(closing: UInt8(ascii: "}")) { return .object(members) }
      while true {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
          throw error("expected a string key")
        }
        let key = try string()
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
          throw error("expected ':' after key \"\(key)\"")
        }
        position += 1
        skipWhitespace()
        path.append(.key(key))
        let value: JSONValue
        if readsCOCO && depth == 1 && !sawAnnotations && key == "annotations" {
          sawAnnotations = true
          if position < bytes.count && bytes[position] == UInt8(ascii: "[") {
            annotationRecords = try annotationArray(depth: depth)
            value = .array([])
          } else {
            value = try self.value(depth: depth)
          }
        } else {
          value = try self.value(depth: depth)
        }
        path.removeLast()
        members.append((key, value))
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of data in an object") }
        if bytes[position] == UInt8(ascii: ",") {
          position += 1
        } else if bytes[position] == UInt8(ascii: "}") {
          position += 1
          return .object(members)
        } else {
          throw error("expected ',' or '}' in an object")
        }
      }
    }

    mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
      if depth > JSONReader.maxDepth { throw error("nesting deeper than \(JSONReader.maxDepth)") }
      if openContainer(closing: UInt8(ascii: "]")) { return .array([]) }
      // Arrays of numbers (polygons, boxes, counts) are read into [Double] directly. While every
      // element so far is an integer literal, or every one a decimal, their type needs no record;
      // from the first mix on, one bit per element says which were integers. Arrays that mix
      // integer and decimal literals become `.array`, so every element keeps its type.
      numberScratch.removeAll(keepingCapacity: true)
      var integerBits: [UInt64] = []  // only once mixed
      var mixed = false
      var integers = 0
      var items: [JSONValue] = []
      var index = 0
      var allNumbers = true
      while true {
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of data in an array") }
        // While every element so far is a decimal, a run of decimals is read in one go; it leaves
        // `position` just past its last number and counts its elements in `index`.
        if !(allNumbers && integers == 0 && decimalRun(index: &index)) {
          if allNumbers && startsNumber() {
            let (double, int) = try number(index: index)
            if let int, Double(exactly: int) == nil {
              // An integer beyond 2^53 would lose precision as a Double: keep it exact.
              allNumbers = false
              items = JSONReader.typedItems(numberScratch, integerBits, mixed: mixed, allIntegers: integers == numberScratch.count)
              items.append(.int(int))
            } else {
              let i = numberScratch.count
              if !mixed && i > 0 && (int != nil) != (integers == i) {
                // The first element of the other type: record the types of those before it.
                mixed = true
                let word: UInt64 = integers == i ? ~0 : 0
                integerBits = [UInt64](repeating: word, count: (i + 63) >> 6)
                if i & 63 != 0 { integerBits[i >> 6] &= (1 << UInt64(i & 63)) - 1 }  // none past i − 1
              }
              if mixed {
                if i & 63 == 0 { integerBits.append(0) }
                if int != nil { integerBits[i >> 6] |= 1 << UInt64(i & 63) }
              }
              if int != nil { integers += 1 }
              numberScratch.append(double)
            }
          } else {
            if allNumbers {
              allNumbers = false
              items = JSONReader.typedItems(numberScratch, integerBits, mixed: mixed, allIntegers: integers == numberScratch.count)
            }
            path.append(.index(index))
            items.append(try value(depth: depth))
            path.removeLast()
          }
          index += 1
        }
        if try endOfArrayElement() {
          guard allNumbers else { return .array(items) }
          if integers == numberScratch.count { return .numbers(takeNumbers(), integral: true) }
          if integers == 0 { return .numbers(takeNumbers(), integral: false) }
          return .array(JSONReader.typedItems(numberScratch, integerBits, mixed: mixed, allIntegers: false))
        }
      }
    }

    /// Reads the decimals `ddd.ddd` (an optional minus, 1–7 integer digits without a leading zero,
    /// 1–15 fraction digits, at most 19 digits in all) from the element at `position` on, as long
    /// as each is followed by `", "` or `","` and another element, appending them to
    /// `numberScratch` and counting them in `index`. Returns whether it read any; if so, `position` is just past the
    /// last one read, else it is unchanged. Anything else (an integer, an exponent, more digits,
    /// other spacing, the end of the array) is left to the general path, which reads it, and
    /// reports it, as usual.
    ///
    /// Polygons are long arrays of such numbers, and reading them one byte test after another
    /// makes every number wait for several loads in turn (sign, digits, point, fraction, comma,
    /// space, next sign). Here one load of 24 bytes covers a short number and what follows it;
    /// the sign, the point, the fraction and the separator are cut from it by shifts, so the next
    /// number's position is ready after two digit-run masks. The values are those of
    /// `shortDecimal` and `longFraction`.
    ///
    /// The values wait in a small buffer on the stack and join `numberScratch` 64 at a time: an
    /// append per number costs a call to the runtime's uniqueness check.
    mutating func decimalRun(index: inout Int) -> Bool {
      // The scanner holds `self`: the scratch is moved out meanwhile (a swap, not a copy).
      var numbers: [Double] = []
      swap(&numbers, &numberScratch)
      defer { swap(&numbers, &numberScratch) }
      return scanDecimals(index: &index, into: &numbers) { digits in
        JSONReader.runDecimal(mantissa: digits.mantissa, fractionLength: digits.fractionLength).map {
          digits.negative ? -$0 : $0
        }
      }
    }

    /// `scanDecimals` appending each decimal, as `convert` makes it from its digits, to `out` (a
    /// number `convert` refuses, nil, ends the run there).
    /// The values wait in a buffer on the stack and join `out` 64 at a time.
    @inline(__always)
    mutating func scanDecimals<Element>(
      index: inout Int, into out: inout [Element], _ convert: (JSONReader.DecimalDigits) -> Element?
    ) -> Bool {
      withUnsafeTemporaryAllocation(of: Element.self, capacity: 64) { buffer in
        let pending = buffer.baseAddress!
        var waiting = 0
        let any = scanDecimals(index: &index) { digits in
          guard let value = convert(digits) else { return false }
          (pending + waiting).initialize(to: value)
          waiting &+= 1
          if waiting == 64 {
            out.append(contentsOf: UnsafeBufferPointer(start: pending, count: 64))
            waiting = 0
          }
          return true
        }
        out.append(contentsOf: UnsafeBufferPointer(start: pending, count: waiting))
        return any
      }
    }

    /// Whether the element at `position` is a number literal (not `-Infinity`, which `value`
    /// reads, like `NaN` and `Infinity`).
    func startsNumber() -> Bool {
      guard position < bytes.count else { return false }
      let c = bytes[position]
      return (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
        || (c == UInt8(ascii: "-") && !(position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: "I")))
    }

    /// The scanner of `decimalRun`: hands each decimal it reads to `take` as its text's digit
    /// words (`DecimalDigits`: the sign, at most 19 digits, 1...15 of them in the fraction). A
    /// number `take` refuses (returns false for) ends the run before it, as anything the scanner
    /// does not read. Returns whether any number was taken, and leaves `position` as
    /// `decimalRun` says.
    @inline(__always)
    mutating func scanDecimals(index: inout Int, _ take: (JSONReader.DecimalDigits) -> Bool) -> Bool {
      guard let base = bytes.baseAddress else { return false }
      let count = bytes.count
      var start = position
      var lastEnd = -1
      var read = 0
      defer { index += read }
      while start + 32 <= count {
        let a = load(base + start), b = load(base + start + 8), c = load(base + start + 16)
        let negative = a & 0xFF == UInt64(UInt8(ascii: "-"))
        let sign = negative ? 1 : 0
        // The 16 bytes after the sign.
        let w0 = negative ? (a >> 8) | (b << 56) : a
        let w1 = negative ? (b >> 8) | (c << 56) : b
        let integerLength = digitRunLength(w0)
        guard integerLength >= 1 && integerLength <= 7,
          integerLength == 1 || w0 & 0xFF != 0x30,
          (w0 >> UInt64(8 * integerLength)) & 0xFF == UInt64(UInt8(ascii: "."))
        else { break }
        // The 8 bytes after the point (integerLength + 1 is 2...8).
        let shift = UInt64(8 * (integerLength + 1))
        let fraction = shift == 64 ? w1 : (w0 >> shift) | (w1 << (64 - shift))
        let firstLength = digitRunLength(fraction)
        guard firstLength >= 1 else { break }
        var digits = JSONReader.DecimalDigits(
          negative: negative, integerWord: w0, integerLength: integerLength, fractionWord: fraction,
          firstLength: firstLength, moreWord: 0, moreLength: 0)
        let after: UInt64  // the two bytes after the number
        if firstLength <= 6 {
          after = (fraction >> UInt64(8 * firstLength)) & 0xFFFF
        } else if firstLength == 7 {
          after = load(base + start + sign + integerLength + 8) & 0xFFFF
        } else {
          // 8 fraction digits so far: up to 7 more (the shortest text of a computed double).
          let more = load(base + start + sign + integerLength + 9)
          let moreLength = digitRunLength(more)
          guard moreLength <= 7, integerLength + 8 + moreLength <= 19 else { break }
          digits.moreWord = more
          digits.moreLength = moreLength
          after = moreLength <= 6
            ? (more >> UInt64(8 * moreLength)) & 0xFFFF
            : load(base + start + sign + integerLength + 16) & 0xFFFF
        }
        let separated = after == 0x202C  // ", "
        let next = after & 0xFF
        // An exponent, or a character the general path reports, is left to it.
        guard separated || next == UInt64(UInt8(ascii: ",")) || next == UInt64(UInt8(ascii: "]"))
          || next == 0x20 || next == 0x0A || next == 0x0D || next == 0x09
        else { break }
        guard take(digits) else { break }
        read &+= 1
        lastEnd = start + sign + integerLength + 1 + digits.fractionLength
        // The next element starts after ", " or, in compact JSON, after ","; anything else there
        // (spacing, the end of the array) ends the run, and the general path goes on from the
        // separator.
        let step = separated ? 2 : next == UInt64(UInt8(ascii: ",")) ? 1 : 0
        if step == 0 { break }
        start = lastEnd + step
      }
      if lastEnd < 0 { return false }
      position = lastEnd
      return true
    }

    /// A new array of exactly the numbers in `numberScratch` (a copy: the scratch stays unique).
    func takeNumbers() -> [Double] {
      numberScratch.withUnsafeBufferPointer { source in
        [Double](unsafeUninitializedCapacity: source.count) { out, written in
          if let from = source.baseAddress, let to = out.baseAddress { to.initialize(from: from, count: source.count) }
          written = source.count
        }
      }
    }

    /// Reads a number; returns the double value and, for integer literals that fit, the integer.
    ///
    /// The grammar is checked first, then up to 19 significant digits accumulate into a 64-bit
    /// mantissa (8 digits per step where possible) and the value is computed exactly (see
    /// `JSONReader.decimal`); only numbers with more than 19 significant digits or a far
    /// exponent go through the C library's `strtod`.
    mutating func number(index: Int? = nil) throws(JSONParseError) -> (Double, Int64?) {
      let start = position
      var negative = false
      if bytes[position] == UInt8(ascii: "-") {
        negative = true
        position += 1
      }
      guard position < bytes.count else { throw error("unexpected end of data in a number", index: index) }
      if let value = shortDecimal(negative: negative) { return value }
      // The grammar first, recording where the integer and fraction digits are.
      let integerStart = position
      if bytes[position] == UInt8(ascii: "0") {
        position += 1
        if position < bytes.count && isDigit(bytes[position]) {
          throw error("leading zeros are not allowed in a number", index: index)
        }
      } else if isDigit(bytes[position]) {
        skipDigits()
      } else {
        throw error("invalid number", index: index)
      }
      let integerEnd = position
      var fractionStart = position, fractionEnd = position
      var isInteger = true
      if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
        isInteger = false
        position += 1
        guard position < bytes.count && isDigit(bytes[position]) else {
          throw error("expected digits after '.'", index: index)
        }
        fractionStart = position
        skipDigits()
        fractionEnd = position
      }
      var exponent = 0
      if position < bytes.count && (bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E")) {
        isInteger = false
        position += 1
        var exponentNegative = false
        if position < bytes.count && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")) {
          exponentNegative = bytes[position] == UInt8(ascii: "-")
          position += 1
        }
        guard position < bytes.count && isDigit(bytes[position]) else {
          throw error("expected digits in the exponent", index: index)
        }
        while position < bytes.count && isDigit(bytes[position]) {
          if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[position] &- 0x30) }
          position += 1
        }
        if exponentNegative { exponent = -exponent }
      }
      // Then the value: up to 19 significant digits fit a 64-bit mantissa exactly.
      var mantissa: UInt64 = 0
      var significant = 0
      if accumulate(integerStart, integerEnd, &mantissa, &significant)
        && accumulate(fractionStart, fractionEnd, &mantissa, &significant)
      {
        if isInteger && (negative ? mantissa <= UInt64(Int64.max) + 1 : mantissa <= UInt64(Int64.max)) {
          let int = negative ? Int64(truncatingIfNeeded: 0 &- mantissa) : Int64(mantissa)
          return (Double(int), int)
        }
        if let value = JSONReader.decimal(mantissa: mantissa, scale: exponent - (fractionEnd - fractionStart)) {
          return (negative ? -value : value, nil)
        }
      }
      let text = UnsafeBufferPointer(rebasing: bytes[start..<position])
      guard let double = Double(String(decoding: text, as: UTF8.self)) else {
        throw error("invalid number", index: index)
      }
      if !double.isFinite { throw error("number out of range", index: index) }
      return (double, nil)
    }

    /// The common short number, `ddd` or `ddd.dd` with at most 7 digits on each side (or 8–15
    /// fraction digits, continued by `longFraction`), read with a few word operations and no loop: the digit runs' lengths come from a mask of the 8 bytes
    /// that are digits, and their values from `digitValue`. Advances past the number and returns
    /// it; returns `nil` (leaving `position`) for anything else, which the general path reads,
    /// and reports, as usual.
    @inline(__always)
    mutating func shortDecimal(negative: Bool) -> (Double, Int64?)? {
      guard position + 16 <= bytes.count, let base = bytes.baseAddress else { return nil }
      let integerWord = load(base + position)
      let integerLength = digitRunLength(integerWord)
      // 1–7 digits, no leading zero (a lone 0 is fine).
      guard integerLength >= 1 && integerLength <= 7,
        integerLength == 1 || integerWord & 0xFF != 0x30
      else { return nil }
      let integer = digitValue(integerWord, length: integerLength)
      var end = position + integerLength
      var mantissa = integer
      var fractionLength = 0
      if base[end] == UInt8(ascii: ".") {
        let fractionWord = load(base + end + 1)
        fractionLength = digitRunLength(fractionWord)
        guard fractionLength >= 1 else { return nil }
        mantissa = integer &* JSONReader.integerPowersOfTen[fractionLength]
          &+ digitValue(fractionWord, length: fractionLength)
        end += 1 + fractionLength
        if fractionLength == 8 {
          return longFraction(negative: negative, integerLength: integerLength, mantissa: mantissa, end: end)
        }
      }
      // An exponent, or a digit run longer than handled here, goes the general way.
      if base[end] | 0x20 == UInt8(ascii: "e") { return nil }
      position = end
      if fractionLength == 0 {
        let int = negative ? -Int64(mantissa) : Int64(mantissa)
        return (Double(int), int)
      }
      // At most 14 digits: below 2^53, and 10^fractionLength is exact (Clinger's fast path).
      let value = Double(Int64(bitPattern: mantissa)) / JSONReader.powersOfTen[fractionLength]
      return (negative ? -value : value, nil)
    }

    /// `shortDecimal` past 8 fraction digits: the shortest round-trip text of an arbitrary double
    /// (what Python's `json` writes for computed coordinates, 15–17 significant digits). The
    /// mantissa so far holds the integer and 8 fraction digits, which end at `end`; one more word
    /// gives up to 7 more, and 19 significant digits at most still fit 64 bits exactly. The value
    /// is then `decimal`'s, as on the general path.
    @inline(__always)
    mutating func longFraction(
      negative: Bool, integerLength: Int, mantissa: UInt64, end: Int
    ) -> (Double, Int64?)? {
      guard end + 8 <= bytes.count, let base = bytes.baseAddress else { return nil }
      let word = load(base + end)
      let more = digitRunLength(word)
      guard more <= 7, integerLength + 8 + more <= 19, base[end + more] | 0x20 != UInt8(ascii: "e")
      else { return nil }
      // digitValue of no digit is 0.
      let full = mantissa &* JSONReader.integerPowersOfTen[more] &+ digitValue(word, length: more)
      guard let value = JSONReader.decimal(mantissa: full, scale: -(8 + more)) else { return nil }
      position = end + more
      return (negative ? -value : value, nil)
    }

    @inline(__always)
    func load(_ pointer: UnsafePointer<UInt8>) -> UInt64 {
      UInt64(littleEndian: UnsafeRawPointer(pointer).loadUnaligned(as: UInt64.self))
    }

    /// How many of the 8 bytes of `word`, from the first, are ASCII digits (0...8).
    @inline(__always)
    func digitRunLength(_ word: UInt64) -> Int {
      let highBits: UInt64 = 0x8080_8080_8080_8080
      // Per byte b, without carries between bytes: (b | 0x80) − 0x30 keeps its high bit when
      // b & 0x7F ≥ 0x30; (b | 0x80) − 0x3A keeps it when b & 0x7F ≥ 0x3A.
      let atLeastZero = (word | highBits) &- 0x3030_3030_3030_3030
      let aboveNine = (word | highBits) &- 0x3A3A_3A3A_3A3A_3A3A
      let digits = atLeastZero & ~aboveNine & ~word & highBits
      return (~digits & highBits).trailingZeroBitCount >> 3
    }

    @inline(__always)
    func digitValue(_ word: UInt64, length: Int) -> UInt64 { JSONReader.digitValue(word, length: length) }

    /// Moves past a run of ASCII digits, a word of 8 bytes at a time while it can.
    @inline(__always)
    mutating func skipDigits() {
      if let base = bytes.baseAddress {
        while position + 8 <= bytes.count {
          let run = digitRunLength(load(base + position))
          position += run
          if run < 8 { return }
        }
      }
      while position < bytes.count && isDigit(bytes[position]) { position += 1 }
    }

    /// Appends the digits in `from..<to` (all ASCII digits) to a decimal mantissa; leading zeros
    /// are not significant. Returns `false` past 19 significant digits.
    @inline(__always)
    func accumulate(_ from: Int, _ to: Int, _ mantissa: inout UInt64, _ significant: inout Int) -> Bool {
      var p = from
      while p < to {
        if mantissa != 0 && significant <= 11 && p + 8 <= to {
          mantissa = mantissa &* 100_000_000 &+ digitValue(load(bytes.baseAddress! + p), length: 8)
          significant += 8
          p += 8
          continue
        }
        let d = UInt64(bytes[p] &- 0x30)
        if mantissa != 0 || d != 0 {
          if significant == 19 { return false }
          mantissa = mantissa &* 10 &+ d
          significant += 1
        }
        p += 1
      }
      return true
    }

    @inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }


    mutating func string() throws(JSONParseError) -> String {
      position += 1  // opening quote
      let start = position
      // Fast path: no escapes.
      var bits: UInt8 = 0
      while position < bytes.count {
        let c = bytes[position]
        if c == UInt8(ascii: "\"") {
          let raw = UnsafeBufferPointer(rebasing: bytes[start..<position])
          position += 1
          // ASCII (keys, file names) is valid UTF-8 as it is; anything else is validated.
          if bits < 0x80 { return String(decoding: raw, as: UTF8.self) }
          guard let text = String(validating: raw, as: UTF8.self) else {
            throw error("invalid UTF-8 in a string")
          }
          return text
        }
        bits |= c
        if c == UInt8(ascii: "\\") { break }
        if c < 0x20 { throw error("control character in a string") }
        position += 1
      }
      var out = Array(bytes[start..<position])
      while position < bytes.count {
        let c = bytes[position]
        if c == UInt8(ascii: "\"") {
          position += 1
          guard let text = String(validating: out, as: UTF8.self) else {
            throw error("invalid UTF-8 in a string")
          }
          return text
        }
        if c < 0x20 { throw error("control character in a string") }
        if c != UInt8(ascii: "\\") {
          out.append(c)
          position += 1
          continue
        }
        position += 1
        guard position < bytes.count else { break }
        let e = bytes[position]
        position += 1
        switch e {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
          var scalar = try hex4()
          if (0xD800..<0xDC00).contains(scalar) {
            guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
              bytes[position + 1] == UInt8(ascii: "u")
            else { throw error("unpaired surrogate in a \\u escape") }
            position += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("invalid surrogate pair") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          } else if (0xDC00..<0xE000).contains(scalar) {
            throw error("unpaired surrogate in a \\u escape")
          }
          guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
          out.append(contentsOf: Array(String(Character(unicode)).utf8))
        default: throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
        }
      }
      throw error("unterminated string")
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
      guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
      var value: UInt32 = 0
      for _ in 0..<4 {
        let c = bytes[position]
        let digit: UInt32
        switch c {
        case 0x30...0x39: digit = UInt32(c - 0x30)
        case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
        case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
        default: throw error("invalid hex digit in a \\u escape")
        }
        value = value << 4 | digit
        position += 1
      }
      return value
    }
  }

  /// `mantissa · 10^scale` correctly rounded to the nearest double (ties to even), or `nil` when
  /// that needs more than this handles (the caller then uses `strtod`).
  ///
  /// - Clinger's fast path: a mantissa up to 2^53 and a power of ten up to 10^22 are both exact
  ///   doubles, so one IEEE multiplication or division rounds correctly.
  /// - Longer mantissas (up to 19 digits, as JSON writers print 17 for a round trip) divided by
  ///   up to 10^22: Eisel and Lemire's method (`longDecimal`).
  @inline(__always)
  static func decimal(mantissa: UInt64, scale: Int) -> Double? {
    if mantissa == 0 { return 0 }
    if mantissa <= 1 << 53 {
      // A signed conversion, one instruction (the unsigned one takes four on x86-64).
      let m = Double(Int64(bitPattern: mantissa))
      if scale >= 0 && scale <= 22 { return m * powersOfTen[scale] }
      if scale < 0 && scale >= -22 { return m / powersOfTen[-scale] }
      return nil
    }
    return longDecimal(mantissa: mantissa, scale: scale)
  }

  /// The value of a decimal of `decimalRun`'s form: `mantissa` (at most 19 digits) over
  /// 10^fractionLength (1...15). Up to 7 fraction digits the mantissa has at most 14 digits, below
  /// 2^53, and one division by an exact power of ten rounds correctly (Clinger's fast path);
  /// longer ones take Eisel and Lemire's method for every mantissa, not Clinger's division for
  /// those up to 2^53: the shortest texts of doubles have 16 or 17 digits and fall on either side
  /// of 2^53 at random, so choosing between the two would mispredict half the time.
  @inline(__always)
  static func runDecimal(mantissa: UInt64, fractionLength: Int) -> Double? {
    if fractionLength <= 7 {
      // (The conversion is the signed one, a single instruction: the mantissa is positive.)
      return Double(Int64(bitPattern: mantissa)) / powersOfTen[fractionLength]
    }
    if mantissa == 0 { return nil }
    return longDecimal(mantissa: mantissa, scale: -fractionLength)
  }

  /// `decimal` for mantissas above 2^53: the method of Eisel and Lemire (Lemire, "Number parsing
  /// at a gigabyte per second", 2021, as in fast_float), one or two 64 × 64-bit products with
  /// a 128-bit approximation of 10^scale. For a mantissa of up to 19 digits it always rounds
  /// correctly, ties to even included (Mushtak and Lemire, "Fast number parsing without
  /// fallback", 2023), so no fallback is needed in the range handled here.
  @inline(never)
  static func longDecimal(mantissa: UInt64, scale q: Int) -> Double? {
    guard q <= 0 && q >= -22 else { return nil }
    let zeros = mantissa.leadingZeroBitCount
    let w = mantissa << UInt64(zeros)
    var (high, low) = w.multipliedFullWidth(by: powersOfFive[2 &* -q])
    // The product's top 55 bits decide the result, unless the bits below them are all ones,
    // where the truncated low word of the power could carry into them.
    if high & 0x1FF == 0x1FF {
      let second = w.multipliedFullWidth(by: powersOfFive[2 &* -q &+ 1]).high
      low &+= second
      if second > low { high &+= 1 }
    }
    let upper = Int(high >> 63)
    let shift = UInt64(upper + 9)
    var significand = high >> shift
    // The binary exponent: ⌊q · log2(10)⌋ + 63 (exact for small q), then the normalisations.
    var exponent = (((152_170 + 65_536) &* q) >> 16) + 63 + upper - zeros + 1023
    // Exactly halfway between two doubles (only possible for small powers, 10^-4 ... 10^0 here):
    // round to even, that is down when the kept bit is even.
    if low <= 1 && q >= -4 && significand & 3 == 1 && significand << shift == high {
      significand &= ~1
    }
    significand += significand & 1
    significand >>= 1
    if significand >= 2 << 52 {
      significand = 1 << 52
      exponent += 1
    }
    return Double(bitPattern: UInt64(exponent) << 52 | (significand & ~(1 << 52)))
  }

  /// For k = 0 ... 22: 5^-k as 128 bits, high word at `2k`, low word at `2k + 1`, normalised
  /// (the top bit set) and rounded up: `⌊2^(127 + b) / 5^k⌋ + 1` with 2^b ≥ 5^k > 2^(b−1), and
  /// 2^127 for k = 0. Literal arrays are initialised statically; `PowerTableTests` recomputes it.
  static let powersOfFive: [UInt64] = [
    0x8000_0000_0000_0000, 0x0000_0000_0000_0000,  // 5^-0
    0xCCCC_CCCC_CCCC_CCCC, 0xCCCC_CCCC_CCCC_CCCD,  // 5^-1
    0xA3D7_0A3D_70A3_D70A, 0x3D70_A3D7_0A3D_70A4,  // 5^-2
    0x8312_6E97_8D4F_DF3B, 0x645A_1CAC_0831_26EA,  // 5^-3
    0xD1B7_1758_E219_652B, 0xD3C3_6113_404E_A4A9,  // 5^-4
    0xA7C5_AC47_1B47_8423, 0x0FCF_80DC_3372_1D54,  // 5^-5
    0x8637_BD05_AF6C_69B5, 0xA63F_9A49_C2C1_B110,  // 5^-6
    0xD6BF_94D5_E57A_42BC, 0x3D32_9076_0469_1B4D,  // 5^-7
    0xABCC_7711_8461_CEFC, 0xFDC2_0D2B_36BA_7C3E,  // 5^-8
    0x8970_5F41_36B4_A597, 0x3168_0A88_F895_3031,  // 5^-9
    0xDBE6_FECE_BDED_D5BE, 0xB573_440E_5A88_4D1C,  // 5^-10
    0xAFEB_FF0B_CB24_AAFE, 0xF78F_69A5_1539_D749,  // 5^-11
    0x8CBC_CC09_6F50_88CB, 0xF93F_87B7_442E_45D4,  // 5^-12
    0xE12E_1342_4BB4_0E13, 0x2865_A5F2_06B0_6FBA,  // 5^-13
    0xB424_DC35_095C_D80F, 0x5384_84C1_9EF3_8C95,  // 5^-14
    0x901D_7CF7_3AB0_ACD9, 0x0F9D_3701_4BF6_0A11,  // 5^-15
    0xE695_94BE_C44D_E15B, 0x4C2E_BE68_7989_A9B4,  // 5^-16
    0xB877_AA32_36A4_B449, 0x09BE_FEB9_FAD4_87C3,  // 5^-17
    0x9392_EE8E_921D_5D07, 0x3AFF_322E_6243_9FD0,  // 5^-18
    0xEC1E_4A7D_B695_61A5, 0x2B31_E9E3_D06C_32E6,  // 5^-19
    0xBCE5_0864_9211_1AEA, 0x88F4_BB1C_A6BC_F585,  // 5^-20
    0x971D_A050_74DA_7BEE, 0xD3F6_FC16_EBCA_5E04,  // 5^-21
    0xF1C9_0080_BAF7_2CB1, 0x5324_C68B_12DD_6339,  // 5^-22
  ]

  /// 10^0 ... 10^22, each exactly a double. Literal arrays are initialised statically.
  static let powersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
  ]

  /// The value of the first `length` (0...8) digits of `word` (little-endian: the first digit is
  /// the lowest byte; none is 0): digit pairs, then pairs of pairs, are combined with
  /// multiplications.
  @inline(__always)
  static func digitValue(_ word: UInt64, length: Int) -> UInt64 {
    // Move the digits to the top bytes; the bytes shifted in are 0, which read as digit 0.
    let shifted = word << UInt64(64 - 8 * length)
    var v = shifted & 0x0F0F_0F0F_0F0F_0F0F
    v = v &* 10 &+ (v >> 8)
    let lanes: UInt64 = 0x0000_00FF_0000_00FF
    let high = (v & lanes) &* (100 &+ (1_000_000 << 32))
    let low = ((v >> 16) & lanes) &* (1 &+ (10_000 << 32))
    return (high &+ low) >> 32
  }

  /// A decimal's text as `Parser.scanDecimals` reads it, `-`? integer `.` fraction, as the
  /// words that hold its digits (little-endian, the first digit in the lowest byte); the value
  /// is worked out only as far as the reader needs it.
  struct DecimalDigits {
    var negative: Bool
    /// Starts with the integer's `integerLength` (1...7) digits.
    var integerWord: UInt64
    var integerLength: Int
    /// The 8 bytes after the point, the first `firstLength` (1...8) of them digits.
    var fractionWord: UInt64
    var firstLength: Int
    /// With 8 digits in `fractionWord`, the next 8 bytes, the first `moreLength` (0...7) of them
    /// digits (0 and 0 otherwise).
    var moreWord: UInt64
    var moreLength: Int

    /// How many digits the fraction has (1...15).
    @inline(__always)
    var fractionLength: Int { firstLength &+ moreLength }

    /// The digits without the point, as an integer (at most 19 digits).
    @inline(__always)
    var mantissa: UInt64 {
      let head = JSONReader.digitValue(integerWord, length: integerLength) &* JSONReader.integerPowersOfTen[firstLength]
        &+ JSONReader.digitValue(fractionWord, length: firstLength)
      if firstLength < 8 { return head }
      return head &* JSONReader.integerPowersOfTen[moreLength] &+ JSONReader.digitValue(moreWord, length: moreLength)
    }
  }

  /// `PolygonRasterizer.upsample` of a non-negative decimal, from its integer and its first
  /// fraction digit alone unless it is near a step of the result; nil as
  /// `upsampledDecimal(mantissa:fractionLength:)`, which decides near a step.
  ///
  /// With the value I.F and F's first digit d, Z = 5·I.F + 1/2 = 5I + 5·0.F + 1/2, and 0.F lies
  /// in [d/10, (d + 1)/10), so ⌊Z⌋ = 5I + ⌊(d + 1)/2⌋: Z reaches an integer only at 0.F = d/10
  /// for an odd d (from above) or at (d + 1)/10 for an even d (from below). The six digits after
  /// d (0 past the end of the fraction) keep 0.F at least 10^-7 away from there unless they are
  /// all 0 (d odd) or all 9 (d even), so Z's fraction is at least 5·10^-7 from an integer, far
  /// more than the doubles' error in `upsample` (3·2^-53·Z, below 2·10^-8 for the at most 7
  /// integer digits read here): its truncation is ⌊Z⌋ too.
  @inline(__always)
  static func upsampledDecimal(_ digits: DecimalDigits) -> Int? {
    let d = Int(digits.fractionWord & 0x0F)
    let valid = digits.firstLength &- 1  // digits among the six after d (0...6 of them; 7 when 8)
    let six = (digits.fractionWord >> 8) & 0xFFFF_FFFF_FFFF
    let mask: UInt64 = valid >= 6 ? 0xFFFF_FFFF_FFFF : (1 << UInt64(8 &* valid)) &- 1
    let padded = six & mask | 0x3030_3030_3030 & ~mask
    let step: UInt64 = d & 1 != 0 ? 0x3030_3030_3030 : 0x3939_3939_3939
    if padded == step {
      return upsampledDecimal(mantissa: digits.mantissa, fractionLength: digits.fractionLength)
    }
    return 5 &* Int(digitValue(digits.integerWord, length: digits.integerLength)) &+ (d &+ 1) >> 1
  }

  /// `PolygonRasterizer.upsample` of the decimal `mantissa / 10^fractionLength` (non-negative,
  /// 1...15 fraction digits), computed from its digits without first rounding it to a double;
  /// nil when that is not certain to agree with `upsample` of its double, which then decides.
  ///
  /// `upsample` rounds three times: the decimal to the nearest double x, 5x, then + .5, each
  /// within half an ulp, so its sum z is within 3·2^-53·Z of the exact Z = 5v + 1/2, less than
  /// 3·2^-27 for Z below 2^26 (larger ones are left to the doubles). Its truncation is ⌊Z⌋
  /// unless Z's fraction is within that of 0 or 1. Here Z = n / 10^f with n = 5m + 10^f / 2, so
  /// ⌊Z⌋ and the fraction come from a quotient and its remainder; a fraction within 2^-24 of an
  /// integer (for f ≤ 7, only an exact integer, as 0.1 gives) is left to the doubles.
  ///
  /// The quotient is estimated with a 64 × 64-bit product by 2^(64+s) / 10^f, rounded down,
  /// instead of a division: n below 2^63 makes the estimate short by less than 1, so it is the
  /// quotient or one less, and one less puts the remainder at 10^f or more, which the same test
  /// refuses.
  @inline(__always)
  static func upsampledDecimal(mantissa m: UInt64, fractionLength f: Int) -> Int? {
    guard f >= 1 && f <= 15, m <= 1_800_000_000_000_000_000 else { return nil }
    let denominator = integerPowersOfTen[f]
    let n = 5 &* m &+ denominator >> 1
    let q = n.multipliedFullWidth(by: reciprocalsOfPowersOfTen[f]).high >> reciprocalShifts[f]
    let r = n &- q &* denominator  // at least 0: q is at most the quotient
    let margin = denominator >> 24
    guard q < 1 << 26, r > margin, r < denominator &- margin else { return nil }
    return Int(q)
  }

  /// ⌊2^(64+s) / 10^f⌋ for f = 1...15 (each in 2^63 ..< 2^64), with s = ⌊log2 10^f⌋ in
  /// `reciprocalShifts`; none for f = 0.
  static let reciprocalsOfPowersOfTen: [UInt64] = [
    0, 14757395258967641292, 11805916207174113034, 9444732965739290427, 15111572745182864683,
    12089258196146291747, 9671406556917033397, 15474250491067253436, 12379400392853802748,
    9903520314283042199, 15845632502852867518, 12676506002282294014, 10141204801825835211,
    16225927682921336339, 12980742146337069071, 10384593717069655257,
  ]
  static let reciprocalShifts: [UInt64] = [0, 3, 6, 9, 13, 16, 19, 23, 26, 29, 33, 36, 39, 43, 46, 49]

  /// 10^0 ... 10^19.
  static let integerPowersOfTen: [UInt64] = [
    1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
    10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000,
    1_000_000_000_000_000, 10_000_000_000_000_000, 100_000_000_000_000_000,
    1_000_000_000_000_000_000, 10_000_000_000_000_000_000,
  ]

  /// The numbers of an array as typed items: integers where `integerBits` says so (once the
  /// array mixed types), else all integers or all decimals.
  static func typedItems(_ numbers: [Double], _ integerBits: [UInt64], mixed: Bool, allIntegers: Bool) -> [JSONValue] {
    numbers.indices.map { i in
      let integer = mixed ? integerBits[i >> 6] & (1 << UInt64(i & 63)) != 0 : allIntegers
      return integer ? .int(Int64(numbers[i])) : .double(numbers[i])
    }
  }

  static func render(_ path: [PathComponent]) -> String {
    var out = ""
    for component in path {
      switch component {
      case .key(let key):
        if !out.isEmpty { out += "." }
        out += key
      case .index(let i): out += "[\(i)]"
      }
    }
    return out
  }
}
