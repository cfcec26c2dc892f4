import AnnotaGeometry
import Foundation
import Testing

@Suite("Bit-exact against pycocotools (golden vectors)")
struct GoldenTests {
  @Test("the golden file is present")
  func present() {
    #expect(cases("polygons").count >= 300)
    #expect(cases("encode").count >= 40)
  }

  @Test("mask encoding: counts, string, area, bbox", arguments: cases("encode"))
  func encode(_ c: Case) throws {
    let bits = (c["bits"] as! String).utf8.map { $0 == UInt8(ascii: "1") ? UInt8(1) : 0 }
    let rle = RLE(Mask(height: c.h, width: c.w, columnMajor: bits))
    #expect(rle.counts == numbers(c["counts"]!).map { Int($0) })
    #expect(rle.compressedString == c["string"] as! String)
    #expect(rle.area == c["area"] as! Int)
    #expect(rle.boundingBox.array == c.doubles("bbox"))
    #expect(rle.decoded().bits == bits)
    #expect(try RLE(height: c.h, width: c.w, compressed: c["string"] as! String) == rle)
  }

  @Test("compressed strings both ways", arguments: cases("strings"))
  func strings(_ c: Case) throws {
    let rle = try RLE(height: c.h, width: c.w, counts: numbers(c["counts"]!).map { Int($0) })
    #expect(rle.compressedString == c["string"] as! String)
    #expect(try RLE(height: c.h, width: c.w, compressed: c["string"] as! String).counts == rle.counts)
  }

  @Test("polygons rasterize exactly as frPyObjects + merge", arguments: cases("polygons"))
  func polygons(_ c: Case) {
    let rings = (c["rings"] as! [Any]).map(numbers)
    let rle = Polygon(rings: rings).rle(height: c.h, width: c.w)
    #expect(rle.compressedString == c["string"] as! String)
    #expect(rle.area == c["area"] as! Int)
    #expect(rle.boundingBox.array == c.doubles("bbox"))
  }

  @Test("boxes rasterize exactly as frBbox", arguments: cases("boxes"))
  func boxes(_ c: Case) {
    let b = c.doubles("box")
    let rle = Box(x: b[0], y: b[1], width: b[2], height: b[3]).rle(height: c.h, width: c.w)
    #expect(rle.compressedString == c["string"] as! String)
    #expect(rle.area == c["area"] as! Int)
  }

  @Test("merge: union and intersection", arguments: cases("merges"))
  func merges(_ c: Case) throws {
    let masks = try (c["rles"] as! [String]).map { try RLE(height: c.h, width: c.w, compressed: $0) }
    #expect(RLE.union(masks).compressedString == c["union"] as! String)
    #expect(RLE.intersection(masks).compressedString == c["intersection"] as! String)
  }

  @Test("mask IoU matrix with crowd, bit-identical doubles", arguments: cases("ious"))
  func ious(_ c: Case) throws {
    let dt = try (c["dt"] as! [String]).map { try RLE(height: c.h, width: c.w, compressed: $0) }
    let gt = try (c["gt"] as! [String]).map { try RLE(height: c.h, width: c.w, compressed: $0) }
    let crowd = numbers(c["iscrowd"]!).map { $0 != 0 }
    let expected = (c["iou"] as! [Any]).map(numbers)
    #expect(RLESet(dt).iouMatrix(RLESet(gt), crowd: crowd) == expected)
    for d in dt.indices {
      for g in gt.indices { #expect(dt[d].iou(gt[g], crowd: crowd[g]) == expected[d][g]) }
    }
  }

  @Test("box IoU matrix with crowd", arguments: cases("bbox_ious"))
  func boxIous(_ c: Case) {
    func boxes(_ key: String) -> [Box] {
      (c[key] as! [Any]).map(numbers).map { Box(x: $0[0], y: $0[1], width: $0[2], height: $0[3]) }
    }
    let crowd = numbers(c["iscrowd"]!).map { $0 != 0 }
    let expected = (c["iou"] as! [Any]).map(numbers)
    #expect(Box.iouMatrix(boxes("dt"), boxes("gt"), crowd: crowd) == expected)
  }
}
