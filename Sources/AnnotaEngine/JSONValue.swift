/// A JSON document as a value. Objects keep their keys in insertion order, so a document read and
/// written back keeps its layout and every key, known or not.
public enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  /// An integer that fits in 64 bits (kept exact; JSON numbers without fraction or exponent).
  case int(Int64)
  case double(Double)
  case string(String)
  case array([JSONValue])
  /// An array of numbers, stored compactly (8 bytes each). The reader produces it for every
  /// non-empty array whose elements are all integer literals (`integral`, written back as
  /// integers) or all decimal literals; an array mixing the two is an `.array`, so every number
  /// keeps its type on a round trip.
  case numbers([Double], integral: Bool)
  case object([(String, JSONValue)])

  public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.null, .null): true
    case let (.bool(a), .bool(b)): a == b
    case let (.int(a), .int(b)): a == b
    case let (.double(a), .double(b)): a == b
    case let (.string(a), .string(b)): a == b
    case let (.array(a), .array(b)): a == b
    case let (.numbers(a, ia), .numbers(b, ib)): a == b && ia == ib
    case let (.numbers(a, ia), .array(b)), let (.array(b), .numbers(a, ia)):
      a.count == b.count
        && zip(a, b).allSatisfy { x, v in
          switch v {
          case .int(let i): ia && Double(i) == x
          case .double(let d): !ia && d == x
          default: false
          }
        }
    case let (.object(a), .object(b)):
      a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: false
    }
  }

  /// The elements of an array as numbers, or `nil` if it is not an array of numbers.
  public var numberArray: [Double]? {
    switch self {
    case .numbers(let values, _): return values
    case .array(let items):
      var out: [Double] = []
      out.reserveCapacity(items.count)
      for item in items {
        switch item {
        case .int(let i): out.append(Double(i))
        case .double(let d): out.append(d)
        default: return nil
        }
      }
      return out
    default: return nil
    }
  }

  /// The value as a number, or `nil`.
  public var number: Double? {
    switch self {
    case .int(let i): Double(i)
    case .double(let d): d
    default: nil
    }
  }

  /// The value as an exact integer (an integer literal, or an integral double), or `nil`.
  public var integer: Int64? {
    switch self {
    case .int(let i): i
    case .double(let d): Int64(exactly: d)
    default: nil
    }
  }

  /// The elements of an array (an array of numbers as `.int` and `.double` values), or `nil`.
  public var elements: [JSONValue]? {
    switch self {
    case .array(let items): items
    case .numbers(let values, let integral): JSONReader.typedItems(values, [], mixed: false, allIntegers: integral)
    default: nil
    }
  }

  /// The value of `key` in an object (first occurrence), or `nil`.
  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.first { $0.0 == key }?.1
  }

  /// Compact JSON text.
  ///
  /// Doubles are written in the shortest form that reads back to the same value (Python's
  /// `repr`); non-finite doubles as Python writes them.
  public func serialized() -> String {
    String(decoding: serializedBytes(), as: UTF8.self)
  }

  /// Compact JSON as UTF-8 bytes.
  public func serializedBytes() -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(4096)
    write(to: &out)
    return out
  }

  /// Compact JSON handed to `emit` in pieces of about `chunk` bytes, in order, so a large document
  /// is never in memory whole (`FileIO.writeAtomically(to:_:)` takes them straight to a file).
  /// The concatenated pieces are exactly `serializedBytes()`.
  public func serialize(chunk: Int = 1 << 20, _ emit: (UnsafeRawBufferPointer) -> Void) {
    var out: [UInt8] = []
    out.reserveCapacity(chunk + 4096)
    write(to: &out, chunk: chunk, emit)
    out.withUnsafeBytes(emit)
  }

  /// Appends compact JSON text to `out`.
  public func write(to out: inout String) {
    out += serialized()
  }

  /// Appends compact JSON as UTF-8 to `out`.
  ///
  /// - Complexity: O(size of the output).
  public func write(to out: inout [UInt8]) {
    write(to: &out, chunk: .max) { _ in }
  }

  /// `write(to:)` that hands `out` to `emit` and empties it whenever it has reached `chunk`
  /// bytes between two elements of an array or object.
  func write(to out: inout [UInt8], chunk: Int, _ emit: (UnsafeRawBufferPointer) -> Void) {
    @inline(__always) func flushIfFull() {
      if out.count >= chunk {
        out.withUnsafeBytes(emit)
        out.removeAll(keepingCapacity: true)
      }
    }
    switch self {
    case .null: out.append(contentsOf: "null".utf8)
    case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
    case .int(let i): JSONValue.writeInteger(i, to: &out)
    case .double(let d): JSONValue.writeNumber(d, to: &out)
    case .string(let s): JSONValue.writeString(s, to: &out)
    case .array(let items):
      out.append(UInt8(ascii: "["))
      for (i, item) in items.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        flushIfFull()
        item.write(to: &out, chunk: chunk, emit)
      }
      out.append(UInt8(ascii: "]"))
    case .numbers(let values, let integral):
      out.append(UInt8(ascii: "["))
      for (i, value) in values.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        if i & 1023 == 1023 { flushIfFull() }
        if integral, let exact = Int64(exactly: value) {
          JSONValue.writeInteger(exact, to: &out)
        } else {
          JSONValue.writeNumber(value, to: &out)
        }
      }
      out.append(UInt8(ascii: "]"))
    case .object(let members):
      out.append(UInt8(ascii: "{"))
      for (i, (key, value)) in members.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        flushIfFull()
        JSONValue.writeString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        value.write(to: &out, chunk: chunk, emit)
      }
      out.append(UInt8(ascii: "}"))
    }
  }

  static func writeInteger(_ value: Int64, to out: inout [UInt8]) {
    out.append(contentsOf: String(value).utf8)  // a small string: no allocation
  }

  /// Writes a double the way Python's `json` module does (`repr`): shortest round-trip digits,
  /// integral values with a `.0`, so a file written here reads back with the same types; NaN and
  /// infinities as Python writes them (`NaN`, `Infinity`, `-Infinity`).
  static func writeNumber(_ d: Double, to out: inout [UInt8]) {
    if d.isNaN {
      out.append(contentsOf: "NaN".utf8)
    } else if d.isInfinite {
      out.append(contentsOf: (d < 0 ? "-Infinity" : "Infinity").utf8)
    } else {
      out.append(contentsOf: d.description.utf8)
    }
  }

  static func writeString(_ s: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    var text = s
    text.withUTF8 { bytes in
      // Escaped piece by piece into a buffer of the longest possible result (six bytes per byte,
      // `\u00XX`), each piece appended at once: strings such as compressed RLE counts hold a
      // backslash every few dozen bytes, and an append per unescaped run costs more.
      let piece = 4096
      withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 6 * min(bytes.count, piece)) { buffer in
        guard let to = buffer.baseAddress else { return }
        var from = 0
        while from < bytes.count {
          let upTo = min(from + piece, bytes.count)
          var n = 0
          for i in from..<upTo {
            let byte = bytes[i]
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
              to[n] = byte
              n &+= 1
              continue
            }
            to[n] = UInt8(ascii: "\\")
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
              to[n + 1] = byte
              n &+= 2
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
              to[n + 1] = byte == UInt8(ascii: "\n") ? UInt8(ascii: "n") : byte == UInt8(ascii: "\r") ? UInt8(ascii: "r") : UInt8(ascii: "t")
              n &+= 2
            default:
              let hex: StaticString = "0123456789abcdef"
              to[n + 1] = UInt8(ascii: "u")
              to[n + 2] = UInt8(ascii: "0")
              to[n + 3] = UInt8(ascii: "0")
              to[n + 4] = hex.utf8Start[Int(byte >> 4)]
              to[n + 5] = hex.utf8Start[Int(byte & 0xF)]
              n &+= 6
            }
          }
          out.append(contentsOf: UnsafeBufferPointer(start: to, count: n))
          from = upTo
        }
      }
    }
    out.append(UInt8(ascii: "\""))
  }
}

/// Compact JSON written straight into bytes, for documents too large to build as `JSONValue`s
/// first (a consensus of tens of thousands of masks). Each piece is written as `JSONValue`'s
/// serializer writes it, so a document built here is byte for byte the serialization of the same
/// values; the caller places the punctuation (`raw`).
struct JSONBytes {
  var bytes: [UInt8] = []

  init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

  mutating func raw(_ text: StaticString) {
    text.withUTF8Buffer { bytes.append(contentsOf: $0) }
  }

  /// Bytes that are JSON already (a literal the caller built, such as `RLE.jsonLiteral`'s).
  mutating func raw(_ json: [UInt8]) { bytes.append(contentsOf: json) }

  /// `"key":`
  /// A key that needs no escape (the writers' own names), quoted as it is.
  mutating func key(_ key: StaticString) {
    key.withUTF8Buffer { text in
      assert(text.allSatisfy { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }, "\(key) needs escapes")
      bytes.append(UInt8(ascii: "\""))
      bytes.append(contentsOf: text)
      bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }
  }

  /// Any key, escaped as JSON needs.
  mutating func key(escaping key: String) {
    JSONValue.writeString(key, to: &bytes)
    bytes.append(UInt8(ascii: ":"))
  }

  /// `key(escaping:)`'s bytes, for a key written many times.
  static func keyBytes(_ key: String) -> [UInt8] {
    var out = JSONBytes()
    out.key(escaping: key)
    return out.bytes
  }

  mutating func int(_ value: Int64) { JSONValue.writeInteger(value, to: &bytes) }
  mutating func int(_ value: Int) { JSONValue.writeInteger(Int64(value), to: &bytes) }
  mutating func double(_ value: Double) { JSONValue.writeNumber(value, to: &bytes) }
  mutating func string(_ value: String) { JSONValue.writeString(value, to: &bytes) }
  mutating func value(_ value: JSONValue) { value.write(to: &bytes) }

  /// An integer, or `null`.
  mutating func int(_ value: Int64?) {
    if let value { int(value) } else { raw("null") }
  }

  /// A double, or `null`.
  mutating func double(_ value: Double?) {
    if let value { double(value) } else { raw("null") }
  }

  /// Hands the bytes to `emit` and empties them once there are at least `chunk`.
  mutating func flush(atLeast chunk: Int, _ emit: (UnsafeRawBufferPointer) -> Void) {
    if bytes.count >= chunk {
      bytes.withUnsafeBytes(emit)
      bytes.removeAll(keepingCapacity: true)
    }
  }
}
