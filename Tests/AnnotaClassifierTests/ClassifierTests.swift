import AnnotaClassifier
import AnnotaEngine
import AnnotaGeometry
import AnnotaLinearAlgebra
import Foundation
import Testing

/// Gaussian noise from SplitMix64 (Box–Muller), for reproducible synthetic problems.
struct Gaussian {
  var rng: SplitMix64
  init(seed: UInt64) { rng = SplitMix64(seed: seed) }
  mutating func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
  mutating func next() -> Double {
    let u = max(uniform(), 1e-300)
    return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * uniform())
  }
}

/// `classes` Gaussian clusters in `d` dimensions, `n` rows, separation `sep`; features get
/// different scales and offsets so standardisation matters.
func blobs(n: Int, d: Int, classes: Int, sep: Double, seed: UInt64) -> (Matrix<Float>, [Int]) {
  var g = Gaussian(seed: seed)
  let centres = (0..<classes).map { _ in (0..<d).map { _ in g.next() * sep } }
  var x = Matrix<Float>(rows: n, columns: d)
  var y = [Int](repeating: 0, count: n)
  for i in 0..<n {
    let c = i % classes
    y[i] = c
    for j in 0..<d { x[i, j] = Float((centres[c][j] + g.next()) * Double(j + 1) + Double(10 * j)) }
  }
  return (x, y)
}

@Suite("Softmax regression")
struct SoftmaxTests {
  @Test("the analytic gradient matches central finite differences")
  func gradientCheck() {
    let (x, y) = blobs(n: 60, d: 5, classes: 3, sep: 1, seed: 1)
    let stats = Standardizer(fitting: x)
    let xs = stats.transform(x, rows: Array(0..<60))
    var weights = [Float](repeating: 1, count: 60)
    for i in 0..<60 where y[i] == 2 { weights[i] = 2.5 }
    var objective = SoftmaxObjectiveProbe(x: xs, labels: y, classes: 3, sampleWeights: weights, c: 0.7)
    var g = Gaussian(seed: 9)
    let p = (0..<18).map { _ in g.next() * 0.5 }
    var grad = [Double](repeating: 0, count: 18)
    _ = objective.evaluate(p, gradient: &grad)
    var scratch = grad
    for i in 0..<18 {
      var plus = p
      var minus = p
      let h = 1e-3
      plus[i] += h
      minus[i] -= h
      let numeric = (objective.evaluate(plus, gradient: &scratch) - objective.evaluate(minus, gradient: &scratch)) / (2 * h)
      // Float32 GEMMs: agreement to ~1e-4 absolute on O(0.1) components.
      #expect(abs(numeric - grad[i]) < 2e-4, "component \(i): numeric \(numeric), analytic \(grad[i])")
    }
  }

  @Test("L-BFGS minimises the Rosenbrock function")
  func rosenbrock() {
    var options = LBFGS.Options()
    options.gradientTolerance = 1e-8
    options.relativeDecrease = 0
    options.maxIterations = 500
    let result = LBFGS(options: options).minimize(from: [-1.2, 1]) { x, g in
      let a = 1 - x[0]
      let b = x[1] - x[0] * x[0]
      g[0] = -2 * a - 400 * x[0] * b
      g[1] = 200 * b
      return a * a + 100 * b * b
    }
    #expect(result.converged)
    #expect(abs(result.x[0] - 1) < 1e-5 && abs(result.x[1] - 1) < 1e-5, "\(result.x)")
  }

  @Test("fits separable blobs, converges, and a warm start from the answer needs few iterations")
  func fitAndWarmStart() {
    let (x, y) = blobs(n: 600, d: 8, classes: 4, sep: 3, seed: 2)
    let rows = Array(0..<600)
    let (model, report) = SoftmaxRegression.fit(x, rows: rows, labels: y, classes: 4)
    #expect(report.converged)
    let predicted = model.predict(x)
    let accuracy = Double(zip(predicted, y).filter { $0 == $1 }.count) / 600
    #expect(accuracy > 0.97)
    let (again, warmReport) = SoftmaxRegression.fit(x, rows: rows, labels: y, classes: 4, warmStart: model)
    #expect(warmReport.iterations * 4 < max(report.iterations, 4), "cold \(report.iterations), warm \(warmReport.iterations)")
    let p0 = model.probabilities(x)
    let p1 = again.probabilities(x)
    let diff = zip(p0.storage, p1.storage).map { abs($0 - $1) }.max()!
    #expect(diff < 1e-3)
  }

  @Test("same data, same model: bit-identical fits")
  func deterministic() {
    let (x, y) = blobs(n: 300, d: 6, classes: 3, sep: 1, seed: 3)
    let a = SoftmaxRegression.fit(x, rows: Array(0..<300), labels: y, classes: 3).model
    let b = SoftmaxRegression.fit(x, rows: Array(0..<300), labels: y, classes: 3).model
    #expect(a == b)
  }

  @Test("balanced class weights raise recall of a rare class")
  func classWeights() {
    // 95% class 0, 5% class 1, overlapping.
    var g = Gaussian(seed: 4)
    var x = Matrix<Float>(rows: 2000, columns: 2)
    var y = [Int](repeating: 0, count: 2000)
    for i in 0..<2000 {
      y[i] = i % 20 == 0 ? 1 : 0
      x[i, 0] = Float(g.next() + (y[i] == 1 ? 1.5 : 0))
      x[i, 1] = Float(g.next())
    }
    func recall(_ w: ClassWeighting) -> Double {
      var o = TrainingOptions()
      o.classWeighting = w
      let m = SoftmaxRegression.fit(x, rows: Array(0..<2000), labels: y, classes: 2, options: o).model
      let p = m.predict(x)
      let rare = (0..<2000).filter { y[$0] == 1 }
      return Double(rare.filter { p[$0] == 1 }.count) / Double(rare.count)
    }
    #expect(recall(.balanced) > recall(.none) + 0.3)
  }
}

@Suite("Calibration and uncertainty")
struct CalibrationTests {
  @Test("temperature scaling recovers an over-confidence factor and lowers ECE")
  func temperature() {
    // Labels drawn from softmax(z); the model reports z·4 (over-confident).
    var g = Gaussian(seed: 5)
    let n = 4000
    var logits = Matrix<Float>(rows: n, columns: 3)
    var labels = [Int](repeating: 0, count: n)
    for i in 0..<n {
      var z = (0..<3).map { _ in g.next() }
      let m = z.max()!
      let e = z.map { exp($0 - m) }
      let s = e.reduce(0, +)
      var u = g.uniform() * s
      labels[i] = 2
      for c in 0..<3 {
        u -= e[c]
        if u <= 0 { labels[i] = c; break }
      }
      z = z.map { $0 * 4 }
      for c in 0..<3 { logits[i, c] = Float(z[c]) }
    }
    let t = TemperatureScaling.fit(logits: logits, labels: labels)
    #expect(abs(t - 4) < 0.4, "fitted temperature \(t)")
    var before = logits
    Softmax.apply(&before)
    var after = logits
    Softmax.apply(&after, temperature: t)
    let b = CalibrationSummary(probabilities: before, labels: labels)
    let a = CalibrationSummary(probabilities: after, labels: labels)
    #expect(b.ece > 0.15)
    #expect(a.ece < 0.03, "ECE after \(a.ece)")
    #expect(a.accuracy == b.accuracy)
    #expect(a.bins.map(\.count).reduce(0, +) == n)
  }

  @Test("uncertainty measures: 0 for a sure row, 1 for a uniform row, ordered in between")
  func measures() {
    let rows: [[Float]] = [[1, 0, 0], [1.0 / 3, 1.0 / 3, 1.0 / 3], [0.6, 0.3, 0.1], [0.45, 0.45, 0.1]]
    let p = Matrix<Float>(rows: 4, columns: 3, storage: rows.flatMap { $0 })
    for m in UncertaintyMeasure.allCases {
      let s = m.scores(p)
      #expect(abs(s[0]) < 1e-6, "\(m) sure row")
      #expect(s[2] < s[3], "\(m) ordering")
      if m != .margin { #expect(s[1] > s[3]) }
    }
    #expect(abs(UncertaintyMeasure.entropy.scores(p)[1] - 1) < 1e-6)
    #expect(abs(UncertaintyMeasure.margin.scores(p)[1] - 1) < 1e-6)
    // Ensemble disagreement: identical members agree (0); opposite sure members disagree (1).
    let a = Matrix<Float>(rows: 1, columns: 2, storage: [1, 0])
    let b = Matrix<Float>(rows: 1, columns: 2, storage: [0, 1])
    #expect(EnsembleDisagreement.scores([a, a])[0] == 0)
    #expect(abs(EnsembleDisagreement.scores([a, b])[0] - 1) < 1e-9)
  }
}

@Suite("Batch selection")
struct SelectionTests {
  let data = blobs(n: 500, d: 4, classes: 5, sep: 2, seed: 6)

  func select(_ options: SelectionOptions, labeled: [Int]) -> [Pick] {
    let (x, _) = data
    let labeledSet = Set(labeled)
    let candidates = (0..<500).filter { !labeledSet.contains($0) }
    // Scores: a smooth function of the first feature, so the most uncertain rows are close together.
    let scores = candidates.map { Double(x[$0, 0]) }
    let predicted = candidates.map { $0 % 5 }
    return BatchSelection.select(
      candidates: candidates, scores: scores, predicted: predicted, labeled: labeled, features: x,
      standardizer: Standardizer(fitting: x), options: options)
  }

  @Test("never picks a labeled row, never picks twice, respects the batch and reserve sizes", arguments: Diversity.allCases)
  func properties(diversity: Diversity) {
    let labeled = Array(stride(from: 0, to: 500, by: 3))
    var o = SelectionOptions()
    o.batch = 40
    o.reserveFraction = 0.25
    o.diversity = diversity
    let picks = select(o, labeled: labeled)
    #expect(picks.count == 40)
    #expect(Set(picks.map(\.index)).count == 40)
    #expect(Set(picks.map(\.index)).isDisjoint(with: labeled))
    #expect(picks.filter { $0.reason == .reserve }.count == 10)
    if diversity == .none { #expect(!picks.contains { $0.reason == .diversity }) }
    #expect(select(o, labeled: labeled) == picks, "deterministic")
  }

  @Test("diversity spreads the batch: larger nearest-neighbour distance than the plain top", arguments: [Diversity.cluster, .kCenter])
  func spread(diversity: Diversity) {
    let (x, _) = data
    let stats = Standardizer(fitting: x)
    func meanNearest(_ picks: [Pick]) -> Double {
      let m = stats.transform(x, rows: picks.map(\.index))
      var total = 0.0
      for i in 0..<m.rows {
        var best = Double.infinity
        for j in 0..<m.rows where j != i {
          var s = 0.0
          for k in 0..<m.columns { s += Double((m[i, k] - m[j, k]) * (m[i, k] - m[j, k])) }
          best = min(best, s)
        }
        total += best.squareRoot()
      }
      return total / Double(m.rows)
    }
    var o = SelectionOptions()
    o.batch = 20
    o.reserveFraction = 0
    o.diversity = .none
    let plain = select(o, labeled: [])
    o.diversity = diversity
    let diverse = select(o, labeled: [])
    #expect(meanNearest(diverse) > 1.5 * meanNearest(plain), "\(meanNearest(diverse)) vs \(meanNearest(plain))")
    #expect(diverse.contains { $0.reason == .diversity })
  }

  @Test("class balance interleaves predicted classes")
  func classBalance() {
    var o = SelectionOptions()
    o.batch = 10
    o.reserveFraction = 0
    o.diversity = .none
    o.classBalance = true
    let picks = select(o, labeled: [])
    #expect(Set(picks.map { $0.index % 5 }).count == 5)
  }
}

@Suite(".npy and label files")
struct FileFormatTests {
  func header(_ dict: String, version: UInt8 = 1) -> [UInt8] {
    var h = Array(dict.utf8)
    while (10 + h.count + 1) % 64 != 0 { h.append(0x20) }
    h.append(0x0A)
    return [0x93] + Array("NUMPY".utf8) + [version, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h
  }

  @Test("round trip of float32, and float64 in both byte orders")
  func roundTrip() throws {
    let m = Matrix<Float>(rows: 2, columns: 3, storage: [1, -2.5, 3, 0, 1e-3, 7])
    #expect(try NPY.parse(NPY.encode(m), path: "m.npy") == m)
    var le = header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }")
    var be = header("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }")
    for v in m.storage {
      let bits = Double(v).bitPattern
      for k in 0..<8 { le.append(UInt8((bits >> (8 * UInt64(k))) & 0xFF)) }
      for k in (0..<8).reversed() { be.append(UInt8((bits >> (8 * UInt64(k))) & 0xFF)) }
    }
    #expect(try NPY.parse(le, path: "le.npy") == m)
    #expect(try NPY.parse(be, path: "be.npy") == m)
  }

  @Test("clear errors: wrong dtype, Fortran order, truncated data, not 2-D, not .npy, NaN")
  func errors() {
    func message(_ bytes: [UInt8]) -> String {
      do {
        _ = try NPY.parse(bytes, path: "f.npy")
        return "no error"
      } catch { return error.description }
    }
    let data = [UInt8](repeating: 0, count: 24)
    #expect(message(header("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }") + data).contains("dtype <i4 is not supported"))
    #expect(message(header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }") + data).contains("Fortran"))
    #expect(message(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }") + data.prefix(20)).contains("truncated"))
    #expect(message(header("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }") + data).contains("not 2-D"))
    #expect(message(Array("PK\u{3}\u{4}hello world".utf8)).contains("not a .npy file"))
    let nan: [UInt8] = [0, 0, 0xC0, 0x7F]
    #expect(message(header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }") + nan).contains("not finite"))
  }

  @Test("label files: header required, bad lines reported with their line and skipped")
  func labels() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("annota-labels-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let good = dir.appendingPathComponent("l.csv").path
    try "index,label\n0,cat\n1,\"dog, big\"\nx,cat\n9,cat\n0,dog\n2,\n3,cat\r\n".write(toFile: good, atomically: true, encoding: .utf8)
    let (rows, issues) = try LabelFile.read(good, rowCount: 5)
    #expect(rows.map(\.index) == [0, 1, 3])
    #expect(rows[1].label == "dog, big")
    #expect(issues.map(\.line) == [4, 5, 6, 7])
    #expect(issues[1].description.contains("outside the features"))
    #expect(issues[2].description.contains("already labeled on line 2"))
    let bad = dir.appendingPathComponent("b.csv").path
    try "row,class\n0,cat\n".write(toFile: bad, atomically: true, encoding: .utf8)
    #expect(throws: FileError.self) { try LabelFile.read(bad, rowCount: 5) }
    #expect(LabelFile.classOrder(["10", "9", "2"]) == ["2", "9", "10"])
    #expect(LabelFile.classOrder(["dog", "cat"]) == ["cat", "dog"])
  }
}
