#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where task images are read from: a local folder that mirrors Label Studio's local-files
/// storage (`LOCAL_FILES_DOCUMENT_ROOT`).
///
/// A task's image URL `/data/local-files/?d=images/a.png` (optionally with a scheme and host in
/// front, which is ignored) maps to `ROOT/images/a.png`. Paths that would leave the root — `..`
/// components, absolute paths, NUL bytes, or symbolic links resolving outside it — are refused.
/// Other URLs (`/data/upload/...`, or local-files URLs when there is no root) are downloaded from
/// the Label Studio host of the project's `/setup` (``locate(_:access:)``), never from another
/// host; without one they are refused.
public struct ImageSource: Sendable {
  /// The root folder, resolved (no symbolic links, no trailing slash); nil when not configured.
  public let root: String?

  /// - Parameter root: the folder; resolved once so later symbolic-link checks compare real paths.
  public init(root: String?) {
    guard let root, !root.isEmpty else {
      self.root = nil
      return
    }
    var r = ImageSource.realPath(root) ?? root
    while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
    self.root = r
  }

  /// The local file for an image URL from task data.
  ///
  /// - Throws: `ImageSourceError` naming the URL and the reason.
  public func path(for url: String) throws(ImageSourceError) -> String {
    func refuse(_ why: String) -> ImageSourceError { ImageSourceError(url: url, message: why) }
    guard let root else {
      throw refuse("no --images-root is configured, so local-files images cannot be read")
    }
    let rest = ImageSource.pathAndQuery(url)
    let prefix = "/data/local-files/"
    guard rest.hasPrefix(prefix) else {
      throw refuse(
        "not a Label Studio local-files URL (/data/local-files/?d=...) and no Label Studio host to download it from "
          + "(it comes with /setup: a loopback host, or the one pinned with --label-studio-url)")
    }
    let query = rest.dropFirst(prefix.count).drop { $0 == "?" }
    var relative: String?
    for part in query.split(separator: "&") where part.hasPrefix("d=") {
      relative = ImageSource.percentDecoded(part.dropFirst(2))
    }
    guard let relative, !relative.isEmpty else { throw refuse("the local-files URL has no d= parameter") }
    guard !relative.utf8.contains(0) else { throw refuse("the path contains a NUL byte") }
    guard !relative.hasPrefix("/") else { throw refuse("absolute paths are refused; d= must be relative to --images-root") }
    let components = relative.split(separator: "/", omittingEmptySubsequences: true)
    guard !components.contains(where: { $0 == ".." }) else { throw refuse("'..' in the path is refused (path traversal)") }
    let joined = root == "/" ? "/" + components.joined(separator: "/") : root + "/" + components.joined(separator: "/")
    // A symbolic link inside the root may still point outside it.
    if let real = ImageSource.realPath(joined) {
      guard real == root || real.hasPrefix(root == "/" ? "/" : root + "/") else {
        throw refuse("the path resolves outside --images-root (symbolic link)")
      }
      return real
    }
    return joined  // does not exist: reading it reports the missing file
  }

  /// Where to read the image at `url`: a file under the root for a local-files URL when a root
  /// is configured, else a download from the project's Label Studio host when there is one.
  ///
  /// - Throws: `ImageSourceError` naming the URL and the reason.
  public func locate(_ url: String, access: LabelStudioAccess?) throws(ImageSourceError) -> ImageLocation {
    if root != nil, ImageSource.isLocalFilesURL(url) { return .file(try path(for: url)) }
    if let access { return .remote(try access.resolve(url)) }
    if root == nil {
      throw ImageSourceError(
        url: url,
        message: "no --images-root for local files and no Label Studio host to download from "
          + "(it comes with /setup: a loopback host, or the one pinned with --label-studio-url)")
    }
    return .file(try path(for: url))
  }

  static func isLocalFilesURL(_ url: String) -> Bool { pathAndQuery(url).hasPrefix("/data/local-files/") }

  /// `url` without an optional `scheme://host` prefix: the path and query.
  static func pathAndQuery(_ url: String) -> Substring {
    let rest = Substring(url)
    guard let scheme = rest.range(of: "://") else { return rest }
    let afterScheme = rest[scheme.upperBound...]
    return afterScheme.firstIndex(of: "/").map { afterScheme[$0...] } ?? ""
  }

  static func percentDecoded(_ s: Substring) -> String? {
    var out: [UInt8] = []
    out.reserveCapacity(s.utf8.count)
    var it = Array(s.utf8)[...]
    while let c = it.popFirst() {
      if c == UInt8(ascii: "%") {
        guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else {
          return nil
        }
        out.append(v)
        it = it.dropFirst(2)
      } else {
        out.append(c)
      }
    }
    return String(validating: out, as: UTF8.self)
  }

  static func realPath(_ path: String) -> String? {
    guard let p = realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
  }
}

/// Where an image is read from.
public enum ImageLocation: Sendable, Equatable {
  /// A file under `--images-root`.
  case file(String)
  /// An absolute URL on the project's Label Studio host.
  case remote(String)
}

/// An image URL the backend will not read.
public struct ImageSourceError: Error, Sendable, Equatable, CustomStringConvertible {
  public var url: String
  public var message: String
  public var description: String { "image \(url): \(message)" }
}
