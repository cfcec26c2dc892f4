public import AnnotaGeometry

/// A problem with one part of a COCO file, named by its JSON path
/// (`annotations[812].segmentation[0][5]`) and, for annotations, its id.
public struct COCOIssue: Error, Sendable, Hashable, CustomStringConvertible {
  public enum Severity: String, Sendable, Hashable {
    case error
    case warning
  }

  public var severity: Severity
  /// JSON path of the offending value.
  public var path: String
  /// The annotation id, when the issue concerns an annotation.
  public var annotationID: Int64?
  public var message: String

  public init(_ severity: Severity = .error, path: String, annotationID: Int64? = nil,
              message: String) {
    self.severity = severity
    self.path = path
    self.annotationID = annotationID
    self.message = message
  }

  public var description: String {
    let id = annotationID.map { " (annotation id \($0))" } ?? ""
    return "\(path)\(id): \(message)"
  }
}

/// A COCO file that cannot be used at all (not JSON, no `annotations` array, ...).
public struct COCOFileError: Error, Sendable, CustomStringConvertible {
  public var path: String
  public var message: String
  public var description: String { "\(path): \(message)" }
}

/// An image record.
public struct COCOImage: Sendable, Hashable {
  public var id: Int64
  public var width: Int
  public var height: Int
  public var fileName: String?
  /// Index in the file's `images` array.
  public var index: Int
}

/// A segmentation as found in the file.
public enum Segmentation: Sendable, Hashable {
  /// Polygon rings.
  case polygons(Polygon)
  /// Polygon rings read only to be rasterized, their coordinates upsampled as the rasterizer
  /// does (the readers of `iou` and `agree` keep these: same masks, half the memory).
  case upsampledPolygons(UpsampledPolygon)
  /// RLE with a list of counts ("uncompressed"), validated.
  case uncompressedRLE(RLE)
  /// RLE with a compressed `counts` string, validated.
  case compressedRLE(RLE, String)

  /// Whether the shape is polygons (either kind), rasterized on its image's size.
  public var isPolygon: Bool {
    switch self {
    case .polygons, .upsampledPolygons: true
    case .uncompressedRLE, .compressedRLE: false
    }
  }
}

/// An annotation record (typed view; the JSON object itself is kept for writing).
public struct COCOAnnotation: Sendable {
  public var id: Int64
  public var imageID: Int64
  public var categoryID: Int64?
  public var bbox: Box?
  public var segmentation: Segmentation?
  public var isCrowd: Bool
  public var area: Double?
  public var score: Double?
  /// Index in the file's `annotations` array.
  public var index: Int

  /// `annotations[index]`.
  public var path: String { "annotations[\(index)]" }
}

extension COCOAnnotation {
  /// Reads the first word of each ring's coordinates (0 without polygons), so that a caller
  /// can bring an image's shapes into the cache together before rasterizing them one by one:
  /// files list annotations in any order, so each shape is a few cache misses (annotation,
  /// rings, coordinates) that would otherwise come one after the other.
  @inline(__always)
  public var touchPolygonStorage: Int {
    switch segmentation {
    case .upsampledPolygons(let polygon)?: return polygon.touch
    case .polygons(let polygon)?:
      var sum = 0
      for ring in polygon.rings where !ring.isEmpty { sum &+= Int(ring[0].bitPattern & 1) }
      return sum
    default: return 0
    }
  }

  /// The mask as foreground intervals (`RLE.intervals`' form), with its size, area and bounding
  /// box, for an annotation of an image of `imageHeight × imageWidth`: polygons are rasterized
  /// straight to intervals on that size (with `scratch` for the rasterizer's temporaries if
  /// given), an RLE keeps its own (checked against its image's on reading). `nil` without a
  /// segmentation.
  public func maskIntervals(imageHeight: Int, imageWidth: Int, scratch: RasterizerScratch? = nil)
    -> (height: Int, width: Int, intervals: [Int], area: Int, box: Box)?
  {
    switch segmentation {
    case nil: return nil
    case .uncompressedRLE(let rle)?, .compressedRLE(let rle, _)?:
      return (rle.height, rle.width, rle.intervals, rle.area, rle.boundingBox)
    case .polygons(let polygon)?:
      let (intervals, area, box) = polygon.maskIntervals(height: imageHeight, width: imageWidth, scratch: scratch)
      return (imageHeight, imageWidth, intervals, area, box)
    case .upsampledPolygons(let polygon)?:
      let (intervals, area, box) = polygon.maskIntervals(height: imageHeight, width: imageWidth, scratch: scratch)
      return (imageHeight, imageWidth, intervals, area, box)
    }
  }
}

/// A COCO dataset: typed views of images, annotations and categories, and the document they
/// came from, so that writing it back keeps every field — unknown keys included — in order.
public struct COCODataset: Sendable {
  /// The whole document's top-level members, in file order.
  public private(set) var document: [(String, JSONValue)]
  public private(set) var images: [COCOImage]
  /// Annotations that parsed; the others are in `issues`.
  public private(set) var annotations: [COCOAnnotation]
  /// Category id → name.
  public private(set) var categories: [Int64: String]
  /// Problems found while reading (bad annotations are left out of `annotations`).
  public private(set) var issues: [COCOIssue]
  /// Image id → index in `images`.
  public private(set) var imageIndex: [Int64: Int]
  /// The raw annotation objects, indexed like the file's `annotations` array; empty when the
  /// dataset was read without them (`keepsAnnotationObjects`).
  public private(set) var annotationObjects: [JSONValue]
  /// Whether `annotationObjects` (and so `document`'s annotations) were kept: a dataset read
  /// only to compare its annotations skips building them.
  public private(set) var keepsAnnotationObjects: Bool

  /// Reads a COCO file.
  ///
  /// With `keepingAnnotationObjects` false, the annotations are typed as they are read and
  /// their JSON objects are not kept (`annotationObjects` is empty): for reading a file only to
  /// compare its annotations, which is faster. The annotations and issues are the same.
  ///
  /// - Throws: `COCOFileError` if the file cannot be read, is not JSON, or lacks an
  ///   `annotations` array. Problems in single records are collected in `issues` instead.
  public static func load(_ path: String, keepingAnnotationObjects: Bool = true) throws(COCOFileError) -> COCODataset {
    var buffer: [UInt8] = []
    return try load(path, buffer: &buffer, keepingAnnotationObjects: keepingAnnotationObjects)
  }

  /// `load`, reading the file into `buffer` (reused when large enough: see `FileIO.read(_:into:)`),
  /// or without the annotation objects through a window of `window` bytes.
  static func load(_ path: String, buffer: inout [UInt8], keepingAnnotationObjects: Bool = true,
                   window: Int = readingWindow) throws(COCOFileError) -> COCODataset
  {
    if !keepingAnnotationObjects, let window = try? FileWindow(path: path, capacity: window),
       let (json, records) = JSONReader.parseCOCO(window)
    {
      return try COCODataset(json: json, typedRecords: records, source: path)
    }
    // Whole: with the annotation objects kept, or when the windowed reading met an error (this
    // reading reports it, with its line and column).
    let count: Int
    do { count = try FileIO.read(path, into: &buffer) } catch {
      throw COCOFileError(path: path, message: error.message)
    }
    return try buffer.withUnsafeBufferPointer { (bytes) throws(COCOFileError) in
      try parse(UnsafeBufferPointer(rebasing: bytes[..<count]), source: path,
                keepingAnnotationObjects: keepingAnnotationObjects)
    }
  }

  /// The window (bytes) through which a file read without its annotation objects is read: small
  /// enough to stay in the cache (see `FileWindow`), large enough that moving it costs little.
  static let readingWindow = 1 << 19

  /// Reads a COCO document from its text; `source` names it in errors. See `load`.
  public static func parse(_ text: UnsafeBufferPointer<UInt8>, source: String = "<memory>",
                           keepingAnnotationObjects: Bool = true) throws(COCOFileError) -> COCODataset
  {
    let json: JSONValue
    var records: AnnotationRecords?
    do throws(JSONParseError) {
      if keepingAnnotationObjects { json = try JSONReader.parse(text) } else { (json, records) = try JSONReader.parseCOCO(text) }
    } catch {
      throw COCOFileError(path: source, message: "not valid JSON: \(error.description)")
    }
    if keepingAnnotationObjects { return try COCODataset(json: json, source: source) }
    return try COCODataset(json: json, typedRecords: consume records, source: source)
  }

  /// Reads several COCO files in parallel (at most `runner.maxConcurrency` at once).
  ///
  /// - Returns: one result per path, in order.
  public static func loadAll(_ paths: [String], runner: BatchRunner, keepingAnnotationObjects: Bool = true) async
    -> [Result<COCODataset, COCOFileError>]
  {
    var results: [Result<COCODataset, COCOFileError>] = []
    if runner.maxConcurrency == 1 {
      // One after the other through one buffer, sized for the largest file: its memory is
      // touched once, not once per file. (Its bytes are only ever read after `read` wrote them.)
      // Files read without their annotation objects go through a window instead, and need it
      // only for the rare file read whole.
      let largest = keepingAnnotationObjects
        ? min(paths.compactMap { FileIO.size(of: $0) }.max() ?? 0, FileIO.defaultMaxBytes) : 0
      var buffer = [UInt8](unsafeUninitializedCapacity: largest) { _, count in count = largest }
      for path in paths {
        do throws(COCOFileError) { results.append(.success(try load(path, buffer: &buffer, keepingAnnotationObjects: keepingAnnotationObjects))) } catch {
          results.append(.failure(error))
        }
      }
      return results
    }
    await runner.forEach(paths, { path throws(COCOFileError) in
      try COCODataset.load(path, keepingAnnotationObjects: keepingAnnotationObjects)
    }) { index, result in
      switch result {
      case .success(let dataset): results.append(.success(dataset))
      case .failure(let error as COCOFileError): results.append(.failure(error))
      case .failure(let error): results.append(.failure(COCOFileError(path: paths[index], message: "\(error)")))
      }
    }
    return results
  }

  /// Interprets a parsed document.
  public init(json: JSONValue, source: String = "<memory>") throws(COCOFileError) {
    guard case .object(let members) = json else {
      throw COCOFileError(path: source, message: "the top level is not a JSON object")
    }
    // The first member named "annotations" counts, as for every key.
    let records = json["annotations"]?.elements
    let others = records.map { Array($0.enumerated().lazy.map { (index: $0.offset, record: AnnotationRecord.json($0.element)) }) }
    try self.init(members: members, records: others.map { AnnotationRecords(elements: $0) }, objects: records, source: source)
  }

  /// Interprets a document whose annotations the reader has typed already (`JSONReader.parseCOCO`);
  /// the `annotations` member of `members` is then a placeholder and no annotation objects are
  /// kept.
  init(json: JSONValue, typedRecords: consuming AnnotationRecords?, source: String) throws(COCOFileError) {
    guard case .object(let members) = json else {
      throw COCOFileError(path: source, message: "the top level is not a JSON object")
    }
    try self.init(members: members, records: consume typedRecords, objects: nil, source: source)
  }

  /// `records` is nil when the document has no `annotations` array.
  private init(members: [(String, JSONValue)], records annotationRecords: consuming AnnotationRecords?,
               objects: [JSONValue]?, source: String) throws(COCOFileError) {
    let json = JSONValue.object(members)
    document = members
    images = []
    annotations = []
    categories = [:]
    issues = []
    imageIndex = [:]

    // Images.
    if let records = json["images"]?.elements {
      for (i, record) in records.enumerated() {
        let path = "images[\(i)]"
        guard let id = record["id"]?.integer else {
          issues.append(COCOIssue(path: path + ".id", message: "missing or non-integer image id"))
          continue
        }
        guard let width = record["width"]?.integer, let height = record["height"]?.integer,
          width >= 0, height >= 0, width <= 1 << 31, height <= 1 << 31
        else {
          issues.append(COCOIssue(path: path, message: "image \(id) lacks a valid width and height"))
          continue
        }
        if imageIndex[id] != nil {
          issues.append(COCOIssue(path: path + ".id", message: "duplicate image id \(id)"))
          continue
        }
        var fileName: String?
        if case .string(let name)? = record["file_name"] { fileName = name }
        imageIndex[id] = images.count
        images.append(COCOImage(id: id, width: Int(width), height: Int(height), fileName: fileName, index: i))
      }
    } else if json["images"] != nil {
      throw COCOFileError(path: source, message: "\"images\" is not an array")
    }

    // Categories.
    if let records = json["categories"]?.elements {
      for (i, record) in records.enumerated() {
        guard let id = record["id"]?.integer else {
          issues.append(COCOIssue(path: "categories[\(i)].id", message: "missing or non-integer category id"))
          continue
        }
        if categories[id] != nil {
          issues.append(COCOIssue(path: "categories[\(i)].id", message: "duplicate category id \(id)"))
        }
        if case .string(let name)? = record["name"] { categories[id] = name } else { categories[id] = "" }
      }
    }

    // Annotations.
    guard var records = consume annotationRecords else {
      throw COCOFileError(path: source, message: "no \"annotations\" array")
    }
    annotationObjects = objects ?? []
    keepsAnnotationObjects = objects != nil
    // The elements the reader did not type, typed now that the images are known.
    // (`placed`: it has a placeholder in `records.typed`.)
    let others = records.others.map { index, record -> (index: Int, placed: Bool, result: Result<COCOAnnotation, COCOIssue>) in
      switch record {
      case .failed(let issue): (index, false, .failure(issue))
      case .fields(let fields): (index, true, COCODataset.parseAnnotation(fields, index: index, images: images, imageIndex: imageIndex))
      case .json(let json): (index, true, COCODataset.parseAnnotation(json, index: index, images: images, imageIndex: imageIndex))
      }
    }
    // In file order: the annotations, typed in place where the reader left a placeholder (an
    // element that failed drops out), and the issues, with those of duplicate ids.
    annotations = records.typed
    records.typed = []  // so that `annotations` holds the only reference: no copy on writing
    var seen: Set<Int64> = []
    seen.reserveCapacity(annotations.count)
    func checkID(_ id: Int64, index: Int) {
      if !seen.insert(id).inserted {
        issues.append(COCOIssue(path: "annotations[\(index)].id", annotationID: id, message: "duplicate annotation id \(id)"))
      }
    }
    // Through a pointer: a copy of an annotation costs a retain, and a cache miss on its
    // polygon's storage, which is not otherwise needed here (36,000 of them in a COCO-sized
    // file). `t` walks the array; `dropped` placeholders so far, each later one moves down as many.
    var t = 0, dropped = 0
    annotations.withUnsafeMutableBufferPointer { slots in
      func checkTyped(before index: Int) {
        while t < slots.count && slots[t].index < index {
          checkID(slots[t].id, index: slots[t].index)
          if dropped > 0 { slots[t - dropped] = slots[t] }
          t += 1
        }
      }
      for (index, placed, result) in others {
        checkTyped(before: index)  // now at this element's placeholder, if it has one
        switch result {
        case .success(let annotation):
          checkID(annotation.id, index: index)
          slots[t - dropped] = annotation
        case .failure(let issue):
          issues.append(issue)
          if placed { dropped += 1 }
        }
        if placed { t += 1 }
      }
      checkTyped(before: .max)
    }
    annotations.removeLast(dropped)
  }

  static func parseAnnotation(
    _ record: JSONValue, index: Int, images: [COCOImage], imageIndex: [Int64: Int]
  ) -> Result<COCOAnnotation, COCOIssue> {
    guard case .object(let members) = record else {
      return .failure(COCOIssue(path: "annotations[\(index)]", message: "not an object"))
    }
    return parseAnnotation(AnnotationFields(members), index: index, images: images, imageIndex: imageIndex)
  }

  /// The annotation `annotations[index]` of the given members. `images` and `imageIndex` are
  /// only used for an RLE segmentation (whose size must be its image's).
  static func parseAnnotation(
    _ record: AnnotationFields, index: Int, images: [COCOImage], imageIndex: [Int64: Int]
  ) -> Result<COCOAnnotation, COCOIssue> {
    // The path is formatted only for an error (a heap string per annotation otherwise).
    func path(_ subpath: String) -> String { "annotations[\(index)]" + subpath }
    guard let id = record.id?.integer else {
      return .failure(COCOIssue(path: path(".id"), message: "missing or non-integer annotation id"))
    }
    func fail(_ subpath: String, _ message: String) -> Result<COCOAnnotation, COCOIssue> {
      .failure(COCOIssue(path: path(subpath), annotationID: id, message: message))
    }
    guard let imageID = record.imageID?.integer else {
      return fail(".image_id", "missing or non-integer image_id")
    }
    var annotation = COCOAnnotation(
      id: id, imageID: imageID, categoryID: record.categoryID?.integer, bbox: nil,
      segmentation: nil, isCrowd: false, area: record.area?.number,
      score: record.score?.number, index: index)
    if let crowd = record.isCrowd {
      switch crowd {
      case .bool(let b): annotation.isCrowd = b
      default:
        guard let value = crowd.integer, value == 0 || value == 1 else {
          return fail(".iscrowd", "iscrowd must be 0 or 1")
        }
        annotation.isCrowd = value == 1
      }
    }
    if let box = record.box {
      annotation.bbox = box
    } else if let bbox = record.bbox {
      guard let values = bbox.numberArray, values.count == 4 else {
        return fail(".bbox", "bbox must be 4 numbers [x, y, width, height]")
      }
      if let bad = values.firstIndex(where: { !$0.isFinite }) {
        return fail(".bbox[\(bad)]", "bbox value is NaN or infinite")
      }
      annotation.bbox = Box(x: values[0], y: values[1], width: values[2], height: values[3])
    }
    if let segmentation = record.segmentation {
      let result: Result<Segmentation?, COCOIssue>
      switch segmentation {
      case .rings(let rings): result = polygonSegmentation(rings)
      case .upsampled(let polygon): result = .success(.upsampledPolygons(polygon))
      case .json(let json): result = parseSegmentation(json, image: imageIndex[imageID].map { images[$0] })
      }
      switch result {
      case .success(let value): annotation.segmentation = value
      case .failure(let issue):
        return fail(".segmentation" + issue.path, issue.message)
      }
    }
    return .success(annotation)
  }

  /// Parses a segmentation value; errors carry a path relative to `segmentation`.
  static func parseSegmentation(_ value: JSONValue, image: COCOImage?) -> Result<Segmentation?, COCOIssue> {
    switch value {
    case .array(let rings):
      if rings.isEmpty { return .success(nil) }
      var parsed: [[Double]] = []
      for (r, ring) in rings.enumerated() {
        guard let numbers = ring.numberArray else {
          if case .array(let items) = ring, let bad = items.firstIndex(where: { $0.number == nil }) {
            return .failure(COCOIssue(path: "[\(r)][\(bad)]", message: "polygon coordinate is not a number"))
          }
          return .failure(COCOIssue(path: "[\(r)]", message: "polygon ring is not a list of numbers"))
        }
        parsed.append(numbers)
      }
      return polygonSegmentation(parsed)
    case .numbers:
      return .failure(COCOIssue(path: "", message: "segmentation is a flat list; polygons must be a list of rings"))
    case .object:
      guard let size = value["size"]?.numberArray, size.count == 2,
        let h = Int(exactly: size[0]), let w = Int(exactly: size[1]), h >= 0, w >= 0
      else {
        return .failure(COCOIssue(path: ".size", message: "RLE size must be [height, width]"))
      }
      if let image, image.height != h || image.width != w {
        return .failure(COCOIssue(path: ".size", message: "RLE size [\(h), \(w)] differs from image \(image.id)'s [\(image.height), \(image.width)]"))
      }
      switch value["counts"] {
      case .string(let text)?:
        do {
          return .success(.compressedRLE(try RLE(height: h, width: w, compressed: text), text))
        } catch {
          return .failure(COCOIssue(path: ".counts", message: error.description))
        }
      case .some(let counts):
        guard let numbers = counts.numberArray else {
          if case .array(let items) = counts, items.isEmpty {
            return .failure(COCOIssue(path: ".counts", message: "RLE counts are empty"))
          }
          return .failure(COCOIssue(path: ".counts", message: "RLE counts must be a string or a list of integers"))
        }
        var ints: [Int] = []
        ints.reserveCapacity(numbers.count)
        for (i, n) in numbers.enumerated() {
          guard let v = Int(exactly: n) else {
            return .failure(COCOIssue(path: ".counts[\(i)]", message: "RLE count is not an integer"))
          }
          ints.append(v)
        }
        do {
          return .success(.uncompressedRLE(try RLE(height: h, width: w, counts: ints)))
        } catch {
          if case .negativeCount(let i) = error {
            return .failure(COCOIssue(path: ".counts[\(i)]", message: error.description))
          }
          return .failure(COCOIssue(path: ".counts", message: error.description))
        }
      case nil:
        return .failure(COCOIssue(path: ".counts", message: "RLE lacks counts"))
      }
    default:
      return .failure(COCOIssue(path: "", message: "segmentation must be polygons or an RLE object"))
    }
  }

  /// A polygon segmentation of these rings, validated; errors carry a path relative to
  /// `segmentation`.
  static func polygonSegmentation(_ rings: [[Double]]) -> Result<Segmentation?, COCOIssue> {
    do {
      return .success(.polygons(try Polygon(rings: rings).validated()))
    } catch {
      switch error {
      case let .nonFiniteCoordinate(ring, index):
        return .failure(COCOIssue(path: "[\(ring)][\(index)]", message: "polygon coordinate is NaN or infinite"))
      case let .tooFewPoints(ring, _), let .oddCoordinateCount(ring, _):
        return .failure(COCOIssue(path: "[\(ring)]", message: error.description))
      default:
        return .failure(COCOIssue(path: "", message: error.description))
      }
    }
  }

  /// The image an annotation belongs to, or `nil` if the id dangles.
  public func image(of annotation: COCOAnnotation) -> COCOImage? {
    imageIndex[annotation.imageID].map { images[$0] }
  }

  /// The mask of an annotation's segmentation, as pycocotools' `annToRLE`: polygons are
  /// rasterized and merged on the image's size, RLE is used as is.
  ///
  /// - Returns: `nil` when the annotation has no segmentation.
  /// - Throws: `COCOIssue` if polygons refer to a missing image.
  public func mask(of annotation: COCOAnnotation) throws(COCOIssue) -> RLE? {
    switch annotation.segmentation {
    case nil: return nil
    case .uncompressedRLE(let rle)?, .compressedRLE(let rle, _)?: return rle
    case .polygons(let polygon)?:
      let image = try polygonImage(of: annotation)
      return polygon.rle(height: image.height, width: image.width)
    case .upsampledPolygons(let polygon)?:
      let image = try polygonImage(of: annotation)
      return polygon.rle(height: image.height, width: image.width)
    }
  }

  /// The mask of an annotation as foreground intervals (`RLE.intervals`' form), with its size,
  /// area and bounding box: what an `RLESet` keeps. Polygons are rasterized straight to
  /// intervals, without counts, with `scratch` for the rasterizer's temporaries if given.
  ///
  /// - Returns: `nil` when the annotation has no segmentation.
  /// - Throws: `COCOIssue` if polygons refer to a missing image.
  public func maskIntervals(of annotation: COCOAnnotation, scratch: RasterizerScratch? = nil) throws(COCOIssue)
    -> (height: Int, width: Int, intervals: [Int], area: Int, box: Box)?
  {
    var size = (height: 0, width: 0)
    if annotation.segmentation?.isPolygon == true {
      let image = try polygonImage(of: annotation)
      size = (image.height, image.width)
    }
    return annotation.maskIntervals(imageHeight: size.height, imageWidth: size.width, scratch: scratch)
  }

  /// The size of an annotation's mask, without building it; nil without a segmentation.
  ///
  /// - Throws: `COCOIssue` if polygons refer to a missing image (as `maskIntervals(of:)`).
  public func maskSize(of annotation: COCOAnnotation) throws(COCOIssue) -> (height: Int, width: Int)? {
    switch annotation.segmentation {
    case nil: return nil
    case .uncompressedRLE(let rle)?, .compressedRLE(let rle, _)?: return (rle.height, rle.width)
    case .polygons?, .upsampledPolygons?:
      let image = try polygonImage(of: annotation)
      return (image.height, image.width)
    }
  }

  /// `mask(of:)` and the mask's `boundingBox`; for polygons the box is found while rasterizing.
  public func maskWithBox(of annotation: COCOAnnotation) throws(COCOIssue) -> (rle: RLE, box: Box)? {
    switch annotation.segmentation {
    case nil: return nil
    case .uncompressedRLE(let rle)?, .compressedRLE(let rle, _)?: return (rle, rle.boundingBox)
    case .polygons(let polygon)?:
      let image = try polygonImage(of: annotation)
      return polygon.rleWithBox(height: image.height, width: image.width)
    case .upsampledPolygons(let polygon)?:
      let image = try polygonImage(of: annotation)
      return polygon.rleWithBox(height: image.height, width: image.width)
    }
  }

  /// The image whose size a polygon annotation is rasterized on.
  private func polygonImage(of annotation: COCOAnnotation) throws(COCOIssue) -> COCOImage {
    guard let image = image(of: annotation) else {
      throw COCOIssue(path: annotation.path + ".image_id", annotationID: annotation.id,
                      message: "image \(annotation.imageID) is not in images; polygons need its size")
    }
    return image
  }

  /// Annotations grouped by image id, each group in file order; image ids in first-seen order.
  public func annotationsByImage() -> [(Int64, [COCOAnnotation])] {
    annotationIndicesByImage().map { imageID, indices in (imageID, indices.map { annotations[$0] }) }
  }

  /// `annotationsByImage()` as indices into `annotations`, for callers that read a few fields of
  /// each annotation and need no copies of them.
  public func annotationIndicesByImage() -> [(Int64, [Int])] {
    var slots: [Int64: Int] = [:]
    var order: [Int64] = []
    var sizes: [Int] = []
    var slotOf = [Int](repeating: 0, count: annotations.count)
    for k in annotations.indices {
      let imageID = annotations[k].imageID
      if let slot = slots[imageID] {
        slotOf[k] = slot
        sizes[slot] += 1
      } else {
        slots[imageID] = order.count
        slotOf[k] = order.count
        order.append(imageID)
        sizes.append(1)
      }
    }
    var groups = sizes.map { size in
      var group: [Int] = []
      group.reserveCapacity(size)
      return group
    }
    for k in annotations.indices { groups[slotOf[k]].append(k) }
    return Array(zip(order, groups))
  }

  /// The document with some annotation objects replaced (index in the `annotations` array →
  /// new object), every other field kept as read.
  public func document(replacingAnnotations replacements: [Int: JSONValue]) -> JSONValue {
    precondition(keepsAnnotationObjects, "the dataset was read without its annotation objects")
    var objects = annotationObjects
    for (index, object) in replacements { objects[index] = object }
    return .object(document.map { key, value in key == "annotations" ? (key, .array(objects)) : (key, value) })
  }
}

extension JSONValue {
  /// An object with `key` set to `value`: replaced in place if present, appended otherwise.
  public func setting(_ key: String, _ value: JSONValue) -> JSONValue {
    guard case .object(var members) = self else { return self }
    if let i = members.firstIndex(where: { $0.0 == key }) {
      members[i].1 = value
    } else {
      members.append((key, value))
    }
    return .object(members)
  }
}

extension RLE {
  /// COCO's compressed RLE object, `{"size": [h, w], "counts": "..."}`.
  public var cocoJSON: JSONValue {
    .object([
      ("size", .numbers([Double(height), Double(width)], integral: true)),
      ("counts", .string(compressedString)),
    ])
  }
}

extension Box {
  /// `[x, y, w, h]` as JSON numbers (floats, as pycocotools' `toBbox` gives them).
  public var cocoJSON: JSONValue { .numbers([x, y, width, height], integral: false) }
}

extension JSONBytes {
  /// A box as COCO writes it, `[x,y,width,height]` (the bytes of `value(box.cocoJSON)`).
  mutating func box(_ box: Box) {
    bytes.append(UInt8(ascii: "["))
    double(box.x)
    bytes.append(UInt8(ascii: ","))
    double(box.y)
    bytes.append(UInt8(ascii: ","))
    double(box.width)
    bytes.append(UInt8(ascii: ","))
    double(box.height)
    bytes.append(UInt8(ascii: "]"))
  }
}
