/// A polygon object: one or more rings of `[x0, y0, x1, y1, ...]` coordinates (COCO's
/// `segmentation` list). The object is the union of its rings; each ring is filled even-odd.
public struct Polygon: Sendable, Hashable {
  /// The rings, each a flat list of x, y pairs.
  public var rings: [[Double]]

  /// Wraps rings without checking them (see `validated()`).
  public init(rings: [[Double]]) {
    self.rings = rings
  }

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
    return self
  }

  /// The mask of the union of the rings, exactly as pycocotools' `frPyObjects` + `merge`.
  ///
  /// - Complexity: O(rings' extent in image columns + image area covered / run length).
  public func rle(height: Int, width: Int) -> RLE {
    let masks = rings.map { PolygonRasterizer.rasterize($0, height: height, width: width) }
    if masks.count == 1 { return masks[0] }
    if masks.isEmpty { return .empty(height: height, width: width) }
    return RLE.union(masks)
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
public enum PolygonRasterizer {
  /// Largest coordinate magnitude used as given.
  public static let coordinateLimit = 2.0e8

  /// Rasterizes one ring `[x0, y0, x1, y1, ...]` (at least one point) on a `height x width` image.
  ///
  /// - Precondition: the coordinates are finite and even in number.
  public static func rasterize(_ xy: [Double], height h: Int, width w: Int) -> RLE {
    precondition(xy.count % 2 == 0, "a ring needs an even number of coordinates")
    precondition(h >= 0 && w >= 0, "negative image size")
    let k = xy.count / 2
    if k == 0 { return .empty(height: h, width: w) }
    // Upsampled integer vertices, closed: (int)(5 * x + .5) truncates toward zero, as C does.
    var X = [Int](repeating: 0, count: k + 1)
    var Y = [Int](repeating: 0, count: k + 1)
    for j in 0..<k {
      X[j] = upsample(xy[2 * j])
      Y[j] = upsample(xy[2 * j + 1])
    }
    X[k] = X[0]
    Y[k] = Y[0]

    var crossings: [Int] = []
    crossings.reserveCapacity(2 * min(w, 4096) + 8)
    var lastU = 0
    var lastV = 0
    for j in 0..<k {
      var xs = X[j], xe = X[j + 1], ys = Y[j], ye = Y[j + 1]
      let dx = abs(xe - xs)
      let dy = abs(ys - ye)
      let flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye)
      if flip {
        swap(&xs, &xe)
        swap(&ys, &ye)
      }
      // Points of this edge, t = 0...n, in walk order t = flip ? n - d : d.
      let firstU: Int, firstV: Int, endU: Int, endV: Int
      if dx == 0 && dy == 0 {
        // A repeated vertex: one point; pycocotools computes its row from 0/0 (undefined), but
        // its column equals both neighbours', so no crossing ever uses it.
        firstU = xs
        firstV = ys
        endU = xs
        endV = ys
      } else if dx >= dy {
        let s = Double(ye - ys) / Double(dx)
        let fys = Double(ys)
        @inline(__always) func v(_ t: Int) -> Int { Int(fys + s * Double(t) + 0.5) }
        let t0 = flip ? dx : 0
        let t1 = flip ? 0 : dx
        (firstU, firstV, endU, endV) = (t0 + xs, v(t0), t1 + xs, v(t1))
        // Consecutive points differ by one column; the pair (t, t+1) crosses column c where
        // xs + t = 5c + 2. Visit exactly those columns inside the image.
        let firstColumn = max(0, ceilDiv(xs - 2, 5))
        let lastColumn = min(w - 1, floorDiv(xs + dx - 3, 5))
        if firstColumn <= lastColumn {
          for column in firstColumn...lastColumn {
            let t = 5 * column + 2 - xs
            appendCrossing(&crossings, column: column, v0: v(t), v1: v(t + 1), height: h)
          }
        }
      } else {
        let s = Double(xe - xs) / Double(dy)
        let fxs = Double(xs)
        @inline(__always) func u(_ t: Int) -> Int { Int(fxs + s * Double(t) + 0.5) }
        let t0 = flip ? dy : 0
        let t1 = flip ? 0 : dy
        (firstU, firstV, endU, endV) = (u(t0), t0 + ys, u(t1), t1 + ys)
        // u(t) is monotone with steps of at most 1. For each relevant column (pair {a, a+1} with
        // a = 5c + 2) find the step: estimate t from the line, then correct it with exact
        // evaluations of u, so the result is the one the dense walk finds.
        let uStart = u(0), uEnd = u(dy)
        let increasing = uEnd >= uStart
        let lowU = min(uStart, uEnd), highU = max(uStart, uEnd)
        let firstColumn = max(0, ceilDiv(lowU - 2, 5))
        let lastColumn = min(w - 1, floorDiv(highU - 3, 5))
        if firstColumn <= lastColumn {
          for column in firstColumn...lastColumn {
            let a = 5 * column + 2
            // The largest t with u(t) <= a (increasing) or u(t) >= a + 1 (decreasing).
            func before(_ t: Int) -> Bool { increasing ? u(t) <= a : u(t) >= a + 1 }
            let guess = (Double(a) + 0.5 - fxs) / s
            var t = guess.isFinite ? min(max(Int(guess), 0), dy) : 0
            while t > 0 && !before(t) { t -= 1 }
            while t < dy && before(t + 1) { t += 1 }
            if t < dy {
              let ut = u(t), ut1 = u(t + 1)
              if ut != ut1 { appendCrossing(&crossings, column: column, v0: t + ys, v1: t + 1 + ys, height: h) }
            }
          }
        }
      }
      if j > 0 { appendBoundaryCrossing(&crossings, lastU, lastV, firstU, firstV, height: h, width: w) }
      lastU = endU
      lastV = endV
    }
    return runs(fromCrossings: &crossings, height: h, width: w)
  }

  /// Records a crossing of `column` between rows v0 and v1 (upsampled).
  @inline(__always)
  static func appendCrossing(_ crossings: inout [Int], column: Int, v0: Int, v1: Int, height h: Int) {
    // pycocotools: yd = ceil(clamp((v + .5) / 5 - .5, 0, h)). For an integer v the real value is
    // (v - 2) / 5, which the double computation never rounds across an integer, so this is
    // exactly ceil((v - 2) / 5) clamped to 0...h, in integer arithmetic.
    let row = min(max(ceilDiv(min(v0, v1) - 2, 5), 0), h)
    crossings.append(column * h + row)
  }

  /// The crossing, if any, between the last point of one edge and the first of the next, with
  /// pycocotools' rule for any pair of points.
  static func appendBoundaryCrossing(
    _ crossings: inout [Int], _ u0: Int, _ v0: Int, _ u1: Int, _ v1: Int, height h: Int, width w: Int
  ) {
    if u1 == u0 { return }
    let xi = u1 < u0 ? u1 : u1 - 1
    // xd = (xi + .5) / 5 - .5 is a whole column exactly when xi ≡ 2 (mod 5).
    let (column, remainder) = (xi - 2).quotientAndRemainder(dividingBy: 5)
    if remainder != 0 || column < 0 || column > w - 1 { return }
    appendCrossing(&crossings, column: column, v0: v0, v1: v1, height: h)
  }

  @inline(__always) static func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
  }

  @inline(__always) static func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }

  @inline(__always)
  static func upsample(_ value: Double) -> Int {
    let clamped = min(max(value, -coordinateLimit), coordinateLimit)
    return Int(5 * clamped + 0.5)  // truncation toward zero, like C's (int) cast
  }

  /// Turns sorted crossing positions into counts, exactly as `rleFrPoly`'s last step.
  static func runs(fromCrossings a: inout [Int], height h: Int, width w: Int) -> RLE {
    a.append(h * w)
    a.sort()
    var previous = 0
    for j in a.indices {
      let t = a[j]
      a[j] -= previous
      previous = t
    }
    var counts: [Int] = [a[0]]
    counts.reserveCapacity(a.count)
    var j = 1
    while j < a.count {
      if a[j] > 0 {
        counts.append(a[j])
        j += 1
      } else {
        j += 1
        if j < a.count {
          counts[counts.count - 1] += a[j]
          j += 1
        }
      }
    }
    return RLE(uncheckedHeight: h, width: w, counts: counts)
  }
}
