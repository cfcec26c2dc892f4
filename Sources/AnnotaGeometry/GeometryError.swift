/// Invalid geometric data: the caller's input, not a programming error. The engine adds the
/// annotation id and JSON path.
public enum GeometryError: Error, Sendable, Hashable, CustomStringConvertible {
  /// RLE counts sum to `actual`, but the mask has `expected` pixels (h·w).
  case countsSumMismatch(expected: Int, actual: Int)
  /// An RLE count is negative (index into the counts).
  case negativeCount(index: Int)
  /// A compressed RLE string has a character outside `0`...`o` (ASCII 48–111) at `offset`.
  case invalidCharacter(offset: Int)
  /// A compressed RLE string ends inside a count (its last character has the "more" bit).
  case unterminatedCount
  /// A compressed RLE count does not fit in 64 bits.
  case countOverflow(index: Int)
  /// A polygon ring has fewer than 3 points (`numbers` coordinates).
  case tooFewPoints(ring: Int, numbers: Int)
  /// A polygon ring has an odd number of coordinates.
  case oddCoordinateCount(ring: Int, numbers: Int)
  /// A coordinate is NaN or infinite (ring, index of the number in the ring).
  case nonFiniteCoordinate(ring: Int, index: Int)
  /// A mask size is negative or its pixel count overflows.
  case invalidSize(height: Int, width: Int)

  public var description: String {
    switch self {
    case let .countsSumMismatch(expected, actual):
      "RLE counts sum to \(actual), but the mask has \(expected) pixels (h*w)"
    case let .negativeCount(index): "RLE count \(index) is negative"
    case let .invalidCharacter(offset):
      "invalid character at offset \(offset) of the compressed RLE string (allowed: ASCII 48-111)"
    case .unterminatedCount: "compressed RLE string ends in the middle of a count"
    case let .countOverflow(index): "compressed RLE count \(index) overflows 64 bits"
    case let .tooFewPoints(ring, numbers):
      "polygon ring \(ring) has \(numbers) numbers; at least 6 (3 points) are needed"
    case let .oddCoordinateCount(ring, numbers):
      "polygon ring \(ring) has an odd number of coordinates (\(numbers))"
    case let .nonFiniteCoordinate(ring, index):
      "polygon ring \(ring) has a NaN or infinite coordinate at index \(index)"
    case let .invalidSize(height, width): "invalid mask size \(height)x\(width)"
    }
  }
}
