import Foundation
import FoundationNetworking
import Synchronization

/// Downloads task images from Label Studio (URLSession from the toolchain's Foundation, so no
/// HTTP client has to be built): `Authorization: Token …` when a token is known, no redirects
/// followed (a redirect could lead to another host), a size cap enforced while the body
/// streams in, and a time limit.
public struct ImageFetcher: Sendable {
  /// Largest image body accepted, in bytes.
  public var maxBytes: Int
  /// Seconds for the whole download.
  public var timeoutSeconds: Double

  public init(maxBytes: Int = 256 << 20, timeoutSeconds: Double = 30) {
    self.maxBytes = maxBytes
    self.timeoutSeconds = timeoutSeconds
  }

  /// The body of `url` (which ``LabelStudioAccess/resolve(_:)`` produced).
  ///
  /// - Throws: `ImageSourceError` naming the URL: a status other than 200 (401 and 403 say the
  ///   token was refused), a redirect, a body over ``maxBytes``, a timeout, a network error.
  public func fetch(_ url: String, token: String?) async throws(ImageSourceError) -> [UInt8] {
    func fail(_ why: String) -> ImageSourceError { ImageSourceError(url: url, message: why) }
    guard let target = URL(string: url) else { throw fail("not a valid URL") }
    var request = URLRequest(url: target, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeoutSeconds)
    if let token { request.setValue("Token \(token)", forHTTPHeaderField: "Authorization") }
    request.setValue("annota-server", forHTTPHeaderField: "User-Agent")
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = timeoutSeconds
    configuration.timeoutIntervalForResource = timeoutSeconds
    configuration.httpShouldSetCookies = false
    let delegate = FetchDelegate(maxBytes: maxBytes)
    let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
    defer { session.finishTasksAndInvalidate() }
    let outcome: FetchDelegate.Outcome = await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        let task = session.dataTask(with: request)
        delegate.start(task, continuation)
      }
    } onCancel: {
      delegate.cancel()
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

/// One download's state, shared with URLSession's delegate queue.
final class FetchDelegate: NSObject, URLSessionDataDelegate, Sendable {
  enum Outcome: Sendable {
    case body([UInt8])
    case status(Int)
    case tooLarge(Int)
    case failed(String)
    case cancelled
  }

  struct State {
    var task: URLSessionDataTask?
    var continuation: CheckedContinuation<Outcome, Never>?
    var body: [UInt8] = []
    var verdict: Outcome?
    var cancelled = false
  }

  let maxBytes: Int
  let state = Mutex(State())

  init(maxBytes: Int) { self.maxBytes = maxBytes }

  func start(_ task: URLSessionDataTask, _ continuation: CheckedContinuation<Outcome, Never>) {
    let cancelled = state.withLock { s in
      s.task = task
      s.continuation = continuation
      return s.cancelled
    }
    if cancelled { task.cancel() } else { task.resume() }
  }

  func cancel() {
    let task = state.withLock { s in
      s.cancelled = true
      return s.task
    }
    task?.cancel()
  }

  /// Records `outcome` as the result (the first verdict wins); the caller stops the transfer.
  private func decide(_ outcome: Outcome) {
    state.withLock { s in if s.verdict == nil { s.verdict = outcome } }
  }

  func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                  completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
    guard let http = response as? HTTPURLResponse else {
      decide(.failed("not an HTTP response"))
      completionHandler(.cancel)
      return
    }
    guard http.statusCode == 200 else {
      decide(.status(http.statusCode))
      completionHandler(.cancel)
      return
    }
    if response.expectedContentLength > Int64(maxBytes) {
      decide(.tooLarge(Int(response.expectedContentLength)))
      completionHandler(.cancel)
      return
    }
    completionHandler(.allow)
  }

  func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
    let over = state.withLock { s -> Int? in
      guard s.verdict == nil else { return nil }
      if s.body.count + data.count > maxBytes { return s.body.count + data.count }
      s.body.append(contentsOf: data)
      return nil
    }
    if let over {
      decide(.tooLarge(over))
      dataTask.cancel()
    }
  }

  func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                  newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
    // Not followed: the redirect response itself completes the task.
    decide(.status(response.statusCode))
    completionHandler(nil)
  }

  func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
    let (continuation, outcome) = state.withLock { s -> (CheckedContinuation<Outcome, Never>?, Outcome) in
      let c = s.continuation
      s.continuation = nil
      let outcome: Outcome
      if let verdict = s.verdict {
        outcome = verdict
      } else if s.cancelled {
        outcome = .cancelled
      } else if let error {
        outcome = .failed(error.localizedDescription)
      } else if let http = task.response as? HTTPURLResponse, http.statusCode != 200 {
        outcome = .status(http.statusCode)
      } else {
        outcome = .body(s.body)
      }
      s.body = []
      return (c, outcome)
    }
    continuation?.resume(returning: outcome)
  }
}
