public import AnnotaImage

/// A DCT scaling factor for JPEG decoding: the output is `ceil(size / denominator)` pixels a side.
/// libjpeg computes the reduced image directly from the DCT coefficients, which is much cheaper
/// than a full decode. Other formats are decoded in full and then averaged over
/// `denominator x denominator` blocks.
public enum DecodeScale: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  case full = 1
  case half = 2
  case quarter = 4
  case eighth = 8

  /// The denominator (1, 2, 4 or 8).
  public var denominator: Int { rawValue }

  /// Parses `1`, `1/1`, `1/2`, `1/4`, `1/8` (and `2`, `4`, `8` as denominators).
  public init?(parsing text: String) {
    let denominator: Substring
    if let slash = text.firstIndex(of: "/") {
      guard text[..<slash] == "1" else { return nil }
      denominator = text[text.index(after: slash)...]
    } else {
      denominator = Substring(text)
    }
    guard let value = Int(denominator), let scale = DecodeScale(rawValue: value) else { return nil }
    self = scale
  }

  public var description: String { "1/\(rawValue)" }
}

/// When damaged data makes decoding fail (libvips' fail-on levels).
public enum FailOn: String, Sendable, Hashable, CaseIterable {
  /// Accept truncated or damaged data; the codec fills what is missing (grey for JPEG, zero for
  /// PNG) and the result reports `truncated`.
  case none
  /// Fail on truncated data (the default): a cut-off file is an error, not a half-grey image.
  case truncated
  /// Fail on any codec warning too (e.g. "corrupt JPEG data: extraneous bytes").
  case warning
}

/// Guards against decompression bombs, checked from the header before any pixel allocation.
public struct DecodeLimits: Sendable, Hashable {
  /// Largest source image accepted, in pixels (width × height). Default 256 million.
  public var maxPixels: Int
  /// Largest amount of memory the codec may use internally (libjpeg's progressive coefficient
  /// buffers, libpng's chunk buffers), in bytes. Default 2 GiB.
  public var maxCodecMemory: Int

  public init(maxPixels: Int = 256_000_000, maxCodecMemory: Int = 2 << 30) {
    precondition(maxPixels > 0 && maxCodecMemory > 0, "limits must be positive")
    self.maxPixels = maxPixels
    self.maxCodecMemory = maxCodecMemory
  }

  public static let `default` = DecodeLimits()
}

/// What to decode and how.
public struct DecodeOptions: Sendable, Hashable {
  /// DCT scale for JPEG (block average for other formats).
  public var scale: DecodeScale
  /// A region of interest in full-resolution pixel coordinates, or `nil` for the whole image.
  /// It is clipped to the image; at a reduced scale the decoded region is the smallest scaled
  /// rectangle that covers it. JPEG decodes only the rows and iMCU columns it needs.
  public var region: PixelRect?
  /// Decode to one grey channel (for JPEG, straight from luma without colour conversion).
  public var gray: Bool
  /// Turn the image upright according to its EXIF orientation (JPEG). The region, if any, is
  /// in the stored (unrotated) image's coordinates.
  public var applyOrientation: Bool
  /// When damaged data is an error.
  public var failOn: FailOn
  /// Bomb guards.
  public var limits: DecodeLimits
  /// JPEG: decode with libjpeg alone, skipping the DC-only scan that a whole-image grey decode
  /// at scale 1/8 otherwise tries first. Both give the same pixels; tests compare them.
  var libjpegOnly = false

  public init(
    scale: DecodeScale = .full, region: PixelRect? = nil, gray: Bool = false,
    applyOrientation: Bool = false, failOn: FailOn = .truncated, limits: DecodeLimits = .default
  ) {
    self.scale = scale
    self.region = region
    self.gray = gray
    self.applyOrientation = applyOrientation
    self.failOn = failOn
    self.limits = limits
  }
}
