import AnnotaEngine
import ArgumentParser
import AnnotaCodecShims

@main
struct Annota: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "annota",
    abstract: "The compute engine of an image-annotation pipeline.",
    discussion: """
      Exit codes: 0 all items ok; 1 some items failed (each reported, the rest processed); \
      2 could not run (unreadable input or unwritable output); 64 usage error.
      """,
    version: "0.1.0",
    subcommands: [
      Info.self, Convert.self, Masks.self, IoU.self, Validate.self, Agree.self, AutoFit.self,
      EvalFit.self, Features.self, Rank.self, Simulate.self, Dedup.self, Bench.self,
      FitCandidates.self,
    ])

  /// Parses the command line and runs the command, after tuning the allocator.
  static func main() async {
    // Loading a large COCO file allocates a few hundred MB in small pieces. glibc's per-thread
    // arenas grow their heap 128 KiB at a time, one mprotect each; growing 64 MiB at a time
    // takes 39 calls instead of about 40,000 for `annota iou` on two COCO-sized files (about
    // 0.1 s of system time). Untouched pages do not count in RSS.
    _ = annota_set_heap_padding(64 << 20)
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch {
      exit(withError: error)
    }
  }
}

/// Options every batch command takes.
struct CommonOptions: ParsableArguments {
  @Option(help: "Items processed in parallel (default: all cores).")
  var threads: Int?

  @Flag(help: "Print no progress or summary on stderr.")
  var quiet = false

  func validate() throws {
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
  }

  /// The effective thread count.
  var threadCount: Int { threads ?? FileIO.processorCount }
}

/// Exit codes of the CLI contract.
enum Exit {
  /// Some items failed; the rest were processed.
  static let someFailed = ExitCode(1)
  /// Could not run at all.
  static let couldNotRun = ExitCode(2)
}

/// An `@Option` transform for a string-backed enum: accepts the raw values, and on anything else
/// fails with a usage error (exit 64) that lists them, derived from the enum itself.
func choice<T: RawRepresentable & CaseIterable & SendableMetatype>(_ option: String) -> @Sendable (String) throws -> T
where T.RawValue == String {
  { text in
    guard let value = T(rawValue: text) else {
      let names = T.allCases.map(\.rawValue)
      let list = names.count > 1 ? names.dropLast().joined(separator: ", ") + " or " + names.last! : names.joined()
      throw ValidationError("\(option) must be \(list) (got '\(text)')")
    }
    return value
  }
}

/// Writes a line to standard error.
func printError(_ text: String) {
  var stderr = StandardError()
  print(text, to: &stderr)
}

struct StandardError: TextOutputStream {
  mutating func write(_ string: String) {
    FileIO.writeStandardError(string)
  }
}
