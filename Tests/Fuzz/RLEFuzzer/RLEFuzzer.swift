// libFuzzer harness for the compressed RLE string decoder and the RLE operations that follow it.
// Build and run like the decode fuzzer (Tests/Fuzz/run-fuzz.sh rle).
// In a plain build this links as a harmless executable that does nothing.
import AnnotaGeometry

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRLE(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  guard size >= 2 else { return 0 }
  // The first two bytes choose the mask size; the rest is the string.
  let h = Int(data[0] % 64), w = Int(data[1] % 64)
  let text = String(decoding: UnsafeBufferPointer(start: data + 2, count: size - 2), as: UTF8.self)
  guard let rle = try? RLE(height: h, width: w, compressed: text) else { return 0 }
  // A string that parses must re-encode to a string that parses to the same counts, and every
  // operation must keep the invariants.
  precondition(rle.counts.reduce(0, +) == h * w)
  let again = try! RLE(height: h, width: w, compressed: rle.compressedString)
  precondition(again == rle)
  let mask = rle.decoded()
  precondition(RLE(mask).area == rle.area)
  precondition(rle.iou(rle) == (rle.area > 0 ? 1 : 0))
  let union = RLE.union([rle, RLE.full(height: h, width: w)])
  precondition(union.area == h * w)
  let box = rle.boundingBox
  precondition(box.width >= 0 && box.height >= 0)
  let rings = rle.polygons()
  let traced = Polygon(rings: rings)
  let back = traced.rle(height: h, width: w)
  precondition(back.area == rle.area)
  // Straight to intervals (as iou and agree rasterize): the same pixels, area and box.
  let direct = traced.maskIntervals(height: h, width: w)
  precondition(direct.intervals == back.intervals && direct.area == back.area && direct.box == back.boundingBox)
  return 0
}
