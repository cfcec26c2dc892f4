public import AnnotaGeometry
public import AnnotaImage

/// Overlay pictures for people to look at: boxes drawn as rectangles, with short numeric labels
/// in a built-in 3×5 pixel font (digits and the decimal point), scaled up.
public enum Overlay {
  /// An RGB colour.
  public struct Colour: Sendable, Hashable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
      self.r = r
      self.g = g
      self.b = b
    }
    public static let rough = Colour(230, 40, 40)
    public static let fitted = Colour(40, 220, 60)
  }

  /// Glyph rows (3 bits each, top to bottom) of the characters the labels use.
  static let font: [Character: [UInt8]] = [
    "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7],
    "4": [5, 5, 7, 1, 1], "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 1, 1],
    "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7], ".": [0, 0, 0, 0, 2],
  ]

  /// `image` as RGB with each box's outline drawn (`thickness` pixels, inside the box) and its
  /// label, if any, written just above its top-left corner.
  public static func draw(
    _ image: Image, boxes: [(box: Box, colour: Colour, label: String?)], thickness: Int = 2
  ) -> Image {
    var out = image.format == .rgb ? image.packed() : image.converted(to: .rgb)
    let w = out.width
    let h = out.height
    func fill(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: Colour) {
      let xa = max(0, x0), ya = max(0, y0), xb = min(w, x1), yb = min(h, y1)
      guard xa < xb && ya < yb else { return }
      for y in ya..<yb {
        for x in xa..<xb {
          let i = (y * w + x) * 3
          out.pixels[i] = c.r
          out.pixels[i + 1] = c.g
          out.pixels[i + 2] = c.b
        }
      }
    }
    let scale = max(2, min(w, h) / 160)
    for item in boxes {
      let x0 = Int(item.box.x.rounded()), y0 = Int(item.box.y.rounded())
      let x1 = Int(item.box.right.rounded()), y1 = Int(item.box.bottom.rounded())
      let t = max(1, thickness)
      fill(x0, y0, x1, y0 + t, item.colour)
      fill(x0, y1 - t, x1, y1, item.colour)
      fill(x0, y0, x0 + t, y1, item.colour)
      fill(x1 - t, y0, x1, y1, item.colour)
      guard let label = item.label else { continue }
      // Label on a dark plate above the box (inside it when the box touches the top).
      let glyphs = label.compactMap { font[$0] }
      let plateW = glyphs.count * 4 * scale + scale
      let plateH = 7 * scale
      let py = y0 - plateH >= 0 ? y0 - plateH : y0 + t
      fill(x0, py, x0 + plateW, py + plateH, Colour(0, 0, 0))
      for (k, glyph) in glyphs.enumerated() {
        for (row, bits) in glyph.enumerated() {
          for col in 0..<3 where bits & (4 >> col) != 0 {
            let gx = x0 + scale + (k * 4 + col) * scale
            let gy = py + scale + row * scale
            fill(gx, gy, gx + scale, gy + scale, item.colour)
          }
        }
      }
    }
    return out
  }
}
