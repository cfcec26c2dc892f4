import Foundation
@testable import AnnotaEngine
import AnnotaGeometry
import Testing

/// Reading a COCO document without its annotation objects (`keepingAnnotationObjects: false`,
/// as `iou` and `agree` do) must give exactly what reading it with them gives: the same
/// annotations, issues, images, categories and other members, and the same error for a file
/// that is not JSON. Read from a file, through windows of every size, it must give the same
/// again.
@Suite("COCO reader without annotation objects")
struct COCOReaderTests {
  /// One annotation's fields, in a form `#expect` compares.
  static func summary(_ a: COCOAnnotation) -> String {
    "\(a.index) id=\(a.id) image=\(a.imageID) category=\(String(describing: a.categoryID)) "
      + "bbox=\(String(describing: a.bbox)) crowd=\(a.isCrowd) area=\(String(describing: a.area)) "
      + "score=\(String(describing: a.score)) segmentation=\(shape(a.segmentation))"
  }

  /// A segmentation as the masks see it: polygons by their upsampled coordinates, the only
  /// thing the rasterizer reads (the typed reading keeps no other; see `UpsampledPolygon`).
  static func shape(_ s: Segmentation?) -> String {
    switch s {
    case .polygons(let polygon)?: "polygons \(UpsampledPolygon(polygon))"
    case .upsampledPolygons(let polygon)?: "polygons \(polygon)"
    default: String(describing: s)
    }
  }

  /// Reads `text` both ways and checks that they agree; returns the typed reading's result.
  @discardableResult
  static func checkBothWays(_ text: String, sourceLocation: SourceLocation = #_sourceLocation)
    -> Result<COCODataset, COCOFileError>
  {
    let bytes = Array(text.utf8)
    func read(_ keep: Bool) -> Result<COCODataset, COCOFileError> {
      bytes.withUnsafeBufferPointer { buffer in
        Result { () throws(COCOFileError) in try COCODataset.parse(buffer, source: "doc.json", keepingAnnotationObjects: keep) }
      }
    }
    let full = read(true), typed = read(false)
    checkWindows(bytes, against: typed, sourceLocation: sourceLocation)
    switch (full, typed) {
    case (.success(let a), .success(let b)):
      #expect(a.annotations.map(summary) == b.annotations.map(summary), sourceLocation: sourceLocation)
      #expect(a.issues == b.issues, sourceLocation: sourceLocation)
      #expect(a.images == b.images, sourceLocation: sourceLocation)
      #expect(a.categories == b.categories, sourceLocation: sourceLocation)
      #expect(a.keepsAnnotationObjects && !b.keepsAnnotationObjects, sourceLocation: sourceLocation)
      #expect(b.annotationObjects.isEmpty, sourceLocation: sourceLocation)
      let others = { (d: COCODataset) in d.document.filter { $0.0 != "annotations" }.map { "\($0.0)=\($0.1.serialized())" } }
      #expect(others(a) == others(b), sourceLocation: sourceLocation)
    case (.failure(let a), .failure(let b)):
      #expect(a.description == b.description, sourceLocation: sourceLocation)
    default:
      Issue.record("the two readings disagree: \(full) / \(typed)", sourceLocation: sourceLocation)
    }
    return typed
  }

  /// Window sizes for `checkWindows`: a byte, a few, the size of an element or two.
  static let windows = [1, 2, 3, 7, 40, 160]

  /// Writes `bytes` to a file and reads it back through windows of `windows`' sizes, as `iou` and
  /// `agree` read their files: each reading must equal `typed` (the buffer's reading), and a
  /// document that reads must read through the window, not fall back to reading the file whole.
  static func checkWindows(_ bytes: [UInt8], against typed: Result<COCODataset, COCOFileError>,
                           sourceLocation: SourceLocation)
  {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("annota-window-\(UUID().uuidString).json").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    do { try FileIO.writeAtomically(bytes, to: path) } catch {
      Issue.record("cannot write \(path): \(error)", sourceLocation: sourceLocation)
      return
    }
    for capacity in windows {
      if case .success = typed {
        let window = try? FileWindow(path: path, capacity: capacity)
        #expect(window.flatMap(JSONReader.parseCOCO) != nil, "window \(capacity)", sourceLocation: sourceLocation)
        #expect(window?.atEnd == true && window?.failure == nil, sourceLocation: sourceLocation)
      }
      var buffer: [UInt8] = []
      let read = Result { () throws(COCOFileError) in
        try COCODataset.load(path, buffer: &buffer, keepingAnnotationObjects: false, window: capacity)
      }
      switch (read, typed) {
      case (.success(let a), .success(let b)):
        #expect(a.annotations.map(summary) == b.annotations.map(summary), "window \(capacity)", sourceLocation: sourceLocation)
        #expect(a.issues == b.issues, sourceLocation: sourceLocation)
        #expect(a.images == b.images, sourceLocation: sourceLocation)
        #expect(a.categories == b.categories, sourceLocation: sourceLocation)
        let others = { (d: COCODataset) in d.document.filter { $0.0 != "annotations" }.map { "\($0.0)=\($0.1.serialized())" } }
        #expect(others(a) == others(b), sourceLocation: sourceLocation)
      case (.failure(let a), .failure(let b)):
        #expect(a.message == b.message, "window \(capacity)", sourceLocation: sourceLocation)
      default:
        Issue.record("window \(capacity) disagrees: \(read) / \(typed)", sourceLocation: sourceLocation)
      }
    }
  }

  static let images = #""images":[{"id":1,"width":40,"height":30},{"id":2,"width":8,"height":6}]"#

  static func document(_ annotations: [String], imagesFirst: Bool = true) -> String {
    let list = #""annotations":[\#(annotations.joined(separator: ","))]"#
    return imagesFirst ? "{\(images),\(list)}" : "{\(list),\(images)}"
  }

  @Test("every kind of annotation element reads the same both ways")
  func elementKinds() throws {
    let rle = try RLE(height: 6, width: 8, counts: [3, 5, 40]).compressedString
    let elements = [
      // Usual polygons, keys in any order, unknown members of every kind.
      #"{"id":1,"image_id":1,"category_id":3,"bbox":[1.5,2,3,4],"area":12.25,"iscrowd":0,"segmentation":[[1.5,2.25,10,2,10,9.75],[20,20,25,20,25,28]]}"#,
      #"{"segmentation":[[1,1,9,1,9,9]],"note":{"a":[1,{"b":null}],"c":"x"},"score":0.75,"image_id":2,"id":2,"tags":[]}"#,
      "{ \"id\" : 3 ,\n\t\"image_id\":1 , \"segmentation\" : [ [ 0.5 , 0.5 , 4 , 0.5 , 4 , 4 ] ] }",
      // Repeated members: the first counts.
      #"{"id":4,"id":99,"image_id":1,"segmentation":[[1,1,5,1,5,5]],"segmentation":"x"}"#,
      // Escaped and non-ASCII keys (the general reader's), and an escaped unknown one.
      #"{"\u0069d":5,"image_id":1,"segmentation":[[1,1,5,1,5,5]]}"#,
      #"{"id":6,"imagé_id":1,"image_id":2,"\n":1}"#,
      // RLE segmentations (typed once the images are known), right and wrong sizes.
      #"{"id":7,"image_id":2,"iscrowd":1,"segmentation":{"size":[6,8],"counts":"\#(rle)"}}"#,
      #"{"id":8,"image_id":2,"segmentation":{"size":[6,8],"counts":[3,5,40]}}"#,
      #"{"id":9,"image_id":1,"segmentation":{"size":[6,8],"counts":[3,5,40]}}"#,
      // Segmentations the fast path leaves to the general one.
      #"{"id":10,"image_id":1,"segmentation":[]}"#,
      #"{"id":11,"image_id":1,"segmentation":[1,2,3,4,5,6]}"#,
      #"{"id":12,"image_id":1,"segmentation":[[1,2.5,3,4,5,6]]}"#,
      #"{"id":13,"image_id":1,"segmentation":[[1,2,3,4,5,1152921504606846976]]}"#,
      #"{"id":14,"image_id":1,"segmentation":[[1,2,3,NaN,5,6]]}"#,
      #"{"id":15,"image_id":1,"segmentation":[[1,2,3,"4",5,6]]}"#,
      #"{"id":16,"image_id":1,"segmentation":[[1,2,3,4],[]]}"#,
      #"{"id":17,"image_id":1,"segmentation":[[1,2,3,4,5]]}"#,
      #"{"id":18,"image_id":1,"segmentation":[[1,2,3,4,5,6],7]}"#,
      #"{"id":19,"image_id":1,"segmentation":[[1.5,2.5,3.5,-Infinity,5.5,6.5]]}"#,
      #"{"id":20,"image_id":1,"segmentation":null}"#,
      // Wrong fields.
      #"{"id":21,"image_id":1,"bbox":[1,2,3]}"#,
      #"{"id":22,"image_id":1,"bbox":[1,2,3,NaN]}"#,
      #"{"id":23,"image_id":1,"iscrowd":2}"#,
      #"{"id":24,"image_id":1,"iscrowd":true,"area":"big","score":null}"#,
      #"{"id":25.0,"image_id":1}"#,
      #"{"id":"26","image_id":1}"#,
      #"{"image_id":1}"#,
      #"{"id":28}"#,
      #"{"id":29,"image_id":7,"segmentation":[[1,1,5,1,5,5]]}"#,
      // Duplicate ids, among typed and untyped elements.
      #"{"id":1,"image_id":2,"segmentation":{"size":[6,8],"counts":[48]}}"#,
      #"{"id":2,"image_id":1}"#,
      // Boxes read straight into a Box, or left to the general reader: spacing, too many or
      // too few numbers, a string, negative zero, a second bbox after a bad one and a good one.
      #"{"id":40,"image_id":1,"bbox":[ 1 , 2.5 ,3,4 ]}"#,
      #"{"id":41,"image_id":1,"bbox":[1,2,3,4,5]}"#,
      #"{"id":42,"image_id":1,"bbox":[1,2,3,"4"]}"#,
      #"{"id":43,"image_id":1,"bbox":[]}"#,
      #"{"id":44,"image_id":1,"bbox":[-0,-0.0,1E2,4e-1]}"#,
      #"{"id":45,"image_id":1,"bbox":[1,2,3],"bbox":[1,2,3,4]}"#,
      #"{"id":46,"image_id":1,"bbox":[1,2,3,4],"bbox":[5,6,7,8]}"#,
      // Elements that are not objects.
      "17", #""text""#, "null", "[1,2]", "{}",
    ]
    for imagesFirst in [true, false] {
      let dataset = try Self.checkBothWays(Self.document(elements, imagesFirst: imagesFirst)).get()
      // The typed reading's view, spot-checked against the file.
      #expect(dataset.annotations.first?.id == 1)
      #expect(dataset.annotations.contains { $0.id == 7 && $0.isCrowd })
      #expect(dataset.issues.contains { $0.path == "annotations[0].id" } == false)
      #expect(dataset.issues.contains { $0.path == "annotations[29].id" && $0.message == "duplicate annotation id 1" })
      #expect(dataset.issues.contains { $0.path == "annotations[8].segmentation.size" })
      // Polygons of plain numbers are kept upsampled; mixed integers and decimals too.
      for id: Int64 in [1, 2, 3, 4, 12] {
        guard case .upsampledPolygons? = dataset.annotations.first(where: { $0.id == id })?.segmentation else {
          Issue.record("annotation \(id) not upsampled")
          continue
        }
      }
    }
  }

  @Test("the top-level annotations member: the first counts, nested ones are ordinary members")
  func annotationsMember() {
    let one = #"{"id":1,"image_id":1,"segmentation":[[1,1,9,1,9,9]]}"#
    let two = #"{"id":2,"image_id":1,"segmentation":[[2,2,9,2,9,9]]}"#
    for text in [
      #"{\#(Self.images),"annotations":[\#(one)],"annotations":[\#(two)]}"#,
      #"{\#(Self.images),"annotations":{"a":1},"annotations":[\#(two)]}"#,
      #"{\#(Self.images),"info":{"annotations":[\#(two)]},"annotations":[\#(one)]}"#,
      #"{\#(Self.images),"info":{"annotations":[\#(two)]}}"#,
      #"{\#(Self.images),"annotations":[]}"#,
      #"{"annotations":[\#(one)]}"#,
      #"[{"annotations":[\#(one)]}]"#,
      #"{"images":7,"annotations":[\#(one)]}"#,
      // Arrays of numbers are arrays too (the general reader stores them apart).
      #"{\#(Self.images),"annotations":[9223372036854775808]}"#,
      #"{\#(Self.images),"annotations":[1,2.5]}"#,
      #"{"images":[1],"categories":[2,3],"annotations":[3]}"#,
    ] {
      Self.checkBothWays(text)
    }
    let numbers = try? Self.checkBothWays(#"{"images":[1],"categories":[2.5],"annotations":[1,2.5]}"#).get()
    #expect(numbers?.issues.map(\.description) == [
      "images[0].id: missing or non-integer image id", "categories[0].id: missing or non-integer category id",
      "annotations[0]: not an object", "annotations[1]: not an object",
    ])
    #expect((try? Self.checkBothWays(#"{\#(Self.images),"annotations":[\#(one)],"annotations":[\#(two)]}"#).get())?.annotations.map(\.id) == [1])
  }

  @Test("syntax errors anywhere give the same error both ways")
  func syntaxErrors() {
    let text = Self.document([
      #"{"id":1,"image_id":1,"category_id":3,"bbox":[1.5,2,3,4],"segmentation":[[1.5,2.25,10,2,10,9.75]],"x":{"y":[true,false]}}"#,
      #"{"id":2,"image_id":2,"segmentation":{"size":[6,8],"counts":"35b"}}"#,
    ])
    let bytes = Array(text.utf8)
    var rng = SplitMix64(seed: 7)
    // Every truncation, and a few hundred single-byte corruptions.
    for end in 0..<bytes.count {
      Self.checkBothWays(String(decoding: bytes[..<end], as: UTF8.self))
    }
    let replacements = Array(#"{}[]:,"\ 0-9.eaxn"#.utf8) + [0x80, 0x0A]
    for _ in 0..<600 {
      var corrupted = bytes
      corrupted[Int(rng.next() % UInt64(bytes.count))] = replacements[Int(rng.next() % UInt64(replacements.count))]
      Self.checkBothWays(String(decoding: corrupted, as: UTF8.self))
    }
    // A bbox number out of range, a bbox closed by the wrong bracket: the same errors.
    for bad in [#"{"id":27,"image_id":1,"bbox":[1e400,2,3,4]}"#, #"{"id":31,"image_id":1,"bbox":[1,2,3,4}"#] {
      if case .success = Self.checkBothWays(Self.document([bad])) { Issue.record("\(bad) read") }
    }
  }

  @Test("random annotation objects read the same both ways")
  func randomObjects() {
    var rng = SplitMix64(seed: 2024)
    func pick<T>(_ options: [T]) -> T { options[Int(rng.next() % UInt64(options.count))] }
    func number() -> String {
      pick([
        "\(Int(rng.next() % 60))", "\(Double(rng.next() % 6000) / 100)", "-\(Double(rng.next() % 300) / 7)",
        "\(Double(rng.next() % 1000) / 3)", "1e1", "2.50", "0.0", "-0", "7.123456789012345678",
        // Doubles as JSON writers print them, and decimals on or near the rasterizer's ties.
        "\(Double(rng.next() % 1_000_000_000_000) / 1e9)", "-\(Double(rng.next() % 1_000_000) / 1e7)",
        "\(Double(rng.next() % 1000) / 10)", "0.30000000000000004", "2.0999999999999996", "12.100000000000001",
        "0.00000000", "1234567.5", "12345678.25", "3.5e2", "1E-3", "0.1234567890123456",
      ])
    }
    func ring() -> String { "[" + (0..<(2 * Int(rng.next() % 5))).map { _ in number() }.joined(separator: pick([",", ", ", " ,\n"])) + "]" }
    func member(_ key: String) -> String {
      let value: String
      switch key {
      case "segmentation":
        value = pick([
          "[" + (0..<(1 + Int(rng.next() % 3))).map { _ in ring() }.joined(separator: ",") + "]",
          "[" + ring() + "]", "[]", #"{"size":[6,8],"counts":[48]}"#, #"{"size":[30,40],"counts":"Xl0"}"#, "null",
        ])
      case "bbox": value = "[" + (0..<pick([4, 4, 4, 3])).map { _ in number() }.joined(separator: ",") + "]"
      case "iscrowd": value = pick(["0", "1", "true", "false", "2", "0.0"])
      case "id", "image_id", "category_id": value = pick(["1", "2", "\(rng.next() % 9)", "3.0", "\"4\"", "null"])
      default: value = pick([number(), "\"s\"", "[1,[2]]", #"{"k":[]}"#])
      }
      return "\"\(key)\": \(value)"
    }
    let keys = ["id", "image_id", "category_id", "bbox", "segmentation", "iscrowd", "area", "score", "extra", "id"]
    for _ in 0..<40 {
      let annotations = (0..<40).map { _ in
        "{" + keys.filter { _ in rng.next() % 5 != 0 }.shuffled(using: &rng).map(member).joined(separator: ",") + "}"
      }
      Self.checkBothWays(Self.document(annotations, imagesFirst: rng.next() % 2 == 0))
    }
  }

  @Test("a large file reads through a window that moves, and keeps its size")
  func movingWindow() throws {
    var rng = SplitMix64(seed: 99)
    let annotations = (0..<3000).map { i in
      let ring = (0..<(6 + 2 * Int(rng.next() % 20))).map { _ in "\(Double(rng.next() % 40_000) / 1000)" }
      return #"{"id":\#(i + 1),"image_id":\#(1 + i % 2),"category_id":1,"segmentation":[[\#(ring.joined(separator: ", "))]]}"#
    }
    let bytes = Array(Self.document(annotations).utf8)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("annota-window-\(UUID().uuidString).json").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try FileIO.writeAtomically(bytes, to: path)
    let window = try FileWindow(path: path, capacity: 4096)
    let (document, records) = try #require(JSONReader.parseCOCO(window))
    #expect(window.offset > bytes.count / 2 && window.capacity == 4096 && window.atEnd)
    let windowed = try COCODataset(json: document, typedRecords: records, source: path)
    let whole = try bytes.withUnsafeBufferPointer { buffer throws(COCOFileError) in
      try COCODataset.parse(buffer, source: path, keepingAnnotationObjects: false)
    }
    #expect(windowed.annotations.count == 3000)
    #expect(windowed.annotations.map(Self.summary) == whole.annotations.map(Self.summary))
    #expect(windowed.issues == whole.issues && windowed.images == whole.images)
  }
}
