import AnnotaLinearAlgebra
import AnnotaServer
import ArgumentParser
import Hummingbird
import Logging

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// `annota-server`: Annota as a Label Studio ML backend. Parses flags, starts the server.
@main
struct AnnotaServerCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "annota-server",
    abstract: "Annota as a Label Studio ML backend: scored pre-annotations, interactive auto-fit, retraining.",
    discussion: """
      Endpoints: GET /health, POST /setup, POST /predict, POST /webhook, GET /versions. \
      Credentials may also come from ANNOTA_BASIC_AUTH_USER and ANNOTA_BASIC_AUTH_PASS. \
      Images that are not local files (uploads, /data/...) are downloaded from the Label Studio \
      host named in /setup, with the token it sends there: a loopback host is used as is; any \
      other host only when it is --label-studio-url (or LABEL_STUDIO_URL).
      """,
    version: "0.1.0")

  @Option(help: "Address to bind (default: loopback only).")
  var host = "127.0.0.1"

  @Option(help: "Port to listen on.")
  var port = 9090

  @Option(help: "Folder mirroring Label Studio's LOCAL_FILES_DOCUMENT_ROOT (task URLs /data/local-files/?d=REL).")
  var imagesRoot: String?

  @Option(help: ArgumentHelp(
    "Label Studio's URL (or LABEL_STUDIO_URL): images are downloaded from this host when /setup names it; without it, only from a loopback host.",
    valueName: "URL"))
  var labelStudioURL: String?

  @Option(help: ArgumentHelp(
    "Token for downloads when /setup sends none (or LABEL_STUDIO_API_KEY); only ever sent to the Label Studio host.",
    valueName: "TOKEN"))
  var labelStudioToken: String?

  @Option(help: "Largest image downloaded from Label Studio, in bytes.")
  var maxImageBytes = 256 << 20

  @Option(help: "Seconds allowed for one image download.")
  var downloadTimeout = 30.0

  @Option(help: "Folder for models and labeled samples (kept across restarts). Without it, state is in memory only.")
  var stateDir: String?

  @Option(help: "HTTP Basic user required on every request (or ANNOTA_BASIC_AUTH_USER).")
  var basicAuthUser: String?

  @Option(help: "HTTP Basic password (or ANNOTA_BASIC_AUTH_PASS).")
  var basicAuthPass: String?

  @Option(help: "Largest request body in bytes.")
  var maxBodyBytes = 64 << 20

  @Option(help: "Most tasks in one predict request.")
  var maxTasks = 10_000

  @Option(help: "Seconds after which predict answers the tasks it has not started with an error (Label Studio waits 100 s).")
  var predictTimeout = 80.0

  @Option(help: "Tasks predicted in parallel (default: all cores).")
  var threads: Int?

  @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
  var logLevel = "info"

  func validate() throws {
    guard (1...65535).contains(port) else { throw ValidationError("--port must be in 1...65535") }
    guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
    guard maxTasks >= 1 else { throw ValidationError("--max-tasks must be at least 1") }
    guard predictTimeout > 0 && predictTimeout <= 95 else {
      throw ValidationError("--predict-timeout must be in (0, 95] seconds (Label Studio waits 100 s)")
    }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    guard maxImageBytes >= 1024 else { throw ValidationError("--max-image-bytes must be at least 1024") }
    guard downloadTimeout > 0 && downloadTimeout <= 90 else {
      throw ValidationError("--download-timeout must be in (0, 90] seconds")
    }
    if let url = labelStudioURL ?? env("LABEL_STUDIO_URL"), LabelStudioAccess(hostname: url, token: nil) == nil {
      throw ValidationError("--label-studio-url \(url) is not an absolute http(s) URL such as http://label-studio:8080")
    }
    if labelStudioToken != nil && labelStudioURL == nil && env("LABEL_STUDIO_URL") == nil {
      throw ValidationError("--label-studio-token needs --label-studio-url: a token is only sent to a pinned host")
    }
    guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a level") }
    let user = basicAuthUser ?? env("ANNOTA_BASIC_AUTH_USER")
    let pass = basicAuthPass ?? env("ANNOTA_BASIC_AUTH_PASS")
    if (user == nil) != (pass == nil) {
      throw ValidationError("Basic auth needs both a user and a password")
    }
  }

  func env(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
  }

  func run() async throws {
    var logger = Logger(label: "annota-server")
    logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
    // Tasks run in parallel; one BLAS thread each.
    BLAS.threads = 1
    var options = ServerOptions()
    options.host = host
    options.port = port
    options.imagesRoot = imagesRoot
    options.stateDirectory = stateDir
    options.maxBodyBytes = maxBodyBytes
    options.maxTasks = maxTasks
    options.predictSeconds = predictTimeout
    if let threads { options.concurrency = threads }
    options.maxImageBytes = maxImageBytes
    options.downloadSeconds = downloadTimeout
    if let url = labelStudioURL ?? env("LABEL_STUDIO_URL") {
      options.labelStudio = LabelStudioAccess(hostname: url, token: labelStudioToken ?? env("LABEL_STUDIO_API_KEY"))
    }
    if let user = basicAuthUser ?? env("ANNOTA_BASIC_AUTH_USER"), let pass = basicAuthPass ?? env("ANNOTA_BASIC_AUTH_PASS") {
      options.basicAuth = (user, pass)
    }
    let backend = MLBackend(options: options, logger: logger)
    logger.info("starting", metadata: [
      "address": "\(host):\(port)", "images_root": "\(imagesRoot ?? "-")", "state_dir": "\(stateDir ?? "-")",
      "basic_auth": "\(options.basicAuth != nil)",
      "label_studio_url": "\(options.labelStudio.map { "\($0.origin)\($0.pathPrefix)" } ?? "- (loopback hosts from /setup)")",
    ])
    try await backend.application().runService()
  }
}
