import AnnotaClassifier
import AnnotaEngine
import AnnotaGeometry
import AnnotaLinearAlgebra
import Foundation
import Testing

/// Four Gaussian clusters at the corners of a square, opposite corners in the same class (XOR):
/// no linear model separates it, one hidden layer does. A third feature is noise at a large
/// scale and offset, so standardisation matters.
func xor(n: Int, seed: UInt64) -> (Matrix<Float>, [Int]) {
  var g = Gaussian(seed: seed)
  var x = Matrix<Float>(rows: n, columns: 3)
  var y = [Int](repeating: 0, count: n)
  for i in 0..<n {
    let corner = i % 4
    let (cx, cy) = (corner & 1 == 0 ? -2.0 : 2.0, corner & 2 == 0 ? -2.0 : 2.0)
    y[i] = (corner == 0 || corner == 3) ? 0 : 1
    x[i, 0] = Float(cx + 0.6 * g.next())
    x[i, 1] = Float(cy + 0.6 * g.next())
    x[i, 2] = Float(100 + 30 * g.next())
  }
  return (x, y)
}

@Suite("One-hidden-layer network")
struct NetworkTests {
  @Test("the back-propagated gradient matches central finite differences (tanh and relu, class weights, L2)",
        arguments: [Activation.tanh, .relu])
  func gradientCheck(activation: Activation) {
    let (x, y) = blobs(n: 40, d: 4, classes: 3, sep: 1, seed: 11)
    let xs = Standardizer(fitting: x).transform(x, rows: Array(0..<40))
    var weights = [Float](repeating: 1, count: 40)
    for i in 0..<40 where y[i] == 1 { weights[i] = 1.8 }
    let hidden = 5
    var objective = NetworkObjectiveProbe(
      x: xs, labels: y, classes: 3, hidden: hidden, activation: activation, sampleWeights: weights,
      c: 0.5)
    let count = (4 + 1) * hidden + (hidden + 1) * 3
    var g = Gaussian(seed: 12)
    let p = (0..<count).map { _ in g.next() * 0.7 }
    var grad = [Double](repeating: 0, count: count)
    _ = objective.evaluate(p, gradient: &grad)
    var scratch = grad
    for i in 0..<count {
      var plus = p
      var minus = p
      let h = 1e-3
      plus[i] += h
      minus[i] -= h
      let numeric =
        (objective.evaluate(plus, gradient: &scratch) - objective.evaluate(minus, gradient: &scratch)) / (2 * h)
      // Float32 GEMMs: agreement to ~1e-4 absolute, as for the linear model.
      #expect(abs(numeric - grad[i]) < 3e-4, "\(activation) component \(i): numeric \(numeric), analytic \(grad[i])")
    }
  }

  @Test("separates XOR, which the linear model cannot; a warm start from the answer needs few iterations")
  func xorAndWarmStart() {
    let (x, y) = xor(n: 400, seed: 5)
    let rows = Array(0..<400)
    func accuracy(_ predicted: [Int]) -> Double {
      Double(zip(predicted, y).filter { $0 == $1 }.count) / Double(y.count)
    }
    var network = NetworkOptions()
    network.hidden = 8
    let (model, report) = NetworkTraining.fit(x, rows: rows, labels: y, classes: 2, network: network)
    let linear = SoftmaxRegression.fit(x, rows: rows, labels: y, classes: 2).model
    #expect(accuracy(model.predict(x)) > 0.97, "network \(accuracy(model.predict(x)))")
    #expect(accuracy(linear.predict(x)) < 0.75, "linear \(accuracy(linear.predict(x)))")
    let (again, warm) = NetworkTraining.fit(
      x, rows: rows, labels: y, classes: 2, network: network, warmStart: model)
    #expect(warm.iterations * 4 < max(report.iterations, 4), "cold \(report.iterations), warm \(warm.iterations)")
    let diff = zip(model.probabilities(x).storage, again.probabilities(x).storage).map { abs($0 - $1) }.max()!
    #expect(diff < 1e-2)
  }

  @Test("same data and seed, bit-identical network; another seed, another start")
  func deterministic() {
    let (x, y) = blobs(n: 200, d: 6, classes: 3, sep: 1, seed: 3)
    var network = NetworkOptions()
    network.hidden = 16
    let a = NetworkTraining.fit(x, rows: Array(0..<200), labels: y, classes: 3, network: network).model
    let b = NetworkTraining.fit(x, rows: Array(0..<200), labels: y, classes: 3, network: network).model
    #expect(a == b)
    network.seed = 1
    let c = NetworkTraining.fit(x, rows: Array(0..<200), labels: y, classes: 3, network: network).model
    #expect(a.weights1 != c.weights1)
  }

  @Test("predicting raw rows (standardisation folded in) equals the network on standardised rows; the temperature keeps the argmax")
  func foldedStandardisation() {
    let (x, y) = blobs(n: 90, d: 5, classes: 3, sep: 2, seed: 8)
    var network = NetworkOptions()
    network.hidden = 6
    network.activation = .tanh
    var (model, _) = NetworkTraining.fit(x, rows: Array(0..<90), labels: y, classes: 3, network: network)
    let stats = Standardizer(mean: model.mean, scale: model.scale)
    var plain = model
    plain.mean = [Float](repeating: 0, count: 5)
    plain.scale = [Float](repeating: 1, count: 5)
    let a = model.logits(x)
    let b = plain.logits(stats.transform(x, rows: Array(0..<90)))
    let diff = zip(a.storage, b.storage).map { abs($0 - $1) }.max()!
    #expect(diff < 1e-3, "largest logit difference \(diff)")
    let predicted = model.predict(x)
    model.temperature = 3
    var wrapped = Classifier.mlp(model)
    #expect(wrapped.temperature == 3)
    wrapped.temperature = 0.5
    #expect(Softmax.argmax(wrapped.probabilities(x)) == predicted)
  }
}
