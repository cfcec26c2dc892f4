public import AnnotaImage
internal import AnnotaCodecShims

/// What the header of an image says, without decoding pixels.
public struct ImageInfo: Sendable, Hashable {
  /// The detected format.
  public var format: ImageFormat
  /// Stored width and height in pixels (before any EXIF orientation).
  public var width: Int
  public var height: Int
  /// Channels in the file (JPEG components: 1, 3 or 4; PNG: 1 to 4, palette counts as 3 or 4
  /// with tRNS).
  public var channels: Int
  /// Bits per sample in the file (always 8 for JPEG).
  public var bitDepth: Int
  /// Channels of the decoded 8-bit output at full colour.
  public var outputFormat: PixelFormat
  /// EXIF orientation (JPEG APP1), or `nil` when the file has none.
  public var orientation: Orientation?
  /// JPEG progressive (SOF2) or PNG Adam7 interlaced.
  public var progressive: Bool
  /// A short name for the stored colour model: `gray`, `rgb`, `ycbcr`, `cmyk`, `ycck`,
  /// `palette`, `gray+alpha`, `rgba`.
  public var colorModel: String
}

/// A decoded image and where it sits in the source.
public struct DecodedImage: Sendable {
  /// The pixels.
  public var image: Image
  /// The header facts.
  public var info: ImageInfo
  /// The scale used (output pixel = `scale.denominator` source pixels a side).
  public var scale: DecodeScale
  /// The decoded rectangle in scaled coordinates of the stored (unrotated) image.
  public var region: PixelRect
  /// Codec warnings seen while decoding.
  public var warnings: Int
  /// True when the data ended early and the codec filled the rest (only with `FailOn.none`).
  public var truncated: Bool

  /// The full-resolution rectangle an output pixel rectangle covers (for mapping results back).
  public func sourceRect(of rect: PixelRect) -> PixelRect {
    let s = scale.denominator
    let x0 = (region.x + rect.x) * s
    let y0 = (region.y + rect.y) * s
    let x1 = min((region.x + rect.x + rect.width) * s, info.width)
    let y1 = min((region.y + rect.y + rect.height) * s, info.height)
    return PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
  }
}

/// Decodes PNG and JPEG data held in memory. Stateless and thread-safe: every call owns its
/// codec state.
public enum ImageDecoder {
  /// Reads the header of `bytes` without decoding pixels.
  ///
  /// - Throws: `DecodeError` (unknown format, corrupt or truncated header, limits exceeded).
  /// - Complexity: O(header size) (JPEG: up to the first SOS; PNG: up to the first IDAT).
  public static func info(
    _ bytes: UnsafeRawBufferPointer, limits: DecodeLimits = .default
  ) throws(DecodeError) -> ImageInfo {
    switch ImageFormat.sniff(bytes) {
    case .png: return try PNGCodec.info(bytes, limits: limits)
    case .jpeg: return try JPEGCodec.info(bytes, limits: limits)
    case nil: throw unknownFormat(bytes)
    }
  }

  /// Reads the header of `bytes` without decoding pixels.
  public static func info(
    _ bytes: [UInt8], limits: DecodeLimits = .default
  ) throws(DecodeError) -> ImageInfo {
    try withBytes(bytes) { (raw) throws(DecodeError) in try info(raw, limits: limits) }
  }

  /// Decodes `bytes` (PNG or JPEG, sniffed from the signature) according to `options`.
  ///
  /// - Throws: `DecodeError`, carrying the codec's message.
  /// - Complexity: O(decoded pixels); a JPEG region costs the rows above it (Huffman decoding
  ///   only) plus the region's iMCU columns; a JPEG at scale 1/n costs roughly 1/n² of a full decode.
  public static func decode(
    _ bytes: UnsafeRawBufferPointer, options: DecodeOptions = DecodeOptions()
  ) throws(DecodeError) -> DecodedImage {
    var decoded: DecodedImage
    switch ImageFormat.sniff(bytes) {
    case .png: decoded = try PNGCodec.decode(bytes, options: options)
    case .jpeg: decoded = try JPEGCodec.decode(bytes, options: options)
    case nil: throw unknownFormat(bytes)
    }
    if options.applyOrientation, let orientation = decoded.info.orientation, orientation != .up {
      decoded.image = decoded.image.applying(orientation)
    }
    return decoded
  }

  /// Decodes `bytes` according to `options`.
  public static func decode(
    _ bytes: [UInt8], options: DecodeOptions = DecodeOptions()
  ) throws(DecodeError) -> DecodedImage {
    try withBytes(bytes) { (raw) throws(DecodeError) in try decode(raw, options: options) }
  }

  private static func unknownFormat(_ bytes: UnsafeRawBufferPointer) -> DecodeError {
    if bytes.isEmpty { return DecodeError(.unknownFormat, "empty file") }
    let head = bytes.prefix(8).map { byte in
      let digits = "0123456789ABCDEF"
      let hi = digits[digits.index(digits.startIndex, offsetBy: Int(byte >> 4))]
      let lo = digits[digits.index(digits.startIndex, offsetBy: Int(byte & 0xF))]
      return String([hi, lo])
    }.joined(separator: " ")
    return DecodeError(.unknownFormat, "not a PNG or JPEG file (starts with \(head))")
  }

  private static func withBytes<R>(
    _ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(DecodeError) -> R
  ) throws(DecodeError) -> R {
    let result: Result<R, DecodeError> = bytes.withUnsafeBytes { raw in
      do throws(DecodeError) { return .success(try body(raw)) } catch { return .failure(error) }
    }
    return try result.get()
  }
}

// MARK: Shared C-boundary helpers

/// Size of the message buffer handed to the shims.
let messageCapacity = 512

/// Calls `body` with a zeroed, caller-owned message buffer and returns its result and the text.
@inline(__always)
func withMessageBuffer<R>(_ body: (UnsafeMutablePointer<CChar>, Int) -> R) -> (R, String) {
  withUnsafeTemporaryAllocation(of: CChar.self, capacity: messageCapacity) { buffer in
    buffer.initialize(repeating: 0)
    let result = body(buffer.baseAddress!, messageCapacity)
    let text = String(cString: buffer.baseAddress!)
    return (result, text)
  }
}

func decodeError(_ status: annota_status, _ message: String) -> DecodeError {
  let text = message.isEmpty ? "decoder failed" : message
  switch status {
  case ANNOTA_CORRUPT: return DecodeError(.corrupt, text)
  case ANNOTA_TRUNCATED: return DecodeError(.truncated, text)
  case ANNOTA_UNSUPPORTED: return DecodeError(.unsupported, text)
  case ANNOTA_LIMIT: return DecodeError(.limit, text)
  case ANNOTA_ARGUMENT, ANNOTA_CAPACITY: return DecodeError(.invalidRequest, text)
  case ANNOTA_NO_MEMORY: return DecodeError(.outOfMemory, text)
  case ANNOTA_WARNING: return DecodeError(.warning, text)
  default: return DecodeError(.corrupt, "unexpected decoder status \(status.rawValue): \(text)")
  }
}

extension FailOn {
  var shim: annota_fail_on {
    switch self {
    case .none: ANNOTA_FAIL_ON_NONE
    case .truncated: ANNOTA_FAIL_ON_TRUNCATED
    case .warning: ANNOTA_FAIL_ON_WARNING
    }
  }
}

extension DecodeLimits {
  var shim: annota_limits {
    annota_limits(max_pixels: UInt64(maxPixels), max_memory: UInt64(maxCodecMemory))
  }
}

extension PixelFormat {
  init(shim layout: annota_layout) {
    switch layout {
    case ANNOTA_GRAY: self = .gray
    case ANNOTA_RGBA: self = .rgba
    default: self = .rgb
    }
  }

  var shim: annota_layout {
    switch self {
    case .gray: ANNOTA_GRAY
    case .rgb: ANNOTA_RGB
    case .rgba: ANNOTA_RGBA
    }
  }
}

/// The region, clipped to a `width` x `height` image, or the whole image when `nil`.
func clippedRegion(_ region: PixelRect?, width: Int, height: Int) throws(DecodeError) -> PixelRect {
  let whole = PixelRect(x: 0, y: 0, width: width, height: height)
  guard let region else { return whole }
  let clipped = region.intersection(whole)
  if clipped.isEmpty {
    throw DecodeError(.invalidRequest, "region \(region) does not overlap the \(width)x\(height) image")
  }
  return clipped
}
