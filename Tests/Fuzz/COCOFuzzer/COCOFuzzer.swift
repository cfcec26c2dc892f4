// libFuzzer harness for the JSON reader and the COCO dataset model built on it.
// Build and run like the decode fuzzer (Tests/Fuzz/run-fuzz.sh coco).
// In a plain build this links as a harmless executable that does nothing.
import AnnotaEngine
import AnnotaGeometry

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCOCO(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  // Reading without the annotation objects (as `iou` and `agree` do) gives the same result.
  let both = [true, false].map { keep in
    bytes.withUnsafeBufferPointer { text in
      Result { () throws(COCOFileError) in try COCODataset.parse(text, keepingAnnotationObjects: keep) }
    }
  }
  switch (both[0], both[1]) {
  case (.success(let full), .success(let typed)):
    precondition(full.issues == typed.issues && full.images == typed.images && full.categories == typed.categories)
    // The typed reading keeps polygons as their upsampled integers, all the rasterizer reads.
    func comparable(_ a: COCOAnnotation) -> String {
      var a = a
      if case .polygons(let polygon)? = a.segmentation { a.segmentation = .upsampledPolygons(UpsampledPolygon(polygon)) }
      return "\(a)"
    }
    precondition(full.annotations.map(comparable) == typed.annotations.map(comparable))
  case (.failure(let a), .failure(let b)): precondition(a.description == b.description)
  default: preconditionFailure("the two readings disagree: \(both)")
  }
  guard let value = try? JSONReader.parse(bytes) else { return 0 }
  // Whatever parses must write back to text that parses to the same value.
  let text = value.serialized()
  let again = try! JSONReader.parse(text)
  precondition(again.serialized() == text)
  guard let dataset = try? COCODataset(json: value) else { return 0 }
  for annotation in dataset.annotations {
    // Rasterize only small images so the fuzzer explores parsing, not huge allocations.
    if let image = dataset.image(of: annotation), image.width * image.height > 1 << 16 { continue }
    if let mask = try? dataset.mask(of: annotation) {
      _ = mask.boundingBox
      // The mask written as a COCO compressed RLE reads back as the same mask.
      let written = mask.cocoJSON.serialized()
      guard case .string(let counts)? = try! JSONReader.parse(written)["counts"] else {
        preconditionFailure("cocoJSON without counts: \(written)")
      }
      precondition(try! RLE(height: mask.height, width: mask.width, compressed: counts) == mask)
    }
  }
  // The document written back (as `annota masks` does) reads back to the same text.
  let document = dataset.document(replacingAnnotations: [:]).serialized()
  precondition(try! JSONReader.parse(document).serialized() == document)
  return 0
}
