import AnnotaEngine
import AnnotaGeometry
import AnnotaImage
import AnnotaServer
import Foundation
import Hummingbird
import Logging
import Testing

// MARK: fixtures

let rectangleConfig = """
  <View>
    <!-- a comment with <Label value="Nope"/> inside -->
    <Image name="image" value="$image"/>
    <RectangleLabels name="label" toName="image" smart="true">
      <Label value="Crate" background="red"/>
      <Label value='Panel &amp; Sign'/>
    </RectangleLabels>
    <Choices name="scene" toName="image">
      <Choice value="Crate"/>
      <Choice value="Empty"/>
    </Choices>
  </View>
  """

/// A folder with `images/scene.png`: a 200×150 textured background with a red block at
/// (40, 30)–(100, 90) and a blue block at (120, 60)–(180, 130); and `images/bad.png` (not an image).
func makeImagesRoot() throws -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("annota-server-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir.appendingPathComponent("images"), withIntermediateDirectories: true)
  var image = Image(width: 200, height: 150, format: .rgb)
  for y in 0..<150 {
    for x in 0..<200 {
      var c: (UInt8, UInt8, UInt8) = ((x + y) % 7 == 0 ? 140 : 120, 120, 110)
      if (40..<100).contains(x) && (30..<90).contains(y) { c = (220, 30, 30) }
      if (120..<180).contains(x) && (60..<130).contains(y) { c = (30, 40, 220) }
      let i = (y * 200 + x) * 3
      image.pixels[i] = c.0
      image.pixels[i + 1] = c.1
      image.pixels[i + 2] = c.2
    }
  }
  try ImageFiles.writePNG(image, to: dir.appendingPathComponent("images/scene.png").path)
  try Data("not a png at all".utf8).write(to: dir.appendingPathComponent("images/bad.png"))
  return dir.path
}

func jsonString(_ s: String) -> String { JSONValue.string(s).serialized() }

func task(_ id: Int, image: String, boxes: String = "[{\"x\":36,\"y\":26,\"width\":68,\"height\":70,\"label\":\"Crate\"}]") -> String {
  "{\"id\": \(id), \"data\": {\"image\": \(jsonString(image)), \"annota_boxes\": \(boxes)}}"
}

func predictBody(_ tasks: [String], config: String = rectangleConfig, context: String? = nil) -> ByteBuffer {
  var body = "{\"tasks\": [\(tasks.joined(separator: ","))], \"project\": \"7.1700000000\", \"label_config\": \(jsonString(config))"
  if let context { body += ", \"params\": {\"context\": \(context)}" }
  body += "}"
  return ByteBuffer(string: body)
}

/// The body as JSON (`null` when it is not JSON, which the checks then report).
func parse(_ buffer: ByteBuffer) -> JSONValue {
  (try? JSONReader.parse(Array(buffer.readableBytesView))) ?? .null
}

func makeBackend(root: String?, state: String? = nil, configure: (inout ServerOptions) -> Void = { _ in }) -> MLBackend {
  var options = ServerOptions()
  options.imagesRoot = root
  options.stateDirectory = state
  // The whole test suite runs in parallel on a busy machine: tasks may start late, and the
  // deadline test below sets its own.
  options.predictSeconds = 3600
  configure(&options)
  var logger = Logger(label: "test")
  logger.logLevel = .critical
  return MLBackend(options: options, logger: logger)
}

// MARK: label_config

@Suite struct LabelConfigTests {
  @Test func readsRectanglesChoicesAndImages() throws {
    let c = try LabelConfig(parsing: rectangleConfig)
    #expect(c.images == ["image": "image"])
    #expect(c.rectangles.count == 1)
    #expect(c.rectangles[0].name == "label")
    #expect(c.rectangles[0].toName == "image")
    #expect(c.rectangles[0].smart)
    #expect(c.rectangles[0].labels == ["Crate", "Panel & Sign"])
    #expect(c.choices == [LabelConfig.Choices(name: "scene", toName: "image", values: ["Crate", "Empty"])])
    #expect(c.primaryRectangles?.name == "label")
  }

  @Test func labelsOutsideAControlAreIgnored() throws {
    let c = try LabelConfig(parsing: "<View><Label value=\"Stray\"/><Image name=\"i\" value=\"$img\"/><RectangleLabels name=\"r\" toName=\"i\"></RectangleLabels></View>")
    #expect(c.rectangles[0].labels.isEmpty)
    #expect(c.primaryRectangles == nil)  // no labels: nothing to predict with
    #expect(c.images == ["i": "img"])
  }

  @Test func malformedConfigsThrowClearErrors() {
    #expect(throws: LabelConfigError.self) { try LabelConfig(parsing: "<View><Image name=\"i\" value=\"$i\"") }
    #expect(throws: LabelConfigError.self) { try LabelConfig(parsing: "<View><!-- never closed </View>") }
    #expect(throws: LabelConfigError.self) { try LabelConfig(parsing: "<RectangleLabels toName=\"i\"/>") }
    do {
      _ = try LabelConfig(parsing: "<View><Image name=i value=$i/></View>")
      Issue.record("unquoted attribute accepted")
    } catch {
      #expect("\(error)".contains("not quoted"))
    }
  }
}

// MARK: image paths

@Suite struct ImageSourceTests {
  @Test func mapsLocalFilesURLs() throws {
    let root = try makeImagesRoot()
    let source = ImageSource(root: root)
    let real = source.root!
    #expect(try source.path(for: "/data/local-files/?d=images/scene.png") == real + "/images/scene.png")
    #expect(try source.path(for: "/data/local-files/?d=images%2Fscene.png") == real + "/images/scene.png")
    #expect(try source.path(for: "http://127.0.0.1:8080/data/local-files/?d=images/scene.png") == real + "/images/scene.png")
  }

  @Test func refusesTraversalAndOtherHosts() throws {
    let root = try makeImagesRoot()
    let source = ImageSource(root: root)
    for url in [
      "/data/local-files/?d=../etc/passwd", "/data/local-files/?d=images/../../x.png",
      "/data/local-files/?d=%2E%2E/secret", "/data/local-files/?d=/etc/passwd",
      "http://169.254.169.254/latest/meta-data", "https://example.com/a.png", "/data/upload/1/a.png",
      "/data/local-files/?x=1", "s3://bucket/a.png",
    ] {
      #expect(throws: ImageSourceError.self, "\(url)") { try source.path(for: url) }
    }
    // A symbolic link inside the root that points outside it.
    try FileManager.default.createSymbolicLink(atPath: root + "/images/escape.png", withDestinationPath: "/etc/hostname")
    #expect(throws: ImageSourceError.self) { try source.path(for: "/data/local-files/?d=images/escape.png") }
    #expect(throws: ImageSourceError.self) { try ImageSource(root: nil).path(for: "/data/local-files/?d=images/scene.png") }
  }
}

// MARK: the HTTP API, in process

@Suite struct PredictTests {
  @Test func healthSetupVersions() async throws {
    let backend = makeBackend(root: nil)
    try await withClient(backend) { client in
      try await client.execute(uri: "/health", method: .get) { r in
        #expect(r.status == .ok)
        #expect(parse(r.body)["status"] == .string("UP"))
      }
      try await client.execute(uri: "/setup", method: .post, body: ByteBuffer(string: "{\"project\": \"3.123\", \"label_config\": \"<View/>\"}")) { r in
        #expect(r.status == .ok)
        #expect(parse(r.body)["model_version"] == .string("annota-v0"))
      }
      try await client.execute(uri: "/versions", method: .get) { r in
        #expect(parse(r.body)["versions"]?.arrayValueForTests == [.string("annota-v0")])
      }
    }
  }

  @Test func predictsFittedBoxesInPercentWithConfigLabels() async throws {
    let root = try makeImagesRoot()
    let backend = makeBackend(root: root)
    try await withClient(backend) { client in
      let body = predictBody([
        task(1, image: "/data/local-files/?d=images/scene.png",
             boxes: "[{\"x\":36,\"y\":26,\"width\":68,\"height\":70,\"label\":\"Crate\"},{\"x\":116,\"y\":55,\"width\":68,\"height\":80,\"label\":\"Unknown\"}]")
      ])
      try await client.execute(uri: "/predict", method: .post, body: body) { r in
        #expect(r.status == .ok)
        let results = try #require(parse(r.body)["results"]?.arrayValueForTests)
        try #require(results.count == 1, "\(JSONValue.array(results).serialized())")
        let p = results[0]
        #expect(p["model_version"] == .string("annota-v0"))
        let items = try #require(p["result"]?.arrayValueForTests)
        let boxes = items.filter { $0["type"] == .string("rectanglelabels") }
        try #require(boxes.count == 2, "\(p.serialized())")
        for b in boxes {
          #expect(b["from_name"] == .string("label"))
          #expect(b["to_name"] == .string("image"))
          #expect(b["original_width"] == .int(200))
          #expect(b["original_height"] == .int(150))
          let label = b["value"]?["rectanglelabels"]?.arrayValueForTests?.first
          #expect(label == .string("Crate") || label == .string("Panel & Sign"))
        }
        // The rough box (36, 26, 68, 70) around the red block (40, 30, 60, 60) moves toward it.
        let v = try #require(boxes[0]["value"])
        let fitted = Box(
          x: (v["x"]?.number ?? 0) * 2, y: (v["y"]?.number ?? 0) * 1.5,
          width: (v["width"]?.number ?? 0) * 2, height: (v["height"]?.number ?? 0) * 1.5)
        let truth = Box(x: 40, y: 30, width: 60, height: 60)
        #expect(fitted.iou(truth) > Box(x: 36, y: 26, width: 68, height: 70).iou(truth))
        let score = try #require(p["score"]?.number)
        #expect(score >= 0 && score <= 1)
      }
    }
  }

  @Test func badTasksGetTheirOwnErrorsInOrder() async throws {
    let root = try makeImagesRoot()
    let backend = makeBackend(root: root)
    try await withClient(backend) { client in
      let body = predictBody([
        task(1, image: "/data/local-files/?d=images/missing.png"),
        task(2, image: "/data/local-files/?d=images/bad.png"),
        task(3, image: "/data/local-files/?d=../../etc/passwd"),
        task(4, image: "http://10.0.0.1/internal.png"),
        "{\"id\": 5, \"data\": {}}",
        "17",
        task(7, image: "/data/local-files/?d=images/scene.png", boxes: "\"nope\""),
        task(8, image: "/data/local-files/?d=images/scene.png"),
      ])
      try await client.execute(uri: "/predict", method: .post, body: body) { r in
        #expect(r.status == .ok)
        let results = try #require(parse(r.body)["results"]?.arrayValueForTests)
        try #require(results.count == 8, "\(JSONValue.array(results).serialized())")
        let errors = results.map { $0["error"]?.stringValueForTests ?? "" }
        #expect(errors[0].hasPrefix("task 1:") && errors[0].contains("missing.png"))
        #expect(errors[1].hasPrefix("task 2:") && errors[1].contains("bad.png"))
        #expect(errors[2].hasPrefix("task 3:") && errors[2].contains("traversal"))
        #expect(errors[3].hasPrefix("task 4:") && errors[3].contains("local-files"))
        #expect(errors[4].hasPrefix("task 5:") && errors[4].contains("data.image"))
        #expect(errors[5].contains("JSON object"))
        #expect(errors[6].hasPrefix("task 7:") && errors[6].contains("annota_boxes"))
        #expect(errors[7].isEmpty)
        #expect(results[7]["result"]?.arrayValueForTests?.isEmpty == false)
        for r in results { #expect(r["model_version"] == .string("annota-v0")) }
      }
      // The server keeps serving after all that.
      try await client.execute(uri: "/health", method: .get) { r in #expect(r.status == .ok) }
    }
  }

  @Test func unknownConfigMalformedJSONAndOversizedRequests() async throws {
    let root = try makeImagesRoot()
    let backend = makeBackend(root: root) { $0.maxBodyBytes = 4096 }
    try await withClient(backend) { client in
      // A config without rectangle labels: one clear error per task.
      let body = predictBody(
        [task(1, image: "/data/local-files/?d=images/scene.png"), task(2, image: "/data/local-files/?d=images/scene.png")],
        config: "<View><Text name=\"t\" value=\"$text\"/><Choices name=\"c\" toName=\"t\"><Choice value=\"A\"/></Choices></View>")
      try await client.execute(uri: "/predict", method: .post, body: body) { r in
        let results = try #require(parse(r.body)["results"]?.arrayValueForTests)
        try #require(results.count == 2, "\(JSONValue.array(results).serialized())")
        #expect(results[0]["error"]?.stringValueForTests?.hasPrefix("task 1:") == true)
        #expect(results[1]["error"]?.stringValueForTests?.contains("RectangleLabels") == true)
      }
      let broken = predictBody([task(1, image: "/data/local-files/?d=images/scene.png")], config: "<View><Image name=\"a\"")
      try await client.execute(uri: "/predict", method: .post, body: broken) { r in
        let results = try #require(parse(r.body)["results"]?.arrayValueForTests)
        #expect(results[0]["error"]?.stringValueForTests?.contains("label_config") == true)
      }
      try await client.execute(uri: "/predict", method: .post, body: ByteBuffer(string: "{\"tasks\": [")) { r in
        #expect(r.status == .badRequest)
        #expect(parse(r.body)["error"]?.stringValueForTests?.contains("not valid JSON") == true)
      }
      try await client.execute(uri: "/predict", method: .post, body: ByteBuffer(string: "{\"tasks\": 3}")) { r in
        #expect(r.status == .badRequest)
      }
      let big = ByteBuffer(string: "{\"tasks\": [], \"pad\": \"" + String(repeating: "x", count: 10_000) + "\"}")
      try await client.execute(uri: "/predict", method: .post, body: big) { r in
        #expect(r.status == .contentTooLarge)
        #expect(parse(r.body)["error"]?.stringValueForTests?.contains("limit") == true)
      }
      try await client.execute(uri: "/health", method: .get) { r in #expect(r.status == .ok) }
    }
  }

  @Test func oversizedImageFailsOnlyItsTask() async throws {
    let root = try makeImagesRoot()
    let backend = makeBackend(root: root) { $0.maxImagePixels = 10_000 }
    try await withClient(backend) { client in
      try await client.execute(
        uri: "/predict", method: .post, body: predictBody([task(1, image: "/data/local-files/?d=images/scene.png")])
      ) { r in
        let results = try #require(parse(r.body)["results"]?.arrayValueForTests)
        try #require(results.count == 1, "\(JSONValue.array(results).serialized())")
        #expect(results[0]["error"]?.stringValueForTests?.hasPrefix("task 1:") == true)
      }
    }
  }

  @Test func tasksPastTheDeadlineGetAnErrorEach() async throws {
    let root = try makeImagesRoot()
    let backend = makeBackend(root: root) { $0.predictSeconds = 1e-6 }
    try await withClient(backend) { client in
      let tasks = (1...3).map { task($0, image: "/data/local-files/?d=images/scene.png") }
      try await client.execute(uri: "/predict", method: .post, body: predictBody(tasks)) { r in
        let results = try #require(parse(r.body)["results"]?.arrayValueForTests)
        try #require(results.count == 3, "\(JSONValue.array(results).serialized())")
        for (i, item) in results.enumerated() {
          let error = item["error"]?.stringValueForTests ?? ""
          #expect(error.hasPrefix("task \(i + 1):") && error.contains("deadline"), "\(error)")
        }
      }
    }
  }

  @Test func interactiveDrawnBoxIsFitted() async throws {
    let root = try makeImagesRoot()
    let backend = makeBackend(root: root)
    // A drawn box loosely around the blue block (120, 60)-(180, 130) of the 200×150 image.
    let context = """
      {"result": [{"type": "rectanglelabels", "from_name": "label", "to_name": "image", "original_width": 200, "original_height": 150,
        "value": {"x": 57, "y": 36, "width": 35, "height": 54, "rectanglelabels": ["Panel & Sign"]}}]}
      """
    try await withClient(backend) { client in
      let body = predictBody(["{\"id\": 9, \"data\": {\"image\": \"/data/local-files/?d=images/scene.png\"}}"], context: context)
      try await client.execute(uri: "/predict", method: .post, body: body) { r in
        let results = try #require(parse(r.body)["results"]?.arrayValueForTests)
        let items = try #require(results.first?["result"]?.arrayValueForTests)
        try #require(items.count == 1, "\(JSONValue.array(items).serialized())")
        let v = try #require(items[0]["value"])
        #expect(v["rectanglelabels"]?.arrayValueForTests == [.string("Panel & Sign")])
        // Drawn (114, 54, 70, 81) around the block (120, 60, 60, 70): the fit moves toward it.
        let fitted = Box(
          x: (v["x"]?.number ?? 0) * 2, y: (v["y"]?.number ?? 0) * 1.5,
          width: (v["width"]?.number ?? 0) * 2, height: (v["height"]?.number ?? 0) * 1.5)
        let truth = Box(x: 120, y: 60, width: 60, height: 70)
        #expect(fitted.iou(truth) > Box(x: 114, y: 54, width: 70, height: 81).iou(truth))
        #expect((items[0]["score"]?.number ?? -1) >= 0)
      }
    }
  }

  @Test func basicAuthIsEnforced() async throws {
    let backend = makeBackend(root: nil) { $0.basicAuth = ("ls", "s3cret") }
    try await withClient(backend) { client in
      try await client.execute(uri: "/health", method: .get) { r in #expect(r.status == .unauthorized) }
      try await client.execute(uri: "/health", method: .get, headers: [.authorization: "Basic bHM6d3Jvbmc="]) { r in
        #expect(r.status == .unauthorized)
      }
      // base64("ls:s3cret")
      try await client.execute(uri: "/health", method: .get, headers: [.authorization: "Basic bHM6czNjcmV0"]) { r in
        #expect(r.status == .ok)
      }
    }
  }
}

// MARK: training

@Suite struct TrainingTests {
  func annotation(_ id: Int, taskID: Int, boxes: [(Double, Double, Double, Double, String)]) -> ByteBuffer {
    let result = boxes.map { b in
      "{\"type\": \"rectanglelabels\", \"from_name\": \"label\", \"to_name\": \"image\", \"original_width\": 200, \"original_height\": 150, \"value\": {\"x\": \(b.0), \"y\": \(b.1), \"width\": \(b.2), \"height\": \(b.3), \"rectanglelabels\": [\(jsonString(b.4))]}}"
    }.joined(separator: ",")
    return ByteBuffer(string: """
      {"action": "ANNOTATION_CREATED", "project": {"id": 7, "label_config": \(jsonString(rectangleConfig))},
       "task": {"id": \(taskID), "data": {"image": "/data/local-files/?d=images/scene.png"}},
       "annotation": {"id": \(id), "result": [\(result)]}}
      """)
  }

  func waitIdle(_ store: ModelStore, _ project: String) async throws {
    for _ in 0..<400 {
      if await store.isIdle(project) { return }
      try await Task.sleep(for: .milliseconds(25))
    }
    Issue.record("training did not finish")
  }

  @Test func webhookTrainsBumpsVersionAndPersists() async throws {
    let root = try makeImagesRoot()
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("annota-state-\(UUID().uuidString)").path
    let backend = makeBackend(root: root, state: state)
    try await withClient(backend) { client in
      try await client.execute(uri: "/webhook", method: .post, body: annotation(
        101, taskID: 1, boxes: [(20, 20, 30, 40, "Crate"), (60, 40, 30, 46.67, "Panel & Sign")])) { r in
        #expect(r.status == .ok)
      }
      try await waitIdle(backend.store, "7")
      try await client.execute(uri: "/setup", method: .post, body: ByteBuffer(string: "{\"project\": \"7.99\"}")) { r in
        #expect(parse(r.body)["model_version"] == .string("annota-v1"))
      }
      try await client.execute(uri: "/webhook", method: .post, body: ByteBuffer(string: "{\"action\": \"START_TRAINING\", \"project\": {\"id\": 7}}")) { r in
        #expect(r.status == .ok)
      }
      try await waitIdle(backend.store, "7")
      // Predictions now carry the classifier's labels and the new version.
      try await client.execute(uri: "/predict", method: .post, body: predictBody([
        task(1, image: "/data/local-files/?d=images/scene.png",
             boxes: "[{\"x\":36,\"y\":26,\"width\":68,\"height\":70},{\"x\":116,\"y\":55,\"width\":68,\"height\":80}]")
      ])) { r in
        let p = try #require(parse(r.body)["results"]?.arrayValueForTests?.first)
        #expect(p["model_version"] == .string("annota-v2"))
        let labels = (p["result"]?.arrayValueForTests ?? []).filter { $0["type"] == .string("rectanglelabels") }
          .compactMap { $0["value"]?["rectanglelabels"]?.arrayValueForTests?.first }
        #expect(labels == [.string("Crate"), .string("Panel & Sign")])
      }
    }
    #expect(FileManager.default.fileExists(atPath: state + "/project-7/model.json"))
    #expect(FileManager.default.fileExists(atPath: state + "/project-7/samples.json"))
    // A restart keeps the model.
    let restarted = makeBackend(root: root, state: state)
    #expect(await restarted.store.model("7").version == "annota-v2")
    #expect(await restarted.store.model("7").classifier?.classNames == ["Crate", "Panel & Sign"])
    #expect(await restarted.store.sampleCounts("7").samples == 2)
  }

  @Test func oneClassDoesNotTrain() async throws {
    let root = try makeImagesRoot()
    let backend = makeBackend(root: root)
    try await withClient(backend) { client in
      try await client.execute(uri: "/webhook", method: .post, body: annotation(5, taskID: 1, boxes: [(20, 20, 30, 40, "Crate")])) { r in
        #expect(r.status == .ok)
      }
      try await waitIdle(backend.store, "7")
      #expect(await backend.store.model("7").version == "annota-v0")
      try await client.execute(uri: "/webhook", method: .post, body: ByteBuffer(string: "{\"action\": \"PROJECT_UPDATED\"}")) { r in
        #expect(parse(r.body)["status"] == .string("ignored"))
      }
      try await client.execute(uri: "/webhook", method: .post, body: ByteBuffer(string: "garbage")) { r in
        #expect(r.status == .badRequest)
      }
    }
  }
}

extension JSONValue {
  var arrayValueForTests: [JSONValue]? {
    switch self {
    case .array(let a): a
    case .numbers(let v, let integral): v.map { integral ? .int(Int64($0)) : .double($0) }
    default: nil
    }
  }

  var stringValueForTests: String? {
    if case .string(let s) = self { s } else { nil }
  }
}
