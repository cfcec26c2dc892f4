/// A polygon as pycocotools' rasterizer reads it: every coordinate already upsampled,
/// `(int)(5 * v + .5)` of the coordinate `v` clamped to ±`PolygonRasterizer.coordinateLimit`
/// (`PolygonRasterizer.upsample`). Its masks are those of the `Polygon` it was read from, bit
/// for bit, but it keeps 2 bytes a coordinate (offsets from the vertices' box corner, when the
/// box is under 65,536 upsampled units, a 13,107-pixel object; else 4) instead of 8, in one
/// block for all its rings instead of one per ring, and the rasterizer does not convert its
/// doubles again.
///
/// Readers that only ever rasterize a file's polygons (`iou`, `agree`) build these straight from
/// the coordinates' text (`JSONReader.upsampledDecimal`), carving them from one
/// `UpsampledPolygonStore` per file: a few large allocations instead of one per polygon. A
/// polygon needed as numbers stays a `Polygon`.
public struct UpsampledPolygon: @unchecked Sendable, Hashable, CustomStringConvertible {
  /// Keeps `words` allocated.
  let store: UpsampledPolygonStore
  /// `[rings, minX, minY, maxX, maxY, packed, end of ring 0, ..., end of the last ring, points]`:
  /// the vertices' box in upsampled units; each ring's end as a count of coordinates (two per
  /// point); the points, each one word `(x - minX) | (y - minY) << 16` when `packed` is 1, else
  /// two words `x, y`. Never written after the initializer.
  let words: UnsafePointer<Int32>

  static let header = 6

  /// A polygon of rings of upsampled coordinates, `ringEnds[r]` coordinates up to the end of ring
  /// r (so ring r is `coordinates[ringEnds[r - 1] ..< ringEnds[r]]`), checked as
  /// `Polygon.validated()` checks rings: an even number of coordinates, at least 6, per ring.
  /// Its memory comes from `store`; without one, from a store of its own, exactly its size.
  ///
  /// - Throws: `GeometryError` naming the first ring that is not.
  public init(
    coordinates: UnsafeBufferPointer<Int32>, ringEnds: UnsafeBufferPointer<Int32>, store: UpsampledPolygonStore? = nil
  ) throws(GeometryError) {
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
    let packed = coordinates.isEmpty || (Int(maxX) - Int(minX) < 1 << 16 && Int(maxY) - Int(minY) < 1 << 16)
    let pointWords = packed ? coordinates.count / 2 : coordinates.count
    let size = Self.header + ringEnds.count + pointWords
    let given = store
    let store = given ?? UpsampledPolygonStore()
    let base = store.allocate(size, alone: given == nil)
    base[0] = Int32(ringEnds.count)
    (base[1], base[2], base[3], base[4]) = (minX, minY, maxX, maxY)
    base[5] = packed ? 1 : 0
    if let ends = ringEnds.baseAddress { (base + Self.header).initialize(from: ends, count: ringEnds.count) }
    let points = base + Self.header + ringEnds.count
    if packed {
      for k in 0..<pointWords {
        let x = UInt32(bitPattern: coordinates[2 &* k] &- minX), y = UInt32(bitPattern: coordinates[2 &* k &+ 1] &- minY)
        points[k] = Int32(bitPattern: x | y << 16)
      }
    } else if let xy = coordinates.baseAddress {
      points.initialize(from: xy, count: coordinates.count)
    }
    self.store = store
    words = UnsafePointer(base)
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
  public var ringCount: Int { Int(words[0]) }

  var isPacked: Bool { words[5] != 0 }

  /// The words the polygon takes.
  var wordCount: Int {
    let rings = ringCount
    let coordinates = rings == 0 ? 0 : Int(words[Self.header + rings - 1])
    return Self.header + rings + (isPacked ? coordinates / 2 : coordinates)
  }

  /// Ring r's upsampled coordinates, `[x0, y0, x1, y1, ...]`, read as the rasterizer reads them.
  public func ring(_ r: Int) -> [Int32] {
    func coordinates(_ ring: some RingVertices) -> [Int32] {
      (0..<ring.pointCount).flatMap { j -> [Int32] in
        let (x, y) = ring.point(j)
        return [Int32(x), Int32(y)]
      }
    }
    return withRings(packed: { coordinates($1(r)) }, pairs: { coordinates($1(r)) })
  }

  public static func == (a: UpsampledPolygon, b: UpsampledPolygon) -> Bool {
    let count = a.wordCount
    return count == b.wordCount && (0..<count).allSatisfy { a.words[$0] == b.words[$0] }
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(bytes: UnsafeRawBufferPointer(start: words, count: wordCount * MemoryLayout<Int32>.stride))
  }

  public var description: String { "UpsampledPolygon(\((0..<ringCount).map(ring)))" }

  /// Ring r's vertices for the rasterizer, in `body`'s ring type: packed points or pairs.
  @inline(__always)
  func withRings<R>(
    packed: (_ count: Int, _ ring: (Int) -> PackedRing) -> R, pairs: (_ count: Int, _ ring: (Int) -> Int32Ring) -> R
  ) -> R {
    let count = ringCount
    let points = words + Self.header + count
    @inline(__always) func bounds(_ r: Int) -> (start: Int, end: Int) {
      (r == 0 ? 0 : Int(words[Self.header + r - 1]), Int(words[Self.header + r]))
    }
    if isPacked {
      let (minX, minY) = (Int(words[1]), Int(words[2]))
      return packed(count) { r in
        let (start, end) = bounds(r)
        return PackedRing(points: points + start / 2, pointCount: (end - start) / 2, originX: minX, originY: minY)
      }
    }
    return pairs(count) { r in
      let (start, end) = bounds(r)
      return Int32Ring(xy: points + start, pointCount: (end - start) / 2)
    }
  }

  /// As `Polygon.maskIntervals(height:width:scratch:)`, with the same result.
  public func maskIntervals(height: Int, width: Int, scratch: RasterizerScratch? = nil)
    -> (intervals: [Int], area: Int, box: Box)
  {
    withRings(
      packed: { PolygonRasterizer.maskIntervals(ringCount: $0, $1, height: height, width: width, scratch: scratch) },
      pairs: { PolygonRasterizer.maskIntervals(ringCount: $0, $1, height: height, width: width, scratch: scratch) })
  }

  /// As `Polygon.rleWithBox(height:width:)`, with the same result.
  public func rleWithBox(height: Int, width: Int) -> (rle: RLE, box: Box) {
    withRings(
      packed: { PolygonRasterizer.rleWithBox(ringCount: $0, $1, height: height, width: width) },
      pairs: { PolygonRasterizer.rleWithBox(ringCount: $0, $1, height: height, width: width) })
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
    let (minX, minY, maxX, maxY) = (Int(words[1]), Int(words[2]), Int(words[3]), Int(words[4]))
    guard minX <= maxX, minX >= 0 else { return nil }
    @inline(__always) func floorFifth(_ v: Int) -> Int { v >= 0 ? v / 5 : -((-v + 4) / 5) }
    return (minX / 5 - 1, floorFifth(minY) - 1, maxX / 5 + 1, floorFifth(maxY) + 1)
  }

  /// The first point's low bit: reading it brings the start of the polygon into the cache (see
  /// `COCOAnnotation.touchPolygonStorage`).
  @inline(__always)
  public var touch: Int { Int(words[Self.header + ringCount] & 1) }
}

/// Memory for the polygons of one reading: `UpsampledPolygon`s are carved from its chunks, which
/// go when the store and every polygon from it do (one allocation and one free per chunk, not
/// per polygon). Filled by one reader at a time; read-only once its polygons are made.
public final class UpsampledPolygonStore: @unchecked Sendable {
  private var chunks: [UnsafeMutablePointer<Int32>] = []
  private var next: UnsafeMutablePointer<Int32>?
  private var room = 0

  /// Words per chunk (256 KB); a polygon of more than a quarter of that gets its own.
  static let chunkWords = 1 << 16

  public init() {}

  deinit {
    for chunk in chunks { chunk.deallocate() }
  }

  /// `count` uninitialized words, valid as long as the store; `alone`, in an allocation of their
  /// own (a polygon made without a store).
  func allocate(_ count: Int, alone: Bool = false) -> UnsafeMutablePointer<Int32> {
    if alone || count > Self.chunkWords / 4 {
      let own = UnsafeMutablePointer<Int32>.allocate(capacity: count)
      chunks.append(own)
      return own
    }
    if count > room {
      let chunk = UnsafeMutablePointer<Int32>.allocate(capacity: Self.chunkWords)
      chunks.append(chunk)
      (next, room) = (chunk, Self.chunkWords)
    }
    let words = next!
    next = words + count
    room -= count
    return words
  }
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

/// A ring of packed upsampled points (in an `UpsampledPolygon`'s storage): each the offsets
/// from the polygon's smallest x and y, 16 bits each.
struct PackedRing: RingVertices {
  let points: UnsafePointer<Int32>
  let pointCount: Int
  let originX: Int, originY: Int

  @inline(__always)
  func point(_ j: Int) -> (Int, Int) {
    let p = Int(UInt32(bitPattern: points[j]))
    return (originX &+ p & 0xFFFF, originY &+ p >> 16)
  }
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
