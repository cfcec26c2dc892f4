/// An axis-aligned box `[x, y, width, height]` in pixel units (COCO's `bbox`).
public struct Box: Sendable, Hashable, CustomStringConvertible {
  public var x: Double
  public var y: Double
  public var width: Double
  public var height: Double

  public init(x: Double, y: Double, width: Double, height: Double) {
    self.x = x
    self.y = y
    self.width = width
    self.height = height
  }

  /// `width * height` (negative sizes count as given, like pycocotools).
  @inlinable public var area: Double { width * height }

  /// `[x, y, width, height]`.
  public var array: [Double] { [x, y, width, height] }

  public var description: String { "[\(x), \(y), \(width), \(height)]" }

  /// Area of the overlap with `other` (0 when they do not overlap).
  @inlinable public func intersectionArea(_ other: Box) -> Double {
    let w = min(x + width, other.x + other.width) - max(x, other.x)
    if w <= 0 { return 0 }
    let h = min(y + height, other.y + other.height) - max(y, other.y)
    if h <= 0 { return 0 }
    return w * h
  }

  /// Dice coefficient `2|A∩B| / (|A| + |B|)` of two boxes; 0 when both are empty.
  @inlinable public func dice(_ other: Box) -> Double {
    let sum = area + other.area
    return sum > 0 ? 2 * intersectionArea(other) / sum : 0
  }

  /// IoU of `self` (detection) with `other` (ground truth), as pycocotools' `bbIou`:
  /// intersection / union, or intersection / area(self) when `crowd` (the ground truth is a crowd
  /// region). 0 when the boxes do not overlap with positive width and height.
  ///
  /// Range [0, 1] for boxes with positive size; symmetric unless `crowd`.
  /// - Complexity: O(1).
  @inlinable public func iou(_ other: Box, crowd: Bool = false) -> Double {
    let w = min(x + width, other.x + other.width) - max(x, other.x)
    if w <= 0 { return 0 }
    let h = min(y + height, other.y + other.height) - max(y, other.y)
    if h <= 0 { return 0 }
    let i = w * h
    let u = crowd ? area : area + other.area - i
    return i / u
  }

  /// The mask of this box on a `height x width` image: the box's four corners rasterized as a
  /// polygon, exactly as pycocotools' `frBbox`.
  public func rle(height: Int, width: Int) -> RLE {
    let xe = x + self.width
    let ye = y + self.height
    return PolygonRasterizer.rasterize([x, y, x, ye, xe, ye, xe, y], height: height, width: width)
  }
}

extension Box {
  /// The IoU matrix of detections × ground truths (`result[d][g]`), with pycocotools' crowd rule
  /// per ground truth.
  ///
  /// - Complexity: O(d · g).
  public static func iouMatrix(_ detections: [Box], _ truths: [Box], crowd: [Bool]? = nil)
    -> [[Double]]
  {
    precondition(crowd == nil || crowd!.count == truths.count, "one crowd flag per ground truth")
    return detections.map { d in
      truths.indices.map { g in d.iou(truths[g], crowd: crowd?[g] ?? false) }
    }
  }
}

extension Box {
  /// The box between the given sides (right and bottom exclusive, fractional allowed).
  public init(left: Double, top: Double, right: Double, bottom: Double) {
    self.init(x: left, y: top, width: right - left, height: bottom - top)
  }

  /// `x + width`.
  @inlinable public var right: Double { x + width }

  /// `y + height`.
  @inlinable public var bottom: Double { y + height }

  /// Side `i`: 0 left, 1 top, 2 right, 3 bottom. Setting a side keeps the opposite side where
  /// it is (the size changes).
  public subscript(side i: Int) -> Double {
    get {
      switch i {
      case 0: x
      case 1: y
      case 2: x + width
      default: y + height
      }
    }
    set {
      switch i {
      case 0:
        width += x - newValue
        x = newValue
      case 1:
        height += y - newValue
        y = newValue
      case 2: width = newValue - x
      default: height = newValue - y
      }
    }
  }
}
