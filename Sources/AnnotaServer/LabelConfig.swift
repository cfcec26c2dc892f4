/// The parts of a Label Studio labeling config (`label_config`, XML) that the backend uses.
///
/// Only what predictions need is read: `<RectangleLabels name toName smart>` with its
/// `<Label value>` children, `<Choices name toName>` with its `<Choice value>` children, and the
/// `<Image name value="$key">` objects (which task-data key holds the image URL). Everything
/// else (views, styles, other controls) is skipped. The parser is a small tag scanner: it
/// understands comments, CDATA, processing instructions, quoted attributes (single or double)
/// and the five predefined entities plus numeric character references.
public struct LabelConfig: Sendable, Equatable {
  /// A `<RectangleLabels>` control.
  public struct Rectangles: Sendable, Equatable {
    public var name: String
    public var toName: String
    public var labels: [String]
    /// `smart="true"`: Label Studio sends drawn boxes for interactive pre-annotation.
    public var smart: Bool

    public init(name: String, toName: String, labels: [String], smart: Bool) {
      self.name = name
      self.toName = toName
      self.labels = labels
      self.smart = smart
    }
  }

  /// A `<Choices>` control.
  public struct Choices: Sendable, Equatable {
    public var name: String
    public var toName: String
    public var values: [String]

    public init(name: String, toName: String, values: [String]) {
      self.name = name
      self.toName = toName
      self.values = values
    }
  }

  /// Image objects by name, with the task-data key of their URL (`value="$image"` → `image`).
  public var images: [String: String]
  public var rectangles: [Rectangles]
  public var choices: [Choices]

  /// The rectangle control predictions are written for: the first `<RectangleLabels>` whose
  /// `toName` is an `<Image>` and which has at least one label.
  public var primaryRectangles: Rectangles? {
    rectangles.first { images[$0.toName] != nil && !$0.labels.isEmpty }
  }

  /// Parses `text`.
  ///
  /// - Throws: `LabelConfigError` for text that is not well-formed enough to scan (an
  ///   unterminated tag, comment or attribute value) or a control without `name`/`toName`.
  /// - Complexity: O(text length).
  public init(parsing text: String) throws(LabelConfigError) {
    images = [:]
    rectangles = []
    choices = []
    let tags = try LabelConfig.scan(Array(text.utf8))
    // The control that `<Label>`/`<Choice>` children belong to (controls do not nest).
    enum Open { case none, rectangles(Int), choices(Int) }
    var open = Open.none
    for tag in tags {
      let name = tag.name.lowercased()
      if tag.closing {
        if name == "rectanglelabels" || name == "choices" { open = .none }
        continue
      }
      func required(_ key: String) throws(LabelConfigError) -> String {
        guard let v = tag.attributes[key], !v.isEmpty else {
          throw LabelConfigError(message: "<\(tag.name)> has no \(key)=\"...\" attribute")
        }
        return v
      }
      switch name {
      case "image":
        if let n = tag.attributes["name"], let v = tag.attributes["value"] {
          images[n] = v.hasPrefix("$") ? String(v.dropFirst()) : v
        }
      case "rectanglelabels":
        rectangles.append(Rectangles(
          name: try required("name"), toName: try required("toName"), labels: [],
          smart: (tag.attributes["smart"] ?? "").lowercased() == "true"))
        open = tag.selfClosing ? .none : .rectangles(rectangles.count - 1)
      case "choices":
        choices.append(Choices(name: try required("name"), toName: try required("toName"), values: []))
        open = tag.selfClosing ? .none : .choices(choices.count - 1)
      case "label":
        if case .rectangles(let i) = open, let v = tag.attributes["value"], !rectangles[i].labels.contains(v) {
          rectangles[i].labels.append(v)
        }
      case "choice":
        if case .choices(let i) = open, let v = tag.attributes["value"], !choices[i].values.contains(v) {
          choices[i].values.append(v)
        }
      default:
        break
      }
    }
  }

  struct Tag {
    var name: String
    var attributes: [String: String]
    var closing: Bool
    var selfClosing: Bool
  }

  /// Every start, end and empty-element tag in document order.
  static func scan(_ b: [UInt8]) throws(LabelConfigError) -> [Tag] {
    var tags: [Tag] = []
    var i = 0
    let n = b.count
    func starts(_ s: String, at j: Int) -> Bool {
      let u = Array(s.utf8)
      return j + u.count <= n && Array(b[j..<(j + u.count)]) == u
    }
    func skip(past terminator: String, from j: Int, what: String) throws(LabelConfigError) -> Int {
      let t = Array(terminator.utf8)
      var k = j
      while k + t.count <= n {
        if b[k] == t[0] && Array(b[k..<(k + t.count)]) == t { return k + t.count }
        k += 1
      }
      throw LabelConfigError(message: "unterminated \(what) at byte \(j)")
    }
    func isNameByte(_ c: UInt8) -> Bool {
      (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
        || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ":")
        || c == UInt8(ascii: ".") || c >= 0x80
    }
    func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
    while i < n {
      guard b[i] == UInt8(ascii: "<") else { i += 1; continue }
      if starts("<!--", at: i) { i = try skip(past: "-->", from: i, what: "comment"); continue }
      if starts("<![CDATA[", at: i) { i = try skip(past: "]]>", from: i, what: "CDATA section"); continue }
      if starts("<?", at: i) { i = try skip(past: "?>", from: i, what: "processing instruction"); continue }
      if starts("<!", at: i) { i = try skip(past: ">", from: i, what: "declaration"); continue }
      let tagStart = i
      i += 1
      var closing = false
      if i < n && b[i] == UInt8(ascii: "/") { closing = true; i += 1 }
      let nameStart = i
      while i < n && isNameByte(b[i]) { i += 1 }
      guard i > nameStart else {
        throw LabelConfigError(message: "'<' not followed by a tag name at byte \(tagStart)")
      }
      let name = String(decoding: b[nameStart..<i], as: UTF8.self)
      var attributes: [String: String] = [:]
      var selfClosing = false
      while true {
        while i < n && isSpace(b[i]) { i += 1 }
        guard i < n else { throw LabelConfigError(message: "unterminated tag <\(name)> at byte \(tagStart)") }
        if b[i] == UInt8(ascii: ">") { i += 1; break }
        if b[i] == UInt8(ascii: "/") && i + 1 < n && b[i + 1] == UInt8(ascii: ">") {
          selfClosing = true
          i += 2
          break
        }
        let keyStart = i
        while i < n && isNameByte(b[i]) { i += 1 }
        guard i > keyStart else {
          throw LabelConfigError(message: "unexpected character in tag <\(name)> at byte \(i)")
        }
        let key = String(decoding: b[keyStart..<i], as: UTF8.self)
        while i < n && isSpace(b[i]) { i += 1 }
        guard i < n, b[i] == UInt8(ascii: "=") else {
          attributes[key] = ""  // HTML-style bare attribute
          continue
        }
        i += 1
        while i < n && isSpace(b[i]) { i += 1 }
        guard i < n, b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "'") else {
          throw LabelConfigError(message: "attribute \(key) of <\(name)> is not quoted (byte \(i))")
        }
        let quote = b[i]
        i += 1
        let valueStart = i
        while i < n && b[i] != quote { i += 1 }
        guard i < n else {
          throw LabelConfigError(message: "unterminated value of attribute \(key) in <\(name)>")
        }
        attributes[key] = decodeEntities(b[valueStart..<i])
        i += 1
      }
      tags.append(Tag(name: name, attributes: attributes, closing: closing, selfClosing: selfClosing))
    }
    return tags
  }

  /// Attribute text with `&amp;`-style and numeric references replaced (unknown ones kept).
  static func decodeEntities(_ s: ArraySlice<UInt8>) -> String {
    let text = String(decoding: s, as: UTF8.self)
    guard text.contains("&") else { return text }
    var out = ""
    var rest = Substring(text)
    while let amp = rest.firstIndex(of: "&") {
      out += rest[..<amp]
      let after = rest[rest.index(after: amp)...]
      guard let semi = after.firstIndex(of: ";"), after.distance(from: after.startIndex, to: semi) <= 10 else {
        out += "&"
        rest = after
        continue
      }
      let entity = after[..<semi]
      var replacement: String?
      switch entity {
      case "amp": replacement = "&"
      case "lt": replacement = "<"
      case "gt": replacement = ">"
      case "quot": replacement = "\""
      case "apos": replacement = "'"
      default:
        if entity.hasPrefix("#x") || entity.hasPrefix("#X"), let v = UInt32(entity.dropFirst(2), radix: 16),
          let u = Unicode.Scalar(v)
        {
          replacement = String(Character(u))
        } else if entity.hasPrefix("#"), let v = UInt32(entity.dropFirst()), let u = Unicode.Scalar(v) {
          replacement = String(Character(u))
        }
      }
      if let replacement {
        out += replacement
        rest = after[after.index(after: semi)...]
      } else {
        out += "&"
        rest = after
      }
    }
    out += rest
    return out
  }
}

/// A labeling config the backend cannot read.
public struct LabelConfigError: Error, Sendable, Equatable, CustomStringConvertible {
  public var message: String
  public var description: String { "label_config: \(message)" }
}
