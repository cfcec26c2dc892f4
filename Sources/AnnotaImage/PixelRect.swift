/// An axis-aligned rectangle of whole pixels: columns `x ..< x + width`, rows `y ..< y + height`.
public struct PixelRect: Sendable, Hashable, CustomStringConvertible {
  public var x: Int
  public var y: Int
  public var width: Int
  public var height: Int

  public init(x: Int, y: Int, width: Int, height: Int) {
    self.x = x
    self.y = y
    self.width = width
    self.height = height
  }

  /// True when the rectangle covers no pixel.
  @inlinable public var isEmpty: Bool { width <= 0 || height <= 0 }

  /// The overlap of two rectangles (empty, with non-negative size, if they do not overlap).
  public func intersection(_ other: PixelRect) -> PixelRect {
    let x0 = max(x, other.x)
    let y0 = max(y, other.y)
    let x1 = min(x + width, other.x + other.width)
    let y1 = min(y + height, other.y + other.height)
    return PixelRect(x: x0, y: y0, width: max(0, x1 - x0), height: max(0, y1 - y0))
  }

  /// The rectangle in an image shrunk by `denominator` (1, 2, 4, 8): the smallest pixel rectangle
  /// of the scaled image that covers this one (start rounded down, end rounded up).
  public func scaled(down denominator: Int) -> PixelRect {
    precondition(denominator > 0, "scale denominator must be positive")
    let x0 = x / denominator
    let y0 = y / denominator
    let x1 = (x + width + denominator - 1) / denominator
    let y1 = (y + height + denominator - 1) / denominator
    return PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
  }

  public var description: String { "\(x),\(y) \(width)x\(height)" }
}
