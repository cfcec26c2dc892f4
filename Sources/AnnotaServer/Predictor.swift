public import AnnotaEngine
public import AnnotaImageIO
import AnnotaEdges
public import AnnotaFit
import AnnotaClassifier
import AnnotaGeometry
import AnnotaImage
import AnnotaLinearAlgebra

/// The model a project's predictions come from: its version string and, once trained, the
/// classifier.
public struct ProjectModel: Sendable {
  public var version: String
  public var classifier: ClassifierFile?

  public init(version: String, classifier: ClassifierFile?) {
    self.version = version
    self.classifier = classifier
  }
}

/// One labeled crop for training: its class name and its ``CropDescriptor``.
public struct TrainingSample: Sendable, Equatable {
  public var label: String
  public var features: [Float]

  public init(label: String, features: [Float]) {
    self.label = label
    self.features = features
  }
}

/// A rough box to pre-annotate: pixels of the (orientation-applied) image, and the label it came
/// with, if any.
struct RoughBox {
  var box: Box
  var label: String?
}

/// Images of one task downloaded from Label Studio, by absolute URL, and the access they were
/// downloaded with (which ``ImageSource/locate(_:access:)`` needs to map task URLs to them).
public struct RemoteImages: Sendable {
  public var access: LabelStudioAccess?
  public var bytes: [String: Result<[UInt8], ImageSourceError>]

  public init(access: LabelStudioAccess? = nil, bytes: [String: Result<[UInt8], ImageSourceError>] = [:]) {
    self.access = access
    self.bytes = bytes
  }
}

/// A per-task failure; its text names the task.
struct TaskError: Error, CustomStringConvertible {
  var description: String
}

/// Turns one Label Studio task into one prediction: rough boxes auto-fitted (by default with the
/// learned fitter and its built-in model), labelled by the project's classifier on ``CropDescriptor`` features, and a
/// task score for uncertainty sampling.
///
/// Score semantics (Label Studio's "Uncertainty sampling" serves the unlabeled task with the
/// lowest score first):
/// - with a trained classifier, each box's score is `1 − entropy` of its class probabilities
///   (restricted to the config's labels, normalised to [0, 1]); the task score is the lowest box
///   score, so a task with one doubtful box comes early;
/// - before any classifier is trained, each box's score is the auto-fit confidence (in [0, 1],
///   0 when no side moved) and the task score is again the lowest;
/// - a task without boxes scores 0 (nothing is known about it: look at it first).
/// A task that fails (image missing or undecodable, config without an image rectangle control)
/// gets an empty result, no score, and an `"error"` text naming the task.
public struct Predictor: Sendable {
  public var images: ImageSource
  public var decodeLimits: DecodeLimits
  /// The box fitter (default: the learned fitter with the built-in model).
  public var fitter: Fitter

  /// The task-data key that may carry rough boxes in pixels:
  /// `[{"x": .., "y": .., "width": .., "height": .., "label": "Car"}, ...]` (`label` optional).
  public static let roughBoxesKey = "annota_boxes"

  public init(images: ImageSource, decodeLimits: DecodeLimits = DecodeLimits(maxPixels: 100_000_000),
              fitter: Fitter = .learned(BuiltInFitModel.model)) {
    self.images = images
    self.decodeLimits = decodeLimits
    self.fitter = fitter
  }

  /// The task's id as text (`?` when it has none), for messages.
  static func taskName(_ task: JSONValue) -> String {
    "task \(task["id"]?.idText ?? "?")"
  }

  /// The error item Label Studio receives for a task that could not be predicted.
  static func errorItem(_ message: String, version: String) -> JSONValue {
    .object([("result", .array([])), ("model_version", .string(version)), ("error", .string(message))])
  }

  /// The prediction for `task`, or an error item naming it. `drawn` are the interactive
  /// context's result items (`params.context.result`), when Label Studio sent any.
  /// `remote` holds the images downloaded from Label Studio for this task (``downloads(task:config:access:)``).
  public func predict(task: JSONValue, config: Result<LabelConfig, LabelConfigError>, model: ProjectModel,
                      drawn: [JSONValue]?, remote: RemoteImages = RemoteImages()) -> JSONValue {
    do {
      return try predictOrThrow(task: task, config: config.get(), model: model, drawn: drawn, remote: remote)
    } catch let e as LabelConfigError {
      return Predictor.errorItem("\(Predictor.taskName(task)): \(e)", version: model.version)
    } catch {
      return Predictor.errorItem("\(error)", version: model.version)
    }
  }

  func predictOrThrow(task: JSONValue, config: LabelConfig, model: ProjectModel, drawn: [JSONValue]?,
                      remote: RemoteImages) throws
    -> JSONValue
  {
    let name = Predictor.taskName(task)
    guard case .object = task else { throw TaskError(description: "\(name): a task must be a JSON object") }
    guard let control = config.primaryRectangles else {
      throw TaskError(
        description: "\(name): label_config has no <RectangleLabels> with labels on an <Image>; nothing to predict")
    }
    let image = try loadImage(task: task, config: config, control: control, remote: remote)
    let width = Double(image.width)
    let height = Double(image.height)

    let roughs: [RoughBox]
    if let drawn, !drawn.isEmpty {
      roughs = Predictor.percentBoxes(drawn, control: control, width: width, height: height)
    } else {
      roughs = try Predictor.roughBoxes(task: task, control: control, width: width, height: height, name: name)
    }
    // Clamp to the image; drop boxes that are empty after clamping.
    let boxes: [RoughBox] = roughs.compactMap { r in
      let b = Box(left: max(0, r.box.x), top: max(0, r.box.y), right: min(width, r.box.right),
                  bottom: min(height, r.box.bottom))
      return b.width >= 1 && b.height >= 1 ? RoughBox(box: b, label: r.label) : nil
    }

    var fitted: [Box] = []
    var fitConfidence: [Double] = []
    for (i, r) in boxes.enumerated() {
      var others = boxes.map(\.box)
      others.remove(at: i)
      let d = fitter.fit(image, rough: r.box, others: others)
      fitted.append(d.box)
      fitConfidence.append(d.confidence)
    }

    // Labels and per-box scores.
    var labels: [String] = []
    var scores: [Double] = []
    let allowed = control.labels
    let fallback: (RoughBox) -> String = { r in
      if let l = r.label, allowed.contains(l) { return l }
      return allowed[0]
    }
    if let classifier = model.classifier, !fitted.isEmpty,
      case let usable = classifier.classNames.indices.filter({ allowed.contains(classifier.classNames[$0]) }),
      !usable.isEmpty
    {
      var x = Matrix<Float>(rows: fitted.count, columns: classifier.model.features)
      for (i, b) in fitted.enumerated() {
        let f = Predictor.describe(image, box: b)
        for j in 0..<min(f.count, x.columns) { x[i, j] = f[j] }
      }
      let p = classifier.model.probabilities(x)
      for i in 0..<fitted.count {
        var restricted = usable.map { p[i, $0] }
        let total = restricted.reduce(0, +)
        if total > 0 { restricted = restricted.map { $0 / total } }
        var best = 0
        for k in restricted.indices where restricted[k] > restricted[best] { best = k }
        let drawnLabel = drawn != nil ? boxes[i].label.flatMap { allowed.contains($0) ? $0 : nil } : nil
        labels.append(drawnLabel ?? classifier.classNames[usable[best]])
        let u = restricted.withUnsafeBufferPointer { UncertaintyMeasure.entropy.score($0) }
        scores.append(Predictor.rounded(1 - u))
      }
    } else {
      for (i, r) in boxes.enumerated() {
        labels.append(fallback(r))
        scores.append(Predictor.rounded(fitConfidence[i]))
      }
    }

    let taskID = task["id"]?.idText ?? "x"
    var items: [JSONValue] = []
    for (i, b) in fitted.enumerated() {
      items.append(.object([
        ("id", .string("annota-\(taskID)-\(i)")),
        ("from_name", .string(control.name)),
        ("to_name", .string(control.toName)),
        ("type", .string("rectanglelabels")),
        ("original_width", .int(Int64(image.width))),
        ("original_height", .int(Int64(image.height))),
        ("image_rotation", .int(0)),
        ("value", .object([
          ("x", .double(Predictor.rounded(b.x / width * 100))),
          ("y", .double(Predictor.rounded(b.y / height * 100))),
          ("width", .double(Predictor.rounded(b.width / width * 100))),
          ("height", .double(Predictor.rounded(b.height / height * 100))),
          ("rotation", .int(0)),
          ("rectanglelabels", .array([.string(labels[i])])),
        ])),
        ("score", .double(scores[i])),
      ]))
    }
    // An image-level choice: the most frequent box label, when a <Choices> on the same image
    // offers it (ties: the label that comes first in the config).
    if drawn == nil, let choices = config.choices.first(where: { $0.toName == control.toName }), !labels.isEmpty {
      let ranked = allowed.filter { choices.values.contains($0) }
        .map { l in (l, labels.filter { $0 == l }.count) }
      if let top = ranked.max(by: { $0.1 < $1.1 || ($0.1 == $1.1 && allowed.firstIndex(of: $0.0)! > allowed.firstIndex(of: $1.0)!) }),
        top.1 > 0
      {
        items.append(.object([
          ("id", .string("annota-\(taskID)-choice")),
          ("from_name", .string(choices.name)),
          ("to_name", .string(choices.toName)),
          ("type", .string("choices")),
          ("value", .object([("choices", .array([.string(top.0)]))])),
          ("score", .double(scores.min() ?? 0)),
        ]))
      }
    }
    return .object([
      ("result", .array(items)),
      ("score", .double(scores.min() ?? 0)),
      ("model_version", .string(model.version)),
    ])
  }

  /// The task's image, decoded with EXIF orientation applied (Label Studio shows it that way).
  func loadImage(task: JSONValue, config: LabelConfig, control: LabelConfig.Rectangles, remote: RemoteImages) throws
    -> Image
  {
    let name = Predictor.taskName(task)
    guard let url = Predictor.imageURL(task: task, config: config, control: control) else {
      let key = config.images[control.toName] ?? "image"
      throw TaskError(description: "\(name): data.\(key) (the image URL) is missing or not a string")
    }
    return try decodeImage(url: url, name: name, remote: remote)
  }

  /// The image at `url`: a file under the images root, or bytes downloaded beforehand.
  func decodeImage(url: String, name: String, remote: RemoteImages) throws -> Image {
    let location: ImageLocation
    do { location = try images.locate(url, access: remote.access) } catch {
      throw TaskError(description: "\(name): \(error)")
    }
    let options = DecodeOptions(applyOrientation: true, limits: decodeLimits)
    switch location {
    case .file(let path):
      do { return try ImageFiles.decode(path, options: options).image } catch {
        throw TaskError(description: "\(name): \(error)")
      }
    case .remote(let full):
      guard let downloaded = remote.bytes[full] else {
        throw TaskError(description: "\(name): image \(full): not downloaded")
      }
      let bytes: [UInt8]
      do { bytes = try downloaded.get() } catch { throw TaskError(description: "\(name): \(error)") }
      do { return try ImageDecoder.decode(bytes, options: options).image } catch {
        throw TaskError(description: "\(name): image \(full): \(error)")
      }
    }
  }

  /// The task-data URL of the image `control` labels.
  static func imageURL(task: JSONValue, config: LabelConfig, control: LabelConfig.Rectangles) -> String? {
    task["data"]?[config.images[control.toName] ?? "image"]?.stringValue
  }

  /// The image URL of `task` to download before ``predict(task:config:model:drawn:remote:)`` or
  /// ``trainingSamples(task:result:config:remote:)``, if its image is on Label Studio: the
  /// labelled image's URL with a config, else the first string in `data` that is an image
  /// location. Empty when the image is a local file.
  public func downloads(task: JSONValue, config: LabelConfig?, access: LabelStudioAccess?) -> [String] {
    guard let access else { return [] }
    let location: ImageLocation?
    if let config, let control = config.primaryRectangles {
      location = Predictor.imageURL(task: task, config: config, control: control)
        .flatMap { try? images.locate($0, access: access) }
    } else if case .object(let members)? = task["data"] {
      // The first string that is an image location, as trainingSamples picks it.
      location = members.lazy.compactMap { $0.1.stringValue }.compactMap { try? images.locate($0, access: access) }.first
    } else {
      location = nil
    }
    if case .remote(let full)? = location { return [full] }
    return []
  }

  /// Rough boxes from `data.annota_boxes` (pixels), else from the task's first annotation with
  /// rectangle results, else from its predictions not made by Annota (percent).
  static func roughBoxes(task: JSONValue, control: LabelConfig.Rectangles, width: Double, height: Double,
                         name: String) throws -> [RoughBox] {
    if let given = task["data"]?[roughBoxesKey] {
      guard let list = given.arrayValue else {
        throw TaskError(description: "\(name): data.\(roughBoxesKey) must be an array of {x, y, width, height}")
      }
      var out: [RoughBox] = []
      for (i, item) in list.enumerated() {
        guard let x = item["x"]?.number, let y = item["y"]?.number, let w = item["width"]?.number,
          let h = item["height"]?.number, x.isFinite, y.isFinite, w.isFinite, h.isFinite, w > 0, h > 0
        else {
          throw TaskError(
            description: "\(name): data.\(roughBoxesKey)[\(i)] needs finite x, y and positive width, height (pixels)")
        }
        out.append(RoughBox(box: Box(x: x, y: y, width: w, height: h), label: item["label"]?.stringValue))
      }
      return out
    }
    for key in ["annotations", "predictions"] {
      for entry in task[key]?.arrayValue ?? [] {
        if key == "annotations", entry["was_cancelled"]?.boolValue == true { continue }
        if key == "predictions", entry["model_version"]?.stringValue?.hasPrefix("annota") == true { continue }
        let found = percentBoxes(entry["result"]?.arrayValue ?? [], control: control, width: width, height: height)
        if !found.isEmpty { return found }
      }
    }
    return []
  }

  /// Rectangle results (`value.x/y/width/height` in percent) as pixel boxes.
  static func percentBoxes(_ results: [JSONValue], control: LabelConfig.Rectangles, width: Double,
                           height: Double) -> [RoughBox] {
    results.compactMap { r in
      let type = r["type"]?.stringValue ?? ""
      guard type == "rectanglelabels" || type == "rectangle", let v = r["value"],
        let x = v["x"]?.number, let y = v["y"]?.number, let w = v["width"]?.number, let h = v["height"]?.number,
        x.isFinite, y.isFinite, w.isFinite, h.isFinite, w > 0, h > 0
      else { return nil }
      let label = v["rectanglelabels"]?.arrayValue?.first?.stringValue
      return RoughBox(
        box: Box(x: x / 100 * width, y: y / 100 * height, width: w / 100 * width, height: h / 100 * height),
        label: label)
    }
  }

  /// The crop descriptor of `box` in `image`.
  static func describe(_ image: Image, box: Box) -> [Float] {
    let x0 = min(max(0, Int(box.x.rounded(.down))), image.width - 1)
    let y0 = min(max(0, Int(box.y.rounded(.down))), image.height - 1)
    let x1 = max(x0 + 1, min(image.width, Int(box.right.rounded(.up))))
    let y1 = max(y0 + 1, min(image.height, Int(box.bottom.rounded(.up))))
    let crop = image.cropped(to: PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0))
    return CropDescriptor.describe(
      crop, boxWidth: box.width, boxHeight: box.height, imageArea: Double(image.width * image.height))
  }

  /// Training samples from one annotation of `task`: every rectangle with a label, described.
  ///
  /// - Throws: `TaskError` when the image cannot be read.
  public func trainingSamples(task: JSONValue, result: [JSONValue], config: LabelConfig?,
                              remote: RemoteImages = RemoteImages()) throws -> [TrainingSample] {
    let control = config?.primaryRectangles
    let pseudoControl = control ?? LabelConfig.Rectangles(name: "", toName: "", labels: [], smart: false)
    let wanted = result.filter { ($0["type"]?.stringValue ?? "") == "rectanglelabels" }
    if wanted.isEmpty { return [] }
    let image: Image
    if let config, let control {
      image = try loadImage(task: task, config: config, control: control, remote: remote)
    } else {
      // No config in the payload: the first string in data that is an image location.
      let name = Predictor.taskName(task)
      guard case .object(let members)? = task["data"],
        let url = members.lazy.compactMap({ $0.1.stringValue }).first(where: { url in
          switch try? images.locate(url, access: remote.access) {
          case .file?: return true
          case .remote(let full)?: return remote.bytes[full] != nil
          case nil: return false
          }
        })
      else { throw TaskError(description: "\(name): no image URL in data that is a local file or on the Label Studio host") }
      image = try decodeImage(url: url, name: name, remote: remote)
    }
    let boxes = Predictor.percentBoxes(wanted, control: pseudoControl, width: Double(image.width),
                                       height: Double(image.height))
    return boxes.compactMap { r in
      guard let label = r.label else { return nil }
      let b = Box(left: max(0, r.box.x), top: max(0, r.box.y), right: min(Double(image.width), r.box.right),
                  bottom: min(Double(image.height), r.box.bottom))
      guard b.width >= 1, b.height >= 1 else { return nil }
      return TrainingSample(label: label, features: Predictor.describe(image, box: b))
    }
  }

  /// Six decimals: enough for percent coordinates and scores, and stable text.
  static func rounded(_ x: Double) -> Double { (x * 1e6).rounded() / 1e6 }
}
