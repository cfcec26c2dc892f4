import AnnotaGeometry
import AnnotaEngine
import Foundation

/// testdata/golden/masks.json, produced by pycocotools (see testdata/golden/make_golden.py).
/// Read with Annota's JSON reader: Foundation's JSONSerialization does not round every double
/// correctly, which would fail bit-exact comparisons by one ulp.
nonisolated(unsafe) let golden: [String: Any] = {  // read-only after initialisation
  let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("testdata/golden/masks.json").path
  guard let bytes = try? FileIO.read(path), let value = try? JSONReader.parse(bytes) else { return [:] }
  return plain(value) as? [String: Any] ?? [:]
}()

/// JSONValue → Foundation-style values (Int, NSNumber(Double), String, arrays, dictionaries).
func plain(_ value: JSONValue) -> Any {
  switch value {
  case .null: return NSNull()
  case .bool(let b): return b
  case .int(let i): return Int(i)
  case .double(let d): return NSNumber(value: d)
  case .string(let s): return s
  case .array(let items): return items.map(plain)
  case .numbers(let values, let integral):
    return integral ? values.map { Int($0) } as [Any] : values.map { NSNumber(value: $0) } as [Any]
  case .object(let members):
    var out: [String: Any] = [:]
    for (k, v) in members { out[k] = plain(v) }
    return out
  }
}

/// A golden case, wrapped so that Swift Testing can show and pass it.
struct Case: @unchecked Sendable, CustomTestStringConvertible {  // read-only dictionary
  let index: Int
  let fields: [String: Any]
  var testDescription: String { "#\(index) \(fields["kind"] as? String ?? "")" }
  subscript(key: String) -> Any? { fields[key] }
  var h: Int { fields["h"] as! Int }
  var w: Int { fields["w"] as! Int }
  func doubles(_ key: String) -> [Double] { numbers(fields[key]!) }
}

/// Numbers from a plain array (integers or doubles).
func numbers(_ value: Any) -> [Double] {
  (value as! [Any]).map { ($0 as? Int).map(Double.init) ?? ($0 as! NSNumber).doubleValue }
}

func cases(_ key: String) -> [Case] {
  (golden[key] as? [[String: Any]] ?? []).enumerated().map { Case(index: $0.offset, fields: $0.element) }
}


import Testing
