import Synchronization

/// A polygon object: one or more rings of `[x0, y0, x1, y1, ...]` coordinates (COCO's
/// `segmentation` list). The object is the union of its rings; each ring is filled even-odd.
public struct Polygon: Sendable, Hashable {
  /// The rings, each a flat list of x, y pairs.
  public var rings: [[Double]] {
    didSet { vertexBox = nil }
  }

  /// The vertices' box, kept by `validated()` from its pass over the coordinates, so that
  /// `pixelBound()` does not read them again (nil until then, and again once `rings` changes).
  private var vertexBox: VertexBox?

  /// Wraps rings without checking them (see `validated()`).
  public init(rings: [[Double]]) {
    self.rings = rings
    vertexBox = nil
  }

  public static func == (a: Polygon, b: Polygon) -> Bool { a.rings == b.rings }

  public func hash(into hasher: inout Hasher) { hasher.combine(rings) }

  /// Checks that every ring has at least 3 points, an even number of coordinates, and only
  /// finite values. (pycocotools reads a 4-number ring as a box; here it is an error.)
  ///
  /// - Throws: `GeometryError` naming the ring and index.
  public func validated() throws(GeometryError) -> Polygon {
    for (r, ring) in rings.enumerated() {
      if ring.count % 2 != 0 { throw .oddCoordinateCount(ring: r, numbers: ring.count) }
      if ring.count < 6 { throw .tooFewPoints(ring: r, numbers: ring.count) }
      if let bad = ring.firstIndex(where: { !$0.isFinite }) {
        throw .nonFiniteCoordinate(ring: r, index: bad)
      }
    }
    var checked = self
    checked.vertexBox = VertexBox(rings)
    return checked
  }

  /// The mask of the union of the rings, exactly as pycocotools' `frPyObjects` + `merge`.
  ///
  /// - Complexity: O(rings' extent in image columns + image area covered / run length).
  public func rle(height: Int, width: Int) -> RLE {
    if rings.count == 1 { return PolygonRasterizer.rasterize(rings[0], height: height, width: width) }
    if rings.isEmpty { return .empty(height: height, width: width) }
    return RLE.union(rings.map { PolygonRasterizer.rasterize($0, height: height, width: width) })
  }

  /// The mask as foreground intervals (`RLE.intervals`' form), with its area and bounding box,
  /// without building counts: `RLESet(height:width:intervals:areas:boxes:)` takes them as they
  /// are. Equal to `rle(height:width:)`'s `intervals`, `area` and `boundingBox`.
  ///
  /// A `scratch` (one per thread of work) holds the rasterizer's temporaries from one call to the
  /// next; without it each ring allocates its own.
  public func maskIntervals(height: Int, width: Int, scratch: RasterizerScratch? = nil)
    -> (intervals: [Int], area: Int, box: Box)
  {
    PolygonRasterizer.maskIntervals(
      ringCount: rings.count, { DoubleRing(rings[$0]) }, height: height, width: width, scratch: scratch)
  }

  /// Pixels that hold every pixel of the mask (`x0...x1`, `y0...y1`, inclusive), found from the
  /// vertices alone, without rasterizing; nil when a coordinate is outside the range where that
  /// is proven (x below -0.2, or any beyond ±10^7).
  ///
  /// With every upsampled x (`(int)(5x + .5)`) at 0 or more, each edge's walk starts and ends on
  /// its vertices' upsampled x, so the ring's walk is closed along x and crosses each column
  /// centre an even number of times: every run of 1s starts and ends inside one column, on a
  /// crossing. Crossings lie on column centres between the smallest and largest upsampled x, at
  /// rows between those of the smallest and largest upsampled y, so one pixel of margin around
  /// the vertices' box holds them all. (pycocotools' walk is the same: this holds for its
  /// masks.)
  public func pixelBound() -> (x0: Int, y0: Int, x1: Int, y1: Int)? {
    let box = vertexBox ?? VertexBox(rings)
    guard box.minX <= box.maxX, box.minX >= -0.2, box.maxX <= 1e7, box.minY >= -1e7, box.maxY <= 1e7 else {
      return nil
    }
    return (Int(box.minX.rounded(.down)) - 1, Int(box.minY.rounded(.down)) - 1,
            Int(box.maxX.rounded(.up)) + 1, Int(box.maxY.rounded(.up)) + 1)
  }

  /// The smallest and largest x and y of the vertices (`minX > maxX` without any).
  struct VertexBox: Sendable {
    var minX = Double.infinity, minY = Double.infinity
    var maxX = -Double.infinity, maxY = -Double.infinity

    init(_ rings: [[Double]]) {
      for ring in rings {
        ring.withUnsafeBufferPointer { xy in
          var i = 0
          while i + 1 < xy.count {
            minX = Swift.min(minX, xy[i])
            maxX = Swift.max(maxX, xy[i])
            minY = Swift.min(minY, xy[i + 1])
            maxY = Swift.max(maxY, xy[i + 1])
            i += 2
          }
        }
      }
    }
  }

  /// The mask and its bounding box, equal to `rle.boundingBox` but found while rasterizing, so
  /// callers that need both (`RLESet`) skip the second walk over the runs.
  ///
  /// The union's box is the union of the rings' boxes: each is the tight box of its ring's pixels.
  public func rleWithBox(height: Int, width: Int) -> (rle: RLE, box: Box) {
    PolygonRasterizer.rleWithBox(ringCount: rings.count, { DoubleRing(rings[$0]) }, height: height, width: width)
  }
}

/// The pixels a mask's foreground spans, inclusive (`x0 > x1` when there is none): its bounding
/// box, built run by run.
struct PixelBounds {
  var x0 = Int.max, y0 = Int.max, x1 = Int.min, y1 = Int.min

  static let none = PixelBounds()

  /// Adds a run of 1s from pixel (x, y) to pixel (lastX, lastY), in column-major order. A run that
  /// goes on into a later column covers its column's last row and the next one's first, so it
  /// spans the full height, as pycocotools' `rleToBbox` says for a run that wraps.
  @inline(__always)
  mutating func add(_ x: Int, _ y: Int, through lastX: Int, _ lastY: Int, height h: Int) {
    let wraps = x < lastX
    x0 = min(x0, x)
    x1 = max(x1, lastX)
    y0 = min(y0, wraps ? 0 : y)
    y1 = max(y1, wraps ? h - 1 : lastY)
  }

  mutating func formUnion(_ other: PixelBounds) {
    x0 = min(x0, other.x0)
    y0 = min(y0, other.y0)
    x1 = max(x1, other.x1)
    y1 = max(y1, other.y1)
  }

  /// `[x, y, width, height]`, or all zeros without a pixel (as `RLE.boundingBox`).
  var box: Box {
    if x0 > x1 { return Box(x: 0, y: 0, width: 0, height: 0) }
    return Box(x: Double(x0), y: Double(y0), width: Double(x1 - x0 + 1), height: Double(y1 - y0 + 1))
  }
}

/// pycocotools' polygon rasterizer (`rleFrPoly`), reimplemented to give identical runs.
///
/// The polygon is upsampled 5×; where its boundary crosses the centre of an image column, the
/// crossing row is recorded; sorting the crossings gives the run boundaries (even-odd fill).
/// pycocotools walks every upsampled boundary point; this walks only the crossings that can
/// land inside the image's columns, so the cost depends on the image width, not on how far the
/// coordinates reach. Coordinates are clamped to ±2·10^8 first: beyond that pycocotools overflows
/// 32-bit integers (undefined behaviour), within it the results are identical.
///
/// pycocotools also looks for a crossing between the last point of each edge's walk and the first
/// point of the next one. There is never one inside the image: both are the shared vertex's
/// upsampled x, or (the minor coordinate of a y-major walk, `(int)(x + .5)` of an integer x)
/// x + 1 when x is negative; equal for x ≥ 0, and both at most 0 otherwise, where a crossing
/// could only fall left of column 0. So only the edges' own walks are followed here. (The
/// tests compare with a literal port of pycocotools' walk that keeps those pairs.)
///
/// Instead of sorting the crossing positions (`column * height + row`) as pycocotools does, a
/// first pass over the edges counts how many crossings each column can receive; the second pass
/// writes every crossing's position straight into its column's bucket, and only the few
/// positions inside each column are sorted. Sorting column by column gives the same sequence as
/// sorting all the positions, because a row is at most `height`, so `column * height + row` never
/// exceeds the position of any crossing in a later column.
public enum PolygonRasterizer {
  /// Largest coordinate magnitude used as given.
  public static let coordinateLimit = 2.0e8

  /// Rasterizes one ring `[x0, y0, x1, y1, ...]` (at least one point) on a `height x width` image.
  ///
  /// - Precondition: the coordinates are finite and even in number.
  /// - Complexity: O(points + crossings + the columns the ring spans), without a comparison sort
  ///   (only the crossings that share a column are sorted among themselves).
  public static func rasterize(_ xy: [Double], height h: Int, width w: Int) -> RLE {
    rasterizeWithBounds(xy, height: h, width: w, findBounds: false).rle
  }

  /// `rasterize` and the mask's bounding box, equal to `boundingBox` of the mask.
  public static func rasterizeWithBox(_ xy: [Double], height h: Int, width w: Int) -> (rle: RLE, box: Box) {
    let (rle, bounds) = rasterizeWithBounds(xy, height: h, width: w, findBounds: true)
    return (rle, bounds.box)
  }

  /// The mask, and with `findBounds` its bounds (else `.none`: tracking them costs a little).
  static func rasterizeWithBounds(_ xy: [Double], height h: Int, width w: Int, findBounds: Bool)
    -> (rle: RLE, bounds: PixelBounds)
  {
    rasterizeWithBounds(DoubleRing(xy), height: h, width: w, findBounds: findBounds)
  }

  @inline(__always)
  static func rasterizeWithBounds(_ ring: some RingVertices, height h: Int, width w: Int, findBounds: Bool)
    -> (rle: RLE, bounds: PixelBounds)
  {
    rasterizeSorted(ring, height: h, width: w, findBounds: findBounds) { sorted, count, bounds in
      (counts(sorted: sorted, count: count, height: h, width: w), bounds)
    }
  }

  /// The ring's mask as foreground intervals (`RLE.intervals`' form), its area and its bounding
  /// box, without building counts: what `RLESet` keeps for IoU matrices.
  public static func rasterizeIntervals(_ xy: [Double], height h: Int, width w: Int, scratch: RasterizerScratch? = nil)
    -> (intervals: [Int], area: Int, box: Box)
  {
    let (intervals, area, bounds) = rasterizeIntervalsWithBounds(xy, height: h, width: w, scratch: scratch)
    return (intervals, area, bounds.box)
  }

  static func rasterizeIntervalsWithBounds(_ xy: [Double], height h: Int, width w: Int, scratch: RasterizerScratch?)
    -> (intervals: [Int], area: Int, bounds: PixelBounds)
  {
    rasterizeIntervalsWithBounds(DoubleRing(xy), height: h, width: w, scratch: scratch)
  }

  @inline(__always)
  static func rasterizeIntervalsWithBounds(
    _ ring: some RingVertices, height h: Int, width w: Int, scratch: RasterizerScratch?
  ) -> (intervals: [Int], area: Int, bounds: PixelBounds)
  {
    rasterizeSorted(ring, height: h, width: w, findBounds: true, scratch: scratch) { sorted, count, bounds in
      let (intervals, area) = PolygonRasterizer.intervals(sorted: sorted, count: count, pixels: h * w)
      return (intervals, area, bounds)
    }
  }

  /// The ring's crossings, as sorted positions (`column * h + row`), handed to `finish` with
  /// their count and (with `findBounds`) the mask's bounds; the positions live only during the
  /// call.
  @inline(__always)
  static func rasterizeSorted<Ring: RingVertices, Result>(
    _ ring: Ring, height h: Int, width w: Int, findBounds: Bool, scratch: RasterizerScratch? = nil,
    _ finish: (UnsafePointer<Int>, Int, PixelBounds) -> Result
  ) -> Result {
    // The three temporaries, from `scratch` when there is one.
    @inline(__always) func temporary<T, R>(_ slot: Int, _ type: T.Type, _ count: Int, _ body: (UnsafeMutablePointer<T>) -> R) -> R {
      if let scratch { return body(scratch.buffer(slot, of: type, count: count)) }
      return withUnsafeTemporaryAllocation(of: type, capacity: count) { body($0.baseAddress!) }
    }
    precondition(h >= 0 && w >= 0, "negative image size")
    let k = ring.pointCount
    if k == 0 { return withUnsafeTemporaryAllocation(of: Int.self, capacity: 1) { finish($0.baseAddress!, 0, .none) } }
    // The edges, x-major ones from the front and y-major ones from the back, so that pass 2 runs
    // each kind in a loop of its own (the kinds alternate at random along jagged outlines, and a
    // branch on the kind mispredicts half the time); the order of the crossings within a column
    // does not matter, as each column is sorted.
    return temporary(0, Edge.self, k) { edges in
      // Pass 1: every edge's walk and the columns it can cross.
      var previous = ring.point(0)
      var lowColumn = Int.max, highColumn = Int.min
      var xMajorCount = 0, yMajorCount = 0
      for j in 0..<k {
        let next = ring.point(j + 1 < k ? j + 1 : 0)
        let edge = Edge(previous.0, previous.1, next.0, next.1, width: w)
        let crossesColumns = edge.firstColumn <= edge.lastColumn
        lowColumn = min(lowColumn, crossesColumns ? edge.firstColumn : .max)
        highColumn = max(highColumn, crossesColumns ? edge.lastColumn : .min)
        let slot = edge.xMajor ? xMajorCount : k &- 1 &- yMajorCount
        (edges + slot).initialize(to: edge)
        xMajorCount &+= edge.xMajor ? 1 : 0
        yMajorCount &+= edge.xMajor ? 0 : 1
        previous = next
      }
      if lowColumn > highColumn {
        // No crossing: the ring misses every column.
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 1) { finish($0.baseAddress!, 0, .none) }
      }
      let span = highColumn - lowColumn + 1
      // Bucket c (column lowColumn + c) holds positions[start[c] ..< fill[c]]; start[span] = total.
      return temporary(1, Int.self, 2 * span + 1) { start in
        let fill = start + span + 1
        start.initialize(repeating: 0, count: 2 * span + 1)
        // Upper bounds per column: +1 over each edge's column range (as differences; an edge
        // without a column adds +1 and -1 to the spare slot at `span`, set below).
        for j in 0..<k {
          let edge = edges[j]
          let crossesColumns = edge.firstColumn <= edge.lastColumn
          start[crossesColumns ? edge.firstColumn &- lowColumn : span] &+= 1
          start[crossesColumns ? edge.lastColumn &- lowColumn &+ 1 : span] &-= 1
        }
        var running = 0, total = 0
        for c in 0..<span {
          running += start[c]
          fill[c] = running  // the column's interior count, for a moment
        }
        for c in 0..<span {
          let count = fill[c]
          start[c] = total
          fill[c] = total
          total += count
        }
        start[span] = total
        // The buckets, then the sorted crossings; each with `sortSlack` spare slots at its end.
        return temporary(2, Int.self, 2 * (total + sortSlack)) { positions in
          let sorted = positions + total + sortSlack
          (positions + total).initialize(repeating: 0, count: sortSlack)
          // Pass 2: the crossings, each position (column * h + row) into its column's bucket.
          for j in 0..<xMajorCount {
            edges[j].writeXMajorCrossings(positions: positions, fill: fill, lowColumn: lowColumn, height: h)
          }
          for j in (k - yMajorCount)..<k {
            edges[j].writeYMajorCrossings(positions: positions, fill: fill, lowColumn: lowColumn, height: h)
          }
          let (count, bounds) = sortColumns(
            positions: positions, start: start, fill: fill, sorted: sorted, lowColumn: lowColumn,
            span: span, height: h, width: w, findBounds: findBounds)
          return finish(sorted, count, bounds)
        }
      }
    }
  }

  /// One edge of the upsampled ring, with pycocotools' walk direction and slope.
  struct Edge {
    /// Start of the walk after the swap (the lower end along the major axis).
    var xs: Int, ys: Int
    /// Steps along the major axis.
    var steps: Int
    var xMajor: Bool
    var slope: Double
    /// Columns whose centre this edge's interior may cross (empty when first > last).
    var firstColumn: Int, lastColumn: Int
    /// y-major edges: the walk's column at t = 0 and t = steps, and the exact change of x
    /// along the walk.
    var uStart: Int, uEnd: Int, delta: Int

    /// Built without a branch: x-major and y-major edges alternate at random along jagged
    /// outlines, so branching on the kind mispredicts about every other edge. Both kinds are
    /// the same walk with the axes swapped: `steps` along the major axis, and the minor
    /// coordinate `m(t) = (int)(start + slope * t + .5)`, evaluated here at both ends.
    @inline(__always)
    init(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, width w: Int) {
      let dx = abs(x1 &- x0)
      let dy = abs(y1 &- y0)
      let xMajor = dx >= dy
      // pycocotools walks from the lower end along the major axis.
      let flip = xMajor ? x0 > x1 : y0 > y1
      let xs = flip ? x1 : x0, ys = flip ? y1 : y0
      let xe = flip ? x0 : x1, ye = flip ? y0 : y1
      let steps = xMajor ? dx : dy
      let minorStart = xMajor ? ys : xs
      let minorDelta = xMajor ? ye &- ys : xe &- xs
      // pycocotools' slope, minor delta over steps. A repeated vertex (no step, so no delta)
      // gets 0 instead of its 0/0; pycocotools then computes its row from NaN, but its column
      // equals both neighbours', so no crossing ever uses it.
      let s = Double(minorDelta) / Double(max(steps, 1))
      // The walk's minor coordinate at both ends, m(0) and m(steps) (a y-major walk's columns),
      // without waiting on the division: start + slope · steps is the end within a few ulps (far less than the .5 to
      // the nearest integer), so both are `(int)(n + .5)` of an integer n, which C's truncation
      // makes n, or n + 1 when n is negative. (Negative ends only ever meet row or column 0,
      // so no mask depends on that + 1; it keeps the points pycocotools' walk has.)
      @inline(__always) func roundedEnd(_ n: Int) -> Int { n &- (n >> 63) }
      let m0 = roundedEnd(minorStart), mS = roundedEnd(minorStart &+ minorDelta)
      self.xs = xs
      self.ys = ys
      self.steps = steps
      self.xMajor = xMajor
      slope = s
      uStart = m0
      uEnd = mS
      delta = minorDelta
      // x-major: consecutive points differ by one column, and the pair (t, t+1) crosses column
      // c where xs + t = 5c + 2; exactly those columns inside the image get a crossing.
      // y-major: at most one crossing per column between the walk's end columns (u steps by at
      // most 1). A repeated vertex has no column.
      (firstColumn, lastColumn) = PolygonRasterizer.columns(
        from: xMajor ? xs : min(m0, mS), to: xMajor ? xs &+ steps : max(m0, mS), width: w)
    }

    /// Writes the positions (`column * h + row`) of an x-major edge's interior crossings: column
    /// c's goes to `positions[fill[c - lowColumn]]`, and that cursor advances.
    @inline(__always)
    func writeXMajorCrossings(
      positions: UnsafeMutablePointer<Int>, fill: UnsafeMutablePointer<Int>, lowColumn: Int, height h: Int
    ) {
      let cursor = fill + (firstColumn &- lowColumn)  // column c's cursor is cursor[c - firstColumn]
      let s = slope
      let fys = Double(ys)
      // v is monotone in t (rounding is monotone), so the lower of v(t), v(t + 1) is v(t) for
      // a rising edge and v(t + 1) for a falling one.
      let offset = s >= 0 ? 2 - xs : 3 - xs
      var column = firstColumn
      while column <= lastColumn {  // none for a repeated vertex
        let t = 5 &* column &+ offset
        let v = Int(fys + s * Double(t) + 0.5)
        positions[cursor[column &- firstColumn]] = column &* h &+ PolygonRasterizer.row(v, height: h)
        cursor[column &- firstColumn] &+= 1
        column &+= 1
      }
    }

    /// `writeXMajorCrossings` for a y-major edge.
    @inline(__always)
    func writeYMajorCrossings(
      positions: UnsafeMutablePointer<Int>, fill: UnsafeMutablePointer<Int>, lowColumn: Int, height h: Int
    ) {
      let cursor = fill + (firstColumn &- lowColumn)
      let dy = steps
      @inline(__always) func write(_ column: Int, step t: Int) {
        positions[cursor[column &- firstColumn]] = column &* h &+ PolygonRasterizer.row(t &+ ys, height: h)
        cursor[column &- firstColumn] &+= 1
      }
      // u(t) is monotone with steps of at most 1: each column (pair {a, a+1} with a = 5c + 2)
      // is crossed at one step t, the largest with u(t) <= a (increasing) or u(t) >= a + 1
      // (decreasing).
      let increasing = uEnd >= uStart
      // In exact arithmetic u(t) is floor(X(t)), X(t) = xs + e·t/dy + .5 with e = xe - xs, and
      // 2·dy·X(t) = 2·dy·xs + 2e·t + dy is an integer; so X(t) < a + 1 reads 2e·t < r(a) =
      // 2·dy·(a + 1 - xs) - dy in integers. pycocotools' doubles (the slope rounded, then a
      // product and two sums) stay within 4·2^-53·(|xs| + dy + 1) of X(t), and X(t) is at least
      // 1/(2·dy) from a + 1 unless equal to it. With |xs| + dy + 1 and dy below 2^20 (image
      // coordinates up to 200,000) the error is below a thousandth of that gap, so both tests
      // agree except at equality, a tie left to the doubles. (Columns start at 0, so a + 1 > 0,
      // and where X(t) < 0, truncation and floor both put u(t) at most a.)
      let e = delta
      if abs(xs) &+ dy &+ 1 < 1 << 20 && dy < 1 << 20 && increasing == (e > 0) {
        // The step is then the t with 2e·t < r < 2e·(t + 1) (increasing), or 2e·t > r > 2e·(t + 1):
        // with E = 2|e| and N = ±r - 1, t = floor(N / E), and r is a multiple of 2e (a tie) when
        // N mod E = E - 1. From one column to the next r grows by 10·dy, so N moves by ±10·dy:
        // its quotient and remainder follow without a division per column. (An x-major edge's
        // rows could follow the same way, but there the chain from one column to the next makes
        // the loop slower than its independent double evaluations.) A step outside the walk, or
        // a tie, is left to the walk below.
        let E = 2 &* abs(e)
        @inline(__always) func floorDivision(_ n: Int) -> (Int, Int) {
          let (q, r) = n.quotientAndRemainder(dividingBy: E)
          return r < 0 ? (q &- 1, r &+ E) : (q, r)
        }
        let r0 = 2 &* dy &* (5 &* firstColumn &+ 3 &- xs) &- dy
        var (t, remainder) = floorDivision(increasing ? r0 &- 1 : -r0 &- 1)
        let (stepQuotient, stepRemainder) = floorDivision(increasing ? 10 &* dy : -10 &* dy)
        var column = firstColumn
        while column <= lastColumn {
          if UInt(bitPattern: t) < UInt(bitPattern: dy) && remainder != E &- 1 {
            write(column, step: t)
          } else {
            walk(column)
          }
          remainder &+= stepRemainder
          let carry = remainder >= E ? 1 : 0
          t &+= stepQuotient &+ carry
          remainder &-= carry &* E
          column &+= 1
        }
        return
      }
      var column = firstColumn
      while column <= lastColumn {  // none for a repeated vertex
        walk(column)
        column &+= 1
      }

      // The column's crossing as the dense walk finds it: from an estimate of t from the line,
      // corrected with exact evaluations of u. (The answer does not depend on the estimate, so
      // it may multiply by the reciprocal slope instead of dividing.)
      func walk(_ column: Int) {
        let s = slope
        let fxs = Double(xs)
        @inline(__always) func u(_ t: Int) -> Int { Int(fxs + s * Double(t) + 0.5) }
        let a = 5 &* column &+ 2
        @inline(__always) func before(_ ut: Int) -> Bool { increasing ? ut <= a : ut >= a + 1 }
        let guess = (Double(a) + 0.5 - fxs) * (1 / s)
        var t = guess.isFinite ? min(max(Int(guess), 0), dy) : 0
        var ut = u(t)
        while t > 0 && !before(ut) {
          t -= 1
          ut = u(t)
        }
        if t == dy { return }
        var next = u(t + 1)
        while before(next) {
          t += 1
          ut = next
          if t == dy { break }
          next = u(t + 1)
        }
        if t < dy && ut != next { write(column, step: t) }
      }
    }
  }

  /// The image row of a crossing whose lower upsampled row is `v`.
  @inline(__always)
  static func row(_ v: Int, height h: Int) -> Int {
    // pycocotools: yd = ceil(clamp((v + .5) / 5 - .5, 0, h)). For an integer v the real value is
    // (v - 2) / 5, which the double computation never rounds across an integer, so this is
    // exactly ceil((v - 2) / 5) clamped to 0...h, in integer arithmetic.
    // ceil((v - 2) / 5) is 0 or less for v <= 2, and (v + 2) / 5 (a non-negative division) above.
    if v <= 2 { return 0 }
    return min(Int(UInt(bitPattern: v &+ 2) / 5), h)
  }

  /// The image columns c with `lo <= 5c + 2 < hi`, those whose centre a walk from upsampled
  /// column `lo` to `hi` crosses; none (first > last) when there is no such column in the image.
  ///
  /// That is `max(0, ceil((lo - 2) / 5)) ... min(w - 1, floor((hi - 3) / 5))`. Clamping first makes
  /// every division non-negative (a multiplication, no remainder test): `lo <= 2` gives column 0,
  /// and `hi < 3` gives -1, below any first column.
  @inline(__always)
  static func columns(from lo: Int, to hi: Int, width w: Int) -> (first: Int, last: Int) {
    (Int(UInt(max(lo, 2) + 2) / 5), min(w - 1, Int(UInt(max(hi + 2, 0)) / 5) - 1))
  }

  /// A coordinate as pycocotools' rasterizer upsamples it, `(int)(5 * v + .5)`, after clamping
  /// to ±`coordinateLimit` (so at most 10^9 in magnitude); `v` must not be NaN.
  @inlinable @inline(__always)
  public static func upsample(_ value: Double) -> Int {
    let clamped = min(max(value, -coordinateLimit), coordinateLimit)
    return Int(5 * clamped + 0.5)  // truncation toward zero, like C's (int) cast
  }

  /// Spare slots after the buckets and after the sorted crossings: `sortColumn` reads and writes
  /// 4, 8 or 16 slots from a column's start, whatever its count.
  static let sortSlack = 16

  /// Counts from the bucketed crossings, exactly as `rleFrPoly`'s last step (`sortColumns`,
  /// then `counts`), and with `findBounds` the mask's bounds. The buffers are as `sortColumns`
  /// takes them; `crossings` is the buckets' total size.
  static func runs(
    positions: UnsafeMutablePointer<Int>, start: UnsafeMutablePointer<Int>, fill: UnsafeMutablePointer<Int>,
    sorted: UnsafeMutablePointer<Int>, lowColumn: Int, span: Int, crossings: Int, height h: Int,
    width w: Int, findBounds: Bool
  ) -> (rle: RLE, bounds: PixelBounds) {
    let (count, bounds) = sortColumns(
      positions: positions, start: start, fill: fill, sorted: sorted, lowColumn: lowColumn, span: span,
      height: h, width: w, findBounds: findBounds)
    return (counts(sorted: sorted, count: count, height: h, width: w), bounds)
  }

  /// Sorts the bucketed crossings into one run of positions and, with `findBounds`, finds the
  /// foreground's bounds on the way (else they are `.none`). Returns how many positions `sorted`
  /// holds.
  ///
  /// Column c's positions are `positions[start[c] ..< fill[c]]`, each `column * h + row` with a
  /// row in `0...h`; both buffers have `sortSlack` readable and writable slots past the
  /// buckets' total size. Each column is sorted into `sorted`, one after the other (the
  /// differences or intervals are then taken in one loop over them all: a loop per column
  /// mispredicts its exit every time).
  ///
  /// The sorted positions pair up into the runs of 1s `[p0, p1)`, `[p2, p3)`, … (an odd last one
  /// runs to `h * w`); an empty pair adds nothing. A run's first pixel is its start's (column,
  /// row), or row 0 of the next column when that row is `h`; its last pixel is its end's
  /// (column, row - 1), or row `h - 1` of the previous column when that row is 0.
  static func sortColumns(
    positions: UnsafeMutablePointer<Int>, start: UnsafeMutablePointer<Int>, fill: UnsafeMutablePointer<Int>,
    sorted: UnsafeMutablePointer<Int>, lowColumn: Int, span: Int, height h: Int, width w: Int,
    findBounds: Bool
  ) -> (count: Int, bounds: PixelBounds) {
    // The bounds, in locals (captured by a closure, every access would be checked for exclusivity).
    var found = PixelBounds.none
    var open = false  // a run of 1s started at runStart, in (startColumn, startRow)
    var runStart = 0, startColumn = 0, startRow = 0
    @inline(__always) func cross(_ position: Int, column: Int, row: Int) {
      if !open {
        runStart = position
        (startColumn, startRow) = row < h ? (column, row) : (column + 1, 0)
      } else if position > runStart {
        let (endColumn, endRow) = row > 0 ? (column, row - 1) : (column - 1, h - 1)
        found.add(startColumn, startRow, through: endColumn, endRow, height: h)
      }
      open.toggle()
    }
    var count = 0
    for c in 0..<span {
      let first = start[c], n = fill[c] - first
      let column = sorted + count
      sortColumn(positions + first, count: n, into: column)
      count &+= n
      if !findBounds || n == 0 { continue }
      let x = lowColumn + c, base = x &* h
      // The usual column: an even count, no run open from before, and its first and last pairs
      // not empty, so its pixels run from the first row to the row before the last.
      if !open && n & 1 == 0 && column[0] != column[1] && column[n - 2] != column[n - 1] {
        found.add(x, column[0] &- base, through: x, column[n - 1] &- base &- 1, height: h)
        continue
      }
      if open || n & 1 != 0 {
        for i in 0..<n { cross(column[i], column: x, row: column[i] &- base) }
        continue
      }
      // Even and closed, with an empty pair at an end. A pair (a, b) is the run of rows a ..< b,
      // empty when a == b (as the rows are sorted, a row h or an end row 0 comes only in an empty
      // pair), so the first and the last non-empty pairs bound the column's pixels.
      var i = 0
      while i < n && column[i] == column[i + 1] { i += 2 }
      if i < n {
        var j = n - 2
        while column[j] == column[j + 1] { j -= 2 }
        found.add(x, column[i] &- base, through: x, column[j + 1] &- base &- 1, height: h)
      }
    }
    if findBounds && open { cross(h * w, column: w - 1, row: h) }
    return (count, found)
  }

  /// The counts of `count` sorted positions: the positions and `h * w` become differences, and a
  /// zero difference joins the next one to the previous run (`rleFrPoly`'s last step).
  static func counts(sorted: UnsafePointer<Int>, count: Int, height h: Int, width w: Int) -> RLE {
    let area = h * w
    let counts = [Int](unsafeUninitializedCapacity: count + 1) { out, written in
      // The first difference is always the first count; starting as if a zero difference had
      // just been seen makes it join an initial count of 0. Positions stay within 0...h * w.
      out[0] = 0
      var n = 1
      var previous = 0
      var joinNext = true
      @inline(__always) func take(_ position: Int) {
        let difference = position &- previous
        previous = position
        if joinNext {
          out[n &- 1] &+= difference
          joinNext = false
        } else if difference > 0 {
          out[n] = difference
          n &+= 1
        } else {
          joinNext = true
        }
      }
      for i in 0..<count { take(sorted[i]) }
      take(area)
      written = n
    }
    return RLE(uncheckedHeight: h, width: w, counts: counts)
  }

  /// The foreground intervals of `count` sorted positions (`RLE.intervals`' form: empty pairs
  /// dropped, touching ones joined; an odd last position runs to `pixels`) and their area.
  static func intervals(sorted: UnsafePointer<Int>, count: Int, pixels: Int) -> (intervals: [Int], area: Int) {
    var area = 0
    let intervals = [Int](unsafeUninitializedCapacity: count + 2) { out, written in
      var n = 0
      var i = 0
      while i < count {
        let a = sorted[i], b = i &+ 1 < count ? sorted[i &+ 1] : pixels
        i &+= 2
        if b <= a { continue }
        area &+= b &- a
        if n > 0 && out[n &- 1] == a {
          out[n &- 1] = b
        } else {
          out[n] = a
          out[n &+ 1] = b
          n &+= 2
        }
      }
      written = n
    }
    return (intervals, area)
  }

  /// Sorts one column's `count` positions from `source` into `destination`. Jagged outlines put
  /// a few crossings in many columns, in no particular order (2 in half the columns of the
  /// benchmark's rings, 4 in a quarter, more than 8 in one in twenty); branching on each
  /// comparison, or on each count, mispredicts most columns. Up to 4, 8 and 16 positions instead
  /// go through one sorting network each: the slots past `count` are filled with `UInt.max` (an
  /// OR with a mask, not a select, which the compiler may turn into a branch), the exchanges are
  /// branch-free min/max, and all 4, 8 or 16 slots are stored (those past `count` are scratch,
  /// overwritten by the next column). Larger columns (rare) are copied and sorted in place.
  ///
  /// - Precondition: the positions are not negative; `source` and `destination` have
  ///   `sortSlack` (16) readable and writable slots past `count`.
  @inline(__always)
  static func sortColumn(_ source: UnsafeMutablePointer<Int>, count: Int, into destination: UnsafeMutablePointer<Int>) {
    @inline(__always) func exchange(_ a: inout UInt, _ b: inout UInt) {
      let low = min(a, b)
      b = max(a, b)
      a = low
    }
    // Slot k's position, or UInt.max from slot `count` on (which sorts last: positions are ≥ 0).
    @inline(__always) func load(_ k: Int) -> UInt {
      UInt(bitPattern: source[k]) | UInt(bitPattern: (count &- k &- 1) >> 63)
    }
    @inline(__always) func store(_ k: Int, _ value: UInt) { destination[k] = Int(bitPattern: value) }
    if count <= 4 {
      var (v0, v1, v2, v3) = (load(0), load(1), load(2), load(3))
      // Optimal networks (Knuth, TAOCP 5.3.4).
      exchange(&v0, &v2); exchange(&v1, &v3); exchange(&v0, &v1); exchange(&v2, &v3); exchange(&v1, &v2)
      store(0, v0); store(1, v1); store(2, v2); store(3, v3)
    } else if count <= 8 {
      var (v0, v1, v2, v3, v4, v5, v6, v7) = (load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7))
      exchange(&v0, &v2); exchange(&v1, &v3); exchange(&v4, &v6); exchange(&v5, &v7); exchange(&v0, &v4)
      exchange(&v1, &v5); exchange(&v2, &v6); exchange(&v3, &v7); exchange(&v0, &v1); exchange(&v2, &v3)
      exchange(&v4, &v5); exchange(&v6, &v7); exchange(&v2, &v4); exchange(&v3, &v5); exchange(&v1, &v4)
      exchange(&v3, &v6); exchange(&v1, &v2); exchange(&v3, &v4); exchange(&v5, &v6)
      store(0, v0); store(1, v1); store(2, v2); store(3, v3); store(4, v4); store(5, v5); store(6, v6); store(7, v7)
    } else if count <= 16 {
      var (v0, v1, v2, v3, v4, v5, v6, v7) = (load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7))
      var (v8, v9, v10, v11) = (load(8), load(9), load(10), load(11))
      var (v12, v13, v14, v15) = (load(12), load(13), load(14), load(15))
      // Batcher's odd-even merge sort (63 exchanges).
      exchange(&v0, &v1); exchange(&v2, &v3); exchange(&v0, &v2); exchange(&v1, &v3); exchange(&v1, &v2)
      exchange(&v4, &v5); exchange(&v6, &v7); exchange(&v4, &v6); exchange(&v5, &v7); exchange(&v5, &v6)
      exchange(&v0, &v4); exchange(&v2, &v6); exchange(&v2, &v4); exchange(&v1, &v5); exchange(&v3, &v7)
      exchange(&v3, &v5); exchange(&v1, &v2); exchange(&v3, &v4); exchange(&v5, &v6); exchange(&v8, &v9)
      exchange(&v10, &v11); exchange(&v8, &v10); exchange(&v9, &v11); exchange(&v9, &v10); exchange(&v12, &v13)
      exchange(&v14, &v15); exchange(&v12, &v14); exchange(&v13, &v15); exchange(&v13, &v14); exchange(&v8, &v12)
      exchange(&v10, &v14); exchange(&v10, &v12); exchange(&v9, &v13); exchange(&v11, &v15); exchange(&v11, &v13)
      exchange(&v9, &v10); exchange(&v11, &v12); exchange(&v13, &v14); exchange(&v0, &v8); exchange(&v4, &v12)
      exchange(&v4, &v8); exchange(&v2, &v10); exchange(&v6, &v14); exchange(&v6, &v10); exchange(&v2, &v4)
      exchange(&v6, &v8); exchange(&v10, &v12); exchange(&v1, &v9); exchange(&v5, &v13); exchange(&v5, &v9)
      exchange(&v3, &v11); exchange(&v7, &v15); exchange(&v7, &v11); exchange(&v3, &v5); exchange(&v7, &v9)
      exchange(&v11, &v13); exchange(&v1, &v2); exchange(&v3, &v4); exchange(&v5, &v6); exchange(&v7, &v8)
      exchange(&v9, &v10); exchange(&v11, &v12); exchange(&v13, &v14)
      store(0, v0); store(1, v1); store(2, v2); store(3, v3); store(4, v4); store(5, v5); store(6, v6); store(7, v7)
      store(8, v8); store(9, v9); store(10, v10); store(11, v11); store(12, v12); store(13, v13); store(14, v14)
      store(15, v15)
    } else {
      destination.update(from: source, count: count)
      var column = UnsafeMutableBufferPointer(start: destination, count: count)
      column.sort()
    }
  }
}

/// Memory the rasterizer reuses for its temporaries (edges, buckets, crossings) from one ring to
/// the next, instead of allocating and freeing three buffers a ring. Not for sharing between
/// threads: each thread of work keeps its own, for as long as it rasterizes (an image's objects,
/// say). It is `Sendable` only so that a `RasterizerScratchPool` can hand it from one task to
/// the next; two tasks never use one at once.
public final class RasterizerScratch: @unchecked Sendable {
  private var buffers: [(base: UnsafeMutableRawPointer?, bytes: Int)] = Array(repeating: (nil, 0), count: 3)

  public init() {}

  deinit {
    for buffer in buffers { buffer.base?.deallocate() }
  }

  /// Buffer `slot` (0..<3), at least `count` `T`s, bound to `T`; its contents are undefined.
  /// It stays valid until the next call for the same slot.
  @inline(__always)
  func buffer<T>(_ slot: Int, of type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
    let bytes = max(count, 1) * MemoryLayout<T>.stride
    if buffers[slot].bytes < bytes { grow(slot, to: bytes) }
    return buffers[slot].base!.bindMemory(to: T.self, capacity: count)
  }

  private func grow(_ slot: Int, to bytes: Int) {
    buffers[slot].base?.deallocate()
    let size = max(bytes, 2 * buffers[slot].bytes, 4096)
    buffers[slot] = (UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16), size)
  }
}

/// Rasterizer scratch shared by the tasks of one batch: an item borrows one for as long as it
/// rasterizes and gives it back, so a batch of thousands of small items (the images of a
/// dataset, say) allocates the buffers once per thread of work rather than once per item.
/// The buffers go when the pool does.
public final class RasterizerScratchPool: Sendable {
  private let free = Mutex<[RasterizerScratch]>([])

  public init() {}

  /// Runs `body` with a scratch no other task uses meanwhile.
  public func withScratch<Result, Failure: Error>(
    _ body: (RasterizerScratch) throws(Failure) -> Result
  ) throws(Failure) -> Result {
    let scratch = free.withLock { $0.popLast() } ?? RasterizerScratch()
    defer { free.withLock { $0.append(scratch) } }
    return try body(scratch)
  }
}
