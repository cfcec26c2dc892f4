import Foundation
import FoundationNetworking
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Downloads task images from Label Studio: `Authorization: Token …` when a token is known, no
/// redirects followed (a redirect could lead to another host), a size cap enforced while the
/// body streams in, and a time limit.
///
/// `http://` goes through SwiftNIO's HTTP/1.1 codec (already built for Hummingbird), one
/// connection per image. `https://` goes through URLSession from the toolchain's Foundation
/// (NIO's TLS would mean building BoringSSL): one session serves every download. That
/// URLSession keeps about 80 bytes per request (measured with a plain loop of data tasks, no
/// Annota code), which is why plain HTTP does not use it.
public struct ImageFetcher: Sendable {
  /// Largest image body accepted, in bytes.
  public let maxBytes: Int
  /// Seconds for the whole download.
  public let timeoutSeconds: Double
  let client: FetchClient

  public init(maxBytes: Int = 256 << 20, timeoutSeconds: Double = 30) {
    self.maxBytes = maxBytes
    self.timeoutSeconds = timeoutSeconds
    client = FetchClient(maxBytes: maxBytes, timeoutSeconds: timeoutSeconds)
  }

  /// The body of `url` (which ``LabelStudioAccess/resolve(_:)`` produced).
  ///
  /// - Throws: `ImageSourceError` naming the URL: a status other than 200 (401 and 403 say the
  ///   token was refused), a redirect, a body over ``maxBytes``, a timeout, a network error.
  public func fetch(_ url: String, token: String?) async throws(ImageSourceError) -> [UInt8] {
    func fail(_ why: String) -> ImageSourceError { ImageSourceError(url: url, message: why) }
    guard let target = URL(string: url), let (origin, rest) = LabelStudioOrigin.split(url) else {
      throw fail("not a valid URL")
    }
    let outcome: FetchClient.Outcome
    if origin.scheme == "http" {
      outcome = await PlainHTTP.get(
        origin: origin, target: rest.isEmpty ? "/" : String(rest), token: token, maxBytes: maxBytes,
        timeoutSeconds: timeoutSeconds)
    } else {
      var request = URLRequest(url: target, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeoutSeconds)
      if let token { request.setValue("Token \(token)", forHTTPHeaderField: "Authorization") }
      request.setValue("annota-server", forHTTPHeaderField: "User-Agent")
      outcome = await client.transfer(request)
    }
    switch outcome {
    case .body(let bytes): return bytes
    case .status(let code):
      switch code {
      case 401, 403:
        throw fail("Label Studio answered \(code): the access token from /setup (or --label-studio-token) was refused; "
          + "Label Studio 1.23 accepts it only with legacy API tokens enabled")
      case 300..<400: throw fail("Label Studio answered with a redirect (\(code)); redirects are not followed")
      default: throw fail("Label Studio answered \(code)")
      }
    case .tooLarge(let size): throw fail("the image is \(size) bytes or more, over the limit of \(maxBytes)")
    case .failed(let message): throw fail("download failed: \(message)")
    case .cancelled: throw fail("download cancelled")
    }
  }
}

/// The shared session and its delegate, which keeps each transfer's state by task identifier.
final class FetchClient: NSObject, URLSessionDataDelegate, Sendable {
  enum Outcome: Sendable {
    case body([UInt8])
    case status(Int)
    case tooLarge(Int)
    case failed(String)
    case cancelled
  }

  struct Transfer {
    var continuation: CheckedContinuation<Outcome, Never>
    var body: [UInt8] = []
    var verdict: Outcome?
  }

  struct Table {
    var running: [Int: Transfer] = [:]
    /// Tasks that completed before their transfer was registered (cancelled before it started).
    var early: [Int: Outcome] = [:]
  }

  let maxBytes: Int
  let timeoutSeconds: Double
  private let table = Mutex(Table())
  /// Made on the first `https://` download: most servers only ever use plain HTTP.
  private let sessionHolder = Mutex<URLSession?>(nil)

  init(maxBytes: Int, timeoutSeconds: Double) {
    self.maxBytes = maxBytes
    self.timeoutSeconds = timeoutSeconds
  }

  private var session: URLSession {
    sessionHolder.withLock { holder in
      if let session = holder { return session }
      let configuration = URLSessionConfiguration.ephemeral
      configuration.timeoutIntervalForRequest = timeoutSeconds
      configuration.timeoutIntervalForResource = timeoutSeconds
      configuration.httpShouldSetCookies = false
      let session = URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
      holder = session
      return session
    }
  }

  /// Runs `request` to its outcome; cancelling the calling task cancels the transfer.
  func transfer(_ request: URLRequest) async -> Outcome {
    let task = session.dataTask(with: request)
    let id = task.taskIdentifier
    return await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        let early = table.withLock { t -> Outcome? in
          if let outcome = t.early.removeValue(forKey: id) { return outcome }
          t.running[id] = Transfer(continuation: continuation)
          return nil
        }
        if let early { continuation.resume(returning: early) } else { task.resume() }
      }
    } onCancel: {
      task.cancel()
    }
  }

  /// Records `outcome` as the transfer's result (the first verdict wins); the caller stops it.
  private func decide(_ task: URLSessionTask, _ outcome: Outcome) {
    table.withLock { t in
      if t.running[task.taskIdentifier]?.verdict == nil { t.running[task.taskIdentifier]?.verdict = outcome }
    }
  }

  func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                  completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
    guard let http = response as? HTTPURLResponse else {
      decide(dataTask, .failed("not an HTTP response"))
      completionHandler(.cancel)
      return
    }
    guard http.statusCode == 200 else {
      decide(dataTask, .status(http.statusCode))
      completionHandler(.cancel)
      return
    }
    if response.expectedContentLength > Int64(maxBytes) {
      decide(dataTask, .tooLarge(Int(response.expectedContentLength)))
      completionHandler(.cancel)
      return
    }
    completionHandler(.allow)
  }

  func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
    let id = dataTask.taskIdentifier
    let over = table.withLock { t -> Int? in
      guard var transfer = t.running.removeValue(forKey: id) else { return nil }
      defer { t.running[id] = transfer }
      guard transfer.verdict == nil else { return nil }
      let size = transfer.body.count + data.count
      if size > maxBytes {
        transfer.verdict = .tooLarge(size)
        transfer.body = []
        return size
      }
      transfer.body.append(contentsOf: data)
      return nil
    }
    if over != nil { dataTask.cancel() }
  }

  func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                  newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
    // Not followed: the redirect response itself completes the task.
    decide(task, .status(response.statusCode))
    completionHandler(nil)
  }

  func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
    let status = (task.response as? HTTPURLResponse)?.statusCode
    let id = task.taskIdentifier
    let failure: Outcome? = error.map { e in
      (e as? URLError)?.code == .cancelled ? .cancelled : .failed(e.localizedDescription)
    }
    let finished = table.withLock { t -> (Transfer, Outcome)? in
      guard let transfer = t.running.removeValue(forKey: id) else {
        t.early[id] = failure ?? .cancelled
        return nil
      }
      if let verdict = transfer.verdict { return (transfer, verdict) }
      if let failure { return (transfer, failure) }
      if let status, status != 200 { return (transfer, .status(status)) }
      return (transfer, .body(transfer.body))
    }
    if let (transfer, outcome) = finished { transfer.continuation.resume(returning: outcome) }
  }
}

/// One plain-HTTP GET over SwiftNIO: a connection per request (`Connection: close`), the body
/// collected up to `maxBytes`, the connection closed at `timeoutSeconds`.
enum PlainHTTP {
  static func get(
    origin: LabelStudioOrigin, target: String, token: String?, maxBytes: Int, timeoutSeconds: Double
  ) async -> FetchClient.Outcome {
    var host = origin.host
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    let timeout = TimeAmount.milliseconds(Int64(timeoutSeconds * 1000))
    do {
      let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connectTimeout(timeout)
        .connect(host: host, port: origin.port) { channel in
          channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
          }
        }
      // The deadline closes the connection, which ends the response stream below.
      let timer = channel.channel.eventLoop.scheduleTask(in: timeout) { channel.channel.close(promise: nil) }
      defer { timer.cancel() }
      return try await channel.executeThenClose { inbound, outbound in
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target)
        head.headers.add(name: "Host", value: origin.authority)
        head.headers.add(name: "User-Agent", value: "annota-server")
        head.headers.add(name: "Connection", value: "close")
        if let token { head.headers.add(name: "Authorization", value: "Token \(token)") }
        // One flush for the whole request. A server may answer and close as soon as it has read
        // the head, so a failed write is not the end: the answer may already be waiting.
        do { try await outbound.write(contentsOf: [.head(head), .end(nil)]) } catch {}
        var body: [UInt8] = []
        for try await part in inbound {
          switch part {
          case .head(let response):
            let status = Int(response.status.code)
            guard status == 200 else { return .status(status) }
            if let length = response.headers.first(name: "content-length").flatMap({ Int($0) }), length > maxBytes {
              return .tooLarge(length)
            }
          case .body(let buffer):
            guard body.count + buffer.readableBytes <= maxBytes else { return .tooLarge(body.count + buffer.readableBytes) }
            body.append(contentsOf: buffer.readableBytesView)
          case .end:
            return .body(body)
          }
        }
        return .failed("the connection closed before the response ended (or the \(Int(timeoutSeconds)) s limit passed)")
      }
    } catch {
      return .failed("\(error)")
    }
  }
}
