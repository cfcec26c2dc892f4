import AnnotaGeometry

/// Reading a COCO file's annotations straight into `COCOAnnotation`s.
///
/// `iou` and `agree` read their inputs only to compare them, so they need the typed annotations
/// and none of the JSON objects they came from. For them, the reader types each element of the
/// top-level `annotations` array as soon as it has read it, while its coordinates are still in
/// the cache, without building the object's member list, its keys or a JSON array per ring.
/// Whatever it does not expect (an escaped or non-ASCII key, a non-object element, mixed
/// integer and decimal coordinates, a syntax error, ...) sends that element through the general
/// reader and `COCODataset.parseAnnotation` as usual, so the result and every message are the
/// same as with the objects kept.

/// The members of an annotation object that `COCODataset` reads (the first of each name, as
/// `JSONValue`'s subscript finds it).
struct AnnotationFields {
  var id: JSONValue?
  var imageID: JSONValue?
  var categoryID: JSONValue?
  var bbox: JSONValue?
  /// A `bbox` of 4 finite numbers, read without a `JSONValue` (then `bbox` stays nil).
  var box: Box?
  var segmentation: SegmentationSource?
  var isCrowd: JSONValue?
  var area: JSONValue?
  var score: JSONValue?

  init() {}

  /// The fields of an object's members.
  init(_ members: [(String, JSONValue)]) {
    for (key, value) in members {
      switch key {
      case "id": if id == nil { id = value }
      case "image_id": if imageID == nil { imageID = value }
      case "category_id": if categoryID == nil { categoryID = value }
      case "bbox": if bbox == nil { bbox = value }
      case "segmentation": if segmentation == nil { segmentation = .json(value) }
      case "iscrowd": if isCrowd == nil { isCrowd = value }
      case "area": if area == nil { area = value }
      case "score": if score == nil { score = value }
      default: break
      }
    }
  }
}

/// A segmentation as read: a list of rings whose elements are all numbers (each ring one of
/// them), or any other JSON value.
enum SegmentationSource {
  case rings([[Double]])
  case upsampled(UpsampledPolygon)
  case json(JSONValue)
}

/// The elements of an `annotations` array as the reader hands them to `COCODataset`: the
/// annotations it typed, and the others with their index (in file order). `typed` holds, in file
/// order, the typed annotations and a placeholder (`COCOAnnotation.placeholder`) for each other
/// element that may still become one (`.fields` and `.json`), so that `COCODataset` types those
/// in place instead of building a second array.
struct AnnotationRecords {
  var typed: [COCOAnnotation] = []
  var others: [(index: Int, record: AnnotationRecord)] = []

  init() {}

  /// Records for `elements` (index and element, in file order), none typed yet.
  init(elements: [(index: Int, record: AnnotationRecord)]) {
    others = elements
    typed = elements.compactMap { $0.record.awaitsTyping ? .placeholder(index: $0.index) : nil }
  }

  /// Room for the annotations of `bytes` bytes of file, if each were as short as they come (a
  /// guess that only costs address space: the memory an array does not fill is not touched), so
  /// that `typed` is not copied each time it grows; at most a million.
  mutating func reserve(forBytes bytes: Int) {
    typed.reserveCapacity(min(max(bytes, 0) / 64, 1 << 20))
  }

  /// Adds element `index`, not typed, with its placeholder if it has one.
  mutating func add(_ record: AnnotationRecord, index: Int) {
    if record.awaitsTyping { typed.append(.placeholder(index: index)) }
    others.append((index, record))
  }
}

/// An element of the `annotations` array that the reader did not type.
enum AnnotationRecord {
  /// Typed, and found wrong.
  case failed(COCOIssue)
  /// Read, to be typed once the images are known (an RLE segmentation is checked against its
  /// image's size).
  case fields(AnnotationFields)
  /// The element itself.
  case json(JSONValue)

  /// Whether the element may still become an annotation (it has a placeholder in `typed`).
  var awaitsTyping: Bool {
    if case .failed = self { false } else { true }
  }
}

extension COCOAnnotation {
  /// Holds the place of element `index` of the `annotations` array until it is typed.
  static func placeholder(index: Int) -> COCOAnnotation {
    COCOAnnotation(id: 0, imageID: 0, categoryID: nil, bbox: nil, segmentation: nil, isCrowd: false,
                   area: nil, score: nil, index: index)
  }
}

extension JSONReader {
  /// Parses a COCO document, typing the elements of its top-level `annotations` array (the
  /// first member of that name, when it is an array) as it reads them. That member's value in
  /// the returned document is then an empty placeholder, and its elements are the records.
  static func parseCOCO(_ buffer: UnsafeBufferPointer<UInt8>) throws(JSONParseError)
    -> (document: JSONValue, records: AnnotationRecords?)
  {
    var reader = Parser(buffer)
    reader.readsCOCO = true
    reader.skipWhitespace()
    let value = try reader.value(depth: 0)
    reader.skipWhitespace()
    if reader.position != buffer.count { throw reader.error("unexpected data after the document") }
    return (value, reader.annotationRecords)
  }

  /// `parseCOCO` of the file `window` reads, through the window: the elements of the
  /// `annotations` array are read from a window that moves forward between them, so the file is
  /// never held whole (its part before that array and its part after it are).
  ///
  /// Returns nil when the file should be read whole and parsed with `parseCOCO(_:)` instead:
  /// after any error (that reading reports it, with its line and column) or a failed read.
  static func parseCOCO(_ window: FileWindow) -> (document: JSONValue, records: AnnotationRecords?)? {
    while true {
      var reader = Parser(window.bytes)
      reader.window = window
      reader.readsCOCO = true
      do throws(JSONParseError) {
        reader.skipWhitespace()
        let value = try reader.value(depth: 0)
        if !window.atEnd {
          // The document ended inside the window: what follows it must be whitespace only.
          let end = reader.position
          window.readToEnd()
          reader.bytes = window.bytes
          reader.position = end
        }
        reader.skipWhitespace()
        if reader.position != reader.bytes.count || window.failure != nil { return nil }
        return (value, reader.annotationRecords)
      } catch {
        // Before the `annotations` array, the window may have ended inside the document: read
        // on and start over. (Within that array the window moves on by itself, and after it
        // holds the rest of the file: an error there is one.)
        if window.atEnd || window.offset > 0 { return nil }
        window.grow()
      }
    }
  }
}

extension JSONReader.Parser {
  /// The top-level `annotations` array at `position`, typed element by element. On any error
  /// it reads the array again with the general reader, which reports it as for any document.
  mutating func annotationArray(depth: Int) throws(JSONParseError) -> AnnotationRecords {
    if let window { return try annotationArray(depth: depth, through: window) }
    let start = position, pathDepth = path.count
    do throws(JSONParseError) {
      var records = AnnotationRecords()
      records.reserve(forBytes: bytes.count - position)
      if openContainer(closing: UInt8(ascii: "]")) { return records }
      var index = 0
      repeat {
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of data in an array") }
        try readAnnotation(index: index, depth: depth + 1, into: &records)
        index += 1
      } while try !endOfArrayElement()
      return records
    } catch {
      position = start
      path.removeSubrange(pathDepth...)  // a throw leaves the components of where it happened
      _ = try value(depth: depth)
      throw error  // not reached: the general reader meets the same error first
    }
  }

  /// `annotationArray` through `window`, whose bytes are `bytes`. Before an element, when less
  /// than a quarter of the window is left, the window drops what was read and reads on. An element
  /// (with its whitespace and the `,` or `]` after it) that cannot be read is read again once the
  /// window holds more of the file, so one cut by the window's end is read whole; at the file's
  /// end, the error is one. After the array the window holds the rest of the file.
  mutating func annotationArray(depth: Int, through window: FileWindow) throws(JSONParseError)
    -> AnnotationRecords
  {
    let pathDepth = path.count
    @inline(__always) func moveWindow(keeping keep: Int) {
      window.advance(keeping: keep)
      bytes = window.bytes
      position -= keep
    }
    // Past the `[` and any whitespace (which may go on past the window).
    position += 1
    while true {
      skipWhitespace()
      if position < bytes.count || window.atEnd { break }
      moveWindow(keeping: position)
    }
    var records = AnnotationRecords()
    records.reserve(forBytes: window.fileSize - window.offset - position)
    if position < bytes.count && bytes[position] == UInt8(ascii: "]") {
      position += 1
    } else {
      var index = 0
      while true {
        if bytes.count - position < bytes.count / 4 && !window.atEnd { moveWindow(keeping: position) }
        let start = position, typed = records.typed.count, others = records.others.count
        do throws(JSONParseError) {
          skipWhitespace()
          guard position < bytes.count else { throw error("unexpected end of data in an array") }
          try readAnnotation(index: index, depth: depth + 1, into: &records)
          let last = try endOfArrayElement()
          index += 1
          if last { break }
        } catch {
          if window.atEnd { throw error }
          position = start
          path.removeSubrange(pathDepth...)
          records.typed.removeSubrange(typed...)
          records.others.removeSubrange(others...)
          moveWindow(keeping: position)
        }
      }
    }
    let end = position
    window.readToEnd()
    bytes = window.bytes
    position = end
    return records
  }

  /// Reads element `index` of the `annotations` array into `records`: typed when it is an
  /// object of the usual form, as JSON otherwise.
  mutating func readAnnotation(index: Int, depth: Int, into records: inout AnnotationRecords)
    throws(JSONParseError)
  {
    let start = position
    if bytes[position] == UInt8(ascii: "{"), let fields = try? annotationFields(depth: depth + 1) {
      if case .json? = fields.segmentation {
        records.add(.fields(fields), index: index)
        return
      }
      // No segmentation, or polygons: the images are not needed.
      switch COCODataset.parseAnnotation(fields, index: index, images: [], imageIndex: [:]) {
      case .success(let annotation): records.typed.append(annotation)
      case .failure(let issue): records.add(.failed(issue), index: index)
      }
      return
    }
    // (If the fast read threw, the element is not valid JSON: the general read below throws
    // too, and `annotationArray` starts the array over with a clean path.)
    position = start
    path.append(.index(index))
    records.add(.json(try value(depth: depth)), index: index)
    path.removeLast()
  }

  /// The fields of the annotation object at `position`, or nil (position anywhere) for one the
  /// general reader should read.
  mutating func annotationFields(depth: Int) throws(JSONParseError) -> AnnotationFields? {
    if depth > JSONReader.maxDepth { return nil }
    var fields = AnnotationFields()
    if openContainer(closing: UInt8(ascii: "}")) { return fields }
    while true {
      skipWhitespace()
      guard let key = annotationKey() else { return nil }
      skipWhitespace()
      guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return nil }
      position += 1
      skipWhitespace()
      guard position < bytes.count else { return nil }
      switch key {
      case .id where fields.id == nil: fields.id = try value(depth: depth)
      case .imageID where fields.imageID == nil: fields.imageID = try value(depth: depth)
      case .categoryID where fields.categoryID == nil: fields.categoryID = try value(depth: depth)
      case .bbox where fields.bbox == nil && fields.box == nil:
        if let box = box() { fields.box = box } else { fields.bbox = try value(depth: depth) }
      case .segmentation where fields.segmentation == nil: fields.segmentation = try segmentation(depth: depth)
      case .isCrowd where fields.isCrowd == nil: fields.isCrowd = try value(depth: depth)
      case .area where fields.area == nil: fields.area = try value(depth: depth)
      case .score where fields.score == nil: fields.score = try value(depth: depth)
      default: _ = try value(depth: depth)  // another member, or a repeated one
      }
      skipWhitespace()
      guard position < bytes.count else { return nil }
      if bytes[position] == UInt8(ascii: ",") {
        position += 1
      } else if bytes[position] == UInt8(ascii: "}") {
        position += 1
        return fields
      } else {
        return nil
      }
    }
  }

  enum AnnotationKey {
    case id, imageID, categoryID, bbox, segmentation, isCrowd, area, score, other
  }

  /// The key at `position` (a string of printable ASCII without escapes), leaving `position`
  /// past its closing quote; nil for anything else.
  mutating func annotationKey() -> AnnotationKey? {
    guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
    let start = position + 1
    var end = start
    while end < bytes.count {
      let c = bytes[end]
      if c == UInt8(ascii: "\"") { break }
      if c < 0x20 || c >= 0x80 || c == UInt8(ascii: "\\") { return nil }
      end += 1
    }
    guard end < bytes.count else { return nil }
    position = end + 1
    let key = UnsafeBufferPointer(rebasing: bytes[start..<end])
    @inline(__always) func equals(_ name: StaticString) -> Bool {
      name.utf8CodeUnitCount == key.count
        && name.withUTF8Buffer { $0.elementsEqual(key) }
    }
    switch key.count {
    case 2: return equals("id") ? .id : .other
    case 4: return equals("bbox") ? .bbox : equals("area") ? .area : .other
    case 5: return equals("score") ? .score : .other
    case 7: return equals("iscrowd") ? .isCrowd : .other
    case 8: return equals("image_id") ? .imageID : .other
    case 11: return equals("category_id") ? .categoryID : .other
    case 12: return equals("segmentation") ? .segmentation : .other
    default: return .other
    }
  }

  /// A segmentation value: its rings when it is a non-empty list of lists of numbers, upsampled
  /// (`upsampledSegmentation`) or else as the general reader gives `.numbers` for each; the JSON
  /// value otherwise.
  /// At a `bbox`: an array of exactly 4 finite numbers as a `Box`, leaving `position` past its
  /// `]` (without the array of numbers a `JSONValue` would allocate); nil, with `position` left
  /// where it was, for anything else, which `value` reads (and reports) as usual.
  mutating func box() -> Box? {
    let start = position
    guard position < bytes.count, bytes[position] == UInt8(ascii: "[") else { return nil }
    position += 1
    // A finite number, then `separator`.
    func value(then separator: Unicode.Scalar) -> Double? {
      skipWhitespace()
      guard startsNumber(), let (value, _) = try? number(), value.isFinite else { return nil }
      skipWhitespace()
      guard position < bytes.count, bytes[position] == UInt8(ascii: separator) else { return nil }
      position += 1
      return value
    }
    if let x = value(then: ","), let y = value(then: ","), let width = value(then: ","), let height = value(then: "]") {
      return Box(x: x, y: y, width: width, height: height)
    }
    position = start
    return nil
  }

  mutating func segmentation(depth: Int) throws(JSONParseError) -> SegmentationSource {
    let start = position
    if bytes[position] == UInt8(ascii: "[") {
      if depth + 2 <= JSONReader.maxDepth, let polygon = upsampledSegmentation() { return .upsampled(polygon) }
      position = start
      position += 1
      skipWhitespace()
      var rings: [[Double]] = []
      while position < bytes.count && bytes[position] == UInt8(ascii: "[") {
        guard case .numbers(let values, _) = try array(depth: depth + 2) else { break }
        rings.append(values)
        skipWhitespace()
        guard position < bytes.count else { break }
        if bytes[position] == UInt8(ascii: "]") {
          position += 1
          return .rings(rings)
        }
        guard bytes[position] == UInt8(ascii: ",") else { break }
        position += 1
        skipWhitespace()
      }
    }
    position = start
    return .json(try value(depth: depth))
  }

  /// The polygon segmentation at `position` (its `[`), each coordinate upsampled as the
  /// rasterizer does (`UpsampledPolygon`), leaving `position` past its closing `]`. Nil, with
  /// `position` anywhere, for anything else, which `segmentation` then reads with doubles and
  /// `COCODataset` reports as usual: no ring, a ring that is empty, too short or odd, an element
  /// that is not a finite number literal, an integer too large for a double, a syntax error.
  ///
  /// Decimals of `decimalRun`'s form go straight from their digits to the upsampled integer
  /// (`JSONReader.upsampledDecimal`), without the double in between, unless that could
  /// round differently; the others are read as doubles, then upsampled.
  mutating func upsampledSegmentation() -> UpsampledPolygon? {
    // Moved out of `self` while the scanner holds it (a swap, not a copy), emptied for the next.
    var coordinates: [Int32] = [], ends: [Int32] = []
    swap(&coordinates, &upsampledScratch)
    swap(&ends, &ringEndScratch)
    defer {
      coordinates.removeAll(keepingCapacity: true)
      ends.removeAll(keepingCapacity: true)
      swap(&coordinates, &upsampledScratch)
      swap(&ends, &ringEndScratch)
    }
    @inline(__always) func at(_ c: Unicode.Scalar) -> Bool { position < bytes.count && bytes[position] == UInt8(ascii: c) }
    position += 1
    skipWhitespace()
    repeat {
      guard at("[") else { return nil }
      position += 1
      skipWhitespace()
      if at("]") { return nil }  // an empty ring
      while true {
        var index = 0
        let scanned = scanDecimals(index: &index, into: &coordinates) { digits in
          if !digits.negative, let exact = JSONReader.upsampledDecimal(digits) { return Int32(truncatingIfNeeded: exact) }
          return JSONReader.runDecimal(mantissa: digits.mantissa, fractionLength: digits.fractionLength).map {
            Int32(truncatingIfNeeded: PolygonRasterizer.upsample(digits.negative ? -$0 : $0))
          }
        }
        if !scanned {
          // Any other number literal.
          guard startsNumber(), let (value, integer) = try? number(), value.isFinite else { return nil }
          if let integer, Double(exactly: integer) == nil { return nil }
          coordinates.append(Int32(truncatingIfNeeded: PolygonRasterizer.upsample(value)))
        }
        skipWhitespace()
        if at(",") {
          position += 1
          skipWhitespace()
          continue
        }
        guard at("]") else { return nil }
        position += 1
        break
      }
      guard coordinates.count < Int(Int32.max) else { return nil }
      ends.append(Int32(coordinates.count))
      skipWhitespace()
      if at("]") {
        position += 1
        if polygonStore == nil { polygonStore = UpsampledPolygonStore() }
        return coordinates.withUnsafeBufferPointer { xy in
          ends.withUnsafeBufferPointer { ends in try? UpsampledPolygon(coordinates: xy, ringEnds: ends, store: polygonStore) }
        }
      }
      guard at(",") else { return nil }
      position += 1
      skipWhitespace()
    } while true
  }
}
