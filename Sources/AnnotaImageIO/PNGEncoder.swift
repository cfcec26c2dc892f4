public import AnnotaImage
internal import AnnotaCodecShims

/// Why an image could not be encoded.
public struct EncodeError: Error, Sendable, Hashable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// Lossless PNG encoding of 8-bit gray, RGB and RGBA images (libpng, non-interlaced).
public enum PNGEncoder {
  /// Encodes `image` as PNG bytes.
  ///
  /// - Parameters:
  ///   - image: a non-empty image.
  ///   - compressionLevel: zlib level 0 (fastest) ... 9 (smallest); `nil` for libpng's default.
  /// - Throws: `EncodeError` for an empty image or a libpng failure.
  /// - Complexity: O(width × height).
  public static func encode(_ image: Image, compressionLevel: Int? = nil) throws(EncodeError)
    -> [UInt8]
  {
    guard image.width > 0, image.height > 0 else {
      throw EncodeError("cannot encode an empty \(image.width)x\(image.height) image")
    }
    guard image.width <= Int(Int32.max), image.height <= Int(Int32.max) else {
      throw EncodeError("image too large for PNG: \(image.width)x\(image.height)")
    }
    let bound = annota_png_encode_bound(UInt32(image.width), UInt32(image.height), image.format.shim)
    guard bound > 0 else { throw EncodeError("image too large: \(image.width)x\(image.height)") }
    var status = ANNOTA_OK
    var message = ""
    let level = Int32(compressionLevel.map { min(max($0, 0), 9) } ?? -1)
    let bytes = image.pixels.withUnsafeBufferPointer { pixels in
      [UInt8](unsafeUninitializedCapacity: bound) { output, count in
        var written = 0
        (status, message) = withMessageBuffer { text, capacity in
          annota_png_encode(
            pixels.baseAddress!, UInt32(image.width), UInt32(image.height), image.stride,
            image.format.shim, level, output.baseAddress!, bound, &written, text, capacity)
        }
        count = status == ANNOTA_OK ? written : 0
      }
    }
    if status != ANNOTA_OK { throw EncodeError(message.isEmpty ? "PNG encoding failed" : message) }
    return bytes
  }
}
