import AnnotaEngine
import AnnotaGeometry
import Foundation
import Synchronization
import Testing

private func temporaryDirectory() throws -> String {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("annota-engine-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url.path
}

private struct Boom: Error {}

@Suite("Batch runner")
struct BatchTests {
  @Test("results come back in input order, whatever the finishing order and concurrency",
        arguments: [1, 2, 3, 8])
  func ordered(_ concurrency: Int) async {
    let items = Array(0..<200)
    let runner = BatchRunner(maxConcurrency: concurrency)
    let results = await runner.map(items) { item -> Int in
      // Uneven work so items finish out of order.
      var x = 0
      for i in 0..<((item * 7919) % 5000) { x &+= i }
      _ = x
      return item * item
    }
    #expect(results.map { try? $0.get() } == items.map { $0 * $0 })
  }

  @Test("one failing item does not stop the batch, with one thread or several", arguments: [1, 4])
  func failuresIsolated(_ concurrency: Int) async {
    let runner = BatchRunner(maxConcurrency: concurrency)
    let results = await runner.map(Array(0..<50)) { item -> Int in
      if item % 10 == 3 { throw Boom() }
      return item
    }
    #expect(results.count == 50)
    for (i, result) in results.enumerated() {
      if i % 10 == 3 {
        #expect(throws: Boom.self) { try result.get() }
      } else {
        #expect((try? result.get()) == i)
      }
    }
  }

  @Test("never more than maxConcurrency items in flight")
  func bounded() async {
    let inFlight = Atomic<Int>(0)
    let peak = Atomic<Int>(0)
    let runner = BatchRunner(maxConcurrency: 3)
    _ = await runner.map(Array(0..<60)) { item -> Int in
      let now = inFlight.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
      _ = peak.max(now, ordering: .sequentiallyConsistent)
      usleep(200)
      inFlight.wrappingSubtract(1, ordering: .sequentiallyConsistent)
      return item
    }
    #expect(peak.load(ordering: .sequentiallyConsistent) <= 3)
    #expect(peak.load(ordering: .sequentiallyConsistent) >= 1)
  }

  @Test("an empty batch delivers nothing")
  func empty() async {
    let results = await BatchRunner(maxConcurrency: 2).map([Int]()) { $0 }
    #expect(results.isEmpty)
  }
}

@Suite("Files")
struct FileTests {
  @Test("atomic write replaces the file and leaves no temporary behind")
  func atomicWrite() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/out.json"
    try FileIO.writeAtomically("first", to: path)
    try FileIO.writeAtomically("second", to: path)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "second")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.json"])
  }

  @Test("reading into a reused buffer gives each file's bytes, whatever the order of sizes")
  func readIntoBuffer() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var buffer: [UInt8] = []
    for (i, size) in [5000, 10, 0, 70_000, 3].enumerated() {
      let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
      let path = dir + "/f\(i)"
      try FileIO.writeAtomically(bytes, to: path)
      let count = try FileIO.read(path, into: &buffer)
      #expect(count == size)
      #expect(Array(buffer[..<count]) == bytes)
      #expect(try FileIO.read(path) == bytes)
    }
    #expect(throws: FileError.self) { _ = try FileIO.read(dir + "/missing", into: &buffer) }
  }

  @Test("loading COCO files one after another through one buffer gives what parallel loading gives")
  func loadAllSequential() async throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var paths: [String] = []
    for (i, objects) in [3, 1, 7].enumerated() {
      let annotations = (0..<objects).map { k in
        #"{"id":\#(k + 1),"image_id":1,"category_id":\#(i + 1),"bbox":[1,2,3,4],"segmentation":[[1,1,9,1,9,\#(9 + k)]]}"#
      }
      let text = #"{"images":[{"id":1,"width":20,"height":30}],"annotations":[\#(annotations.joined(separator: ","))]}"#
      paths.append(dir + "/a\(i).json")
      try FileIO.writeAtomically(text, to: paths[i])
    }
    paths.append(dir + "/missing.json")
    let one = await COCODataset.loadAll(paths, runner: BatchRunner(maxConcurrency: 1))
    let two = await COCODataset.loadAll(paths, runner: BatchRunner(maxConcurrency: 2))
    for (a, b) in zip(one, two) {
      switch (a, b) {
      case (.success(let x), .success(let y)):
        #expect(x.annotations.map(\.id) == y.annotations.map(\.id))
        #expect(x.annotations.map(\.categoryID) == y.annotations.map(\.categoryID))
        #expect(try x.annotations.map { try x.mask(of: $0) } == y.annotations.map { try y.mask(of: $0) })
      case (.failure(let x), .failure(let y)): #expect(x.description == y.description)
      default: Issue.record("one thread and two disagree: \(a) / \(b)")
      }
    }
    #expect(one.map { (try? $0.get())?.annotations.count } == [3, 1, 7, nil])
  }

  @Test("a streamed atomic write writes every piece in order and leaves no temporary behind")
  func streamedAtomicWrite() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/out.json"
    try FileIO.writeAtomically("old", to: path)
    let value = JSONValue.array((0..<20_000).map { .int(Int64($0)) })
    try FileIO.writeAtomically(to: path) { emit in value.serialize(chunk: 1000, emit) }
    #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == value.serializedBytes())
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.json"])
    // A failure (no such directory) names the path and leaves nothing.
    let error = #expect(throws: FileError.self) {
      try FileIO.writeAtomically(to: dir + "/missing/out.json") { emit in value.serialize(emit) }
    }
    #expect(error?.path == dir + "/missing/out.json")
  }

  @Test("a streamed atomic write past the writeback step (pieces of every size) keeps every byte in order")
  func largeStreamedAtomicWrite() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/large.bin"
    // 11 pieces, from 1 byte to more than the step, 2.5 steps in all: the writeback runs at
    // several offsets, once over a piece larger than a step.
    let step = FileIO.writebackStep
    let sizes = [1, 7, step / 3, step - 9, 4096, step + 123, 0, step / 5, 65_536, 3, step / 2]
    var expected: [UInt8] = []
    try FileIO.writeAtomically(to: path) { emit in
      for (k, size) in sizes.enumerated() {
        let piece = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ k &* 17) }
        expected += piece
        piece.withUnsafeBytes(emit)
      }
    }
    #expect(expected.count > 2 * step)
    #expect(try FileIO.read(path) == expected)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["large.bin"])
  }

  @Test("a failed atomic write names the path and changes nothing")
  func atomicWriteFailure() throws {
    let error = #expect(throws: FileError.self) {
      try FileIO.writeAtomically("x", to: "/nonexistent-annota-dir/out.json")
    }
    #expect(error?.path == "/nonexistent-annota-dir/out.json")
    #expect(error?.description.contains("/nonexistent-annota-dir/out.json") == true)
  }

  @Test("read reports missing files, directories and size limits")
  func readErrors() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    #expect(throws: FileError.self) { try FileIO.read(dir + "/missing.jpg") }
    let notFile = #expect(throws: FileError.self) { try FileIO.read(dir) }
    #expect(notFile?.message.contains("not a regular file") == true)
    try FileIO.writeAtomically([UInt8](repeating: 7, count: 100), to: dir + "/a.bin")
    #expect(try FileIO.read(dir + "/a.bin") == [UInt8](repeating: 7, count: 100))
    let big = #expect(throws: FileError.self) { try FileIO.read(dir + "/a.bin", maxBytes: 10) }
    #expect(big?.message.contains("over the limit") == true)
  }

  @Test("decoding a file names it in the error")
  func imageFileErrors() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/fake.jpg"
    try FileIO.writeAtomically("hello", to: path)
    let error = #expect(throws: ItemError.self) { try ImageFiles.decode(path) }
    #expect(error?.subject == path)
    #expect(error?.category == .decode)
    let missing = #expect(throws: ItemError.self) { try ImageFiles.decode(dir + "/none.png") }
    #expect(missing?.category == .file)
  }
}

@Suite("JSON reader and writer")
struct JSONTests {
  @Test("strings are escaped, objects keep key order, doubles are written like Python's repr")
  func serialize() throws {
    let value = JSONValue.object([
      ("z", .string("a\"b\\c\nd\u{1}é")), ("a", .array([.int(-3), .double(0.5), .double(2), .null, .bool(true)])),
      ("big", .double(1e16)), ("small", .double(1e-05)),
    ])
    let text = value.serialized()
    #expect(text == #"{"z":"a\"b\\c\nd\u0001é","a":[-3,0.5,2.0,null,true],"big":1e+16,"small":1e-05}"#)
    let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    #expect(parsed?["z"] as? String == "a\"b\\c\nd\u{1}é")
    #expect(JSONValue.double(.nan).serialized() == "NaN")
    #expect(JSONValue.double(-.infinity).serialized() == "-Infinity")
  }

  @Test("long strings with escapes anywhere, across the writer's 4096-byte pieces")
  func longStrings() throws {
    // Every character that needs an escape, at random among plain and multi-byte ones.
    let alphabet: [Character] = ["a", "0", "\"", "\\", "\n", "\r", "\t", "\u{1}", "\u{1F}", "é", "😀", "/", " "]
    var rng = SplitMix64(seed: 4096)
    for length in [0, 1, 4095, 4096, 4097, 8191, 8192, 8193, 20_000] {
      let text = String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
      var expected = "\""
      for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": expected += "\\\""
        case "\\": expected += "\\\\"
        case "\n": expected += "\\n"
        case "\r": expected += "\\r"
        case "\t": expected += "\\t"
        case _ where scalar.value < 0x20: expected += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
        default: expected.unicodeScalars.append(scalar)
        }
      }
      expected += "\""
      let written = JSONValue.string(text).serialized()
      #expect(written == expected, "length \(length)")
      #expect(try JSONReader.parse(written) == .string(text), "length \(length)")
    }
  }

  @Test("read then write keeps every key, its order, and the number types")
  func roundTrip() throws {
    let text = #"{"b":1,"a":{"zz":[1,2,3],"f":[1.5,2.0,-3e-07],"mixed":[1,"x",null],"e":[],"o":{}},"s":"\u00e9\ud83d\ude00\n","big":123456789012345678,"neg":-0.25,"t":true}"#
    let value = try JSONReader.parse(text)
    let written = value.serialized()
    #expect(try JSONReader.parse(written) == value)
    #expect(written == #"{"b":1,"a":{"zz":[1,2,3],"f":[1.5,2.0,-3e-07],"mixed":[1,"x",null],"e":[],"o":{}},"s":"é😀\n","big":123456789012345678,"neg":-0.25,"t":true}"#)
    #expect(value["a"]?["zz"] == .numbers([1, 2, 3], integral: true))
    #expect(value["big"] == .int(123456789012345678))
  }

  @Test("arrays mixing integer and decimal literals keep each element's type")
  func mixedArrays() throws {
    for text in [#"[1,2.5,3]"#, #"[1,2.5,"x"]"#, #"[1.5,2,[3]]"#, #"[0.5,7]"#] {
      #expect(try JSONReader.parse(text).serialized() == text)
    }
    #expect(try JSONReader.parse("[1,2.5]") == .array([.int(1), .double(2.5)]))
  }

  @Test("serializing in pieces gives exactly the whole text, for any piece size", arguments: [1, 7, 64, 1 << 20])
  func serializeInPieces(_ chunk: Int) throws {
    let counts = JSONValue.numbers((0..<3000).map { Double($0 % 97) }, integral: true)
    let value = JSONValue.object([
      ("images", .array((0..<50).map { .object([("id", .int(Int64($0))), ("file_name", .string("a\"b\\\($0).jpg"))]) })),
      ("counts", counts), ("coords", .numbers([0.5, -1e-7, 3], integral: false)), ("empty", .array([])),
      ("nested", .array([.array([.null, .bool(true)]), .object([])])), ("x", .double(.infinity)),
    ])
    var pieces: [[UInt8]] = []
    value.serialize(chunk: chunk) { pieces.append(Array($0)) }
    #expect(pieces.flatMap { $0 } == value.serializedBytes())
    if chunk == 64 { #expect(pieces.count > 10) }  // it does flush along the way
    if chunk == 1 << 20 { #expect(pieces.count == 1) }
  }

  @Test("number arrays one after another and inside each other keep their own elements")
  func numberArraysInSequence() throws {
    // The reader gathers an array's numbers in one buffer that every array reuses.
    let text = #"{"s":[[1,2,3,4,5],[6.5,7.5],[],[8]],"u":[1,[2,3,[4.5]],5],"v":[[1,2],"x",[3.25,4]]}"#
    let value = try JSONReader.parse(text)
    #expect(value.serialized() == text)
    #expect(value["s"] == .array([.numbers([1, 2, 3, 4, 5], integral: true), .numbers([6.5, 7.5], integral: false),
                                  .array([]), .numbers([8], integral: true)]))
    #expect(value["u"] == .array([.int(1), .array([.int(2), .int(3), .numbers([4.5], integral: false)]), .int(5)]))
  }

  @Test("integers beyond 2^53 inside arrays stay exact")
  func bigIntegers() throws {
    let value = try JSONReader.parse("[1,9007199254740993]")
    #expect(value == .array([.int(1), .int(9007199254740993)]))
  }

  @Test("malformed JSON is reported with line, column and JSON path",
        arguments: [
          (#"{"a":[1,2,}"#, "a[2]"), (#"{"images":[{"id":1},{"id":tru}]}"#, "images[1].id"),
          ("{\n\"x\": [1,\n 2 3]}", "x"), (#"{"a":"unterminated"#, "a"), (#"[1,2]x"#, ""),
          (#"{"a":01}"#, "a"), (#"{"a":"\x"}"#, "a"), (#"{"a" 1}"#, ""), ("", ""),
        ])
  func errors(_ input: String, _ path: String) {
    let error = #expect(throws: JSONParseError.self) { try JSONReader.parse(input) }
    #expect(error?.path == path, "\(input)")
    #expect((error?.line ?? 0) >= 1)
  }

  @Test("deep nesting is an error, not a crash")
  func depth() {
    let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
    #expect(throws: JSONParseError.self) { try JSONReader.parse(deep) }
  }

  @Test("NaN and Infinity are read as Python writes them")
  func nonFinite() throws {
    let value = try JSONReader.parse("[NaN, Infinity, -Infinity, 1]")
    guard case .array(let items) = value else { Issue.record("not an array"); return }
    #expect(items[0].number?.isNaN == true)
    #expect(items[2].number == -.infinity)
  }

  @Test("-Infinity is read anywhere in an array, as Python writes it")
  func negativeInfinityInArrays() throws {
    // Found while fuzzing AnnotaFuzzCOCO: an array starting with numbers took every '-' for a
    // number, so [-Infinity] and [1, -Infinity] were "invalid number" while [Infinity] parsed.
    #expect(try JSONReader.parse("[-Infinity]") == .array([.double(-.infinity)]))
    #expect(try JSONReader.parse("[1, -Infinity, -2]") == .array([.int(1), .double(-.infinity), .int(-2)]))
    #expect(try JSONReader.parse("[-1.5,-Infinity]") == .array([.double(-1.5), .double(-.infinity)]))
    // What the writer produces reads back.
    let written = JSONValue.numbers([0, -.infinity, 2.5], integral: false).serialized()
    #expect(written == "[0.0,-Infinity,2.5]")
    #expect(try JSONReader.parse(written).serialized() == written)
    // Still errors: a lone '-' and a misspelt literal.
    #expect(throws: JSONParseError.self) { try JSONReader.parse("[1,-]") }
    #expect(throws: JSONParseError.self) { try JSONReader.parse("[-Inf]") }
    // A COCO polygon with -Infinity is a validation issue with its path, not a JSON error.
    let coco = #"{"images":[{"id":1,"width":4,"height":4}],"annotations":[{"id":1,"image_id":1,"segmentation":[[0,0,3,-Infinity,3,3]]}]}"#
    let dataset = try COCODataset(json: try JSONReader.parse(coco))
    #expect(dataset.issues.map(\.path) == ["annotations[0].segmentation[0][3]"])
  }

  @Test("annotations grouped by image: first-seen image order, file order within each, indices and copies alike")
  func groupsByImage() throws {
    let imageIDs: [Int64] = [5, -2, 9, 1 << 40, 3]
    let annotations = (0..<300).map { k in
      #"{"id":\#(k),"image_id":\#(imageIDs[(k * k + 3 * k) % 7 % imageIDs.count]),"bbox":[0,0,1,1]}"#
    }
    let images = imageIDs.map { #"{"id":\#($0),"width":4,"height":4}"# }
    let text = #"{"images":[\#(images.joined(separator: ","))],"annotations":[\#(annotations.joined(separator: ","))]}"#
    let dataset = try COCODataset(json: try JSONReader.parse(text))
    // The plain way: walk the annotations, a list per image id.
    var order: [Int64] = []
    var expected: [Int64: [Int]] = [:]
    for (k, annotation) in dataset.annotations.enumerated() {
      if expected[annotation.imageID] == nil { order.append(annotation.imageID) }
      expected[annotation.imageID, default: []].append(k)
    }
    let indices = dataset.annotationIndicesByImage()
    #expect(indices.map(\.0) == order)
    #expect(indices.allSatisfy { $0.1 == expected[$0.0] })
    #expect(indices.reduce(0) { $0 + $1.1.count } == 300)
    let copies = dataset.annotationsByImage()
    #expect(copies.map(\.0) == order)
    #expect(copies.allSatisfy { group in group.1.map(\.id) == expected[group.0]!.map { dataset.annotations[$0].id } })
    #expect(try COCODataset(json: try JSONReader.parse(#"{"images":[],"annotations":[]}"#)).annotationIndicesByImage().isEmpty)
  }
}
