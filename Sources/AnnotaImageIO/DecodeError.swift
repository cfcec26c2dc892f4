/// Why encoded image data could not be decoded. Carries the codec's own message.
public struct DecodeError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The class of failure.
  public enum Kind: String, Sendable, Hashable, CaseIterable {
    /// Neither a PNG nor a JPEG signature.
    case unknownFormat = "unknown-format"
    /// The stream is not valid (bad marker, CRC, header, Huffman data, ...).
    case corrupt
    /// The stream ends before the image does (see `FailOn`).
    case truncated
    /// Valid data this decoder does not handle (e.g. 12-bit JPEG).
    case unsupported
    /// The header asks for more pixels or memory than `DecodeLimits` allows.
    case limit
    /// The request does not fit the image (e.g. a region outside it).
    case invalidRequest = "invalid-request"
    /// The codec could not allocate memory.
    case outOfMemory = "out-of-memory"
    /// A codec warning, an error under `FailOn.warning`.
    case warning
  }

  public var kind: Kind
  /// The codec's message, or ours.
  public var message: String

  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  public var description: String { "\(kind.rawValue): \(message)" }
}
