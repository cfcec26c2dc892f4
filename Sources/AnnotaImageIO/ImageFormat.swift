/// An encoded image format, recognised from the first bytes of the data (never from a file name).
public enum ImageFormat: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  case png
  case jpeg

  /// The format whose signature starts `bytes`, or `nil`.
  ///
  /// PNG: the 8-byte signature `89 50 4E 47 0D 0A 1A 0A`. JPEG: the SOI marker `FF D8` (what
  /// follows is the codec's to judge, so garbage after SOI is reported as a corrupt JPEG).
  ///
  /// - Complexity: O(1).
  public static func sniff(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
    if bytes.count >= 8 && bytes[0] == 0x89 && bytes[1] == 0x50 && bytes[2] == 0x4E
      && bytes[3] == 0x47 && bytes[4] == 0x0D && bytes[5] == 0x0A && bytes[6] == 0x1A
      && bytes[7] == 0x0A
    {
      return .png
    }
    if bytes.count >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8 {
      return .jpeg
    }
    return nil
  }

  /// The format whose signature starts `bytes`, or `nil`.
  public static func sniff(_ bytes: [UInt8]) -> ImageFormat? {
    bytes.withUnsafeBytes { sniff($0) }
  }

  public var description: String { rawValue }
}
