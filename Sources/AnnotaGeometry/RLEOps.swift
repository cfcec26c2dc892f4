extension RLE {
  /// Size of the overlap of two masks' foregrounds, walking their runs (never decoding pixels).
  ///
  /// - Precondition: same height and width.
  /// - Complexity: O(counts of both).
  public func intersectionArea(_ other: RLE) -> Int {
    precondition(height == other.height && width == other.width,
                 "masks differ in size: \(height)x\(width) and \(other.height)x\(other.width)")
    return counts.withUnsafeBufferPointer { a in
      other.counts.withUnsafeBufferPointer { b in RLE.overlap(a, b) }
    }
  }

  /// Overlap of two run lists: a merge walk over run boundaries.
  @usableFromInline
  static func overlap(_ a: UnsafeBufferPointer<Int>, _ b: UnsafeBufferPointer<Int>) -> Int {
    var ia = 0, ib = 0
    var endA = a.isEmpty ? 0 : a[0], endB = b.isEmpty ? 0 : b[0]  // ends of the current runs
    var onA = false, onB = false
    var position = 0
    var total = 0
    while ia < a.count && ib < b.count {
      let next = min(endA, endB)
      if onA && onB { total += next - position }
      position = next
      if endA == next {
        ia += 1
        onA.toggle()
        if ia < a.count { endA += a[ia] }
      }
      if endB == next {
        ib += 1
        onB.toggle()
        if ib < b.count { endB += b[ib] }
      }
    }
    return total
  }

  /// Intersection over union with pycocotools' conventions: `self` is the detection, `other` the
  /// ground truth; with `crowd`, the denominator is the detection's area. 0 when the masks do not
  /// overlap (including two empty masks).
  ///
  /// Range [0, 1]; symmetric unless `crowd`. Computed on runs; pairs whose bounding boxes do not
  /// overlap are 0 without walking runs (use `RLESet` to reuse boxes across a matrix).
  /// - Complexity: O(counts of both).
  public func iou(_ other: RLE, crowd: Bool = false) -> Double {
    let i = intersectionArea(other)
    if i == 0 { return 0 }
    let u = crowd ? area : area + other.area - i
    return Double(i) / Double(u)
  }

  /// Dice coefficient `2|A∩B| / (|A| + |B|)`; 0 when both masks are empty.
  ///
  /// Range [0, 1]; symmetric; `dice = 2·iou / (1 + iou)`.
  /// - Complexity: O(counts of both).
  public func dice(_ other: RLE) -> Double {
    let i = intersectionArea(other)
    let sum = area + other.area
    return sum == 0 ? 0 : Double(2 * i) / Double(sum)
  }

  /// The union of masks of the same size (pycocotools' `merge`).
  ///
  /// - Precondition: at least one mask; all the same size.
  /// - Complexity: O(total counts · log(masks)).
  public static func union(_ masks: [RLE]) -> RLE { merge(masks, intersect: false) }

  /// The intersection of masks of the same size (pycocotools' `merge(..., intersect=1)`).
  public static func intersection(_ masks: [RLE]) -> RLE { merge(masks, intersect: true) }

  static func merge(_ masks: [RLE], intersect: Bool) -> RLE {
    precondition(!masks.isEmpty, "merging needs at least one mask")
    let h = masks[0].height, w = masks[0].width
    precondition(masks.allSatisfy { $0.height == h && $0.width == w }, "masks differ in size")
    if masks.count == 1 { return masks[0] }
    // Pairwise reduction (a balanced tree keeps the work O(total · log n)).
    var level = masks.map(\.intervals)
    while level.count > 1 {
      var next: [[Int]] = []
      next.reserveCapacity((level.count + 1) / 2)
      var i = 0
      while i + 1 < level.count {
        next.append(intersect ? intersectIntervals(level[i], level[i + 1])
                              : unionIntervals(level[i], level[i + 1]))
        i += 2
      }
      if i < level.count { next.append(level[i]) }
      level = next
    }
    return fromIntervals(level[0], height: h, width: w)
  }

  /// The pixels covered by foreground intervals `[start, end)`.
  static func area(ofIntervals intervals: [Int]) -> Int {
    var area = 0
    for k in stride(from: 0, to: intervals.count, by: 2) { area += intervals[k + 1] - intervals[k] }
    return area
  }

  static func unionIntervals(_ a: [Int], _ b: [Int]) -> [Int] {
    var out: [Int] = []
    out.reserveCapacity(a.count + b.count)
    var i = 0, j = 0
    while i < a.count || j < b.count {
      let takeA = j >= b.count || (i < a.count && a[i] <= b[j])
      let start = takeA ? a[i] : b[j]
      let end = takeA ? a[i + 1] : b[j + 1]
      if takeA { i += 2 } else { j += 2 }
      if let last = out.last, start <= last {
        if end > last { out[out.count - 1] = end }
      } else {
        out.append(start)
        out.append(end)
      }
    }
    return out
  }

  static func intersectIntervals(_ a: [Int], _ b: [Int]) -> [Int] {
    var out: [Int] = []
    var i = 0, j = 0
    while i < a.count && j < b.count {
      let start = max(a[i], b[j])
      let end = min(a[i + 1], b[j + 1])
      if start < end {
        if let last = out.last, last == start { out[out.count - 1] = end } else {
          out.append(start)
          out.append(end)
        }
      }
      if a[i + 1] < b[j + 1] { i += 2 } else { j += 2 }
    }
    return out
  }
}

/// Masks prepared for many pairwise comparisons: foreground intervals, areas and bounding boxes
/// computed once, so an IoU matrix costs one interval walk per pair whose boxes overlap.
public struct RLESet: Sendable {
  /// The masks as given, or empty when the set was built from intervals (`masks` rebuilds them).
  let givenMasks: [RLE]
  /// Per mask: height and width.
  let heights: [Int], widths: [Int]
  /// Per mask: foreground intervals `[start, end)` in column-major pixel order.
  let intervals: [[Int]]
  public let areas: [Int]
  public let boxes: [Box]

  /// The masks: those given, or for a set built from intervals, masks rebuilt from them.
  public var masks: [RLE] {
    givenMasks.count == count ? givenMasks : (0..<count).map(mask)
  }

  /// Traps unless every mask of `self` and `truths` has one size (when both have masks): a
  /// matrix's precondition, checked once instead of per pair.
  func checkSameSize(_ truths: RLESet) {
    guard count > 0 && truths.count > 0 else { return }
    let (h, w) = (heights[0], widths[0])
    precondition(heights.allSatisfy { $0 == h } && widths.allSatisfy { $0 == w }
                   && truths.heights.allSatisfy { $0 == h } && truths.widths.allSatisfy { $0 == w },
                 "masks differ in size")
  }

  /// Mask `i`: as given, or rebuilt from its intervals.
  public func mask(_ i: Int) -> RLE {
    givenMasks.count == count ? givenMasks[i] : RLE.fromIntervals(intervals[i], height: heights[i], width: widths[i])
  }

  /// Mask `i`'s height and width.
  public func size(of i: Int) -> (height: Int, width: Int) { (heights[i], widths[i]) }

  /// - Complexity: O(total counts).
  public init(_ masks: [RLE]) { self.init(masks, boxes: masks.map(\.boundingBox)) }

  /// Masks whose bounding boxes are known already (`Polygon.rleWithBox` finds them while
  /// rasterizing), which saves a walk over every mask's runs.
  ///
  /// - Precondition: `boxes[i] == masks[i].boundingBox` (only the number of boxes is checked).
  /// - Complexity: O(total counts).
  public init(_ masks: [RLE], boxes: [Box]) {
    precondition(boxes.count == masks.count, "one box per mask")
    self.givenMasks = masks
    self.heights = masks.map(\.height)
    self.widths = masks.map(\.width)
    self.intervals = masks.map(\.intervals)
    self.areas = masks.map(\.area)
    self.boxes = boxes
  }

  /// Masks of one size given by their foreground intervals, areas and bounding boxes, as
  /// `Polygon.maskIntervals` finds them while rasterizing: nothing is derived again, and no
  /// counts are built unless `masks` is read.
  ///
  /// - Precondition: each mask's intervals as `RLE.intervals` returns them, within
  ///   `height * width`, with that area and bounding box (only the numbers of areas and boxes
  ///   are checked).
  public init(height: Int, width: Int, intervals: [[Int]], areas: [Int], boxes: [Box]) {
    precondition(areas.count == intervals.count && boxes.count == intervals.count, "one area and box per mask")
    self.givenMasks = []
    self.heights = Array(repeating: height, count: intervals.count)
    self.widths = Array(repeating: width, count: intervals.count)
    self.intervals = intervals
    self.areas = areas
    self.boxes = boxes
  }

  /// One mask given by its foreground intervals (`RLE.intervals`' form), as a vote produces
  /// them: the runs and area come from them without a walk over the counts.
  ///
  /// - Precondition: as `RLE(height:width:foregroundIntervals:)`.
  public init(height: Int, width: Int, foregroundIntervals intervals: [Int]) {
    let mask = RLE(height: height, width: width, foregroundIntervals: intervals)
    self.givenMasks = [mask]
    self.heights = [height]
    self.widths = [width]
    self.intervals = [intervals]
    self.areas = [RLE.area(ofIntervals: intervals)]
    self.boxes = [mask.boundingBox]
  }

  public var count: Int { intervals.count }

  /// Mask `i`'s foreground intervals `[start, end)`, in column-major pixel order (as
  /// `RLE.intervals`).
  public func intervals(of i: Int) -> [Int] { intervals[i] }

  /// Foreground overlap of mask `i` of `self` and mask `j` of `other`.
  public func intersectionArea(_ i: Int, _ other: RLESet, _ j: Int) -> Int {
    if boxes[i].iou(other.boxes[j]) <= 0 { return 0 }
    return intervals[i].withUnsafeBufferPointer { a in
      other.intervals[j].withUnsafeBufferPointer { b in RLESet.overlap(a, b) }
    }
  }

  /// `intersectionArea(_:_:_:)`, walked as suits masks that are expected to overlap much (see
  /// `overlapOfSimilar`); the same value.
  func intersectionAreaOfSimilar(_ i: Int, _ other: RLESet, _ j: Int) -> Int {
    if boxes[i].iou(other.boxes[j]) <= 0 { return 0 }
    return intervals[i].withUnsafeBufferPointer { a in
      other.intervals[j].withUnsafeBufferPointer { b in RLESet.overlapOfSimilar(a, b) }
    }
  }

  /// Overlap of two interval lists (`RLE.intervals`' form): a merge walk over their intervals.
  @usableFromInline
  static func overlap(_ a: UnsafeBufferPointer<Int>, _ b: UnsafeBufferPointer<Int>) -> Int {
    var i = 0, j = 0, total = 0
    while i < a.count && j < b.count {
      let aEnd = a[i + 1], bEnd = b[j + 1]
      let start = max(a[i], b[j])
      let end = min(aEnd, bEnd)
      if end > start { total += end - start }
      if aEnd < bEnd { i += 2 } else { j += 2 }
    }
    return total
  }

  /// `overlap`, for two masks expected to overlap much (pairs that may reach an IoU threshold).
  ///
  /// A merge walk steps through one interval of either list at a time, and which one comes next
  /// is a coin toss for two similar masks: a branch on it mispredicts every other step, and
  /// without the branch each step waits on the loads of the previous one. (For masks that
  /// barely meet, one list runs ahead for long stretches and the branch predicts well:
  /// `overlap` is faster there, by about a quarter on the masks benchmark's RLE IoU matrix.)
  /// So long lists are cut in two at the start `p` of one of `a`'s middle intervals, and the
  /// two halves are walked in one loop, their steps independent of each other, without
  /// branches. `a`'s intervals before
  /// the cut end at `p` or earlier and the others start at `p` or later, so each half's overlap
  /// is the part of the total on its side of `p`: `b`'s intervals that start before `p` go to the
  /// first half, those that end after it to the second (one that does both, to both).
  @usableFromInline
  static func overlapOfSimilar(_ a: UnsafeBufferPointer<Int>, _ b: UnsafeBufferPointer<Int>) -> Int {
    let na = a.count & ~1, nb = b.count & ~1
    if na < 16 || nb < 16 {
      var walk = OverlapWalk(i: 0, j: 0)
      walk.finish(a, na, b, nb)
      return walk.total
    }
    let cut = (na / 4) * 2
    let p = a[cut]
    // The first interval of b that starts at p or later, and the first that ends after p.
    let firstAfter = firstInterval(of: b, count: nb) { b[$0] >= p }
    let firstEndingAfter = firstInterval(of: b, count: nb) { b[$0 &+ 1] > p }
    var low = OverlapWalk(i: 0, j: 0), high = OverlapWalk(i: cut, j: firstEndingAfter)
    while low.i < cut && low.j < firstAfter && high.i < na && high.j < nb {
      low.step(a, b)
      high.step(a, b)
    }
    low.finish(a, cut, b, firstAfter)
    high.finish(a, na, b, nb)
    return low.total &+ high.total
  }

  /// The first interval index (even) in `0 ..< count` where `test` holds, for a test that holds
  /// from some interval on; `count` when it holds for none.
  @inline(__always)
  static func firstInterval(of list: UnsafeBufferPointer<Int>, count: Int, _ test: (Int) -> Bool) -> Int {
    var low = 0, high = count / 2  // in intervals
    while low < high {
      let middle = (low &+ high) / 2
      if test(2 &* middle) { high = middle } else { low = middle &+ 1 }
    }
    return 2 &* low
  }

  /// A merge walk over two interval lists from intervals `i` of `a` and `j` of `b`, without
  /// branches: each step adds the two current intervals' overlap and moves past the one that
  /// ends first (b's on a tie).
  @usableFromInline
  struct OverlapWalk {
    var i: Int, j: Int
    var total = 0

    @usableFromInline
    init(i: Int, j: Int) {
      self.i = i
      self.j = j
    }

    @inline(__always)
    mutating func step(_ a: UnsafeBufferPointer<Int>, _ b: UnsafeBufferPointer<Int>) {
      let aStart = a[i], aEnd = a[i &+ 1], bStart = b[j], bEnd = b[j &+ 1]
      total &+= max(0, min(aEnd, bEnd) &- max(aStart, bStart))
      let moveA = aEnd < bEnd ? 2 : 0
      i &+= moveA
      j &+= 2 &- moveA
    }

    /// Steps until interval `aEnd` of `a` or `bEnd` of `b` is reached.
    @inline(__always)
    mutating func finish(_ a: UnsafeBufferPointer<Int>, _ aEnd: Int, _ b: UnsafeBufferPointer<Int>, _ bEnd: Int) {
      while i < aEnd && j < bEnd { step(a, b) }
    }
  }

  /// IoU of detections (`self`) against ground truths, `result[d][g]`, pycocotools' `iou` with
  /// its crowd rule; pairs whose bounding boxes do not overlap are 0 without walking runs.
  ///
  /// - Precondition: all masks have the same size.
  /// - Complexity: O(d · g) box tests plus one interval walk per overlapping pair.
  public func iouMatrix(_ truths: RLESet, crowd: [Bool]? = nil) -> [[Double]] {
    precondition(crowd == nil || crowd!.count == truths.count, "one crowd flag per ground truth")
    checkSameSize(truths)
    return (0..<count).map { d in
      (0..<truths.count).map { g in
        let i = intersectionArea(d, truths, g)
        if i == 0 { return 0 }
        let u = (crowd?[g] ?? false) ? areas[d] : areas[d] + truths.areas[g] - i
        return Double(i) / Double(u)
      }
    }
  }

  /// Foreground overlaps, `result[d][g]`: one interval walk per pair whose boxes overlap, 0 for
  /// the others. IoU and Dice both follow from it exactly (`iou(intersection:…)`), so a caller
  /// that needs both walks the runs once.
  ///
  /// - Precondition: all masks have the same size.
  public func intersectionMatrix(_ truths: RLESet) -> [[Int]] {
    checkSameSize(truths)
    return (0..<count).map { d in
      (0..<truths.count).map { g in
        return intersectionArea(d, truths, g)
      }
    }
  }

  /// `intersectionMatrix`, with 0 also for the pairs whose IoU cannot reach `threshold`, which are
  /// not walked: a pair's overlap is at most the pixels its boxes share and the smaller of its
  /// areas, and IoU grows with the overlap (in floating point too: the quotient of a larger
  /// numerator by a smaller denominator is not smaller), so IoU at that bound under `threshold`
  /// means IoU under it. A caller that uses only the IoUs of at least `threshold` (a matching that
  /// drops the pairs under it) gets the same result from fewer walks.
  ///
  /// - Parameter crowd: per ground truth, pycocotools' crowd rule (as `iou(_:_:_:intersection:crowd:)`).
  /// - Precondition: all masks have the same size.
  public func intersectionMatrix(_ truths: RLESet, iouAtLeast threshold: Double, crowd: [Bool]? = nil) -> [[Int]] {
    precondition(crowd == nil || crowd!.count == truths.count, "one crowd flag per ground truth")
    checkSameSize(truths)
    return (0..<count).map { d in
      (0..<truths.count).map { g in
        intersectionArea(d, truths, g, iouAtLeast: threshold, crowd: crowd?[g] ?? false)
      }
    }
  }

  /// One entry of `intersectionMatrix(_:iouAtLeast:crowd:)`: the overlap of mask `d` and mask `g`
  /// of `truths`, or 0 without a walk when their IoU cannot reach `threshold`.
  ///
  /// - Precondition: the two masks have the same size.
  public func intersectionArea(_ d: Int, _ truths: RLESet, _ g: Int, iouAtLeast threshold: Double, crowd: Bool = false) -> Int {
    // The boxes are whole pixels, so their shared area is a whole number of pixels.
    let bound = min(Int(boxes[d].intersectionArea(truths.boxes[g])), areas[d], truths.areas[g])
    if bound <= 0 || iou(d, truths, g, intersection: bound, crowd: crowd) < threshold { return 0 }
    // A pair that may reach a positive threshold overlaps much, as a rule.
    return threshold > 0 ? intersectionAreaOfSimilar(d, truths, g) : intersectionArea(d, truths, g)
  }

  /// IoU of mask `d` of `self` and mask `g` of `truths` from their overlap, with pycocotools'
  /// crowd rule: the same value `iouMatrix` gives.
  @inlinable
  public func iou(_ d: Int, _ truths: RLESet, _ g: Int, intersection i: Int, crowd: Bool = false) -> Double {
    if i == 0 { return 0 }
    let u = crowd ? areas[d] : areas[d] + truths.areas[g] - i
    return Double(i) / Double(u)
  }

  /// Dice of mask `d` of `self` and mask `g` of `truths` from their overlap (0 when both are
  /// empty): the same value `diceMatrix` gives.
  @inlinable
  public func dice(_ d: Int, _ truths: RLESet, _ g: Int, intersection i: Int) -> Double {
    let sum = areas[d] + truths.areas[g]
    return sum == 0 ? 0 : Double(2 * i) / Double(sum)
  }

  /// Dice of detections against ground truths, `result[d][g]`.
  public func diceMatrix(_ truths: RLESet) -> [[Double]] {
    (0..<count).map { d in
      (0..<truths.count).map { g in
        let sum = areas[d] + truths.areas[g]
        return sum == 0 ? 0 : Double(2 * intersectionArea(d, truths, g)) / Double(sum)
      }
    }
  }
}
