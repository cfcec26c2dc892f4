import AnnotaEngine
import AnnotaServer
import Foundation
import Hummingbird
import Logging
import Testing

// Images downloaded from the Label Studio host of `/setup`: the host and token rules in
// isolation, then real HTTP against a stand-in Label Studio on a loopback port.

@Suite struct LabelStudioHostTests {
  @Test func originsNormaliseAndCompare() throws {
    let a = try #require(LabelStudioOrigin(parsing: "HTTP://LocalHost:80/"))
    #expect(a == LabelStudioOrigin(parsing: "http://localhost"))
    #expect(a.description == "http://localhost")
    #expect(LabelStudioOrigin(parsing: "https://ls.example.com")?.port == 443)
    #expect(LabelStudioOrigin(parsing: "http://[::1]:8080")?.description == "http://[::1]:8080")
    #expect(LabelStudioOrigin(parsing: "http://127.0.0.1:8080")?.isLoopback == true)
    #expect(LabelStudioOrigin(parsing: "http://127.0.0.1.evil.com")?.isLoopback == false)
    #expect(LabelStudioOrigin(parsing: "http://10.0.0.5:8080")?.isLoopback == false)
    for bad in ["ftp://x", "localhost:8080", "http://", "http://user@host/", "http://host:0", "http://host:99999",
                "http://a b/"] {
      #expect(LabelStudioOrigin(parsing: bad) == nil, "\(bad)")
    }
  }

  @Test func resolvesOnlyPathsAndURLsOnTheHost() throws {
    let access = try #require(LabelStudioAccess(hostname: "http://127.0.0.1:8080", token: "t"))
    #expect(try access.resolve("/data/upload/3/a.jpg") == "http://127.0.0.1:8080/data/upload/3/a.jpg")
    #expect(try access.resolve("/data/local-files/?d=x/a.png") == "http://127.0.0.1:8080/data/local-files/?d=x/a.png")
    #expect(try access.resolve("http://127.0.0.1:8080/data/upload/3/a.jpg") == "http://127.0.0.1:8080/data/upload/3/a.jpg")
    for url in ["http://169.254.169.254/latest/meta-data", "http://127.0.0.1:8081/data/upload/a.jpg",
                "https://127.0.0.1:8080/data/upload/a.jpg", "//evil.com/a.jpg", "s3://bucket/a.jpg",
                "http://127.0.0.1:8080@evil.com/a.jpg", "gs://b/a.png", "a.jpg", "/data/up load/a.jpg",
                "/data/upload/a.jpg\r\nX-Injected: 1"] {
      #expect(throws: ImageSourceError.self, "\(url)") { try access.resolve(url) }
    }
    // A Label Studio under a path prefix.
    let prefixed = try #require(LabelStudioAccess(hostname: "https://example.org/ls/", token: nil))
    #expect(try prefixed.resolve("/data/upload/1/a.jpg") == "https://example.org/ls/data/upload/1/a.jpg")
    #expect(try prefixed.resolve("/ls/data/upload/1/a.jpg") == "https://example.org/ls/data/upload/1/a.jpg")
  }

  @Test func setupHostsAreTrustedOnlyOnLoopbackOrWhenPinned() throws {
    let open = LabelStudioHostPolicy(pinned: nil)
    #expect((try? open.accept(hostname: "http://localhost:8080", token: "t").get())?.token == "t")
    #expect((try? open.accept(hostname: "http://10.1.2.3:8080", token: "t").get()) == nil)
    #expect((try? open.accept(hostname: "not a url", token: "t").get()) == nil)
    let pinned = LabelStudioHostPolicy(pinned: LabelStudioAccess(hostname: "http://ls.internal:8080", token: "env"))
    #expect((try? pinned.accept(hostname: "http://LS.internal:8080/", token: "t").get())?.token == "t")
    #expect((try? pinned.accept(hostname: "http://ls.internal:8080", token: nil).get())?.token == "env")
    #expect((try? pinned.accept(hostname: "http://localhost:8080", token: "t").get()) == nil)
  }
}

/// A stand-in Label Studio on a loopback port: `/data/upload/7/scene.png` for `Token secret`,
/// a redirect, a body over the test's size limit, a 500, and a body that is not an image. It
/// counts the requests that reach it.
actor FakeLabelStudio {
  var hits: [String] = []
  func hit(_ path: String) { hits.append(path) }
}

func withFakeLabelStudio<T: Sendable>(
  image: [UInt8], _ body: @Sendable (_ port: Int, _ log: FakeLabelStudio) async throws -> T
) async throws -> T {
  let log = FakeLabelStudio()
  let router = Router()
  router.get("/data/upload/7/{name}") { request, context in
    await log.hit(request.uri.path)
    guard request.headers[.authorization] == "Token secret" else {
      return Response(status: .unauthorized)
    }
    switch context.parameters.get("name") ?? "" {
    case "scene.png":
      return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(bytes: image)))
    case "notimage.png":
      return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "<html>login</html>")))
    case "big.png":
      return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(repeating: 7, count: 300_000)))
    case "moved.png":
      return Response(status: .found, headers: [.location: "http://169.254.169.254/latest"])
    default:
      return Response(status: .internalServerError)
    }
  }
  var logger = Logger(label: "fake-label-studio")
  logger.logLevel = .critical
  let (ports, continuation) = AsyncStream<Int>.makeStream()
  let app = Application(
    router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
    onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
  let server = Task { try await app.runService(gracefulShutdownSignals: []) }
  defer { server.cancel() }
  guard let port = await ports.first(where: { _ in true }), port > 0 else {
    Issue.record("the stand-in Label Studio did not start")
    throw CancellationError()
  }
  return try await body(port, log)
}

@Suite struct DownloadTests {
  static func sceneBytes() throws -> [UInt8] {
    let root = try makeImagesRoot()
    return Array(try Data(contentsOf: URL(fileURLWithPath: root + "/images/scene.png")))
  }

  func setupBody(port: Int, token: String?) -> ByteBuffer {
    var body = "{\"project\": \"7.1700000000\", \"schema\": \(jsonString(rectangleConfig)), \"hostname\": \"http://127.0.0.1:\(port)\""
    if let token { body += ", \"access_token\": \(jsonString(token))" }
    return ByteBuffer(string: body + "}")
  }

  @Test func predictDownloadsUploadsFromTheSetupHostWithItsToken() async throws {
    let image = try DownloadTests.sceneBytes()
    try await withFakeLabelStudio(image: image) { port, log in
      // No images root: every image comes from Label Studio.
      let backend = makeBackend(root: nil) { $0.maxImageBytes = 200_000 }
      try await withClient(backend) { client in
        // Before /setup nothing is fetched: the task fails with a message, nothing is requested.
        try await client.execute(uri: "/predict", method: .post, body: predictBody([task(1, image: "/data/upload/7/scene.png")])) { r in
          let item = parse(r.body)["results"]?.arrayValueForTests?.first
          #expect(item?["error"]?.stringValueForTests?.contains("no Label Studio host") == true)
        }
        #expect(await log.hits.isEmpty)
        try await client.execute(uri: "/setup", method: .post, body: setupBody(port: port, token: "secret")) { r in
          #expect(r.status == .ok)
        }
        let tasks = [
          task(1, image: "/data/upload/7/scene.png"),
          task(2, image: "http://127.0.0.1:\(port)/data/upload/7/scene.png"),
          task(3, image: "/data/upload/7/notimage.png"),
          task(4, image: "/data/upload/7/big.png"),
          task(5, image: "/data/upload/7/moved.png"),
          task(6, image: "/data/upload/7/gone.png"),
          task(7, image: "http://169.254.169.254/data/upload/7/scene.png"),
          task(8, image: "s3://bucket/scene.png"),
        ]
        try await client.execute(uri: "/predict", method: .post, body: predictBody(tasks)) { r in
          let results = parse(r.body)["results"]?.arrayValueForTests ?? []
          #expect(results.count == 8)
          for i in 0..<2 {
            #expect(results[i]["error"] == nil, "\(results[i])")
            let value = results[i]["result"]?.arrayValueForTests?.first?["value"]
            // The fitted box lands on the red block (40, 30)–(100, 90) of the 200×150 image.
            #expect(abs((value?["x"]?.number ?? 0) - 20) < 2.5, "\(results[i])")
            #expect(results[i]["result"]?.arrayValueForTests?.first?["original_width"] == .int(200))
          }
          func error(_ i: Int) -> String { results[i]["error"]?.stringValueForTests ?? "" }
          #expect(error(2).contains("task 3") && error(2).contains("notimage.png"), "\(error(2))")
          #expect(error(3).contains("over the limit of 200000"), "\(error(3))")
          #expect(error(4).contains("redirect"), "\(error(4))")
          #expect(error(5).contains("answered 500"), "\(error(5))")
          #expect(error(6).contains("not the Label Studio host"), "\(error(6))")
          #expect(error(7).contains("s3://"), "\(error(7))")
        }
        // Only the Label Studio host was asked, and the redirect was not followed.
        let hits = await log.hits
        #expect(hits.allSatisfy { $0.hasPrefix("/data/upload/7/") })
        #expect(hits.count == 6)
      }
    }
  }

  @Test func aRefusedTokenAndAHostThatIsNotPinnedAreReported() async throws {
    let image = try DownloadTests.sceneBytes()
    try await withFakeLabelStudio(image: image) { port, log in
      let backend = makeBackend(root: nil)
      try await withClient(backend) { client in
        try await client.execute(uri: "/setup", method: .post, body: setupBody(port: port, token: "wrong")) { _ in }
        try await client.execute(uri: "/predict", method: .post, body: predictBody([task(1, image: "/data/upload/7/scene.png")])) { r in
          let message = parse(r.body)["results"]?.arrayValueForTests?.first?["error"]?.stringValueForTests ?? ""
          #expect(message.contains("answered 401") && message.contains("token"), "\(message)")
          #expect(!message.contains("wrong"), "the token must not appear in messages")
        }
      }
      // Pinned to another host: the loopback host from /setup is not used.
      let pinned = makeBackend(root: nil) { $0.labelStudio = LabelStudioAccess(hostname: "http://ls.internal:8080", token: nil) }
      try await withClient(pinned) { client in
        try await client.execute(uri: "/setup", method: .post, body: setupBody(port: port, token: "secret")) { _ in }
        try await client.execute(uri: "/predict", method: .post, body: predictBody([task(1, image: "http://127.0.0.1:\(port)/data/upload/7/scene.png")])) { r in
          let message = parse(r.body)["results"]?.arrayValueForTests?.first?["error"]?.stringValueForTests ?? ""
          #expect(message.contains("not the Label Studio host http://ls.internal:8080"), "\(message)")
        }
      }
      #expect(await log.hits.count == 1)
    }
  }

  @Test func webhookTrainingDownloadsTheAnnotatedImage() async throws {
    let image = try DownloadTests.sceneBytes()
    try await withFakeLabelStudio(image: image) { port, log in
      let backend = makeBackend(root: nil)
      try await withClient(backend) { client in
        try await client.execute(uri: "/setup", method: .post, body: setupBody(port: port, token: "secret")) { _ in }
        let result = [(20.0, 20.0, 30.0, 40.0, "Crate"), (60.0, 40.0, 30.0, 46.67, "Panel & Sign")].map { b in
          "{\"type\": \"rectanglelabels\", \"from_name\": \"label\", \"to_name\": \"image\", \"value\": {\"x\": \(b.0), \"y\": \(b.1), \"width\": \(b.2), \"height\": \(b.3), \"rectanglelabels\": [\(jsonString(b.4))]}}"
        }.joined(separator: ",")
        let body = ByteBuffer(string: """
          {"action": "ANNOTATION_CREATED", "project": {"id": 7, "label_config": \(jsonString(rectangleConfig))},
           "task": {"id": 1, "data": {"image": "/data/upload/7/scene.png"}},
           "annotation": {"id": 55, "result": [\(result)]}}
          """)
        try await client.execute(uri: "/webhook", method: .post, body: body) { r in #expect(r.status == .ok) }
        for _ in 0..<400 where !(await backend.store.isIdle("7")) { try await Task.sleep(for: .milliseconds(25)) }
        #expect(await backend.store.sampleCounts("7").samples == 2)
        #expect(await backend.store.model("7").version == "annota-v1")
      }
      #expect(await log.hits == ["/data/upload/7/scene.png"])
    }
  }

  @Test func localFilesStillComeFromTheImagesRoot() async throws {
    let root = try makeImagesRoot()
    try await withFakeLabelStudio(image: []) { port, log in
      let backend = makeBackend(root: root)
      try await withClient(backend) { client in
        try await client.execute(uri: "/setup", method: .post, body: setupBody(port: port, token: "secret")) { _ in }
        try await client.execute(uri: "/predict", method: .post, body: predictBody([task(1, image: "/data/local-files/?d=images/scene.png")])) { r in
          #expect(parse(r.body)["results"]?.arrayValueForTests?.first?["error"] == nil)
        }
      }
      #expect(await log.hits.isEmpty)
    }
  }
}
