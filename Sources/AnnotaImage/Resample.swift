extension Image {
  /// The image shrunk by an integer factor: each output pixel is the rounded mean of a
  /// `factor x factor` block (blocks at the right and bottom edges may be smaller). Output size
  /// is `ceil(width / factor) x ceil(height / factor)`, like libjpeg's DCT scaling.
  ///
  /// - Precondition: `factor >= 1`.
  /// - Complexity: O(width × height).
  public func downsampled(by factor: Int) -> Image {
    precondition(factor >= 1, "downsampling factor must be at least 1")
    if factor == 1 { return self }
    let channels = format.channels
    let outWidth = (width + factor - 1) / factor
    let outHeight = (height + factor - 1) / factor
    var sums = [UInt32](repeating: 0, count: outWidth * channels)
    var out = [UInt8](repeating: 0, count: outWidth * outHeight * channels)
    for oy in 0..<outHeight {
      for i in sums.indices { sums[i] = 0 }
      let y0 = oy * factor
      let y1 = min(y0 + factor, height)
      for y in y0..<y1 {
        let row = y * stride
        for x in 0..<width {
          let o = (x / factor) * channels
          for c in 0..<channels { sums[o + c] &+= UInt32(pixels[row + x * channels + c]) }
        }
      }
      for ox in 0..<outWidth {
        let count = UInt32((min(ox * factor + factor, width) - ox * factor) * (y1 - y0))
        for c in 0..<channels {
          out[(oy * outWidth + ox) * channels + c] = UInt8((sums[ox * channels + c] + count / 2) / count)
        }
      }
    }
    return Image(width: outWidth, height: outHeight, format: format, pixels: out)
  }
}
