import AnnotaEngine
import AnnotaClassifier
import AnnotaLinearAlgebra
import Dispatch
public import Logging

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Per-project models, their labeled samples, and background training.
///
/// State directory layout (one folder per Label Studio project id):
/// - `project-ID/samples.json`: `{"annotations": {"ANNOTATION_ID": [{"label": .., "features":
///   [..]}]}}` — the labeled crops accumulated from annotation webhooks;
/// - `project-ID/model.json`: the classifier (`ClassifierFile` format, as `annota rank
///   --save-model` writes it) plus `"model_version"` and `"round"`.
/// Both are written atomically (temporary file, then rename), so a restart sees the old file or
/// the new one. Training runs off the request path, one at a time per project: a request while
/// one runs marks the project for one more round when it ends.
public actor ModelStore {
  struct Project {
    var round = 0
    var classifier: ClassifierFile?
    /// Samples by annotation id (an updated annotation replaces its samples).
    var samples: [String: [TrainingSample]] = [:]
    var training = false
    var pending = false
    var busy = 0  // webhook ingestions in flight
    var lastError: String?
  }

  let directory: String?
  let logger: Logger
  var projects: [String: Project] = [:]
  /// Training settings (deterministic: same samples, same model).
  var options: TrainingOptions = {
    var o = TrainingOptions()
    o.c = 1.0
    o.classWeighting = .balanced
    return o
  }()

  /// - Parameter directory: the state directory (created if missing); nil keeps everything in memory.
  public init(directory: String?, logger: Logger) {
    self.directory = directory
    self.logger = logger
    if let directory { _ = mkdir(directory, 0o755) }
  }

  /// The version string of round `round` (0 = nothing trained yet).
  public static func versionName(round: Int) -> String { "annota-v\(round)" }

  /// The model predictions of `project` use.
  public func model(_ project: String) -> ProjectModel {
    let p = load(project)
    return ProjectModel(version: ModelStore.versionName(round: p.round), classifier: p.classifier)
  }

  /// Every project's current version, sorted (for `GET /versions`).
  public func versions() -> [String] {
    Array(Set(projects.values.map { ModelStore.versionName(round: $0.round) } + [ModelStore.versionName(round: 0)]))
      .sorted()
  }

  /// True when no ingestion or training of `project` is running or queued.
  public func isIdle(_ project: String) -> Bool {
    let p = load(project)
    return !p.training && !p.pending && p.busy == 0
  }

  /// The number of annotations with samples, and the samples.
  public func sampleCounts(_ project: String) -> (annotations: Int, samples: Int) {
    let p = load(project)
    return (p.samples.count, p.samples.values.reduce(0) { $0 + $1.count })
  }

  func beginIngest(_ project: String) { mutate(project) { $0.busy += 1 } }
  func endIngest(_ project: String) { mutate(project) { $0.busy -= 1 } }

  /// Replaces the samples of annotation `annotation` (empty removes it) and saves them.
  public func setSamples(_ project: String, annotation: String, samples: [TrainingSample]) {
    mutate(project) { p in
      if samples.isEmpty { p.samples[annotation] = nil } else { p.samples[annotation] = samples }
    }
    saveSamples(project)
  }

  /// Starts a training round of `project` in the background, or queues one if a round runs.
  public func requestTraining(_ project: String) {
    var p = load(project)
    if p.training {
      p.pending = true
      projects[project] = p
      return
    }
    p.training = true
    projects[project] = p
    Task { await self.trainLoop(project) }
  }

  func trainLoop(_ project: String) async {
    while true {
      let p = load(project)
      let snapshot = p.samples.sorted { $0.key < $1.key }.flatMap(\.value)
      let warm = p.classifier
      let options = self.options
      let trained: Result<ClassifierFile, ActiveLearningError> = await ModelStore.offload {
        ModelStore.train(snapshot, warmStart: warm, options: options)
      }
      switch trained {
      case .success(let file):
        var q = load(project)
        q.round += 1
        q.classifier = file
        q.lastError = nil
        projects[project] = q
        saveModel(project)
        logger.info("trained", metadata: [
          "project": "\(project)", "model_version": "\(ModelStore.versionName(round: q.round))",
          "samples": "\(snapshot.count)", "classes": "\(file.classNames.joined(separator: ","))",
        ])
      case .failure(let e):
        mutate(project) { $0.lastError = e.description }
        logger.notice("training skipped", metadata: ["project": "\(project)", "reason": "\(e.description)"])
      }
      var q = load(project)
      if q.pending {
        q.pending = false
        projects[project] = q
        continue
      }
      q.training = false
      projects[project] = q
      return
    }
  }

  /// Smallest feature scale used in standardisation.
  static let minimumScale: Float = 0.1

  /// Fits the classifier on `samples` (classes: the sorted distinct labels; at least two needed).
  static func train(_ samples: [TrainingSample], warmStart: ClassifierFile?, options: TrainingOptions)
    -> Result<ClassifierFile, ActiveLearningError>
  {
    let names = Array(Set(samples.map(\.label))).sorted()
    guard names.count >= 2 else {
      return .failure(ActiveLearningError(
        "need labeled boxes of at least two classes to train (have \(names.count): \(names.joined(separator: ", ")))"))
    }
    let d = CropDescriptor.length
    var x = Matrix<Float>(rows: samples.count, columns: d)
    var labels: [Int] = []
    for (i, s) in samples.enumerated() {
      guard s.features.count == d else {
        return .failure(ActiveLearningError("a stored sample has \(s.features.count) features, expected \(d)"))
      }
      for j in 0..<d { x[i, j] = s.features[j] }
      labels.append(names.firstIndex(of: s.label)!)
    }
    let warm = warmStart.flatMap { $0.classNames == names ? $0.model : nil }
    // With a handful of annotations, a feature's spread can be tiny (two crops that differ by
    // noise); standardising by it would make that noise decide. Floor the scale at 0.1 (the
    // descriptor's parts lie in [0, 1]).
    let fitted = Standardizer(fitting: x)
    let statistics = Standardizer(mean: fitted.mean, scale: fitted.scale.map { max($0, minimumScale) })
    let (model, _) = SoftmaxRegression.fit(
      x, rows: Array(0..<samples.count), labels: labels, classes: names.count, options: options, warmStart: warm,
      statistics: statistics)
    return .success(ClassifierFile(classNames: names, model: model))
  }

  /// Runs CPU work on a Dispatch queue, off Swift's cooperative pool (so health checks stay fast).
  static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { c in
      DispatchQueue.global(qos: .userInitiated).async { c.resume(returning: work()) }
    }
  }

  // MARK: persistence

  func mutate(_ project: String, _ change: (inout Project) -> Void) {
    var p = load(project)
    change(&p)
    projects[project] = p
  }

  func folder(_ project: String) -> String? {
    directory.map { "\($0)/project-\(project)" }
  }

  /// The project, read from the state directory on first use.
  func load(_ project: String) -> Project {
    if let p = projects[project] { return p }
    var p = Project()
    if let dir = folder(project) {
      let modelPath = dir + "/model.json"
      if access(modelPath, F_OK) == 0 {
        do {
          let file = try ClassifierFile.read(modelPath)
          let doc = try JSONReader.parse(try FileIO.read(modelPath))
          p.classifier = file
          p.round = Int(doc["round"]?.integer ?? 1)
        } catch {
          logger.error("cannot read the saved model; starting untrained", metadata: ["file": "\(modelPath)", "error": "\(error)"])
        }
      }
      let samplesPath = dir + "/samples.json"
      if access(samplesPath, F_OK) == 0 {
        do {
          let doc = try JSONReader.parse(try FileIO.read(samplesPath))
          if case .object(let members)? = doc["annotations"] {
            for (id, list) in members {
              p.samples[id] = (list.arrayValue ?? []).compactMap { s in
                guard let label = s["label"]?.stringValue, let f = s["features"]?.numberArray else { return nil }
                return TrainingSample(label: label, features: f.map(Float.init))
              }
            }
          }
        } catch {
          logger.error("cannot read saved samples; starting without them", metadata: ["file": "\(samplesPath)", "error": "\(error)"])
        }
      }
    }
    projects[project] = p
    return p
  }

  func saveSamples(_ project: String) {
    guard let dir = folder(project) else { return }
    _ = mkdir(dir, 0o755)
    let p = load(project)
    let doc = JSONValue.object([
      ("annotations", .object(p.samples.sorted { $0.key < $1.key }.map { id, list in
        (id, .array(list.map { s in
          .object([("label", .string(s.label)), ("features", .numbers(s.features.map(Double.init), integral: false))])
        }))
      }))
    ])
    do { try FileIO.writeAtomically(doc.serializedBytes(), to: dir + "/samples.json") } catch {
      logger.error("cannot save samples", metadata: ["project": "\(project)", "error": "\(error)"])
    }
  }

  func saveModel(_ project: String) {
    guard let dir = folder(project) else { return }
    _ = mkdir(dir, 0o755)
    let p = load(project)
    guard let classifier = p.classifier else { return }
    let doc = classifier.json()
      .setting("model_version", .string(ModelStore.versionName(round: p.round)))
      .setting("round", .int(Int64(p.round)))
    do { try FileIO.writeAtomically(doc.serializedBytes(), to: dir + "/model.json") } catch {
      logger.error("cannot save the model", metadata: ["project": "\(project)", "error": "\(error)"])
    }
  }
}
