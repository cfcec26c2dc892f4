extension RLE {
  /// The mask as polygon rings that pycocotools rasterizes back to exactly this mask.
  ///
  /// Boundaries are traced along pixel edges (vertices on integer pixel corners; a pixel `(x, y)`
  /// covers `[x, x+1) × [y, y+1)`), keeping only corners. Each 4-connected component becomes one
  /// ring; its holes are joined to it by a "keyhole" bridge, a horizontal and a vertical segment
  /// walked out and back. COCO fills every ring even-odd and unions the rings, so holes survive,
  /// and the bridge cancels out: its vertical part never crosses a column centre and its
  /// horizontal part crosses each one twice. Re-rasterizing the rings with `Polygon.rle` gives
  /// back this mask exactly (IoU 1), which the tests check on real COCO masks.
  ///
  /// - Complexity: O(bounding box area).
  public func polygons() -> [[Double]] {
    let box = boundingBox
    let bw = Int(box.width), bh = Int(box.height)
    if bw == 0 || bh == 0 { return [] }
    let x0 = Int(box.x), y0 = Int(box.y)
    // Dense crop of the bounding box, row-major with a 1-pixel border of background.
    let gw = bw + 2, gh = bh + 2
    var grid = [Bool](repeating: false, count: gw * gh)
    var position = 0
    for (index, count) in counts.enumerated() {
      if index & 1 == 1 {
        for p in position..<(position + count) {
          let x = p / height - x0, y = p % height - y0
          grid[(y + 1) * gw + (x + 1)] = true
        }
      }
      position += count
    }
    func fg(_ x: Int, _ y: Int) -> Bool { grid[(y + 1) * gw + (x + 1)] }  // x in -1...bw

    // 4-connected components of the foreground.
    var label = [Int32](repeating: -1, count: gw * gh)
    var components = 0
    var stack: [Int] = []
    for start in 0..<(gw * gh) where grid[start] && label[start] < 0 {
      label[start] = Int32(components)
      stack.append(start)
      while let i = stack.popLast() {
        for n in [i - 1, i + 1, i - gw, i + gw] where grid[n] && label[n] < 0 {
          label[n] = Int32(components)
          stack.append(n)
        }
      }
      components += 1
    }

    // Directed boundary edges, foreground on the right (screen coordinates, y down). Vertices are
    // numbered v = y * (bw + 1) + x for corners 0...bw × 0...bh. Each vertex has at most two
    // outgoing edges (two at a saddle, where two foreground pixels touch diagonally).
    let vw = bw + 1
    let vertexCount = vw * (bh + 1)
    // Directions: 0 right, 1 down, 2 left, 3 up.
    var out = [UInt8](repeating: 0, count: vertexCount)  // bit d set: an unused edge in direction d
    var remaining = 0
    for y in 0..<bh {
      for x in 0..<bw where fg(x, y) {
        if !fg(x, y - 1) { out[y * vw + x] |= 1 << 0; remaining += 1 }  // top: (x,y) → (x+1,y)
        if !fg(x + 1, y) { out[y * vw + x + 1] |= 1 << 1; remaining += 1 }  // right: (x+1,y) → (x+1,y+1)
        if !fg(x, y + 1) { out[(y + 1) * vw + x + 1] |= 1 << 2; remaining += 1 }  // bottom: → (x,y+1)
        if !fg(x - 1, y) { out[(y + 1) * vw + x] |= 1 << 3; remaining += 1 }  // left: (x,y+1) → (x,y)
      }
    }
    let dx = [1, 0, -1, 0], dy = [0, 1, 0, -1]

    struct Loop {
      var points: [(Int, Int)]  // corners only, local coordinates
      var component: Int
      var isOuter: Bool
    }
    var loops: [Loop] = []
    // Start loops at the first vertex (row-major) with an unused edge: deterministic.
    var scan = 0
    while remaining > 0 {
      while out[scan] == 0 { scan += 1 }
      let startV = scan
      var direction = (0..<4).first { out[startV] & (1 << $0) != 0 }!
      var x = startV % vw, y = startV / vw
      // The pixel on the right of the first edge identifies the component.
      let rightPixel: (Int, Int) = [(x, y), (x - 1, y), (x - 1, y - 1), (x, y - 1)][direction]
      let component = Int(label[(rightPixel.1 + 1) * gw + rightPixel.0 + 1])
      var points: [(Int, Int)] = []
      var signedArea = 0
      let startDirection = direction
      while true {
        out[y * vw + x] &= ~(1 << direction)
        remaining -= 1
        let nx = x + dx[direction], ny = y + dy[direction]
        signedArea += x * ny - nx * y
        x = nx
        y = ny
        let w = y * vw + x
        // Next direction: prefer a right turn (hugs the current pixel, so pixels touching only
        // diagonally stay in separate loops), then straight, then left. At the start vertex the
        // first edge counts as available: choosing it closes the loop.
        let available = out[w] | (w == startV ? 1 << startDirection : 0)
        let previous = direction
        guard let turn = [1, 0, 3].first(where: { available & (1 << ((previous + $0) & 3)) != 0 })
        else { break }  // unreachable: every vertex has as many edges out as in
        direction = (previous + turn) & 3
        if direction != previous { points.append((x, y)) }
        if w == startV && direction == startDirection { break }
      }
      // Clockwise on screen (foreground inside) has positive signed area with y down.
      loops.append(Loop(points: points, component: component, isOuter: signedArea > 0))
    }

    // One ring per component: its outer loop, with each hole bridged in.
    var outers = [Int](repeating: -1, count: components)
    var holes = [[Int]](repeating: [], count: components)
    for (i, loop) in loops.enumerated() {
      if loop.isOuter && outers[loop.component] < 0 { outers[loop.component] = i } else {
        holes[loop.component].append(i)
      }
    }
    var rings: [[Double]] = []
    for c in 0..<components where outers[c] >= 0 {
      let outer = loops[outers[c]].points
      var ring: [(Int, Int)] = outer
      // Bridge every hole from the outer ring's first corner: horizontally to the hole's first
      // corner's column, vertically to it, around the hole, and back the same way. The ring is
      // anchor → (hole column, anchor row) → hole... → hole start → (hole column, anchor row)
      // → anchor → rest of the outer ring.
      let anchor = outer[0]
      for h in holes[c] {
        let hole = loops[h].points
        let target = hole[0]
        var detour: [(Int, Int)] = []
        detour.append((target.0, anchor.1))
        detour.append(contentsOf: hole)
        detour.append(target)
        detour.append((target.0, anchor.1))
        detour.append(anchor)
        ring.insert(contentsOf: detour, at: 1)
      }
      var flat: [Double] = []
      flat.reserveCapacity(ring.count * 2)
      for (px, py) in ring {
        flat.append(Double(px + x0))
        flat.append(Double(py + y0))
      }
      rings.append(flat)
    }
    return rings
  }
}
