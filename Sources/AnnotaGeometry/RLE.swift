/// A binary mask as COCO run-length encoding.
///
/// The mask is `height x width`, flattened **column-major** (x outer, y inner). `counts`
/// alternate runs of 0s and 1s and always start with a run of 0s (possibly of length 0), as in
/// pycocotools. Counts are 64-bit, so masks past 2^32 pixels do not overflow.
///
/// Invariants (checked by `init(height:width:counts:)`): every count is non-negative and the
/// counts sum to `height * width`. Zero-length runs after the first are allowed (an uncompressed
/// COCO RLE may contain them) and are kept as given, so strings round-trip exactly; operations
/// that build new masks produce canonical counts (no zero-length run except possibly the first).
public struct RLE: Sendable, Hashable {
  /// Rows.
  public let height: Int
  /// Columns.
  public let width: Int
  /// Alternating run lengths, starting with zeros.
  public let counts: [Int]

  /// Validates and wraps run counts.
  ///
  /// - Throws: `GeometryError` if a count is negative or the sum differs from `height * width`.
  /// - Complexity: O(counts).
  public init(height: Int, width: Int, counts: [Int]) throws(GeometryError) {
    let pixels = try RLE.pixelCount(height: height, width: width)
    var sum = 0
    for (index, count) in counts.enumerated() {
      if count < 0 { throw .negativeCount(index: index) }
      let (next, overflow) = sum.addingReportingOverflow(count)
      if overflow { throw .countsSumMismatch(expected: pixels, actual: Int.max) }
      sum = next
    }
    if sum != pixels { throw .countsSumMismatch(expected: pixels, actual: sum) }
    self.init(uncheckedHeight: height, width: width, counts: counts)
  }

  /// Wraps counts already known to satisfy the invariants (used by this module's algorithms).
  @usableFromInline
  init(uncheckedHeight height: Int, width: Int, counts: [Int]) {
    self.height = height
    self.width = width
    self.counts = counts
  }

  /// An all-zero mask.
  public static func empty(height: Int, width: Int) -> RLE {
    precondition(height >= 0 && width >= 0, "negative mask size")
    return RLE(uncheckedHeight: height, width: width, counts: [height * width])
  }

  /// An all-one mask.
  public static func full(height: Int, width: Int) -> RLE {
    precondition(height >= 0 && width >= 0, "negative mask size")
    return RLE(uncheckedHeight: height, width: width, counts: [0, height * width])
  }

  static func pixelCount(height: Int, width: Int) throws(GeometryError) -> Int {
    guard height >= 0, width >= 0 else { throw .invalidSize(height: height, width: width) }
    let (pixels, overflow) = height.multipliedReportingOverflow(by: width)
    if overflow { throw .invalidSize(height: height, width: width) }
    return pixels
  }

  /// Number of pixels, `height * width`.
  @inlinable public var pixelCount: Int { height * width }

  /// Number of foreground pixels: the sum of the 1-runs.
  ///
  /// - Complexity: O(counts).
  public var area: Int {
    var sum = 0
    var i = 1
    while i < counts.count {
      sum &+= counts[i]
      i += 2
    }
    return sum
  }

  /// The foreground as half-open intervals `[start, end)` of column-major pixel indices, in order,
  /// with zero-length runs dropped and touching intervals joined.
  ///
  /// - Complexity: O(counts).
  public var intervals: [Int] {
    // At most one interval per run of 1s, so counts.count + 1 bounds the output.
    [Int](unsafeUninitializedCapacity: counts.count + 1) { out, written in
      var n = 0
      var position = 0
      counts.withUnsafeBufferPointer { counts in
        for index in counts.indices {
          let count = counts[index]
          if index & 1 == 1 && count > 0 {
            if n > 0 && out[n - 1] == position {
              out[n - 1] = position + count
            } else {
              out[n] = position
              out[n + 1] = position + count
              n += 2
            }
          }
          position += count
        }
      }
      written = n
    }
  }

  /// Builds a mask from foreground intervals `[start, end)` of column-major pixel indices, sorted,
  /// non-empty, disjoint and not touching (as `intervals` returns them).
  ///
  /// - Precondition: the intervals satisfy that and lie inside the mask.
  /// - Complexity: O(intervals).
  public init(height: Int, width: Int, foregroundIntervals intervals: [Int]) {
    precondition(intervals.count % 2 == 0, "intervals come in start/end pairs")
    var previous = -1
    for v in intervals {
      precondition(v > previous, "intervals must be sorted, non-empty, disjoint and not touching")
      previous = v
    }
    precondition(previous <= height * width, "interval beyond the mask")
    self = RLE.fromIntervals(intervals, height: height, width: width)
  }

  /// Builds canonical counts from sorted, disjoint, non-touching foreground intervals.
  static func fromIntervals(_ intervals: [Int], height: Int, width: Int) -> RLE {
    var counts: [Int] = []
    counts.reserveCapacity(intervals.count + 1)
    var position = 0
    var i = 0
    while i < intervals.count {
      counts.append(intervals[i] - position)
      counts.append(intervals[i + 1] - intervals[i])
      position = intervals[i + 1]
      i += 2
    }
    let total = height * width
    if position < total || counts.isEmpty { counts.append(total - position) }
    return RLE(uncheckedHeight: height, width: width, counts: counts)
  }

  /// The tight bounding box `[x, y, w, h]` of the foreground, exactly as pycocotools' `toBbox`
  /// computes it: `[0, 0, 0, 0]` for an empty mask, and full height whenever a run of 1s wraps
  /// from one column into the next.
  ///
  /// - Complexity: O(counts).
  public var boundingBox: Box {
    let h = height
    let m = (counts.count / 2) * 2
    if m == 0 || h == 0 { return Box(x: 0, y: 0, width: 0, height: 0) }
    var xs = width, ys = h, xe = 0, ye = 0, cc = 0, xp = 0
    // The column x of the current position and its first index x * h: a run boundary usually
    // stays in that column or moves to the next, so the division is needed only for longer jumps.
    var x = 0, columnStart = 0
    counts.withUnsafeBufferPointer { counts in
      for j in 0..<m {
        cc += counts[j]
        let p = cc - (j & 1)
        var y = p - columnStart
        if y < 0 || y >= h {
          if y >= h && y - h < h {
            x += 1
            columnStart += h
            y -= h
          } else {
            // Truncating division, as before: p = -1 (a zero first run and a zero second run)
            // gives row -1.
            (x, y) = p.quotientAndRemainder(dividingBy: h)
            columnStart = x * h
          }
        }
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
    }
    return Box(x: Double(xs), y: Double(ys), width: Double(xe - xs + 1), height: Double(ye - ys + 1))
  }
}
