import AnnotaEngine

extension JSONValue {
  var stringValue: String? {
    if case .string(let s) = self { s } else { nil }
  }

  var arrayValue: [JSONValue]? {
    switch self {
    case .array(let items): items
    case .numbers(let values, let integral): values.map { integral ? .int(Int64($0)) : .double($0) }
    default: nil
    }
  }

  var boolValue: Bool? {
    if case .bool(let b) = self { b } else { nil }
  }

  /// An id as text: integers as digits, strings as themselves.
  var idText: String? {
    switch self {
    case .int(let i): String(i)
    case .string(let s): s
    case .double(let d): d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    default: nil
    }
  }

  static func number(_ x: Double) -> JSONValue { .double(x) }
}
