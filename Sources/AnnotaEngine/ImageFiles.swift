public import AnnotaImage
public import AnnotaImageIO

/// One item of a batch failed. Names what failed (a file path, an annotation id, a JSON path)
/// and why; the batch goes on with the other items.
public struct ItemError: Error, Sendable, CustomStringConvertible {
  /// What kind of failure this is.
  public enum Category: String, Sendable {
    /// The file could not be read (missing, unreadable, too large).
    case file
    /// The file was read but its image data could not be decoded.
    case decode
    /// The data (JSON, annotation) is invalid.
    case data
    /// The output could not be written.
    case output
  }

  /// The file path, annotation id or JSON path concerned.
  public var subject: String
  public var category: Category
  /// The reason, including the codec's own message where there is one.
  public var message: String
  /// The decoder's classification, for decode errors.
  public var decodeKind: DecodeError.Kind?

  public init(subject: String, category: Category, message: String,
              decodeKind: DecodeError.Kind? = nil) {
    self.subject = subject
    self.category = category
    self.message = message
    self.decodeKind = decodeKind
  }

  public var description: String { "\(subject): \(message)" }

  /// The error for a failed file read.
  public init(_ error: FileError) {
    self.init(subject: error.path, category: .file, message: error.message)
  }

  /// The error for data at `path` that failed to decode.
  public init(path: String, _ error: DecodeError) {
    self.init(subject: path, category: .decode, message: error.description, decodeKind: error.kind)
  }
}

/// Image files: read from disk and decoded, errors naming the path.
public enum ImageFiles {
  /// The header facts of the image file at `path`.
  ///
  /// - Throws: `ItemError` naming `path` (category `.file` or `.decode`).
  public static func info(_ path: String, limits: DecodeLimits = .default) throws(ItemError)
    -> ImageInfo
  {
    let bytes: [UInt8]
    do { bytes = try FileIO.read(path) } catch { throw ItemError(error) }
    do { return try ImageDecoder.info(bytes, limits: limits) } catch {
      throw ItemError(path: path, error)
    }
  }

  /// Reads and decodes the image file at `path`.
  ///
  /// - Throws: `ItemError` naming `path` (category `.file` or `.decode`).
  public static func decode(_ path: String, options: DecodeOptions = DecodeOptions())
    throws(ItemError) -> DecodedImage
  {
    let bytes: [UInt8]
    do { bytes = try FileIO.read(path) } catch { throw ItemError(error) }
    do { return try ImageDecoder.decode(bytes, options: options) } catch {
      throw ItemError(path: path, error)
    }
  }

  /// Encodes `image` as PNG and writes it atomically to `path`.
  ///
  /// - Throws: `ItemError` naming `path` (category `.output`).
  public static func writePNG(_ image: Image, to path: String, compressionLevel: Int? = nil)
    throws(ItemError)
  {
    let bytes: [UInt8]
    do { bytes = try PNGEncoder.encode(image, compressionLevel: compressionLevel) } catch {
      throw ItemError(subject: path, category: .output, message: error.message)
    }
    do { try FileIO.writeAtomically(bytes, to: path) } catch {
      throw ItemError(subject: path, category: .output, message: error.message)
    }
  }
}

extension ImageInfo {
  /// The `annota info` record: path, format, width, height, channels, bit depth, EXIF orientation.
  public func jsonRecord(path: String) -> JSONValue {
    .object([
      ("path", .string(path)),
      ("format", .string(format.rawValue)),
      ("width", .int(Int64(width))),
      ("height", .int(Int64(height))),
      ("channels", .int(Int64(channels))),
      ("bitDepth", .int(Int64(bitDepth))),
      ("colorModel", .string(colorModel)),
      ("progressive", .bool(progressive)),
      ("orientation", orientation.map { .int(Int64($0.rawValue)) } ?? .null),
    ])
  }
}
