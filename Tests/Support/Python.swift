import Foundation

/// A Python that imports `modules` (comma-separated): `$ANNOTA_PYTHON` if it does, else
/// `python3`; nil when neither does (cross-checks against reference libraries then skip with a
/// message).
public func pythonWith(_ modules: String) -> String? {
  for candidate in [ProcessInfo.processInfo.environment["ANNOTA_PYTHON"], "python3"].compactMap({ $0 }) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [candidate, "-c", "import \(modules)"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { continue }
    p.waitUntilExit()
    if p.terminationStatus == 0 { return candidate }
  }
  return nil
}

/// A Python run that did not exit 0.
public struct PythonFailure: Error, CustomStringConvertible {
  public let arguments: [String]
  public let status: Int32
  public var description: String { "python \(arguments) exited with status \(status)" }
}

/// Runs `python` (through `env`) with `arguments` and returns its standard output.
///
/// - Throws: `PythonFailure` unless it exits 0.
public func runPython(_ python: String, _ arguments: [String]) throws -> String {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  p.arguments = [python] + arguments
  let pipe = Pipe()
  p.standardOutput = pipe
  try p.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  guard p.terminationStatus == 0 else { throw PythonFailure(arguments: arguments, status: p.terminationStatus) }
  return String(decoding: data, as: UTF8.self)
}
