/// How the stored pixels must be turned to display the picture upright (EXIF tag 0x0112).
public enum Orientation: Int, Sendable, Hashable, CaseIterable {
  /// Stored upright.
  case up = 1
  /// Mirrored left-right.
  case upMirrored = 2
  /// Rotated 180°.
  case down = 3
  /// Mirrored top-bottom.
  case downMirrored = 4
  /// Mirrored along the main diagonal (transposed).
  case leftMirrored = 5
  /// Stored rotated 90° counter-clockwise: display by rotating 90° clockwise.
  case right = 6
  /// Mirrored along the anti-diagonal (transversed).
  case rightMirrored = 7
  /// Stored rotated 90° clockwise: display by rotating 90° counter-clockwise.
  case left = 8

  /// True when displaying swaps width and height.
  public var swapsDimensions: Bool { rawValue >= 5 }
}

extension Image {
  /// The image turned upright according to `orientation` (identity for `.up`).
  ///
  /// - Complexity: O(width × height).
  public func applying(_ orientation: Orientation) -> Image {
    if orientation == .up { return self }
    let channels = format.channels
    let outWidth = orientation.swapsDimensions ? height : width
    let outHeight = orientation.swapsDimensions ? width : height
    var out = [UInt8](repeating: 0, count: outWidth * outHeight * channels)
    let w = width
    let h = height
    pixels.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for y in 0..<outHeight {
          for x in 0..<outWidth {
            // Source coordinates of output pixel (x, y).
            let (sx, sy): (Int, Int)
            switch orientation {
            case .up: (sx, sy) = (x, y)
            case .upMirrored: (sx, sy) = (w - 1 - x, y)
            case .down: (sx, sy) = (w - 1 - x, h - 1 - y)
            case .downMirrored: (sx, sy) = (x, h - 1 - y)
            case .leftMirrored: (sx, sy) = (y, x)
            case .right: (sx, sy) = (y, h - 1 - x)
            case .rightMirrored: (sx, sy) = (w - 1 - y, h - 1 - x)
            case .left: (sx, sy) = (w - 1 - y, x)
            }
            let s = sy * stride + sx * channels
            let d = (y * outWidth + x) * channels
            for c in 0..<channels { dst[d + c] = src[s + c] }
          }
        }
      }
    }
    return Image(width: outWidth, height: outHeight, format: format, pixels: out)
  }

  /// The pixels inside `rect`, which must lie within the image.
  ///
  /// - Complexity: O(rect.width × rect.height).
  public func cropped(to rect: PixelRect) -> Image {
    precondition(
      rect.x >= 0 && rect.y >= 0 && rect.width >= 0 && rect.height >= 0
        && rect.x + rect.width <= width && rect.y + rect.height <= height,
      "crop \(rect) is outside the \(width)x\(height) image")
    let channels = format.channels
    var out = [UInt8]()
    out.reserveCapacity(rect.width * rect.height * channels)
    for y in rect.y..<(rect.y + rect.height) {
      let start = y * stride + rect.x * channels
      out.append(contentsOf: pixels[start..<(start + rect.width * channels)])
    }
    return Image(width: rect.width, height: rect.height, format: format, pixels: out)
  }

  /// The image in another channel layout.
  ///
  /// Colour to grey uses ITU-R 601-2 luma, `L = (19595 R + 38470 G + 7471 B + 32768) >> 16`
  /// (Pillow's `convert("L")`); grey to colour replicates the grey value; alpha is dropped when
  /// converting to a layout without it and set to 255 when adding it.
  ///
  /// - Complexity: O(width × height).
  public func converted(to target: PixelFormat) -> Image {
    if target == format { return self }
    let inC = format.channels
    let outC = target.channels
    var out = [UInt8](repeating: 255, count: width * height * outC)
    pixels.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for y in 0..<height {
          var s = y * stride
          var d = y * width * outC
          for _ in 0..<width {
            if format == .gray {
              let v = src[s]
              for c in 0..<min(outC, 3) { dst[d + c] = v }
            } else if target == .gray {
              let r = UInt32(src[s]), g = UInt32(src[s + 1]), b = UInt32(src[s + 2])
              dst[d] = UInt8((19595 &* r &+ 38470 &* g &+ 7471 &* b &+ 0x8000) >> 16)
            } else {
              dst[d] = src[s]
              dst[d + 1] = src[s + 1]
              dst[d + 2] = src[s + 2]
              if outC == 4 && inC == 4 { dst[d + 3] = src[s + 3] }
            }
            s += inC
            d += outC
          }
        }
      }
    }
    return Image(width: width, height: height, format: target, pixels: out)
  }
}
