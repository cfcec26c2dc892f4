import AnnotaGeometry
import Testing

/// A literal port of pycocotools' `rleFrPoly` (dense walk over every upsampled boundary point),
/// used to check the fast rasterizer on many random polygons beyond the golden vectors.
private func denseReference(_ xy: [Double], h: Int, w: Int) -> [Int] {
  let k = xy.count / 2
  let scale = 5.0
  var x = (0..<k).map { Int(scale * xy[2 * $0] + 0.5) }
  var y = (0..<k).map { Int(scale * xy[2 * $0 + 1] + 0.5) }
  x.append(x[0])
  y.append(y[0])
  var u: [Int] = [], v: [Int] = []
  for j in 0..<k {
    var xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1]
    let dx = abs(xe - xs), dy = abs(ys - ye)
    let flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye)
    if flip { swap(&xs, &xe); swap(&ys, &ye) }
    if dx == 0 && dy == 0 {
      u.append(xs)
      v.append(Int.min)  // 0/0 in C; never used, the column matches both neighbours
      continue
    }
    let s = dx >= dy ? Double(ye - ys) / Double(dx) : Double(xe - xs) / Double(dy)
    if dx >= dy {
      for d in 0...dx {
        let t = flip ? dx - d : d
        u.append(t + xs)
        v.append(Int(Double(ys) + s * Double(t) + 0.5))
      }
    } else {
      for d in 0...dy {
        let t = flip ? dy - d : d
        v.append(t + ys)
        u.append(Int(Double(xs) + s * Double(t) + 0.5))
      }
    }
  }
  var a: [Int] = []
  for j in 1..<u.count where u[j] != u[j - 1] {
    var xd = Double(u[j] < u[j - 1] ? u[j] : u[j] - 1)
    xd = (xd + 0.5) / scale - 0.5
    if xd.rounded(.down) != xd || xd < 0 || xd > Double(w - 1) { continue }
    var yd = Double(v[j] < v[j - 1] ? v[j] : v[j - 1])
    yd = (yd + 0.5) / scale - 0.5
    if yd < 0 { yd = 0 } else if yd > Double(h) { yd = Double(h) }
    yd = yd.rounded(.up)
    a.append(Int(xd) * h + Int(yd))
  }
  a.append(h * w)
  a.sort()
  var p = 0
  for j in a.indices { let t = a[j]; a[j] -= p; p = t }
  var b = [a[0]]
  var j = 1
  while j < a.count {
    if a[j] > 0 { b.append(a[j]); j += 1 } else { j += 1; if j < a.count { b[b.count - 1] += a[j]; j += 1 } }
  }
  return b
}

@Suite("Fast rasterizer against a literal port of rleFrPoly")
struct RasterizerReferenceTests {
  @Test("10,000 random polygons: convex, star, self-intersecting, outside the image, repeated vertices")
  func randomPolygons() {
    var rng = SplitMix64(seed: 2024)
    for trial in 0..<10_000 {
      let h = Int.random(in: 1...60, using: &rng), w = Int.random(in: 1...60, using: &rng)
      let k = Int.random(in: 1...25, using: &rng)
      let spread = [1.0, 1.5, 4.0][trial % 3]
      var xy: [Double] = []
      for _ in 0..<k {
        var px = Double.random(in: (-0.5 * spread * Double(w))...(spread * Double(w)), using: &rng)
        var py = Double.random(in: (-0.5 * spread * Double(h))...(spread * Double(h)), using: &rng)
        if trial % 5 == 0 { px = px.rounded(); py = py.rounded() }
        if trial % 7 == 0, let lx = xy.dropLast().last, let ly = xy.last, Bool.random(using: &rng) { px = lx; py = ly }
        xy.append(px)
        xy.append(py)
      }
      let fast = PolygonRasterizer.rasterize(xy, height: h, width: w)
      let reference = denseReference(xy, h: h, w: w)
      #expect(fast.counts == reference, "trial \(trial): \(h)x\(w) \(xy)")
      if fast.counts != reference { return }
    }
  }
}
