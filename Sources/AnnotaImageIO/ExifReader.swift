import AnnotaImage

/// Reads the EXIF orientation tag (0x0112 in IFD0 of an APP1 "Exif" segment) of a JPEG.
/// Every offset is bounds-checked: malformed EXIF yields `nil`, never a crash.
enum ExifReader {
  /// The orientation stored in `jpeg`'s first Exif APP1 segment, or `nil`.
  ///
  /// - Complexity: O(number of markers before the first SOS).
  static func orientation(jpeg bytes: UnsafeRawBufferPointer) -> Orientation? {
    guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
    var pos = 2
    while pos + 4 <= bytes.count {
      guard bytes[pos] == 0xFF else { return nil }
      let marker = bytes[pos + 1]
      if marker == 0xFF { pos += 1; continue }  // fill byte
      if marker == 0xD9 || marker == 0xDA { return nil }  // EOI, SOS: no more headers
      if marker == 0x01 || (0xD0...0xD7).contains(marker) { pos += 2; continue }
      let length = Int(bytes[pos + 2]) << 8 | Int(bytes[pos + 3])
      guard length >= 2, pos + 2 + length <= bytes.count else { return nil }
      if marker == 0xE1 {
        let segment = UnsafeRawBufferPointer(rebasing: bytes[(pos + 4)..<(pos + 2 + length)])
        if let orientation = parseExif(segment) { return orientation }
      }
      pos += 2 + length
    }
    return nil
  }

  private static func parseExif(_ data: UnsafeRawBufferPointer) -> Orientation? {
    let signature: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]  // "Exif\0\0"
    guard data.count >= 6 + 8, data.prefix(6).elementsEqual(signature) else { return nil }
    let tiff = UnsafeRawBufferPointer(rebasing: data[6...])
    let littleEndian: Bool
    switch (tiff[0], tiff[1]) {
    case (0x49, 0x49): littleEndian = true
    case (0x4D, 0x4D): littleEndian = false
    default: return nil
    }
    func u16(_ at: Int) -> Int? {
      guard at >= 0, at + 2 <= tiff.count else { return nil }
      let a = Int(tiff[at]), b = Int(tiff[at + 1])
      return littleEndian ? a | b << 8 : a << 8 | b
    }
    func u32(_ at: Int) -> Int? {
      guard let lo = u16(littleEndian ? at : at + 2), let hi = u16(littleEndian ? at + 2 : at)
      else { return nil }
      return hi << 16 | lo
    }
    guard u16(2) == 42, let ifd = u32(4), let entries = u16(ifd) else { return nil }
    for index in 0..<entries {
      let entry = ifd + 2 + 12 * index
      guard let tag = u16(entry) else { return nil }
      if tag == 0x0112 {
        guard u16(entry + 2) == 3, let value = u16(entry + 8) else { return nil }
        return Orientation(rawValue: value)
      }
    }
    return nil
  }
}
