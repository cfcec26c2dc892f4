import AnnotaEngine
import AnnotaImageIO
public import Hummingbird
public import Logging
import Dispatch

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Settings of the Label Studio ML backend.
public struct ServerOptions: Sendable {
  public var host = "127.0.0.1"
  public var port = 9090
  /// Folder mirroring Label Studio's `LOCAL_FILES_DOCUMENT_ROOT`.
  public var imagesRoot: String?
  /// Where models and labeled samples persist; nil keeps them in memory only.
  public var stateDirectory: String?
  /// HTTP Basic credentials every request must carry, when set.
  public var basicAuth: (user: String, password: String)?
  /// Largest request body accepted (413 above it).
  public var maxBodyBytes = 64 << 20
  /// Most tasks in one `/predict` request.
  public var maxTasks = 10_000
  /// Largest image decoded, in pixels (bigger ones fail their task).
  public var maxImagePixels = 100_000_000
  /// Seconds after which `/predict` stops starting tasks and answers the rest with an error
  /// (Label Studio gives up at 100 s).
  public var predictSeconds = 80.0
  /// Time limits of the quick endpoints (Label Studio: setup 3 s, health and webhook 1 s).
  public var setupSeconds = 2.5
  public var quickSeconds = 0.8
  /// The Label Studio URL images may be downloaded from, with its token (`--label-studio-url`,
  /// `--label-studio-token`). Without it, only a loopback host sent in `/setup` is used.
  public var labelStudio: LabelStudioAccess?
  /// Largest image downloaded from Label Studio, in bytes.
  public var maxImageBytes = 256 << 20
  /// Seconds allowed for one image download.
  public var downloadSeconds = 30.0
  /// Tasks predicted in parallel.
  public var concurrency = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))

  public init() {}
}

/// The Label Studio ML backend: `GET /health`, `POST /setup`, `POST /predict`, `POST /webhook`,
/// `GET /versions` (Label Studio 1.23's protocol), in front of ``Predictor`` and ``ModelStore``.
public struct MLBackend: Sendable {
  public let options: ServerOptions
  public let predictor: Predictor
  public let store: ModelStore
  let hosts: LabelStudioHosts
  let fetcher: ImageFetcher
  let logger: Logger

  public init(options: ServerOptions, logger: Logger) {
    self.options = options
    self.logger = logger
    predictor = Predictor(
      images: ImageSource(root: options.imagesRoot), decodeLimits: DecodeLimits(maxPixels: options.maxImagePixels))
    store = ModelStore(directory: options.stateDirectory, logger: logger)
    hosts = LabelStudioHosts(policy: LabelStudioHostPolicy(pinned: options.labelStudio))
    fetcher = ImageFetcher(maxBytes: options.maxImageBytes, timeoutSeconds: options.downloadSeconds)
  }

  /// The router with every endpoint and the auth, timeout and logging middleware.
  public func router() -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: RequestLogMiddleware(logger: logger))
    if let auth = options.basicAuth {
      router.add(middleware: BasicAuthMiddleware(user: auth.user, password: auth.password))
    }
    let backend = self
    router.get("/health") { _, _ in
      try await backend.limited(backend.options.quickSeconds, "health") {
        MLBackend.json(.object([("status", .string("UP")), ("model_class", .string("Annota")),
                                ("version", .string("annota-server"))]))
      }
    }
    router.get("/") { _, _ in
      MLBackend.json(.object([("status", .string("UP")), ("model_class", .string("Annota"))]))
    }
    router.get("/versions") { _, _ in
      try await backend.limited(backend.options.quickSeconds, "versions") {
        let v = await backend.store.versions()
        return MLBackend.json(.object([("versions", .array(v.map { .string($0) }))]))
      }
    }
    router.post("/setup") { request, _ in
      try await backend.limited(backend.options.setupSeconds, "setup") {
        try await backend.setup(request)
      }
    }
    router.post("/predict") { request, _ in
      // No racing timer here: the handler keeps its own deadline (tasks not started by then get
      // an error item). A cancelled `Task.sleep` keeps its timer until the deadline, so a 95 s
      // backstop timer per request held memory for 95 s (seen in the soak test as steady RSS
      // growth); the quick endpoints' timers last at most 2.5 s.
      try await backend.predict(request)
    }
    router.post("/train") { request, _ in
      try await backend.limited(backend.options.quickSeconds, "train") {
        try await backend.train(request)
      }
    }
    router.post("/webhook") { request, _ in
      try await backend.limited(backend.options.quickSeconds, "webhook") {
        try await backend.webhook(request)
      }
    }
    return router
  }

  /// The application bound to `options.host:options.port`.
  public func application() -> some ApplicationProtocol {
    Application(
      router: router(),
      configuration: .init(address: .hostname(options.host, port: options.port), serverName: "annota-server"),
      logger: logger)
  }

  // MARK: endpoints

  func setup(_ request: Request) async throws -> Response {
    let body: JSONValue
    switch await readJSON(request) {
    case .success(let v): body = v
    case .failure(let r): return r
    }
    let project = MLBackend.projectKey(body["project"])
    // Label Studio 1.23 sends the config as "schema".
    if let config = (body["label_config"] ?? body["schema"])?.stringValue {
      do { _ = try LabelConfig(parsing: config) } catch {
        logger.warning("setup: unusable label_config", metadata: ["project": "\(project)", "error": "\(error)"])
      }
    }
    // The host and token images are downloaded from (the token is never logged).
    if let hostname = body["hostname"]?.stringValue, !hostname.isEmpty {
      switch hosts.policy.accept(hostname: hostname, token: body["access_token"]?.stringValue) {
      case .success(let access):
        await hosts.set(project, access)
        logger.debug("setup: Label Studio host", metadata: [
          "project": "\(project)", "host": "\(access.origin)", "token": "\(access.token != nil)",
        ])
      case .failure(let refused):
        logger.warning("setup: Label Studio host refused", metadata: ["project": "\(project)", "reason": "\(refused)"])
      }
    }
    let model = await store.model(project)
    return MLBackend.json(.object([("model_version", .string(model.version))]))
  }

  func predict(_ request: Request) async throws -> Response {
    let started = ContinuousClock.now
    let deadline = started + .milliseconds(Int64(options.predictSeconds * 1000))
    let body: JSONValue
    switch await readJSON(request) {
    case .success(let v): body = v
    case .failure(let r): return r
    }
    guard let tasks = body["tasks"]?.arrayValue else {
      return MLBackend.error(.badRequest, "predict: \"tasks\" must be an array of Label Studio tasks")
    }
    guard tasks.count <= options.maxTasks else {
      return MLBackend.error(.contentTooLarge, "predict: \(tasks.count) tasks in one request; at most \(options.maxTasks)")
    }
    let project = MLBackend.projectKey(body["project"])
    let config: Result<LabelConfig, LabelConfigError>
    if let text = body["label_config"]?.stringValue {
      do { config = .success(try LabelConfig(parsing: text)) } catch { config = .failure(error) }
    } else {
      config = .failure(LabelConfigError(message: "missing from the request"))
    }
    let drawn = body["params"]?["context"]?["result"]?.arrayValue
    let model = await store.model(project)
    let access = await hosts.access(project)
    let predictor = self.predictor
    let width = max(1, options.concurrency)
    let results: [JSONValue] = await withTaskGroup(of: (Int, JSONValue).self) { group in
      var out = [JSONValue](repeating: .null, count: tasks.count)
      var next = 0
      func launch(_ i: Int) {
        let task = tasks[i]
        group.addTask {
          if Task.isCancelled {
            return (i, Predictor.errorItem(
              "\(Predictor.taskName(task)): not predicted: the request was cancelled", version: model.version))
          }
          if ContinuousClock.now > deadline {
            return (i, Predictor.errorItem(
              "\(Predictor.taskName(task)): not predicted: the \(Int(self.options.predictSeconds)) s deadline of this request passed",
              version: model.version))
          }
          let remote = await self.download(task, config: try? config.get(), access: access)
          let item = await ModelStore.offload {
            predictor.predict(task: task, config: config, model: model, drawn: drawn, remote: remote)
          }
          return (i, item)
        }
      }
      while next < min(width, tasks.count) {
        launch(next)
        next += 1
      }
      while let (i, item) = await group.next() {
        out[i] = item
        if next < tasks.count {
          launch(next)
          next += 1
        }
      }
      return out
    }
    let failed = results.filter { $0["error"] != nil }
    for f in failed.prefix(5) {
      logger.warning("predict: task failed", metadata: ["project": "\(project)", "error": "\(f["error"]?.stringValue ?? "")"])
    }
    logger.info("predict", metadata: [
      "project": "\(project)", "tasks": "\(tasks.count)", "failed": "\(failed.count)",
      "interactive": "\(drawn != nil)", "model_version": "\(model.version)",
      "ms": "\(MLBackend.milliseconds(ContinuousClock.now - started))",
    ])
    return MLBackend.json(.object([("results", .array(results)), ("model_version", .string(model.version))]))
  }

  func webhook(_ request: Request) async throws -> Response {
    let body: JSONValue
    switch await readJSON(request) {
    case .success(let v): body = v
    case .failure(let r): return r
    }
    let action = body["action"]?.stringValue ?? ""
    let project = MLBackend.projectKey(body["project"]?["id"] ?? body["project"])
    switch action {
    case "ANNOTATION_CREATED", "ANNOTATION_UPDATED":
      guard let task = body["task"], let annotation = body["annotation"],
        let annotationID = annotation["id"]?.idText
      else {
        return MLBackend.error(.badRequest, "webhook \(action): \"task\" and \"annotation\" (with id) are required")
      }
      let result = annotation["result"]?.arrayValue ?? []
      let cancelled = annotation["was_cancelled"]?.boolValue == true
      let config = (body["project"]?["label_config"]?.stringValue).flatMap { try? LabelConfig(parsing: $0) }
      let predictor = self.predictor
      let store = self.store
      let logger = self.logger
      let access = await hosts.access(project)
      await store.beginIngest(project)
      // Downloading and decoding the image and training happen after the response.
      Task {
        let remote = cancelled ? RemoteImages(access: access) : await self.download(task, config: config, access: access)
        let samples: Result<[TrainingSample], any Error> = await ModelStore.offload {
          Result { try predictor.trainingSamples(task: task, result: cancelled ? [] : result, config: config, remote: remote) }
        }
        switch samples {
        case .success(let s):
          await store.setSamples(project, annotation: annotationID, samples: s)
          await store.requestTraining(project)
        case .failure(let e):
          logger.warning("webhook: annotation not learned", metadata: [
            "project": "\(project)", "annotation": "\(annotationID)", "error": "\(e)",
          ])
        }
        await store.endIngest(project)
      }
      return MLBackend.json(.object([("status", .string("accepted")), ("action", .string(action))]))
    case "ANNOTATIONS_DELETED", "ANNOTATION_DELETED":
      let ids = (body["annotations"]?.arrayValue ?? [body["annotation"] ?? .null]).compactMap { $0["id"]?.idText }
      for id in ids { await store.setSamples(project, annotation: id, samples: []) }
      if !ids.isEmpty { await store.requestTraining(project) }
      return MLBackend.json(.object([("status", .string("accepted")), ("action", .string(action))]))
    case "START_TRAINING":
      await store.requestTraining(project)
      return MLBackend.json(.object([("status", .string("accepted")), ("action", .string(action))]))
    default:
      return MLBackend.json(.object([("status", .string("ignored")), ("action", .string(action))]))
    }
  }

  /// Label Studio's legacy training call (sent when its webhook-training flag is off): every
  /// task with annotations, exported. Each annotation's boxes replace its stored samples, then a
  /// round of training runs — all after the response.
  func train(_ request: Request) async throws -> Response {
    let body: JSONValue
    switch await readJSON(request) {
    case .success(let v): body = v
    case .failure(let r): return r
    }
    let project = MLBackend.projectKey(body["project"])
    let tasks = body["annotations"]?.arrayValue ?? []
    let config = (body["label_config"]?.stringValue).flatMap { try? LabelConfig(parsing: $0) }
    let predictor = self.predictor
    let store = self.store
    let logger = self.logger
    let access = await hosts.access(project)
    await store.beginIngest(project)
    Task {
      for task in tasks {
        for annotation in task["annotations"]?.arrayValue ?? [] {
          guard let id = annotation["id"]?.idText else { continue }
          let result = annotation["was_cancelled"]?.boolValue == true ? [] : annotation["result"]?.arrayValue ?? []
          let remote = result.isEmpty ? RemoteImages(access: access) : await self.download(task, config: config, access: access)
          let samples: Result<[TrainingSample], any Error> = await ModelStore.offload {
            Result { try predictor.trainingSamples(task: task, result: result, config: config, remote: remote) }
          }
          switch samples {
          case .success(let s): await store.setSamples(project, annotation: id, samples: s)
          case .failure(let e):
            logger.warning("train: annotation not learned", metadata: ["project": "\(project)", "annotation": "\(id)", "error": "\(e)"])
          }
        }
      }
      await store.requestTraining(project)
      await store.endIngest(project)
    }
    return MLBackend.json(.object([("status", .string("accepted")), ("tasks", .int(Int64(tasks.count)))]))
  }

  // MARK: helpers

  /// Downloads the task's images that live on Label Studio (none when every image is a local
  /// file); failures are kept per URL and reported by the task that needs them.
  func download(_ task: JSONValue, config: LabelConfig?, access: LabelStudioAccess?) async -> RemoteImages {
    var remote = RemoteImages(access: access)
    for url in predictor.downloads(task: task, config: config, access: access) {
      do { remote.bytes[url] = .success(try await fetcher.fetch(url, token: access?.token)) } catch {
        remote.bytes[url] = .failure(error)
      }
    }
    return remote
  }

  enum Parsed {
    case success(JSONValue)
    case failure(Response)
  }

  /// The request body as JSON, or the error response to send.
  func readJSON(_ request: Request) async -> Parsed {
    let what = request.uri.path
    if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > options.maxBodyBytes {
      return .failure(MLBackend.error(
        .contentTooLarge, "\(what): request body of \(length) bytes is over the limit of \(options.maxBodyBytes)"))
    }
    let buffer: ByteBuffer
    do { buffer = try await request.body.collect(upTo: options.maxBodyBytes) } catch {
      return .failure(MLBackend.error(
        .contentTooLarge, "\(what): request body is over the limit of \(options.maxBodyBytes) bytes"))
    }
    do {
      return .success(try JSONReader.parse(Array(buffer.readableBytesView)))
    } catch {
      return .failure(MLBackend.error(.badRequest, "\(what): the request body is not valid JSON: \(error)"))
    }
  }

  /// Runs `work` with a time limit; past it the client gets 503 with the endpoint named.
  func limited(_ seconds: Double, _ what: String, _ work: @escaping @Sendable () async throws -> Response)
    async throws -> Response
  {
    try await withThrowingTaskGroup(of: Response?.self) { group in
      group.addTask { try await work() }
      group.addTask {
        try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
        return nil
      }
      let first = try await group.next() ?? nil
      group.cancelAll()
      if let first { return first }
      logger.error("timeout", metadata: ["endpoint": "\(what)", "seconds": "\(seconds)"])
      return MLBackend.error(.serviceUnavailable, "\(what): no answer within \(seconds) s")
    }
  }

  /// The project key: the id before the dot of Label Studio's `"<id>.<timestamp>"`, digits only;
  /// `default` when absent or unusable (no path characters ever reach the state directory).
  static func projectKey(_ value: JSONValue?) -> String {
    guard let text = value?.idText else { return "default" }
    let id = text.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ""
    return !id.isEmpty && id.count <= 18 && id.allSatisfy({ $0.isASCII && $0.isNumber }) ? id : "default"
  }

  static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
    let bytes = value.serializedBytes()
    return Response(
      status: status, headers: [.contentType: "application/json"],
      body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
  }

  static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
    json(.object([("error", .string(message)), ("status", .int(Int64(status.code)))]), status: status)
  }

  static func milliseconds(_ d: Duration) -> Int {
    let (s, a) = d.components
    return Int(s) * 1000 + Int(a / 1_000_000_000_000_000)
  }
}

/// One structured log line per request: method, path, status, milliseconds.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
  let logger: Logger

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
    async throws -> Response
  {
    let start = ContinuousClock.now
    do {
      let response = try await next(request, context)
      logger.info("request", metadata: [
        "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
        "ms": "\(MLBackend.milliseconds(ContinuousClock.now - start))",
      ])
      return response
    } catch {
      logger.warning("request failed", metadata: [
        "method": "\(request.method)", "path": "\(request.uri.path)", "error": "\(error)",
      ])
      throw error
    }
  }
}

/// HTTP Basic authentication: every request must carry the configured user and password.
struct BasicAuthMiddleware<Context: RequestContext>: RouterMiddleware {
  let expected: [UInt8]

  init(user: String, password: String) {
    expected = Array(("Basic " + Base64.encode(Array("\(user):\(password)".utf8))).utf8)
  }

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
    async throws -> Response
  {
    let given = Array((request.headers[.authorization] ?? "").utf8)
    // Constant time in the length of the expected value.
    var difference = given.count == expected.count ? 0 : 1
    for i in expected.indices { difference |= Int(expected[i] ^ (i < given.count ? given[i] : 0)) }
    guard difference == 0 else {
      var response = MLBackend.error(.unauthorized, "\(request.uri.path): HTTP Basic credentials are required")
      response.headers[.wwwAuthenticate] = "Basic realm=\"annota-server\""
      return response
    }
    return try await next(request, context)
  }
}

/// Standard base64 (RFC 4648, with padding).
enum Base64 {
  static func encode(_ bytes: [UInt8]) -> String {
    let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
      let b0 = bytes[i]
      let b1 = i + 1 < bytes.count ? bytes[i + 1] : 0
      let b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
      out.append(table[Int(b0 >> 2)])
      out.append(table[Int((b0 & 3) << 4 | b1 >> 4)])
      out.append(i + 1 < bytes.count ? table[Int((b1 & 15) << 2 | b2 >> 6)] : UInt8(ascii: "="))
      out.append(i + 2 < bytes.count ? table[Int(b2 & 63)] : UInt8(ascii: "="))
      i += 3
    }
    return String(decoding: out, as: UTF8.self)
  }
}
