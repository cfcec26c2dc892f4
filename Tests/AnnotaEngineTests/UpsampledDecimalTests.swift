import AnnotaGeometry
@testable import AnnotaEngine
import Testing

/// Polygon coordinates read straight into pycocotools' upsampled integers (`UpsampledPolygon`).
@Suite("Decimals upsampled from their digits")
struct UpsampledDecimalTests {
  /// `upsample` of the text's double (the C library's correctly rounded reading).
  static func viaDouble(_ text: String) -> Int { PolygonRasterizer.upsample(Double(text)!) }

  /// The text of `m / 10^f` with exactly `f` fraction digits.
  static func text(_ m: UInt64, _ f: Int) -> String {
    var digits = String(m)
    if digits.count <= f { digits = String(repeating: "0", count: f - digits.count + 1) + digits }
    digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -f))
    return digits
  }

  @Test("from the digits: equal to upsampling the double, or left to it, for random and near-tie decimals")
  func upsampledDecimal() {
    var rng = SplitMix64(seed: 5)
    var exact = 0, left = 0
    func check(_ m: UInt64, _ f: Int) {
      let t = Self.text(m, f)
      if let u = JSONReader.upsampledDecimal(mantissa: m, fractionLength: f) {
        exact += 1
        #expect(u == Self.viaDouble(t), "\(t)")
      } else {
        left += 1
      }
    }
    let limit = (0...15).map { f in (0..<f).reduce(UInt64(1)) { v, _ in v * 10 } }
    for _ in 0..<100_000 {
      // Up to 7 integer digits and 1...15 fraction digits, at most 19 digits in all (the scanner's
      // numbers), and 17-digit ones as JSON writers print doubles.
      let f = Int.random(in: 1...15, using: &rng)
      let integerDigits = Int.random(in: 1...min(7, 19 - f), using: &rng)
      let m = UInt64.random(in: 0..<(limit[integerDigits] * limit[f]), using: &rng)
      check(m, f)
      let d = Double.random(in: 0..<[1, 100, 1000, 1e5, 1e7][Int.random(in: 0...4, using: &rng)], using: &rng)
      let printed = "\(d)"
      if let point = printed.firstIndex(of: "."), !printed.contains("e") {
        let fraction = printed[printed.index(after: point)...]
        if fraction.count <= 15, let mm = UInt64(printed.replacingOccurrences(of: ".", with: "")) {
          check(mm, fraction.count)
        }
      }
    }
    // Most random decimals are decided from the digits.
    #expect(exact > 20 * left, "exact \(exact), left \(left)")
    // Near ties: 5v + 1/2 within a few units of the last digit of an integer k.
    for _ in 0..<100_000 {
      let f = Int.random(in: 1...15, using: &rng)
      let k = UInt64.random(in: 0...(f >= 12 ? 8_000 : 5_000_000), using: &rng)
      // m with 5m + 5·10^(f-1) near k·10^f: m ≈ (k·10^f - 5·10^(f-1)) / 5 = k·2·10^(f-1) - 10^(f-1).
      let centre = k * 2 * limit[f - 1]
      guard centre >= limit[f - 1] else { continue }
      let base = centre - limit[f - 1]
      for delta in -3...3 {
        let m = UInt64(Int64(base) + Int64(delta))
        check(m, f)
        check(m + limit[f] / 10 * UInt64(Int.random(in: 0...9, using: &rng)), f)
      }
    }
    // Short decimals on the tie grid (x.1, x.3, ...: 5v + 1/2 an integer) are left to the doubles.
    for (m, f) in [(1, 1), (123, 1), (75, 1), (3, 1), (1_300_000, 6)] as [(UInt64, Int)] {
      #expect(JSONReader.upsampledDecimal(mantissa: m, fractionLength: f) == nil, "\(Self.text(m, f))")
    }
    #expect(JSONReader.upsampledDecimal(mantissa: 74, fractionLength: 1) == Self.viaDouble("7.4"))
    #expect(JSONReader.upsampledDecimal(mantissa: 0, fractionLength: 9) == 0)
  }


  @Test("polygon coordinates read from their text: the upsampled doubles, near steps of the result too")
  func coordinatesFromText() throws {
    var rng = SplitMix64(seed: 9)
    let limit = (0...15).map { f in (0..<f).reduce(UInt64(1)) { v, _ in v * 10 } }
    var texts: [String] = []
    // Random decimals: 1...7 integer digits, 1...15 fraction digits, at most 19 digits.
    for _ in 0..<20_000 {
      let f = Int.random(in: 1...15, using: &rng)
      let integerDigits = Int.random(in: 1...min(7, 19 - f), using: &rng)
      texts.append(Self.text(UInt64.random(in: 0..<(limit[integerDigits] * limit[f]), using: &rng), f))
    }
    // Near a step of 5v + 1/2 (v = k/10 for an odd k, the first fraction digit odd): the six
    // digits after the first all 0 or all 9, or one unit of the seventh off either side, with
    // and without digits after them, and short fractions on the step.
    for _ in 0..<5_000 {
      let integer = String(UInt64.random(in: 0..<limit[Int.random(in: 1...7, using: &rng)], using: &rng))
      let d = Int.random(in: 0...9, using: &rng)
      let tail = ["", "1", "9", "5", "12345678", "00000000", "99999999"][Int.random(in: 0...6, using: &rng)]
      for six in ["000000", "999999", "000001", "999998", "100000", "899999", "000009", "900000"] {
        texts.append("\(integer).\(d)\(six)\(tail)")  // (past 19 digits, read the general way)
      }
      for short in ["", "0", "00", "000", "0000", "00000", "9", "99", "999", "9999", "99999", "5"] {
        texts.append("\(integer).\(d)\(short)")
      }
    }
    // Rings of 8 numbers, in documents of 500 annotations, spaced both ways JSON writers do.
    var doubles: [[Double]] = []
    var annotations: [String] = []
    var checked = 0
    func flush() throws {
      let document = "{\"images\":[{\"id\":1,\"width\":40,\"height\":30}],\"annotations\":[\(annotations.joined(separator: ","))]}"
      let dataset = try Array(document.utf8).withUnsafeBufferPointer { buffer in
        try COCODataset.parse(buffer, source: "doc.json", keepingAnnotationObjects: false)
      }
      #expect(dataset.annotations.count == doubles.count)
      for (annotation, ring) in zip(dataset.annotations, doubles) {
        guard case .upsampledPolygons(let polygon)? = annotation.segmentation else {
          Issue.record("annotation \(annotation.id) not read as upsampled coordinates")
          continue
        }
        #expect(polygon == UpsampledPolygon(Polygon(rings: [ring])), "\(ring)")
        checked += ring.count
      }
      doubles = []
      annotations = []
    }
    var k = 0
    while k + 8 <= texts.count {
      let ring = Array(texts[k ..< k + 8])
      let separator = k % 16 == 0 ? ", " : ","
      annotations.append("{\"id\":\(k + 1),\"image_id\":1,\"segmentation\":[[\(ring.joined(separator: separator))]]}")
      doubles.append(ring.map { Double($0)! })
      if annotations.count == 500 { try flush() }
      k += 8
    }
    try flush()
    #expect(checked >= texts.count - 8)
  }

}
