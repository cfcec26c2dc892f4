/// A dense binary mask, stored column-major like COCO (`bits[x * height + y]`). Any nonzero
/// value is foreground.
public struct Mask: Sendable, Hashable {
  public let height: Int
  public let width: Int
  /// Column-major samples, `height * width` bytes; nonzero is foreground.
  public var bits: [UInt8]

  /// Wraps column-major samples.
  ///
  /// - Precondition: `bits.count == height * width`.
  public init(height: Int, width: Int, columnMajor bits: [UInt8]) {
    precondition(height >= 0 && width >= 0 && bits.count == height * width,
                 "\(bits.count) samples cannot form a \(height)x\(width) mask")
    self.height = height
    self.width = width
    self.bits = bits
  }

  /// Builds a mask from row-major samples (`rows[y * width + x]`), e.g. a decoded image plane.
  public init(height: Int, width: Int, rowMajor rows: [UInt8]) {
    precondition(height >= 0 && width >= 0 && rows.count == height * width,
                 "\(rows.count) samples cannot form a \(height)x\(width) mask")
    var bits = [UInt8](repeating: 0, count: height * width)
    for y in 0..<height {
      for x in 0..<width { bits[x * height + y] = rows[y * width + x] }
    }
    self.init(height: height, width: width, columnMajor: bits)
  }

  /// The foreground value at column `x`, row `y`.
  @inlinable public subscript(x: Int, y: Int) -> Bool {
    bits[x * height + y] != 0
  }

  /// The mask as row-major 0/1 samples.
  public var rowMajor: [UInt8] {
    var rows = [UInt8](repeating: 0, count: height * width)
    for x in 0..<width {
      for y in 0..<height where bits[x * height + y] != 0 { rows[y * width + x] = 1 }
    }
    return rows
  }
}

extension RLE {
  /// Run-length encodes a mask. Any nonzero sample is foreground (pycocotools would start a new
  /// run at every change of value, e.g. between 1 and 2; here 1, 2 and 255 are all "on").
  ///
  /// - Complexity: O(height × width).
  public init(_ mask: Mask) {
    var counts: [Int] = []
    var current = false
    var run = 0
    mask.bits.withUnsafeBufferPointer { bits in
      for value in bits {
        let on = value != 0
        if on != current {
          counts.append(run)
          run = 0
          current = on
        }
        run += 1
      }
    }
    counts.append(run)
    self.init(uncheckedHeight: mask.height, width: mask.width, counts: counts)
  }

  /// Decodes to a dense mask of 0/1 samples.
  ///
  /// - Complexity: O(height × width).
  public func decoded() -> Mask {
    var bits = [UInt8](repeating: 0, count: pixelCount)
    var position = 0
    for (index, count) in counts.enumerated() {
      if index & 1 == 1 {
        for i in position..<(position + count) { bits[i] = 1 }
      }
      position += count
    }
    return Mask(height: height, width: width, columnMajor: bits)
  }
}
