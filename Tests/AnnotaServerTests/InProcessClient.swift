import AnnotaServer
import Hummingbird
import Logging
import NIOEmbedded

/// A response as the tests see it.
struct TestResponse {
  var status: HTTPResponse.Status
  var headers: HTTPFields
  var body: ByteBuffer
}

/// Collects a response body; only the one task writing the body touches it.
final class BodyBox: @unchecked Sendable {
  var buffer = ByteBuffer()
}

struct CollectingWriter: ResponseBodyWriter {
  let box: BodyBox

  mutating func write(_ buffer: ByteBuffer) async throws {
    var b = buffer
    box.buffer.writeBuffer(&b)
  }

  consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

/// Sends requests straight to the backend's Hummingbird router, in process: the same router,
/// middleware and handlers the server runs, without sockets (a request context over NIO's testing
/// channel, as Hummingbird's own router test framework does).
struct InProcessClient: Sendable {
  let responder: RouterResponder<BasicRequestContext>
  let logger: Logger

  @discardableResult
  func execute<T>(
    uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil,
    _ check: (TestResponse) async throws -> T = { $0 }
  ) async throws -> T {
    var headers = headers
    if let body { headers[.contentLength] = String(body.readableBytes) }
    let request = Request(
      head: HTTPRequest(method: method, scheme: "http", authority: "localhost", path: uri, headerFields: headers),
      body: RequestBody(buffer: body ?? ByteBuffer()))
    let context = BasicRequestContext(
      source: ApplicationRequestContextSource(channel: NIOAsyncTestingChannel(), logger: logger))
    let response: Response
    do { response = try await responder.respond(to: request, context: context) } catch let e as any HTTPResponseError {
      response = Response(status: e.status)
    }
    let box = BodyBox()
    _ = try await response.body.write(CollectingWriter(box: box))
    return try await check(TestResponse(status: response.status, headers: response.headers, body: box.buffer))
  }
}

/// Runs `test` with a client of `backend`'s router.
func withClient<T>(_ backend: MLBackend, _ test: (InProcessClient) async throws -> T) async throws -> T {
  var logger = Logger(label: "test")
  logger.logLevel = .critical
  let responder = backend.router().buildResponder()
  return try await test(InProcessClient(responder: responder, logger: logger))
}
