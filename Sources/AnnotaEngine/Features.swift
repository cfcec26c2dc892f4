public import AnnotaLinearAlgebra
import AnnotaGeometry
public import AnnotaImage
import AnnotaImageIO
import RealModule

/// Built-in descriptors of an annotation's crop, for teams without their own embeddings.
///
/// The crop (the box, decoded as a region of interest at the coarsest DCT scale that keeps its
/// short side at 32 px or more) is resampled to 32×32 by area averaging, then described by
/// 206 numbers:
/// - 64: joint RGB colour histogram, 4 levels per channel, L1-normalised, square-rooted
///   (Hellinger), so Euclidean distance behaves like a histogram distance;
/// - 128: gradient-orientation histograms (HOG-like) on a 4×4 grid of 8×8 cells, 8 unsigned
///   orientations, magnitude-weighted, each cell L2-normalised then square-rooted;
/// - 12: mean colour of each quadrant (2×2 grid), in [0, 1];
/// - 2: log of the box's aspect ratio and the square root of its share of the image area.
public enum CropDescriptor {
  /// Length of a descriptor.
  public static let length = 64 + 128 + 12 + 2
  static let side = 32

  /// The descriptor of an RGB crop (any size ≥ 1×1) of a box of `boxWidth × boxHeight` in an
  /// image of `imageArea` pixels.
  public static func describe(_ crop: Image, boxWidth: Double, boxHeight: Double, imageArea: Double) -> [Float] {
    let rgb = crop.format == .rgb ? crop : crop.converted(to: .rgb)
    let n = side
    // Area-average resample to n×n (each output pixel averages its source rectangle).
    var px = [Float](repeating: 0, count: n * n * 3)
    for oy in 0..<n {
      let y0 = oy * rgb.height / n
      let y1 = max(y0 + 1, ((oy + 1) * rgb.height + n - 1) / n)
      for ox in 0..<n {
        let x0 = ox * rgb.width / n
        let x1 = max(x0 + 1, ((ox + 1) * rgb.width + n - 1) / n)
        var s: (Int, Int, Int) = (0, 0, 0)
        for y in y0..<min(y1, rgb.height) {
          for x in x0..<min(x1, rgb.width) {
            s.0 += Int(rgb[x, y, 0])
            s.1 += Int(rgb[x, y, 1])
            s.2 += Int(rgb[x, y, 2])
          }
        }
        let count = Float((min(y1, rgb.height) - y0) * (min(x1, rgb.width) - x0))
        let o = (oy * n + ox) * 3
        px[o] = Float(s.0) / count
        px[o + 1] = Float(s.1) / count
        px[o + 2] = Float(s.2) / count
      }
    }
    var out = [Float](repeating: 0, count: length)
    // Colour histogram.
    for i in 0..<(n * n) {
      let r = min(Int(px[i * 3] / 64), 3)
      let g = min(Int(px[i * 3 + 1] / 64), 3)
      let b = min(Int(px[i * 3 + 2] / 64), 3)
      out[r * 16 + g * 4 + b] += 1
    }
    for i in 0..<64 { out[i] = (out[i] / Float(n * n)).squareRoot() }
    // Gradient orientations on grey.
    var gray = [Float](repeating: 0, count: n * n)
    for i in 0..<(n * n) { gray[i] = (px[i * 3] + 2 * px[i * 3 + 1] + px[i * 3 + 2]) / 4 }
    let cell = n / 4
    for y in 0..<n {
      for x in 0..<n {
        let gx = gray[y * n + min(x + 1, n - 1)] - gray[y * n + max(x - 1, 0)]
        let gy = gray[min(y + 1, n - 1) * n + x] - gray[max(y - 1, 0) * n + x]
        let magnitude = (gx * gx + gy * gy).squareRoot()
        if magnitude == 0 { continue }
        // Unsigned orientation in [0, π) → 8 bins.
        var angle = Float.atan2(y: gy, x: gx)
        if angle < 0 { angle += Float.pi }
        let bin = min(Int(angle / Float.pi * 8), 7)
        out[64 + ((y / cell) * 4 + x / cell) * 8 + bin] += magnitude
      }
    }
    for c in 0..<16 {
      let base = 64 + c * 8
      var norm: Float = 0
      for b in 0..<8 { norm += out[base + b] * out[base + b] }
      norm = norm.squareRoot() + 1e-3
      for b in 0..<8 { out[base + b] = (out[base + b] / norm).squareRoot() }
    }
    // Quadrant colours.
    let half = n / 2
    for q in 0..<4 {
      let qx = (q % 2) * half
      let qy = (q / 2) * half
      for ch in 0..<3 {
        var s: Float = 0
        for y in qy..<(qy + half) { for x in qx..<(qx + half) { s += px[(y * n + x) * 3 + ch] } }
        out[192 + q * 3 + ch] = s / Float(half * half) / 255
      }
    }
    out[204] = Float(Double.log(max(boxWidth, 1) / max(boxHeight, 1)))
    out[205] = Float((boxWidth * boxHeight / max(imageArea, 1)).squareRoot())
    return out
  }
}

/// What `features` produced.
public struct FeatureResult: Sendable {
  /// One row per described annotation, in annotation order.
  public var features: Matrix<Float>
  /// For each row: annotation id, image id, category id (if any).
  public var ids: [(annotation: Int64, image: Int64, category: Int64?)]
  /// Category names by id.
  public var categories: [Int64: String]
  /// Annotations that could not be described (missing image, undecodable file, no box).
  public var issues: [COCOIssue]

  /// `index,annotation_id,image_id,category_id`.
  public var idsCSV: String {
    var out = "index,annotation_id,image_id,category_id\n"
    for (i, r) in ids.enumerated() {
      out += "\(i),\(r.annotation),\(r.image),\(r.category.map(String.init) ?? "")\n"
    }
    return out
  }

  /// `index,label` with category names (ids when a category has no name); rows without a
  /// category are left out.
  public var labelsCSV: String {
    var out = "index,label\n"
    for (i, r) in ids.enumerated() {
      guard let c = r.category else { continue }
      out += "\(i),\(LabelFile.csvField(categories[c] ?? String(c)))\n"
    }
    return out
  }
}

extension COCODataset {
  /// Descriptors of every annotation with a box (crowd regions too when `includeCrowd`),
  /// decoding each image's file once and each box as a DCT-scaled region of interest, images in
  /// parallel on `runner`. Output order is annotation order, whatever the thread count.
  public func cropFeatures(
    imagesDirectory: String, includeCrowd: Bool, runner: BatchRunner, progress: ProgressReporter?
  ) async -> FeatureResult {
    let groups = annotationsByImage()
    struct Row: Sendable {
      var annotationIndex: Int
      var descriptor: [Float]
      var annotation: Int64
      var image: Int64
      var category: Int64?
    }
    let images = self.images
    let imageIndex = self.imageIndex
    var rows: [Row] = []
    var issues: [COCOIssue] = []
    await runner.forEach(groups, { (imageID, annotations) -> ([Row], [COCOIssue]) in
      var out: [Row] = []
      var problems: [COCOIssue] = []
      let wanted = annotations.filter { a in
        guard includeCrowd || !a.isCrowd else { return false }
        guard let b = a.bbox, b.width >= 1, b.height >= 1 else {
          problems.append(COCOIssue(path: a.path + ".bbox", annotationID: a.id, message: "no box of at least 1×1 pixel: not described"))
          return false
        }
        return true
      }
      if wanted.isEmpty { return ([], problems) }
      guard let ii = imageIndex[imageID] else {
        for a in wanted { problems.append(COCOIssue(path: a.path + ".image_id", annotationID: a.id, message: "image \(imageID) is not in the file")) }
        return ([], problems)
      }
      let image = images[ii]
      guard let name = image.fileName else {
        for a in wanted { problems.append(COCOIssue(path: "images[\(image.index)].file_name", annotationID: a.id, message: "image \(imageID) has no file_name")) }
        return ([], problems)
      }
      let file = imagesDirectory.hasSuffix("/") ? imagesDirectory + name : imagesDirectory + "/" + name
      let bytes: [UInt8]
      do { bytes = try FileIO.read(file) } catch {
        for a in wanted { problems.append(COCOIssue(path: "images[\(image.index)].file_name", annotationID: a.id, message: "\(error)")) }
        return ([], problems)
      }
      for a in wanted {
        let b = a.bbox!
        let x0 = max(0, Int(b.x.rounded(.down)))
        let y0 = max(0, Int(b.y.rounded(.down)))
        let x1 = min(image.width, Int((b.x + b.width).rounded(.up)))
        let y1 = min(image.height, Int((b.y + b.height).rounded(.up)))
        guard x1 > x0 && y1 > y0 else {
          problems.append(COCOIssue(path: a.path + ".bbox", annotationID: a.id, message: "box \(b) lies outside the \(image.width)x\(image.height) image"))
          continue
        }
        let rect = PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
        let short = min(rect.width, rect.height)
        let scale: DecodeScale = short >= 256 ? .eighth : short >= 128 ? .quarter : short >= 64 ? .half : .full
        do {
          let decoded = try ImageDecoder.decode(bytes, options: DecodeOptions(scale: scale, region: rect))
          // The decoded region (in scaled coordinates) covers the box; crop the box out of it.
          let s = scale.denominator
          let r = decoded.region
          let cx0 = min(max(rect.x / s - r.x, 0), decoded.image.width - 1)
          let cy0 = min(max(rect.y / s - r.y, 0), decoded.image.height - 1)
          let cx1 = min(max((rect.x + rect.width + s - 1) / s - r.x, cx0 + 1), decoded.image.width)
          let cy1 = min(max((rect.y + rect.height + s - 1) / s - r.y, cy0 + 1), decoded.image.height)
          let crop = decoded.image.cropped(
            to: PixelRect(x: cx0, y: cy0, width: cx1 - cx0, height: cy1 - cy0))
          out.append(Row(
            annotationIndex: a.index,
            descriptor: CropDescriptor.describe(
              crop, boxWidth: b.width, boxHeight: b.height,
              imageArea: Double(image.width * image.height)),
            annotation: a.id, image: imageID, category: a.categoryID))
        } catch {
          problems.append(COCOIssue(path: "images[\(image.index)].file_name", annotationID: a.id, message: "\(file): \(error)"))
          break
        }
      }
      return (out, problems)
    }) { _, result in
      if case .success(let (r, p)) = result {
        rows += r
        issues += p
        progress?.advance(failed: !p.isEmpty)
      }
    }
    rows.sort { $0.annotationIndex < $1.annotationIndex }
    var storage: [Float] = []
    storage.reserveCapacity(rows.count * CropDescriptor.length)
    for r in rows { storage += r.descriptor }
    return FeatureResult(
      features: Matrix(rows: rows.count, columns: CropDescriptor.length, storage: storage),
      ids: rows.map { ($0.annotation, $0.image, $0.category) }, categories: categories,
      issues: issues)
  }
}
