/// A polygon as pycocotools' rasterizer reads it: every coordinate already upsampled,
/// `(int)(5 * v + .5)` of the coordinate `v` clamped to ±`PolygonRasterizer.coordinateLimit`
/// (`PolygonRasterizer.upsample`). Its masks are those of the `Polygon` it was read from, bit
/// for bit, but it keeps 4 bytes a coordinate instead of 8, in one allocation for all its rings
/// instead of one per ring, and the rasterizer does not convert its doubles again.
///
/// Readers that only ever rasterize a file's polygons (`iou`, `agree`) build these straight from
/// the coordinates' text (`JSONReader.upsampledDecimal`); a polygon needed as numbers stays a `Polygon`.
public struct UpsampledPolygon: Sendable, Hashable {
  /// `[rings, minX, minY, maxX, maxY, end of ring 0, ..., end of the last ring, x0, y0, ...]`:
  /// the vertices' box in upsampled units, then each ring's end as a count of coordinates.
  @usableFromInline let storage: [Int32]

  static let header = 5

  /// A polygon of rings of upsampled coordinates, `ringEnds[r]` coordinates up to the end of ring
  /// r (so ring r is `coordinates[ringEnds[r - 1] ..< ringEnds[r]]`), checked as
  /// `Polygon.validated()` checks rings: an even number of coordinates, at least 6, per ring.
  ///
  /// - Throws: `GeometryError` naming the first ring that is not.
  public init(coordinates: UnsafeBufferPointer<Int32>, ringEnds: UnsafeBufferPointer<Int32>) throws(GeometryError) {
    var previous = 0
    for (r, end) in ringEnds.enumerated() {
      let count = Int(end) - previous
      if count % 2 != 0 { throw .oddCoordinateCount(ring: r, numbers: count) }
      if count < 6 { throw .tooFewPoints(ring: r, numbers: count) }
      previous = Int(end)
    }
    precondition(previous == coordinates.count, "ring ends do not match the coordinates")
    var minX = Int32.max, minY = Int32.max, maxX = Int32.min, maxY = Int32.min
    var i = 0
    while i + 1 < coordinates.count {
      minX = min(minX, coordinates[i])
      maxX = max(maxX, coordinates[i])
      minY = min(minY, coordinates[i + 1])
      maxY = max(maxY, coordinates[i + 1])
      i += 2
    }
    let size = Self.header + ringEnds.count + coordinates.count
    storage = [Int32](unsafeUninitializedCapacity: size) { out, written in
      let base = out.baseAddress!
      base[0] = Int32(ringEnds.count)
      (base[1], base[2], base[3], base[4]) = (minX, minY, maxX, maxY)
      if let ends = ringEnds.baseAddress { (base + Self.header).initialize(from: ends, count: ringEnds.count) }
      if let xy = coordinates.baseAddress {
        (base + Self.header + ringEnds.count).initialize(from: xy, count: coordinates.count)
      }
      written = size
    }
  }

  /// The polygon's coordinates upsampled.
  ///
  /// - Precondition: the polygon is valid (`Polygon.validated()`).
  public init(_ polygon: Polygon) {
    var coordinates: [Int32] = [], ends: [Int32] = []
    for ring in polygon.rings {
      for v in ring {
        precondition(v.isFinite, "polygon coordinate is NaN or infinite")
        coordinates.append(Int32(PolygonRasterizer.upsample(v)))
      }
      ends.append(Int32(coordinates.count))
    }
    do {
      self = try coordinates.withUnsafeBufferPointer { xy throws(GeometryError) in
        try ends.withUnsafeBufferPointer { ends throws(GeometryError) in
          try UpsampledPolygon(coordinates: xy, ringEnds: ends)
        }
      }
    } catch {
      preconditionFailure("invalid polygon: \(error)")
    }
  }

  /// How many rings there are.
  public var ringCount: Int { Int(storage[0]) }

  /// Ring r's upsampled coordinates, `[x0, y0, x1, y1, ...]`.
  public func ring(_ r: Int) -> ArraySlice<Int32> {
    let ends = Self.header
    let start = Self.header + ringCount + (r == 0 ? 0 : Int(storage[ends + r - 1]))
    return storage[start ..< Self.header + ringCount + Int(storage[ends + r])]
  }

  /// The rings, each as a pointer to its coordinates and its number of points, for `body`.
  @inline(__always)
  func withRings<R>(_ body: (_ count: Int, _ ring: (Int) -> Int32Ring) -> R) -> R {
    storage.withUnsafeBufferPointer { all in
      let base = all.baseAddress!
      let count = Int(base[0])
      let coordinates = base + Self.header + count
      return body(count) { r in
        let start = r == 0 ? 0 : Int(base[Self.header + r - 1])
        let end = Int(base[Self.header + r])
        return Int32Ring(xy: coordinates + start, pointCount: (end - start) / 2)
      }
    }
  }

  /// As `Polygon.maskIntervals(height:width:scratch:)`, with the same result.
  public func maskIntervals(height: Int, width: Int, scratch: RasterizerScratch? = nil)
    -> (intervals: [Int], area: Int, box: Box)
  {
    withRings { count, ring in
      PolygonRasterizer.maskIntervals(ringCount: count, ring, height: height, width: width, scratch: scratch)
    }
  }

  /// As `Polygon.rleWithBox(height:width:)`, with the same result.
  public func rleWithBox(height: Int, width: Int) -> (rle: RLE, box: Box) {
    withRings { count, ring in PolygonRasterizer.rleWithBox(ringCount: count, ring, height: height, width: width) }
  }

  /// As `Polygon.rle(height:width:)`, with the same result.
  public func rle(height: Int, width: Int) -> RLE { rleWithBox(height: height, width: width).rle }

  /// Pixels that hold every pixel of the mask (inclusive), from the vertices alone, as
  /// `Polygon.pixelBound()`; nil when an upsampled x is negative, where that is not proven.
  ///
  /// Crossings fall on column centres `5c + 2` from the smallest upsampled x (included) to the
  /// largest (excluded), so c ≥ ⌊minX / 5⌋ − 1 and c ≤ ⌊maxX / 5⌋; their rows are
  /// ⌈(v − 2) / 5⌉ for upsampled rows v between the smallest and largest y, so between
  /// ⌊minY / 5⌋ − 1 and ⌊maxY / 5⌋ + 1.
  public func pixelBound() -> (x0: Int, y0: Int, x1: Int, y1: Int)? {
    let (minX, minY, maxX, maxY) = (Int(storage[1]), Int(storage[2]), Int(storage[3]), Int(storage[4]))
    guard minX <= maxX, minX >= 0 else { return nil }
    @inline(__always) func floorFifth(_ v: Int) -> Int { v >= 0 ? v / 5 : -((-v + 4) / 5) }
    return (minX / 5 - 1, floorFifth(minY) - 1, maxX / 5 + 1, floorFifth(maxY) + 1)
  }

  /// The first coordinate's low bit: reading it brings the storage into the cache (see
  /// `COCOAnnotation.touchPolygonStorage`).
  @inline(__always)
  public var touch: Int { Int(storage[0] & 1) }
}

/// A ring's vertices in upsampled coordinates, as `PolygonRasterizer.rasterizeSorted` reads them.
protocol RingVertices {
  /// How many vertices (x, y pairs) the ring has.
  var pointCount: Int { get }
  /// Vertex j's upsampled (x, y).
  func point(_ j: Int) -> (Int, Int)
}

/// A ring of coordinates as given, upsampled as they are read.
struct DoubleRing: RingVertices {
  let xy: [Double]

  init(_ xy: [Double]) {
    precondition(xy.count % 2 == 0, "a ring needs an even number of coordinates")
    self.xy = xy
  }

  var pointCount: Int { xy.count / 2 }

  @inline(__always)
  func point(_ j: Int) -> (Int, Int) {
    (PolygonRasterizer.upsample(xy[2 * j]), PolygonRasterizer.upsample(xy[2 * j + 1]))
  }
}

/// A ring of upsampled coordinates (in an `UpsampledPolygon`'s storage).
struct Int32Ring: RingVertices {
  let xy: UnsafePointer<Int32>
  let pointCount: Int

  @inline(__always)
  func point(_ j: Int) -> (Int, Int) { (Int(xy[2 * j]), Int(xy[2 * j + 1])) }
}

extension PolygonRasterizer {
  /// The union of `count` rings' masks as intervals, with its area and bounding box (see
  /// `Polygon.maskIntervals(height:width:scratch:)`).
  @inline(__always)
  static func maskIntervals<Ring: RingVertices>(
    ringCount count: Int, _ ring: (Int) -> Ring, height: Int, width: Int, scratch: RasterizerScratch?
  ) -> (intervals: [Int], area: Int, box: Box) {
    if count == 0 { return ([], 0, PixelBounds.none.box) }
    if count == 1 {
      let (intervals, area, bounds) = rasterizeIntervalsWithBounds(
        ring(0), height: height, width: width, scratch: scratch)
      return (intervals, area, bounds.box)
    }
    var union: [Int] = []
    var bounds = PixelBounds.none
    for r in 0..<count {
      let (intervals, _, ringBounds) = rasterizeIntervalsWithBounds(
        ring(r), height: height, width: width, scratch: scratch)
      union = union.isEmpty ? intervals : RLE.unionIntervals(union, intervals)
      bounds.formUnion(ringBounds)
    }
    return (union, RLE.area(ofIntervals: union), bounds.box)
  }

  /// The union of `count` rings' masks and its bounding box (see `Polygon.rleWithBox`). The
  /// union's box is the union of the rings' boxes: each is the tight box of its ring's pixels.
  @inline(__always)
  static func rleWithBox<Ring: RingVertices>(ringCount count: Int, _ ring: (Int) -> Ring, height: Int, width: Int)
    -> (rle: RLE, box: Box)
  {
    if count == 0 { return (.empty(height: height, width: width), PixelBounds.none.box) }
    if count == 1 {
      let (mask, bounds) = rasterizeWithBounds(ring(0), height: height, width: width, findBounds: true)
      return (mask, bounds.box)
    }
    var masks: [RLE] = []
    masks.reserveCapacity(count)
    var bounds = PixelBounds.none
    for r in 0..<count {
      let (mask, ringBounds) = rasterizeWithBounds(ring(r), height: height, width: width, findBounds: true)
      masks.append(mask)
      bounds.formUnion(ringBounds)
    }
    return (RLE.union(masks), bounds.box)
  }
}
