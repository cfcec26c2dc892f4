import AnnotaGeometry
import AnnotaImage

#if canImport(Glibc)
import Glibc
#endif

/// The inputs of `annota bench`: the user's images and COCO file, or a small generated set.
struct BenchData: Sendable {
  /// Annotations (the user's, cut to the first `maxImages` images, or generated).
  var dataset: COCODataset?
  /// The folder `file_name`s are relative to.
  var imagesDirectory: String?
  /// The image files the decode operation reads.
  var imagePaths: [String]
  /// What was measured, for the report.
  var source: String
  /// A temporary folder of generated images, removed by `cleanUp()`.
  var temporaryDirectory: String?

  /// Removes generated files (nothing for the user's data).
  func cleanUp() {
    guard let dir = temporaryDirectory else { return }
    for path in imagePaths { unlink(path) }
    rmdir(dir)
  }

  /// The user's data: `annotations` (a COCO file) and/or `images` (a folder), cut to the first
  /// `maxImages` images of the annotation file (or of the sorted folder listing).
  static func load(images: String?, annotations: String?, maxImages: Int) throws(BenchError) -> BenchData {
    var dataset: COCODataset?
    var paths: [String] = []
    var parts: [String] = []
    if let annotations {
      let full: COCODataset
      do { full = try COCODataset.load(annotations) } catch { throw BenchError("\(error.description)") }
      dataset = try subset(full, maxImages: maxImages, source: annotations)
      let kept = dataset!
      parts.append("\(annotations) (\(kept.images.count) of \(full.images.count) images, \(kept.annotations.count) annotations)")
      if let images {
        paths = kept.images.compactMap { $0.fileName.map { DedupRun.join(images, $0) } }
      }
    }
    if let images {
      guard FileIO.isDirectory(images) else { throw BenchError("\(images): not a directory") }
      if annotations == nil {
        do { paths = Array(try DedupRun.listImages(in: images).prefix(maxImages)) } catch {
          throw BenchError(error.description)
        }
      }
      parts.append("\(images) (\(paths.count) images)")
    }
    return BenchData(
      dataset: dataset, imagesDirectory: images, imagePaths: paths, source: parts.joined(separator: ", "),
      temporaryDirectory: nil)
  }

  /// The dataset restricted to its first `maxImages` images (file order) and their annotations.
  static func subset(_ dataset: COCODataset, maxImages: Int, source: String) throws(BenchError) -> COCODataset {
    guard dataset.images.count > maxImages else { return dataset }
    let kept = Set(dataset.images.prefix(maxImages).map(\.id))
    var images: [JSONValue] = []
    if case .array(let all)? = dataset.document.first(where: { $0.0 == "images" })?.1 {
      images = Array(all.prefix(maxImages))
    }
    let annotations = dataset.annotations.filter { kept.contains($0.imageID) }.map { dataset.annotationObjects[$0.index] }
    let document = JSONValue.object(
      dataset.document.map { key, value in
        switch key {
        case "images": (key, .array(images))
        case "annotations": (key, .array(annotations))
        default: (key, value)
        }
      })
    do { return try COCODataset(json: document, source: source) } catch { throw BenchError(error.description) }
  }

  /// A small deterministic dataset: `count` RGB images of `width` x `height` (a soft gradient,
  /// sensor-like noise and 3–6 filled rectangles and ellipses each), written as PNG files into a
  /// new temporary folder, with a COCO file whose polygons and boxes are the shapes' outlines.
  static func generate(count: Int, width: Int, height: Int, seed: UInt64) throws(BenchError) -> BenchData {
    var template = Array("/tmp/annota-bench-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    guard made != nil else { throw BenchError("cannot create a temporary folder under /tmp") }
    let dir = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var rng = SplitMix64(seed: seed)
    var images: [JSONValue] = []
    var annotations: [JSONValue] = []
    var paths: [String] = []
    var nextID: Int64 = 1
    for k in 0..<count {
      let name = "generated-\(k).png"
      let shapes = (0..<Int.random(in: 3...6, using: &rng)).map { _ in Shape.random(width: width, height: height, using: &rng) }
      let image = render(shapes, width: width, height: height, rng: &rng)
      let path = dir + "/" + name
      do { try ImageFiles.writePNG(image, to: path, compressionLevel: 1) } catch {
        throw BenchError(error.description)
      }
      paths.append(path)
      images.append(.object([
        ("id", .int(Int64(k + 1))), ("file_name", .string(name)), ("width", .int(Int64(width))),
        ("height", .int(Int64(height))),
      ]))
      for shape in shapes {
        let ring = shape.ring()
        let box = Polygon(rings: [ring]).rle(height: height, width: width)
        annotations.append(.object([
          ("id", .int(nextID)), ("image_id", .int(Int64(k + 1))), ("category_id", .int(shape.category)),
          ("segmentation", .array([.numbers(ring, integral: false)])),
          ("area", .double(Double(box.area))), ("bbox", box.boundingBox.cocoJSON), ("iscrowd", .int(0)),
        ]))
        nextID += 1
      }
    }
    let categories: [JSONValue] = (1...3).map { .object([("id", .int(Int64($0))), ("name", .string("shape\($0)"))]) }
    let document = JSONValue.object([
      ("images", .array(images)), ("annotations", .array(annotations)), ("categories", .array(categories)),
    ])
    let dataset: COCODataset
    do { dataset = try COCODataset(json: document, source: "<generated>") } catch { throw BenchError(error.description) }
    return BenchData(
      dataset: dataset, imagesDirectory: dir, imagePaths: paths,
      source: "generated: \(count) images \(width)x\(height), \(annotations.count) objects (seed \(seed))",
      temporaryDirectory: dir)
  }

  /// A filled shape of a generated image.
  struct Shape {
    var ellipse: Bool
    var x0, y0, x1, y1: Double
    var colour: (UInt8, UInt8, UInt8)
    var category: Int64

    static func random(width: Int, height: Int, using rng: inout SplitMix64) -> Shape {
      let (w, h) = (Double(width), Double(height))
      let bw = Double.random(in: 0.1 * w...0.45 * w, using: &rng)
      let bh = Double.random(in: 0.1 * h...0.45 * h, using: &rng)
      let x = Double.random(in: 0...(w - bw), using: &rng).rounded()
      let y = Double.random(in: 0...(h - bh), using: &rng).rounded()
      return Shape(
        ellipse: Bool.random(using: &rng), x0: x, y0: y, x1: (x + bw).rounded(), y1: (y + bh).rounded(),
        colour: (UInt8.random(in: 0...255, using: &rng), UInt8.random(in: 0...255, using: &rng), UInt8.random(in: 0...255, using: &rng)),
        category: Int64.random(in: 1...3, using: &rng))
    }

    func contains(_ x: Double, _ y: Double) -> Bool {
      guard ellipse else { return x >= x0 && x < x1 && y >= y0 && y < y1 }
      let (cx, cy, rx, ry) = ((x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2)
      let (u, v) = ((x - cx) / rx, (y - cy) / ry)
      return u * u + v * v <= 1
    }

    /// The outline as a COCO polygon ring (4 corners, or 32 points on the ellipse).
    func ring() -> [Double] {
      guard ellipse else { return [x0, y0, x1, y0, x1, y1, x0, y1] }
      let (cx, cy, rx, ry) = ((x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2)
      var out: [Double] = []
      for i in 0..<32 {
        let t = Double(i) / 32 * 2 * Double.pi
        out.append(((cx + rx * cos(t)) * 100).rounded() / 100)
        out.append(((cy + ry * sin(t)) * 100).rounded() / 100)
      }
      return out
    }
  }

  static func render(_ shapes: [Shape], width: Int, height: Int, rng: inout SplitMix64) -> Image {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    var noise = rng.next()
    for y in 0..<height {
      for x in 0..<width {
        var c = (UInt8(40 + 120 * x / max(1, width)), UInt8(60 + 100 * y / max(1, height)), UInt8(128))
        for shape in shapes where shape.contains(Double(x) + 0.5, Double(y) + 0.5) { c = shape.colour }
        // xorshift noise of ±4 levels, like a sensor's.
        noise ^= noise << 13
        noise ^= noise >> 7
        noise ^= noise << 17
        let n = Int(noise % 9) - 4
        let i = (y * width + x) * 3
        pixels[i] = UInt8(clamping: Int(c.0) + n)
        pixels[i + 1] = UInt8(clamping: Int(c.1) + n)
        pixels[i + 2] = UInt8(clamping: Int(c.2) + n)
      }
    }
    return Image(width: width, height: height, format: .rgb, pixels: pixels)
  }

  /// A second annotator: every polygon and box shifted by up to ±`shift` px (per object, from a
  /// seeded generator keyed by the annotation id and `copy`), every 20th object dropped and
  /// every 15th relabelled (`copy` > 1 only), so matching, tiers and IoU have work to do.
  static func perturbed(_ dataset: COCODataset, copy: Int, shift: Double = 3) throws(BenchError) -> COCODataset {
    var objects: [JSONValue] = []
    let categories = dataset.categories.keys.sorted()
    for a in dataset.annotations {
      if copy > 1 && (a.index + copy) % 20 == 0 { continue }
      var rng = SplitMix64(seed: UInt64(bitPattern: a.id) &* 0x9E37_79B9 &+ UInt64(copy))
      let dx = Double.random(in: -shift...shift, using: &rng)
      let dy = Double.random(in: -shift...shift, using: &rng)
      var object = dataset.annotationObjects[a.index]
      if case .polygons(let polygon)? = a.segmentation {
        let rings = polygon.rings.map { ring in
          ring.enumerated().map { i, v in ((v + (i % 2 == 0 ? dx : dy)) * 100).rounded() / 100 }
        }
        object = object.setting("segmentation", .array(rings.map { .numbers($0, integral: false) }))
      }
      if let b = a.bbox {
        object = object.setting("bbox", Box(x: b.x + dx, y: b.y + dy, width: b.width, height: b.height).cocoJSON)
      }
      if copy > 1 && (a.index + copy) % 15 == 0, categories.count > 1, let c = a.categoryID,
        let at = categories.firstIndex(of: c)
      {
        object = object.setting("category_id", .int(categories[(at + 1) % categories.count]))
      }
      objects.append(object)
    }
    let document = JSONValue.object(
      dataset.document.map { key, value in key == "annotations" ? (key, .array(objects)) : (key, value) })
    do { return try COCODataset(json: document, source: "<copy \(copy)>") } catch {
      throw BenchError(error.description)
    }
  }
}
