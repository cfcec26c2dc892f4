import AnnotaGeometry
import Testing

/// The rasterizer as it was before the bucketed version (every crossing position collected, then
/// one comparison sort), kept here as the reference the fast path must reproduce count for count.
private enum LegacyRasterizer {
  static func counts(_ xy: [Double], h: Int, w: Int) -> [Int] {
    let k = xy.count / 2
    if k == 0 { return [h * w] }
    var x = [Int](repeating: 0, count: k + 1)
    var y = [Int](repeating: 0, count: k + 1)
    for j in 0..<k {
      x[j] = upsample(xy[2 * j])
      y[j] = upsample(xy[2 * j + 1])
    }
    x[k] = x[0]
    y[k] = y[0]
    var crossings: [Int] = []
    var lastU = 0, lastV = 0
    for j in 0..<k {
      var xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1]
      let dx = abs(xe - xs), dy = abs(ys - ye)
      let flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye)
      if flip {
        swap(&xs, &xe)
        swap(&ys, &ye)
      }
      let firstU: Int, firstV: Int, endU: Int, endV: Int
      if dx == 0 && dy == 0 {
        (firstU, firstV, endU, endV) = (xs, ys, xs, ys)
      } else if dx >= dy {
        let s = Double(ye - ys) / Double(dx)
        let fys = Double(ys)
        func v(_ t: Int) -> Int { Int(fys + s * Double(t) + 0.5) }
        let t0 = flip ? dx : 0, t1 = flip ? 0 : dx
        (firstU, firstV, endU, endV) = (t0 + xs, v(t0), t1 + xs, v(t1))
        let first = max(0, ceilDiv(xs - 2, 5)), last = min(w - 1, floorDiv(xs + dx - 3, 5))
        if first <= last {
          for column in first...last {
            let t = 5 * column + 2 - xs
            crossings.append(column * h + row(min(v(t), v(t + 1)), h))
          }
        }
      } else {
        let s = Double(xe - xs) / Double(dy)
        let fxs = Double(xs)
        func u(_ t: Int) -> Int { Int(fxs + s * Double(t) + 0.5) }
        let t0 = flip ? dy : 0, t1 = flip ? 0 : dy
        (firstU, firstV, endU, endV) = (u(t0), t0 + ys, u(t1), t1 + ys)
        let uStart = u(0), uEnd = u(dy)
        let increasing = uEnd >= uStart
        let first = max(0, ceilDiv(min(uStart, uEnd) - 2, 5))
        let last = min(w - 1, floorDiv(max(uStart, uEnd) - 3, 5))
        if first <= last {
          for column in first...last {
            let a = 5 * column + 2
            func before(_ t: Int) -> Bool { increasing ? u(t) <= a : u(t) >= a + 1 }
            let guess = (Double(a) + 0.5 - fxs) / s
            var t = guess.isFinite ? min(max(Int(guess), 0), dy) : 0
            while t > 0 && !before(t) { t -= 1 }
            while t < dy && before(t + 1) { t += 1 }
            if t < dy && u(t) != u(t + 1) { crossings.append(column * h + row(t + ys, h)) }
          }
        }
      }
      if j > 0 && firstU != lastU {
        let xi = firstU < lastU ? firstU : firstU - 1
        let (column, remainder) = (xi - 2).quotientAndRemainder(dividingBy: 5)
        if remainder == 0 && column >= 0 && column <= w - 1 {
          crossings.append(column * h + row(min(lastV, firstV), h))
        }
      }
      lastU = endU
      lastV = endV
    }
    return pycocotoolsCounts(crossings, area: h * w)
  }

  static func row(_ v: Int, _ h: Int) -> Int { min(max(ceilDiv(v - 2, 5), 0), h) }

  static func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
  }

  static func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }

  static func upsample(_ value: Double) -> Int {
    let limit = PolygonRasterizer.coordinateLimit
    return Int(5 * min(max(value, -limit), limit) + 0.5)
  }
}

/// The bounding box as `RLE.boundingBox` computed it with one division per run.
private func legacyBoundingBox(_ rle: RLE) -> Box {
  let h = rle.height, counts = rle.counts
  let m = (counts.count / 2) * 2
  if m == 0 || h == 0 { return Box(x: 0, y: 0, width: 0, height: 0) }
  var xs = rle.width, ys = h, xe = 0, ye = 0, cc = 0, xp = 0
  for j in 0..<m {
    cc += counts[j]
    let (x, y) = (cc - (j & 1)).quotientAndRemainder(dividingBy: h)
    if j & 1 == 0 {
      xp = x
    } else if xp < x {
      ys = 0
      ye = h - 1
    }
    xs = min(xs, x)
    xe = max(xe, x)
    ys = min(ys, y)
    ye = max(ye, y)
  }
  return Box(x: Double(xs), y: Double(ys), width: Double(xe - xs + 1), height: Double(ye - ys + 1))
}

/// An image size from empty and one-pixel sizes up to 480x640.
func randomImageSize(_ rng: inout SplitMix64) -> (h: Int, w: Int) {
  let h = [0, 1, 2, 7, 33, 120, 480][Int.random(in: 0...6, using: &rng)]
  let w = [0, 1, 3, 9, 40, 200, 640][Int.random(in: 0...6, using: &rng)]
  return (h, w)
}

/// A random ring of one of several kinds, on an `h x w` image.
func randomRing(kind: Int, h: Int, w: Int, _ rng: inout SplitMix64) -> [Double] {
  let fw = Double(w), fh = Double(h)
  var xy: [Double] = []
  func point(_ x: Double, _ y: Double) {
    xy.append(x)
    xy.append(y)
  }
  switch kind {
  case 0:  // star-shaped (concave), partly outside the image
    let cx = Double.random(in: (-0.2 * fw)...(1.2 * fw), using: &rng)
    let cy = Double.random(in: (-0.2 * fh)...(1.2 * fh), using: &rng)
    let n = Int.random(in: 3...120, using: &rng)
    let big = Double.random(in: 0.5...(0.8 * Double(max(h, w))), using: &rng)
    for i in 0..<n {
      let angle = 2 * Double.pi * Double(i) / Double(n)
      let r = big * Double.random(in: 0.2...1, using: &rng)
      point(cx + r * cosine(angle), cy + r * sine(angle))
    }
  case 1:  // self-intersecting: random points anywhere around the image
    for _ in 0..<Int.random(in: 3...60, using: &rng) {
      point(Double.random(in: (-0.5 * fw)...(1.5 * fw), using: &rng),
            Double.random(in: (-0.5 * fh)...(1.5 * fh), using: &rng))
    }
  case 2:  // sub-pixel: everything inside one or two pixels
    let cx = Double.random(in: -1...(fw + 1), using: &rng), cy = Double.random(in: -1...(fh + 1), using: &rng)
    for _ in 0..<Int.random(in: 3...10, using: &rng) {
      point(cx + Double.random(in: 0...1.5, using: &rng), cy + Double.random(in: 0...1.5, using: &rng))
    }
  case 3:  // degenerate: collinear, repeated points, zero area
    let x0 = Double.random(in: -2...(fw + 2), using: &rng), y0 = Double.random(in: -2...(fh + 2), using: &rng)
    let (dx, dy) = (Double.random(in: -3...3, using: &rng), Double.random(in: -3...3, using: &rng))
    for i in 0..<Int.random(in: 1...12, using: &rng) {
      let step = Bool.random(using: &rng) ? Double(i) : Double(i / 2)
      point((x0 + step * dx).rounded(), (y0 + step * dy).rounded())
    }
  case 4:  // vertical zigzag across one column: many crossings share the column (large buckets)
    let x = Double.random(in: 0...fw, using: &rng)
    for i in 0..<Int.random(in: 20...150, using: &rng) {
      point(x + (i % 2 == 0 ? -2.5 : 2.5) + Double.random(in: -0.3...0.3, using: &rng),
            Double.random(in: -1...(fh + 1), using: &rng))
    }
  case 5:  // far outside, near and past the ±2e8 clamp
    for _ in 0..<Int.random(in: 3...8, using: &rng) {
      let far = [1e3, 1e6, 1.9e8, 2e8, 5e8, 1e12][Int.random(in: 0...5, using: &rng)]
      point(Double.random(in: -far...far, using: &rng), Double.random(in: -far...far, using: &rng))
    }
  default:  // on the half-pixel grid, where rounding ties happen
    for _ in 0..<Int.random(in: 3...30, using: &rng) {
      point((Double.random(in: -2...(fw + 2), using: &rng) * 2).rounded() / 2 + [0, 0.1, -0.1, 0.2][Int.random(in: 0...3, using: &rng)],
            (Double.random(in: -2...(fh + 2), using: &rng) * 2).rounded() / 2)
    }
  }
  return xy
}

// Tiny sine and cosine for the test rings (their exact values do not matter, only determinism).
private func sine(_ x: Double) -> Double {
  var r = x.truncatingRemainder(dividingBy: 2 * Double.pi)
  if r > Double.pi { r -= 2 * Double.pi } else if r < -Double.pi { r += 2 * Double.pi }
  let r2 = r * r
  return r * (1 - r2 / 6 * (1 - r2 / 20 * (1 - r2 / 42 * (1 - r2 / 72 * (1 - r2 / 110)))))
}

private func cosine(_ x: Double) -> Double { sine(x + Double.pi / 2) }

@Suite("Bucketed rasterizer against the sort-based one")
struct RasterizerLegacyTests {
  @Test("20,000 random rings: concave, self-intersecting, sub-pixel, degenerate, crowded columns, far away")
  func randomRings() {
    var rng = SplitMix64(seed: 77)
    for trial in 0..<20_000 {
      let (h, w) = randomImageSize(&rng)
      let xy = randomRing(kind: trial % 7, h: max(h, 1), w: max(w, 1), &rng)
      let fast = PolygonRasterizer.rasterize(xy, height: h, width: w)
      let legacy = LegacyRasterizer.counts(xy, h: h, w: w)
      #expect(fast.counts == legacy, "trial \(trial): \(h)x\(w) \(xy)")
      if fast.counts != legacy { return }
      #expect(fast.boundingBox == legacyBoundingBox(fast), "trial \(trial)")
      let withBox = PolygonRasterizer.rasterizeWithBox(xy, height: h, width: w)
      #expect(withBox.rle == fast && withBox.box == fast.boundingBox, "trial \(trial): \(h)x\(w) \(xy)")
    }
  }

  @Test("the box found while rasterizing is the mask's boundingBox, for 1 to 4 rings of any kind")
  func boxesWhileRasterizing() {
    var rng = SplitMix64(seed: 23)
    for trial in 0..<5_000 {
      let (h, w) = randomImageSize(&rng)
      let rings = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
        randomRing(kind: Int.random(in: 0...6, using: &rng), h: max(h, 1), w: max(w, 1), &rng)
      }
      let polygon = Polygon(rings: rings)
      let (rle, box) = polygon.rleWithBox(height: h, width: w)
      #expect(rle == RLE.union(rings.isEmpty ? [.empty(height: h, width: w)]
                                             : rings.map { PolygonRasterizer.rasterize($0, height: h, width: w) }))
      #expect(box == rle.boundingBox, "trial \(trial): \(h)x\(w) \(rings)")
      // Straight to intervals: the same pixels, area and box, without counts.
      let direct = polygon.maskIntervals(height: h, width: w)
      #expect(direct.intervals == rle.intervals, "trial \(trial): \(h)x\(w) \(rings)")
      #expect(direct.area == rle.area && direct.box == box, "trial \(trial): \(h)x\(w) \(rings)")
    }
  }

  /// A set built from intervals (as `iou` builds it) against one built from the masks: the same
  /// matrices, and masks rebuilt with the same counts.
  @Test("an RLESet from intervals equals one from the masks")
  func setFromIntervals() {
    var rng = SplitMix64(seed: 24)
    for trial in 0..<500 {
      let (h, w) = randomImageSize(&rng)
      func polygons() -> [Polygon] {
        (0..<Int.random(in: 0...5, using: &rng)).map { _ in
          Polygon(rings: (0..<Int.random(in: 1...3, using: &rng)).map { _ in
            randomRing(kind: Int.random(in: 0...6, using: &rng), h: max(h, 1), w: max(w, 1), &rng)
          })
        }
      }
      let (a, b) = (polygons(), polygons())
      func sets(_ polygons: [Polygon]) -> (RLESet, RLESet) {
        let masks = polygons.map { $0.rle(height: h, width: w) }
        let direct = polygons.map { $0.maskIntervals(height: h, width: w) }
        return (RLESet(masks),
                RLESet(height: h, width: w, intervals: direct.map(\.intervals), areas: direct.map(\.area),
                       boxes: direct.map(\.box)))
      }
      let (fromMasksA, fromIntervalsA) = sets(a), (fromMasksB, fromIntervalsB) = sets(b)
      #expect(fromIntervalsA.masks == fromMasksA.masks, "trial \(trial)")
      #expect(fromIntervalsA.areas == fromMasksA.areas && fromIntervalsA.boxes == fromMasksA.boxes, "trial \(trial)")
      #expect(fromIntervalsA.intersectionMatrix(fromIntervalsB) == fromMasksA.intersectionMatrix(fromMasksB), "trial \(trial)")
      #expect(fromIntervalsA.iouMatrix(fromIntervalsB) == fromMasksA.iouMatrix(fromMasksB), "trial \(trial)")
    }
  }

  @Test("pixelBound holds every pixel of the mask, validated or not, and follows changes to the rings")
  func pixelBounds() throws {
    var rng = SplitMix64(seed: 123)
    var bounded = 0, unbounded = 0, touching = 0
    for trial in 0..<20_000 {
      let (h, w) = randomImageSize(&rng)
      let rings = (0..<Int.random(in: 1...3, using: &rng)).map { _ in
        randomRing(kind: Int.random(in: 0...6, using: &rng), h: max(h, 1), w: max(w, 1), &rng)
      }
      var polygon = Polygon(rings: rings)
      let found = polygon.pixelBound()
      if polygon.rings.allSatisfy({ $0.count >= 6 }) {
        let checked = try polygon.validated()
        let kept = checked.pixelBound()
        #expect(kept == nil && found == nil || kept != nil && found != nil && kept! == found!, "trial \(trial)")
      }
      guard let bound = found else {
        unbounded += 1
        continue
      }
      bounded += 1
      let box = polygon.rle(height: h, width: w).boundingBox
      if box.width > 0 {
        let (x0, y0) = (Int(box.x), Int(box.y))
        let (x1, y1) = (x0 + Int(box.width) - 1, y0 + Int(box.height) - 1)
        #expect(bound.x0 <= x0 && x1 <= bound.x1 && bound.y0 <= y0 && y1 <= bound.y1,
                "trial \(trial): \(h)x\(w) pixels \(x0)...\(x1), \(y0)...\(y1) outside \(bound)")
        if x0 == bound.x0 + 1 || x1 == bound.x1 - 1 { touching += 1 }
      }
      // A changed ring list forgets the box validated() kept.
      polygon.rings = [[0, 0, 3, 0, 3, 2]]
      #expect(polygon.pixelBound()! == (-1, -1, 4, 3))
    }
    // Beyond the proven range there is no bound (nor a crash converting the coordinates).
    for far in [[0, 0, 3e7, 0, 3, 2], [0, 0, 1e300, 0, 3, 2], [0, -1e300, 3, 0, 3, 2], [-0.3, 0, 3, 0, 3, 2]] {
      #expect(Polygon(rings: [far]).pixelBound() == nil)
    }
    // Both answers occur, and masks reach the vertices' columns (the margin is not slack only).
    #expect(bounded > 4_000 && unbounded > 4_000 && touching > 400, "\(bounded) \(unbounded) \(touching)")
  }

  @Test("one scratch reused across rings of every size gives what fresh temporaries give")
  func scratchReuse() {
    var rng = SplitMix64(seed: 5)
    let scratch = RasterizerScratch()
    for trial in 0..<5_000 {
      let (h, w) = randomImageSize(&rng)
      let polygon = Polygon(rings: (0..<Int.random(in: 1...3, using: &rng)).map { _ in
        randomRing(kind: Int.random(in: 0...6, using: &rng), h: max(h, 1), w: max(w, 1), &rng)
      })
      let reused = polygon.maskIntervals(height: h, width: w, scratch: scratch)
      let fresh = polygon.maskIntervals(height: h, width: w)
      #expect(reused.intervals == fresh.intervals && reused.area == fresh.area && reused.box == fresh.box,
              "trial \(trial): \(h)x\(w) \(polygon.rings)")
    }
  }

  @Test("empty rings and rings of one point")
  func tiny() {
    #expect(PolygonRasterizer.rasterize([], height: 5, width: 4).counts == [20])
    for xy in [[1.0, 1.0], [0.4, 3.6], [-1, -1], [2.4, 0]] {
      #expect(PolygonRasterizer.rasterize(xy, height: 5, width: 4).counts == LegacyRasterizer.counts(xy, h: 5, w: 4))
    }
  }

  @Test("bounding boxes of random run lists, zero-length runs and wrapping runs included")
  func boundingBoxes() throws {
    var rng = SplitMix64(seed: 91)
    for _ in 0..<20_000 {
      let h = Int.random(in: 0...9, using: &rng), w = Int.random(in: 0...9, using: &rng)
      var left = h * w
      var counts: [Int] = []
      while left > 0 && counts.count < 30 {
        let c = min(left, [0, 0, 1, 1, 2, 3, h, h + 1, 2 * h][Int.random(in: 0...8, using: &rng)])
        counts.append(c)
        left -= c
      }
      if left > 0 || counts.isEmpty { counts.append(left) }
      let rle = try RLE(height: h, width: w, counts: counts)
      #expect(rle.boundingBox == legacyBoundingBox(rle), "\(h)x\(w) \(counts)")
    }
  }
}
