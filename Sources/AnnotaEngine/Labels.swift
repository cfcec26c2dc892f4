/// One labeled row of a label file.
public struct LabeledRow: Sendable, Hashable {
  /// Row index into the features.
  public var index: Int
  /// Class name as written.
  public var label: String
  /// 1-based line in the file (for messages).
  public var line: Int
}

/// A problem with one line of a label file; the line is skipped and the rest are used.
public struct LabelIssue: Error, Sendable, Hashable, CustomStringConvertible {
  public var path: String
  public var line: Int
  public var message: String
  public var description: String { "\(path):\(line): \(message)" }
}

/// Label files: CSV with a header `index,label`, one row index into the features and a class
/// (name or id) per line. Quoted fields (`"a, b"`, `""` for a quote) are read as CSV.
public enum LabelFile {
  /// Reads a label file against features with `rowCount` rows.
  ///
  /// A missing or wrong header, or an unreadable file, is fatal (thrown). A bad line (index not
  /// an integer, out of range, repeated, or an empty label) is an issue: reported, skipped.
  public static func read(_ path: String, rowCount: Int) throws(FileError)
    -> (rows: [LabeledRow], issues: [LabelIssue])
  {
    let text = String(decoding: try FileIO.read(path), as: UTF8.self)
    var rows: [LabeledRow] = []
    var issues: [LabelIssue] = []
    var seen: [Int: Int] = [:]
    var lineNumber = 0
    var sawHeader = false
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
      lineNumber += 1
      let line = raw.last == "\r" ? raw.dropLast() : raw
      if line.allSatisfy({ $0 == " " }) { continue }
      let fields = splitCSV(line)
      if !sawHeader {
        guard fields.count >= 2, fields[0].lowercased() == "index", fields[1].lowercased() == "label"
        else {
          throw FileError(path: path, message: "line \(lineNumber): the header must be 'index,label' (got '\(line)')")
        }
        sawHeader = true
        continue
      }
      guard fields.count >= 2 else {
        issues.append(LabelIssue(path: path, line: lineNumber, message: "expected 'index,label', got '\(line)'"))
        continue
      }
      guard let index = Int(fields[0].trimmingCharacters(in: " ")) else {
        issues.append(LabelIssue(path: path, line: lineNumber, message: "index '\(fields[0])' is not an integer"))
        continue
      }
      guard index >= 0 && index < rowCount else {
        issues.append(LabelIssue(path: path, line: lineNumber, message: "index \(index) is outside the features (0..<\(rowCount))"))
        continue
      }
      let label = fields[1].trimmingCharacters(in: " ")
      guard !label.isEmpty else {
        issues.append(LabelIssue(path: path, line: lineNumber, message: "row \(index) has an empty label"))
        continue
      }
      if let first = seen[index] {
        issues.append(LabelIssue(path: path, line: lineNumber, message: "row \(index) is already labeled on line \(first)"))
        continue
      }
      seen[index] = lineNumber
      rows.append(LabeledRow(index: index, label: label, line: lineNumber))
    }
    if !sawHeader { throw FileError(path: path, message: "empty label file (expected a header 'index,label')") }
    return (rows, issues)
  }

  /// Class names in a stable order: numerically when every name is an integer, else by string.
  public static func classOrder(_ names: some Sequence<String>) -> [String] {
    let unique = Array(Set(names))
    if unique.allSatisfy({ Int($0) != nil }) { return unique.sorted { Int($0)! < Int($1)! } }
    return unique.sorted()
  }

  /// The fields of one CSV line.
  static func splitCSV(_ line: Substring) -> [String] {
    var fields: [String] = []
    var current = ""
    var quoted = false
    var iterator = line.makeIterator()
    var pending: Character? = nil
    while let ch = pending ?? iterator.next() {
      pending = nil
      if quoted {
        if ch == "\"" {
          if let next = iterator.next() {
            if next == "\"" { current.append("\"") } else {
              quoted = false
              pending = next
            }
          } else {
            quoted = false
          }
        } else {
          current.append(ch)
        }
      } else if ch == "\"" && current.isEmpty {
        quoted = true
      } else if ch == "," {
        fields.append(current)
        current = ""
      } else {
        current.append(ch)
      }
    }
    fields.append(current)
    return fields
  }

  /// A CSV field, quoted when it needs to be.
  static func csvField(_ s: String) -> String {
    if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
      var q = "\""
      for ch in s { q += ch == "\"" ? "\"\"" : String(ch) }
      return q + "\""
    }
    return s
  }
}
