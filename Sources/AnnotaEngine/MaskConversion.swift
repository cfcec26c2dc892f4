import AnnotaGeometry

/// What `annota masks` converts segmentations to.
public enum MaskFormat: String, Sendable, CaseIterable {
  /// COCO compressed RLE, `{"size": [h, w], "counts": "..."}`.
  case rle
  /// Polygon rings traced from the mask (exact: they rasterize back to the same mask).
  case polygon
}

/// The result of converting a dataset's segmentations.
public struct MaskConversionResult: Sendable {
  /// The output document: every field of the input, with converted annotations.
  public var document: JSONValue
  /// Annotations converted (area and bbox recomputed).
  public var converted = 0
  /// Annotations left as they were (no segmentation; crowd or empty masks for `polygon`).
  public var unchanged = 0
  /// Problems, in file order; errors mean the annotation was left unchanged.
  public var issues: [COCOIssue] = []
}

/// `annota masks`: every segmentation converted to one format, `area` and `bbox` recomputed from
/// the mask exactly as pycocotools computes them (`area(annToRLE(ann))`, `toBbox(...)`).
public enum MaskConversion {
  /// Converts every annotation of `dataset`, in parallel over images.
  ///
  /// Polygons become RLE exactly as pycocotools' `annToRLE` (rasterized on the image's size, rings
  /// merged); uncompressed RLE is compressed; compressed RLE is re-encoded from its counts. For
  /// `.polygon`, RLE masks are traced into rings; crowd annotations and empty masks stay RLE (COCO
  /// defines crowd regions as RLE, and pycocotools cannot read an empty polygon list), polygons
  /// stay as they are.
  public static func run(
    _ dataset: COCODataset, to format: MaskFormat, runner: BatchRunner,
    progress: ProgressReporter? = nil
  ) async -> MaskConversionResult {
    let groups = dataset.annotationsByImage()
    var result = MaskConversionResult(document: .null)
    var replacements: [Int: JSONValue] = [:]
    await runner.forEach(groups, { group -> [(Int, Result<JSONValue?, COCOIssue>)] in
      group.1.map { annotation in
        (annotation.index, convert(annotation, in: dataset, to: format))
      }
    }) { _, outcome in
      // The transform never throws: per-annotation failures are inside the result.
      guard case .success(let items) = outcome else { return }
      var failed = false
      for (index, item) in items {
        switch item {
        case .success(let object?):
          replacements[index] = object
          result.converted += 1
        case .success(nil):
          result.unchanged += 1
        case .failure(let issue):
          result.issues.append(issue)
          failed = true
        }
      }
      progress?.advance(failed: failed)
    }
    result.issues.insert(contentsOf: dataset.issues, at: 0)
    result.issues.sort(by: Validation.pathOrder)
    result.document = dataset.document(replacingAnnotations: replacements)
    return result
  }

  /// The converted annotation object, `nil` if it stays as it is.
  static func convert(_ annotation: COCOAnnotation, in dataset: COCODataset, to format: MaskFormat)
    -> Result<JSONValue?, COCOIssue>
  {
    let mask: RLE, box: Box
    do {
      guard let found = try dataset.maskWithBox(of: annotation) else { return .success(nil) }
      (mask, box) = found
    } catch {
      return .failure(error)
    }
    var object = dataset.annotationObjects[annotation.index]
    switch format {
    case .rle:
      object = object.setting("segmentation", mask.cocoJSON)
    case .polygon:
      if annotation.segmentation?.isPolygon == true {
        // Already polygons: keep them; only area and bbox are recomputed.
      } else if annotation.isCrowd || mask.area == 0 {
        object = object.setting("segmentation", mask.cocoJSON)
      } else {
        let rings = mask.polygons()
        object = object.setting("segmentation", .array(rings.map { .numbers($0, integral: false) }))
      }
    }
    object = object.setting("area", .double(Double(mask.area)))
    object = object.setting("bbox", box.cocoJSON)
    return .success(object)
  }
}
