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
    mask.bits.withUnsafeBufferPointer { bits in
      let n = bits.count
      let raw = UnsafeRawPointer(bits.baseAddress)
      var on = false
      var runStart = 0
      var i = 0
      while i < n {
        // Skip whole 8-byte words that stay in the current state: all zero while off, no zero
        // byte while on (the classic has-zero-byte test).
        while i + 8 <= n {
          let word = raw!.loadUnaligned(fromByteOffset: i, as: UInt64.self)
          let hasZeroByte = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080 != 0
          if on ? hasZeroByte : word != 0 { break }
          i &+= 8
        }
        // Then byte by byte to the next change of state (or the next word boundary).
        let limit = Swift.min(n, i &+ 8)
        while i < limit {
          if (bits[i] != 0) != on {
            counts.append(i &- runStart)
            runStart = i
            on.toggle()
          }
          i &+= 1
        }
      }
      counts.append(n &- runStart)
    }
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
