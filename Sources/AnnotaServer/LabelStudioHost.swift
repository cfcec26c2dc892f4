/// The origin of a Label Studio server: scheme, host and port, normalised so two spellings of
/// the same server compare equal (`HTTP://LocalHost:80` = `http://localhost`).
public struct LabelStudioOrigin: Sendable, Hashable, CustomStringConvertible {
  /// `http` or `https`.
  public let scheme: String
  /// Lower-cased host name or IP literal (IPv6 kept in brackets).
  public let host: String
  public let port: Int

  /// Parses `scheme://host[:port][/path]`; the path (Label Studio may sit under a prefix) is
  /// kept in ``pathPrefix``. Returns nil for other schemes, user info (`user@host`), an empty
  /// host or a bad port.
  public init?(parsing text: String) {
    guard let (origin, _) = LabelStudioOrigin.split(text) else { return nil }
    self = origin
  }

  init(scheme: String, host: String, port: Int) {
    self.scheme = scheme
    self.host = host
    self.port = port
  }

  /// `scheme://host[:port]`, the port left out when it is the scheme's default.
  public var description: String { "\(scheme)://\(authority)" }

  /// `host[:port]` (an HTTP `Host` header), the port left out when it is the scheme's default.
  public var authority: String {
    port == (scheme == "https" ? 443 : 80) ? host : "\(host):\(port)"
  }

  /// Whether the host is a loopback literal (`localhost`, `127.0.0.0/8`, `::1`): a server on the
  /// same machine.
  public var isLoopback: Bool {
    if host == "localhost" || host == "[::1]" { return true }
    let parts = host.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { p in UInt8(p) != nil }
  }

  /// The origin of `text` and the rest (path and query, starting with `/`, or empty); nil when
  /// `text` is not an absolute http(s) URL with a usable authority.
  static func split(_ text: String) -> (LabelStudioOrigin, Substring)? {
    guard let sep = text.range(of: "://") else { return nil }
    let scheme = text[..<sep.lowerBound].lowercased()
    guard scheme == "http" || scheme == "https" else { return nil }
    let afterScheme = text[sep.upperBound...]
    let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
    let authority = afterScheme[..<authorityEnd]
    var rest = afterScheme[authorityEnd...]
    if rest.first == "?" || rest.first == "#" { rest = "" }
    // User info could make `http://label-studio@evil/` read like the Label Studio host.
    guard !authority.isEmpty, !authority.contains("@"),
      authority.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "\\" })
    else { return nil }
    var host = Substring(authority)
    var port = scheme == "https" ? 443 : 80
    if authority.hasPrefix("[") {
      guard let close = authority.firstIndex(of: "]") else { return nil }
      host = authority[...close]
      let tail = authority[authority.index(after: close)...]
      if !tail.isEmpty {
        guard tail.hasPrefix(":"), let p = Int(tail.dropFirst()), (1...65535).contains(p) else { return nil }
        port = p
      }
    } else if let colon = authority.lastIndex(of: ":") {
      host = authority[..<colon]
      guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else { return nil }
      port = p
    }
    guard !host.isEmpty else { return nil }
    return (LabelStudioOrigin(scheme: scheme, host: host.lowercased(), port: port), rest)
  }
}

/// Where and how images may be fetched from Label Studio: its origin, an optional path prefix
/// (Label Studio served under `https://host/ls/`), and the access token it sent in `/setup`
/// (sent back as `Authorization: Token …`, only ever to this origin).
public struct LabelStudioAccess: Sendable, Equatable {
  public var origin: LabelStudioOrigin
  /// Path prefix without a trailing slash (`""` at the root).
  public var pathPrefix: String
  public var token: String?

  /// - Returns: nil when `hostname` is not an absolute http(s) URL.
  public init?(hostname: String, token: String?) {
    guard let (origin, rest) = LabelStudioOrigin.split(hostname) else { return nil }
    var prefix = String(rest)
    while prefix.hasSuffix("/") { prefix.removeLast() }
    self.origin = origin
    self.pathPrefix = prefix
    self.token = token.flatMap { $0.isEmpty ? nil : $0 }
  }

  /// The absolute URL to fetch for a task's image URL: a root-relative path (`/data/upload/…`,
  /// `/data/local-files/?d=…`) is joined to the origin; an absolute URL must be on this origin.
  ///
  /// - Throws: `ImageSourceError` for another host, another scheme (`s3://`, `gs://`: cloud
  ///   storage is not fetched), a scheme-relative `//host/…`, or control characters.
  public func resolve(_ url: String) throws(ImageSourceError) -> String {
    func refuse(_ why: String) -> ImageSourceError { ImageSourceError(url: url, message: why) }
    guard url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
      throw refuse("spaces or control characters in the URL")
    }
    if url.hasPrefix("//") { throw refuse("scheme-relative URLs are refused; images come only from \(origin)") }
    if url.hasPrefix("/") { return origin.description + joinedPath(url) }
    guard url.contains("://") else {
      throw refuse("not a URL Annota can read: a root-relative Label Studio path (/data/...) or a URL on \(origin)")
    }
    guard let (other, rest) = LabelStudioOrigin.split(url) else {
      throw refuse(
        "only http(s) URLs on the Label Studio host \(origin) are fetched (cloud storage URLs such as s3:// are not)")
    }
    guard other == origin else {
      throw refuse("the host \(other) is not the Label Studio host \(origin); images are fetched from that host only")
    }
    return origin.description + (rest.isEmpty ? "/" : String(rest))
  }

  /// `path` under the prefix, unless it already carries it (Label Studio writes its prefix into
  /// task URLs when it has one).
  func joinedPath(_ path: String) -> String {
    if pathPrefix.isEmpty || path == pathPrefix || path.hasPrefix(pathPrefix + "/") { return path }
    return pathPrefix + path
  }
}

/// Which Label Studio hosts images may be fetched from.
///
/// `/setup` names the host and sends a token; whoever can reach the backend can call `/setup`,
/// so that host is trusted only when it is the one the operator pinned (`--label-studio-url`),
/// or, without a pin, when it is a loopback address (Label Studio on the same machine). Any
/// other host is ignored with a warning: the server never fetches from a host a caller picked.
public struct LabelStudioHostPolicy: Sendable {
  /// The pinned Label Studio URL, if any.
  public var pinned: LabelStudioAccess?

  public init(pinned: LabelStudioAccess?) { self.pinned = pinned }

  /// The access to use for a host and token sent in `/setup`, or the reason it is refused.
  public func accept(hostname: String, token: String?) -> Result<LabelStudioAccess, ImageSourceError> {
    guard var access = LabelStudioAccess(hostname: hostname, token: token) else {
      return .failure(ImageSourceError(url: hostname, message: "not an absolute http(s) URL"))
    }
    if let pinned {
      guard access.origin == pinned.origin else {
        return .failure(ImageSourceError(
          url: hostname, message: "not the pinned --label-studio-url \(pinned.origin); images will not be fetched from it"))
      }
      access.pathPrefix = pinned.pathPrefix
      if access.token == nil { access.token = pinned.token }
      return .success(access)
    }
    guard access.origin.isLoopback else {
      return .failure(ImageSourceError(
        url: hostname,
        message: "not a loopback host; start annota-server with --label-studio-url \(access.origin) to fetch images from it"))
    }
    return .success(access)
  }
}

/// The Label Studio access per project, as received in `/setup`.
actor LabelStudioHosts {
  private var byProject: [String: LabelStudioAccess] = [:]
  let policy: LabelStudioHostPolicy

  init(policy: LabelStudioHostPolicy) { self.policy = policy }

  func set(_ project: String, _ access: LabelStudioAccess) { byProject[project] = access }

  /// The project's access; before any `/setup` (after a restart, say) the pinned URL and token.
  func access(_ project: String) -> LabelStudioAccess? { byProject[project] ?? policy.pinned }
}
