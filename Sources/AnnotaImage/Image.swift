/// The channel layout of an 8-bit image.
public enum PixelFormat: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  /// One grey channel.
  case gray = 1
  /// Red, green, blue.
  case rgb = 3
  /// Red, green, blue, alpha (straight, not premultiplied).
  case rgba = 4

  /// Samples per pixel.
  @inlinable public var channels: Int { rawValue }

  public var description: String {
    switch self {
    case .gray: "gray"
    case .rgb: "rgb"
    case .rgba: "rgba"
    }
  }
}

/// An 8-bit image: `height` rows of `width` pixels, rows `stride` bytes apart in `pixels`.
///
/// A value type (copy-on-write through its array), so it is `Sendable` by construction. Rows may
/// be padded (`stride >= width * channels`); padding bytes are not part of the image and are
/// ignored by `==`.
public struct Image: Sendable {
  /// Width in pixels.
  public let width: Int
  /// Height in pixels.
  public let height: Int
  /// Channel layout.
  public let format: PixelFormat
  /// Distance between the starts of two rows, in bytes.
  public let stride: Int
  /// Row-major samples, `stride * height` bytes (the last row may be unpadded).
  public var pixels: [UInt8]

  /// Wraps existing samples.
  ///
  /// - Precondition: `stride >= width * format.channels` and `pixels` holds every row.
  public init(width: Int, height: Int, format: PixelFormat, stride: Int? = nil, pixels: [UInt8]) {
    let rowBytes = width * format.channels
    let stride = stride ?? rowBytes
    precondition(width >= 0 && height >= 0, "negative image size \(width)x\(height)")
    precondition(stride >= rowBytes, "stride \(stride) is shorter than a row (\(rowBytes) bytes)")
    precondition(
      height == 0 || pixels.count >= (height - 1) * stride + rowBytes,
      "\(pixels.count) bytes cannot hold a \(width)x\(height) \(format) image with stride \(stride)")
    self.width = width
    self.height = height
    self.format = format
    self.stride = stride
    self.pixels = pixels
  }

  /// A black (all-zero) image with tightly packed rows.
  ///
  /// - Complexity: O(width × height).
  public init(width: Int, height: Int, format: PixelFormat) {
    self.init(
      width: width, height: height, format: format,
      pixels: [UInt8](repeating: 0, count: width * height * format.channels))
  }

  /// Bytes of pixel data in one row (without padding).
  @inlinable public var rowBytes: Int { width * format.channels }

  /// Number of pixels.
  @inlinable public var pixelCount: Int { width * height }

  /// The sample of channel `c` at column `x`, row `y`.
  ///
  /// - Precondition: the coordinates are inside the image.
  @inlinable public subscript(x: Int, y: Int, c: Int) -> UInt8 {
    get {
      precondition(x >= 0 && x < width && y >= 0 && y < height && c >= 0 && c < format.channels,
                   "pixel (\(x), \(y), \(c)) is outside the \(width)x\(height)x\(format.channels) image")
      return pixels[y * stride + x * format.channels + c]
    }
    set {
      precondition(x >= 0 && x < width && y >= 0 && y < height && c >= 0 && c < format.channels,
                   "pixel (\(x), \(y), \(c)) is outside the \(width)x\(height)x\(format.channels) image")
      pixels[y * stride + x * format.channels + c] = newValue
    }
  }

  /// The image with tightly packed rows (`stride == rowBytes`); `self` if it already is.
  ///
  /// - Complexity: O(width × height).
  public func packed() -> Image {
    if stride == rowBytes && pixels.count == rowBytes * height { return self }
    var out = [UInt8]()
    out.reserveCapacity(rowBytes * height)
    for y in 0..<height {
      out.append(contentsOf: pixels[(y * stride)..<(y * stride + rowBytes)])
    }
    return Image(width: width, height: height, format: format, pixels: out)
  }
}

extension Image: Equatable {
  /// Images are equal when size, format and every pixel sample are equal (row padding ignored).
  public static func == (lhs: Image, rhs: Image) -> Bool {
    guard lhs.width == rhs.width, lhs.height == rhs.height, lhs.format == rhs.format else {
      return false
    }
    if lhs.stride == rhs.stride && lhs.pixels == rhs.pixels { return true }
    let rowBytes = lhs.rowBytes
    for y in 0..<lhs.height
    where !lhs.pixels[(y * lhs.stride)..<(y * lhs.stride + rowBytes)]
      .elementsEqual(rhs.pixels[(y * rhs.stride)..<(y * rhs.stride + rowBytes)])
    {
      return false
    }
    return true
  }
}
