public import AnnotaLinearAlgebra

/// A malformed or unsupported `.npy` file.
public struct NPYError: Error, Sendable, Hashable, CustomStringConvertible {
  public var path: String
  public var message: String
  public var description: String { "\(path): \(message)" }
}

/// NumPy's `.npy` format (version 1.0, 2.0 and 3.0 headers) for 2-D float matrices: the feature
/// files of `rank`, `simulate` and `features`.
///
/// Reads `float32` and `float64` (either byte order, C order only), converting to `Float`.
/// Errors say what is wrong: a missing magic string, a header that is not a dict, an
/// unsupported dtype (with the one found), Fortran order, a shape that is not 2-D, or a file
/// shorter than its shape needs.
public enum NPY {
  static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

  /// Reads a 2-D float matrix.
  public static func read(_ path: String) throws(NPYError) -> Matrix<Float> {
    let bytes: [UInt8]
    do { bytes = try FileIO.read(path, maxBytes: 1 << 40) } catch {
      throw NPYError(path: path, message: error.message)
    }
    return try parse(bytes, path: path)
  }

  /// Parses the bytes of a `.npy` file (`path` names it in errors).
  public static func parse(_ bytes: [UInt8], path: String) throws(NPYError) -> Matrix<Float> {
    func fail(_ m: String) -> NPYError { NPYError(path: path, message: m) }
    guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
      throw fail("not a .npy file (no \\x93NUMPY magic string)")
    }
    let major = bytes[6]
    let headerLength: Int
    let headerStart: Int
    switch major {
    case 1:
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      headerStart = 10
    case 2, 3:
      guard bytes.count >= 12 else { throw fail("truncated header") }
      headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
      headerStart = 12
    default:
      throw fail("unsupported .npy version \(major).\(bytes[7])")
    }
    guard headerStart + headerLength <= bytes.count else { throw fail("truncated header") }
    let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
    guard let descr = field("descr", in: header) else { throw fail("header has no 'descr': \(header)") }
    let dtype = descr.trimmingQuotes()
    let width: Int
    let swapped: Bool
    switch dtype {
    case "<f4", "=f4", "f4": (width, swapped) = (4, false)
    case ">f4": (width, swapped) = (4, true)
    case "<f8", "=f8", "f8": (width, swapped) = (8, false)
    case ">f8": (width, swapped) = (8, true)
    default:
      throw fail("dtype \(dtype) is not supported: features must be float32 or float64 (numpy: x.astype(np.float32))")
    }
    guard let fortran = field("fortran_order", in: header) else {
      throw fail("header has no 'fortran_order'")
    }
    if fortran == "True" {
      throw fail("Fortran-ordered array: save a C-ordered one (numpy: np.ascontiguousarray(x))")
    }
    guard let shapeText = field("shape", in: header) else { throw fail("header has no 'shape'") }
    let dims = shapeText.filter { !"() ".contains($0) }.split(separator: ",").map { Int($0) }
    guard dims.count == 2, let rows = dims[0], let columns = dims[1], rows >= 0, columns >= 0 else {
      throw fail("shape \(shapeText) is not 2-D (rows, features)")
    }
    let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
    let dataStart = headerStart + headerLength
    guard !overflow, count <= (bytes.count - dataStart) / width else {
      throw fail("truncated: shape (\(rows), \(columns)) needs \(rows * columns * width) bytes of data, the file has \(bytes.count - dataStart)")
    }
    var storage = [Float](repeating: 0, count: count)
    bytes.withUnsafeBufferPointer { raw in
      let base = UnsafeRawBufferPointer(raw).baseAddress! + dataStart
      storage.withUnsafeMutableBufferPointer { out in
        if width == 4 {
          for i in 0..<count {
            var bits = base.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)
            bits = swapped ? bits.byteSwapped : UInt32(littleEndian: bits)
            out[i] = Float(bitPattern: bits)
          }
        } else {
          for i in 0..<count {
            var bits = base.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
            bits = swapped ? bits.byteSwapped : UInt64(littleEndian: bits)
            out[i] = Float(Double(bitPattern: bits))
          }
        }
      }
    }
    if let bad = storage.firstIndex(where: { !$0.isFinite }) {
      throw fail("row \(bad / max(columns, 1)), column \(bad % max(columns, 1)) is not finite (NaN or infinity in the features)")
    }
    return Matrix(rows: rows, columns: columns, storage: storage)
  }

  /// The `.npy` (version 1.0, little-endian float32, C order) bytes of a matrix.
  public static func encode(_ m: Matrix<Float>) -> [UInt8] {
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(m.rows), \(m.columns)), }"
    // Pad with spaces so the data starts on a 64-byte boundary; the header ends with a newline.
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    let length = header.utf8.count
    var out = magic + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8)
    out.reserveCapacity(out.count + m.storage.count * 4)
    for v in m.storage {
      let bits = v.bitPattern.littleEndian
      out.append(UInt8(bits & 0xFF))
      out.append(UInt8((bits >> 8) & 0xFF))
      out.append(UInt8((bits >> 16) & 0xFF))
      out.append(UInt8(bits >> 24))
    }
    return out
  }

  /// The text after `'key':` up to the next top-level comma (a tuple counts as one value).
  static func field(_ key: String, in header: String) -> String? {
    guard let r = header.firstRange(of: "'\(key)'") else { return nil }
    var rest = header[r.upperBound...].drop { $0 == " " }
    guard rest.first == ":" else { return nil }
    rest = rest.dropFirst().drop { $0 == " " }
    var depth = 0
    var value = ""
    for ch in rest {
      if ch == "(" { depth += 1 }
      if ch == ")" { depth -= 1 }
      if (ch == "," && depth == 0) || ch == "}" { break }
      value.append(ch)
    }
    return value.trimmingCharacters(in: " ")
  }
}

extension String {
  func trimmingQuotes() -> String {
    var s = Substring(self)
    while let f = s.first, f == "'" || f == "\"" { s = s.dropFirst() }
    while let l = s.last, l == "'" || l == "\"" { s = s.dropLast() }
    return String(s)
  }

  func trimmingCharacters(in set: String) -> String {
    var s = Substring(self)
    while let f = s.first, set.contains(f) { s = s.dropFirst() }
    while let l = s.last, set.contains(l) { s = s.dropLast() }
    return String(s)
  }
}
