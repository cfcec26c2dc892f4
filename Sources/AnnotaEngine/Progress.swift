import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Progress of a long batch on standard error: a redrawn bar when stderr is a terminal, a plain
/// line every few seconds otherwise (logs, CI), nothing when quiet.
public final class ProgressReporter: Sendable {
  private struct State {
    var done = 0
    var failed = 0
    var lastDraw: Double = 0
  }

  private let total: Int
  private let label: String
  private let mode: Mode
  private let start: Double
  private let state = Mutex(State())

  enum Mode { case quiet, terminal, lines }

  /// - Parameters:
  ///   - total: number of items.
  ///   - label: what is counted ("images", "annotations").
  ///   - quiet: print nothing.
  public init(total: Int, label: String, quiet: Bool) {
    self.total = total
    self.label = label
    self.mode = quiet ? .quiet : (FileIO.stderrIsTerminal ? .terminal : .lines)
    self.start = ProgressReporter.now()
    state.withLock { $0.lastDraw = self.start }
  }

  /// Records one finished item.
  public func advance(failed: Bool = false) {
    guard mode != .quiet else { return }
    let line: String? = state.withLock { state in
      state.done += 1
      if failed { state.failed += 1 }
      let now = ProgressReporter.now()
      let interval = mode == .terminal ? 0.1 : 5.0
      guard now - state.lastDraw >= interval || state.done == total else { return nil }
      state.lastDraw = now
      return render(state, now: now)
    }
    if let line { emit(line) }
  }

  /// Ends the display (the terminal bar gets its newline).
  public func finish() {
    guard mode == .terminal else { return }
    let drew = state.withLock { $0.lastDraw > 0 }
    if drew { emit("\n") }
  }

  private func render(_ state: State, now: Double) -> String {
    let elapsed = max(now - start, 1e-9)
    let rate = Double(state.done) / elapsed
    let percent = total > 0 ? 100 * state.done / total : 100
    let failures = state.failed > 0 ? ", \(state.failed) failed" : ""
    let rateText = rate >= 10 ? String(Int(rate.rounded())) : String(Double(Int(rate * 10)) / 10)
    switch mode {
    case .terminal:
      let width = 30
      let filled = total > 0 ? width * state.done / total : width
      let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
      return "\r[\(bar)] \(state.done)/\(total) \(label) \(rateText)/s\(failures)\u{1B}[K"
    case .lines, .quiet:
      return "progress: \(state.done)/\(total) \(label) (\(percent)%), \(rateText)/s\(failures)\n"
    }
  }

  private func emit(_ text: String) {
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { raw in
      _ = write(STDERR_FILENO, raw.baseAddress, raw.count)
    }
  }

  static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
  }
}
