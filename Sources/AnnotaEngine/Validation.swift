import AnnotaGeometry
import AnnotaImageIO

/// `annota validate`: a lint of a COCO file.
public enum Validation {
  /// Relative and absolute tolerance for `area` against the mask's pixel count. COCO's own
  /// `area` is the polygon's geometric area, not its pixel count: on coco-val-mini the two differ
  /// by 0.2% (median), 1.8% (90th percentile) and 7.6% (99th), so only larger gaps are flagged.
  public static let areaRelativeTolerance = 0.2
  public static let areaAbsoluteTolerance = 4.0

  /// Checks every record; with `imagesDirectory`, also that each image file exists, decodes its
  /// header, and has the size the file claims (headers are read in parallel).
  ///
  /// Errors: unparsable records, duplicate ids, dangling image or category ids, boxes with
  /// non-positive size or outside the image, polygons with fewer than 3 points or non-finite
  /// coordinates, bad RLE, missing or unreadable images, sizes that differ from the header.
  /// Warnings: an `area` far from the mask's pixel count, a polygon that covers no pixel.
  ///
  /// - Returns: problems ordered by JSON path.
  public static func run(
    _ dataset: COCODataset, imagesDirectory: String?, runner: BatchRunner,
    progress: ProgressReporter? = nil
  ) async -> [COCOIssue] {
    var issues = dataset.issues
    let categoriesKnown = !dataset.categories.isEmpty
    for annotation in dataset.annotations {
      let path = annotation.path
      let id = annotation.id
      let image = dataset.image(of: annotation)
      if image == nil {
        issues.append(COCOIssue(path: path + ".image_id", annotationID: id,
                                message: "image \(annotation.imageID) is not in images"))
      }
      if let category = annotation.categoryID {
        if categoriesKnown && dataset.categories[category] == nil {
          issues.append(COCOIssue(path: path + ".category_id", annotationID: id,
                                  message: "category \(category) is not in categories"))
        }
      } else {
        issues.append(COCOIssue(path: path + ".category_id", annotationID: id,
                                message: "missing or non-integer category_id"))
      }
      if let box = annotation.bbox {
        if box.width <= 0 || box.height <= 0 {
          issues.append(COCOIssue(path: path + ".bbox", annotationID: id,
                                  message: "box has non-positive size \(box.width)x\(box.height)"))
        } else if let image,
          box.x < 0 || box.y < 0 || box.x + box.width > Double(image.width)
            || box.y + box.height > Double(image.height)
        {
          issues.append(COCOIssue(path: path + ".bbox", annotationID: id,
                                  message: "box \(box) reaches outside the \(image.width)x\(image.height) image"))
        }
      }
      guard image != nil || annotation.segmentation.map({ !$0.isPolygon }) == true
      else { continue }
      let mask: RLE?
      do { mask = try dataset.mask(of: annotation) } catch {
        issues.append(error)
        continue
      }
      guard let mask else { continue }
      if annotation.segmentation?.isPolygon == true, mask.area == 0 {
        issues.append(COCOIssue(.warning, path: path + ".segmentation", annotationID: id,
                                message: "polygon covers no pixel"))
      }
      if let area = annotation.area {
        let pixels = Double(mask.area)
        if abs(area - pixels) > max(areaAbsoluteTolerance, areaRelativeTolerance * pixels) {
          issues.append(COCOIssue(.warning, path: path + ".area", annotationID: id,
                                  message: "area \(area) is far from the mask's \(mask.area) pixels"))
        }
      }
    }

    if let directory = imagesDirectory {
      let images = dataset.images
      await runner.forEach(images, { image -> COCOIssue? in
        let path = "images[\(image.index)]"
        guard let name = image.fileName else {
          return COCOIssue(path: path + ".file_name", message: "image \(image.id) has no file_name")
        }
        let file = directory.hasSuffix("/") ? directory + name : directory + "/" + name
        do {
          let info = try ImageFiles.info(file)
          if info.width != image.width || info.height != image.height {
            return COCOIssue(path: path, message: "\(file) is \(info.width)x\(info.height), but the file says \(image.width)x\(image.height)")
          }
          return nil
        } catch {
          return COCOIssue(path: path + ".file_name", message: "\(error)")
        }
      }) { _, result in
        if case .success(let issue?) = result { issues.append(issue) }
        progress?.advance(failed: (try? result.get()) != nil)
      }
    }
    return issues.sorted(by: pathOrder)
  }

  /// Orders JSON paths by section, then numerically by index, then by the rest.
  static func pathOrder(_ a: COCOIssue, _ b: COCOIssue) -> Bool {
    func key(_ path: String) -> (String, Int, String) {
      guard let open = path.firstIndex(of: "["), let close = path.firstIndex(of: "]"), open < close,
        let index = Int(path[path.index(after: open)..<close])
      else { return (path, -1, "") }
      return (String(path[..<open]), index, String(path[path.index(after: close)...]))
    }
    let ka = key(a.path), kb = key(b.path)
    if ka.0 != kb.0 { return ka.0 < kb.0 }
    if ka.1 != kb.1 { return ka.1 < kb.1 }
    return ka.2 < kb.2
  }
}
