#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if os(Linux)
import CWriteback
#endif

/// A file could not be read or written. Names the path and the system's reason.
public struct FileError: Error, Sendable, Hashable, CustomStringConvertible {
  public var path: String
  public var message: String
  /// The `errno` value, when a system call failed.
  public var code: Int32?

  public init(path: String, message: String, code: Int32? = nil) {
    self.path = path
    self.message = message
    self.code = code
  }

  public var description: String { "\(path): \(message)" }

  static func system(_ path: String, _ action: String) -> FileError {
    let code = errno
    return FileError(path: path, message: "\(action): \(String(cString: strerror(code)))", code: code)
  }
}

/// Whole-file reads and atomic whole-file writes.
public enum FileIO {
  /// Largest file `read` accepts by default (2 GiB): a guard against absurd inputs.
  public static let defaultMaxBytes = 2 << 30

  /// Reads the whole file at `path`.
  ///
  /// - Throws: `FileError` if the file is missing, unreadable, not a regular file, or larger
  ///   than `maxBytes`.
  /// - Complexity: O(file size).
  public static func read(_ path: String, maxBytes: Int = defaultMaxBytes) throws(FileError)
    -> [UInt8]
  {
    var buffer: [UInt8] = []
    let count = try read(path, maxBytes: maxBytes, into: &buffer)
    if count < buffer.count { buffer.removeLast(buffer.count - count) }  // the file shrank
    return buffer
  }

  /// Reads the whole file at `path` into the first bytes of `buffer` and returns how many there
  /// are. The buffer's storage is reused when it is large enough (its later bytes are left as
  /// they were), so reading several large files one after the other touches fresh memory once.
  ///
  /// - Throws: as `read(_:maxBytes:)`.
  public static func read(_ path: String, maxBytes: Int = defaultMaxBytes, into buffer: inout [UInt8])
    throws(FileError) -> Int
  {
    let (fd, size) = try openRegularFile(path, maxBytes: maxBytes)
    defer { close(fd) }
    var failure: FileError?
    func fill(_ base: UnsafeMutablePointer<UInt8>) -> Int {
      var done = 0
      while done < size {
        let n = Glibc.read(fd, base + done, size - done)
        if n < 0 {
          if errno == EINTR { continue }
          failure = .system(path, "cannot read")
          break
        }
        if n == 0 { break }  // file shrank while reading
        done += n
      }
      return done
    }
    var done = 0
    if buffer.count >= size && size > 0 {
      done = buffer.withUnsafeMutableBufferPointer { fill($0.baseAddress!) }
    } else if size > 0 {
      buffer = [UInt8](unsafeUninitializedCapacity: size) { storage, count in
        done = fill(storage.baseAddress!)
        count = done
      }
    }
    if let failure { throw failure }
    return done
  }

  /// Opens `path` for reading and returns the descriptor (the caller closes it) and the size.
  ///
  /// - Throws: `FileError` if the file is missing, unreadable, not a regular file, or larger
  ///   than `maxBytes` (then nothing is left open).
  static func openRegularFile(_ path: String, maxBytes: Int) throws(FileError) -> (descriptor: Int32, size: Int) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw .system(path, "cannot open") }
    var info = stat()
    if fstat(fd, &info) != 0 {
      let error = FileError.system(path, "cannot stat")
      close(fd)
      throw error
    }
    let size = Int(info.st_size)
    if (info.st_mode & S_IFMT) != S_IFREG {
      close(fd)
      throw FileError(path: path, message: "not a regular file")
    }
    if size > maxBytes {
      close(fd)
      throw FileError(path: path, message: "file is \(size) bytes, over the limit of \(maxBytes)")
    }
    return (fd, size)
  }

  /// How many bytes an atomic write lets pile up before it asks the kernel to start writing them
  /// to the disk (see `writeAtomically(to:_:)`).
  public static let writebackStep = 4 << 20

  /// Writes `bytes` to `path` atomically: into a temporary file in the same directory, flushed to
  /// disk, then renamed over `path`. Readers see the old file or the new one, never a mix; on any
  /// failure the temporary file is removed and `path` is untouched.
  ///
  /// - Throws: `FileError`.
  /// - Complexity: O(bytes).
  public static func writeAtomically(_ bytes: some Collection<UInt8>, to path: String)
    throws(FileError)
  {
    let contiguous = Array(bytes)
    try writeAtomically(to: path) { emit in contiguous.withUnsafeBytes(emit) }
  }

  /// Writes atomically, as `writeAtomically(_:to:)`, what `produce` hands to the function it is
  /// given, piece after piece: a large output goes to the file as it is made, without being held
  /// whole in memory. After a failed write the later pieces are ignored, and the error is thrown
  /// once `produce` returns.
  public static func writeAtomically(
    to path: String, _ produce: ((UnsafeRawBufferPointer) -> Void) -> Void
  ) throws(FileError) {
    let directory: String
    let name: String
    if let slash = path.lastIndex(of: "/") {
      directory = slash == path.startIndex ? "/" : String(path[..<slash])
      name = String(path[path.index(after: slash)...])
    } else {
      directory = "."
      name = path
    }
    guard !name.isEmpty else { throw FileError(path: path, message: "not a file name") }
    var attempt = 0
    var temp = ""
    var fd: Int32 = -1
    repeat {
      temp = "\(directory)/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
      fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
      attempt += 1
    } while fd < 0 && errno == EEXIST && attempt < 16
    if fd < 0 { throw .system(path, "cannot create a temporary file in \(directory)") }

    var failure: FileError?
    // Large outputs have their pages sent to the disk as they are written (on Linux), each
    // `writebackStep` bytes, so that the closing `fsync` waits for the last stretch only, not
    // for all of it (26 ms for `agree`'s two outputs of 52 MB, against 3 ms).
    #if os(Linux)
    var written = 0, sent = 0
    #endif
    produce { raw in
      if failure != nil { return }
      var done = 0
      while done < raw.count {
        let n = write(fd, raw.baseAddress! + done, raw.count - done)
        if n < 0 {
          if errno == EINTR { continue }
          failure = .system(path, "cannot write")
          return
        }
        done += n
      }
      #if os(Linux)
      written += raw.count
      if written - sent >= writebackStep {
        // Advisory: a file system that cannot do it leaves the work to fsync.
        _ = sync_file_range(fd, Int64(sent), Int64(written - sent), ANNOTA_SYNC_FILE_RANGE_WRITE)
        sent = written
      }
      #endif
    }
    if failure == nil && fsync(fd) != 0 { failure = .system(path, "cannot flush") }
    if close(fd) != 0 && failure == nil { failure = .system(path, "cannot close") }
    if failure == nil && rename(temp, path) != 0 { failure = .system(path, "cannot rename into place") }
    if let failure {
      unlink(temp)
      throw failure
    }
  }

  /// Writes a UTF-8 string atomically (see `writeAtomically(_:to:)`).
  public static func writeAtomically(_ text: String, to path: String) throws(FileError) {
    try writeAtomically(Array(text.utf8), to: path)
  }

  /// The size in bytes of the file at `path`, or nil if it cannot be examined.
  public static func size(of path: String) -> Int? {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : nil
  }

  /// True if `path` names an existing file or directory.
  public static func exists(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0
  }

  /// True if `path` names an existing directory.
  public static func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
  }

  /// True when the standard error stream is a terminal.
  public static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

  /// Number of processors available to this process.
  public static var processorCount: Int {
    max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
  }
}

extension FileIO {
  /// Writes `text` to standard error, unbuffered.
  public static func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { raw in
      var done = 0
      while done < raw.count {
        let n = write(STDERR_FILENO, raw.baseAddress! + done, raw.count - done)
        if n <= 0 { return }
        done += n
      }
    }
  }
}

/// A file read through a small window that moves forward, for a reader that goes through it
/// once: the window's memory stays in the cache and is faulted in once, where reading a whole
/// large file touches as much fresh memory as the file is large and copies it there cold.
///
/// The window holds `bytes`, the file's bytes from `offset` on. `advance` drops the bytes before
/// a point and reads more after the rest; `grow` reads more without dropping any. When the file
/// ends (or shrinks, or a read fails: `failure`), `atEnd` is set and the window holds the rest.
final class FileWindow {
  let path: String
  /// The file's size when it was opened.
  let fileSize: Int
  private let descriptor: Int32
  private var storage: UnsafeMutablePointer<UInt8>
  private(set) var capacity: Int
  /// How many bytes of `storage` hold the file's bytes from `offset` on.
  private(set) var count = 0
  /// The file offset of the window's first byte; above 0 once `advance` dropped bytes.
  private(set) var offset = 0
  /// True once the window holds every byte up to the file's end.
  private(set) var atEnd = false
  /// A read that failed (the window then ends where the file could be read).
  private(set) var failure: FileError?

  /// Opens `path` (a regular file of at most `maxBytes` bytes) and reads its first `capacity`
  /// bytes, or the whole file when smaller.
  init(path: String, capacity: Int, maxBytes: Int = FileIO.defaultMaxBytes) throws(FileError) {
    self.path = path
    (descriptor, fileSize) = try FileIO.openRegularFile(path, maxBytes: maxBytes)
    self.capacity = max(capacity, 1)
    storage = .allocate(capacity: self.capacity)
    fill()
  }

  deinit {
    close(descriptor)
    storage.deallocate()
  }

  /// The window's bytes (valid until the next `advance`, `grow` or `readToEnd`).
  var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: storage, count: count) }

  /// Drops the bytes before window index `keep`, moves the others to the front and reads more
  /// after them; when there is nothing to drop and the window is full, grows it instead.
  func advance(keeping keep: Int) {
    if atEnd { return }
    if keep == 0 && count == capacity {
      grow()
      return
    }
    let kept = count - keep
    if kept > 0 && keep > 0 { storage.update(from: storage + keep, count: kept) }
    count = kept
    offset += keep
    fill()
  }

  /// Doubles the window and reads more into it, dropping nothing.
  func grow() {
    if atEnd { return }
    reserve(2 * capacity)
    fill()
  }

  /// Reads the rest of the file into the window, dropping nothing.
  func readToEnd() {
    while !atEnd {
      if count == capacity { reserve(2 * capacity) }
      fill()
    }
  }

  private func reserve(_ newCapacity: Int) {
    let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
    larger.update(from: storage, count: count)
    storage.deallocate()
    storage = larger
    capacity = newCapacity
  }

  /// Reads until the window is full or the file ends.
  private func fill() {
    while count < capacity && !atEnd {
      let n = read(descriptor, storage + count, capacity - count)
      if n > 0 {
        count += n
      } else if n == 0 {
        atEnd = true
      } else if errno != EINTR {
        failure = .system(path, "cannot read")
        atEnd = true
      }
    }
  }
}
