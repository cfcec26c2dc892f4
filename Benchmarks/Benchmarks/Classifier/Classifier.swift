// Classifier benchmarks on a size ladder of synthetic Gaussian-blob problems (10 classes, data
// generated here from a fixed seed, no fixture files). compare-classifier.sh times fit and
// scoring next to scikit-learn.
//
//   fit-N-D        standardise + L-BFGS softmax fit on N x D
//   score-N-D      probabilities + entropy of N x D rows (the 2,000 x 128 model)
//   select-N       next batch of 100 from N scored rows: reserve, top-1000 pool, weighted k-means
//
//   swift package --disable-sandbox benchmark --target Classifier
//   ./update-thresholds.sh Classifier    (re-records Thresholds/: malloc counts and peak memory)
import AnnotaClassifier
import AnnotaGeometry
import AnnotaLinearAlgebra
import Benchmark

#if canImport(Glibc)
import Glibc  // log, cos
#elseif canImport(Darwin)
import Darwin
#endif

/// `n` rows of `d` features around 10 random centres; labels are the centre index.
func blobs(_ n: Int, _ d: Int, seed: UInt64) -> (Matrix<Float>, [Int]) {
  var rng = SplitMix64(seed: seed)
  func gaussian() -> Double {
    let u = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-300)
    let v = Double(rng.next() >> 11) / Double(1 << 53)
    return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
  }
  let centres = (0..<10).map { _ in (0..<d).map { _ in gaussian() * 0.6 } }
  var x = Matrix<Float>(rows: n, columns: d)
  var y = [Int](repeating: 0, count: n)
  for i in 0..<n {
    y[i] = i % 10
    for j in 0..<d { x[i, j] = Float(centres[y[i]][j] + gaussian()) }
  }
  return (x, y)
}

/// Wall clock and mallocs, reported; thresholds are kept for mallocs and memory only (see
/// update-thresholds.sh).
func timing() -> Benchmark.Configuration {
  Benchmark.Configuration(
    metrics: [.wallClock, .mallocCountTotal],
    warmupIterations: 1,
    maxDuration: .seconds(2),
    maxIterations: 30,
    thresholds: [.mallocCountTotal: .init(relative: [.p90: 5])])
}

func memory() -> Benchmark.Configuration {
  Benchmark.Configuration(
    metrics: [.peakMemoryResident],
    warmupIterations: 1,
    maxDuration: .seconds(1),
    maxIterations: 10,
    thresholds: [.peakMemoryResident: .init(relative: [.p90: 10])])
}

let benchmarks: @Sendable () -> Void = {
  BLAS.threads = 1
  for (n, d) in [(2_000, 64), (15_000, 128)] {
    let (x, y) = blobs(n, d, seed: UInt64(n))
    let rows = Array(0..<n)
    for (suffix, configuration) in [("", timing()), ("-memory", memory())] {
      Benchmark("fit-\(n)-\(d)\(suffix)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
          blackHole(SoftmaxRegression.fit(x, rows: rows, labels: y, classes: 10))
        }
      }
    }
  }
  let (train, labels) = blobs(2_000, 128, seed: 3)
  let model = SoftmaxRegression.fit(train, rows: Array(0..<2_000), labels: labels, classes: 10).model
  for n in [10_000, 100_000] {
    let (pool, _) = blobs(n, 128, seed: 4)
    for (suffix, configuration) in [("", timing()), ("-memory", memory())] {
      Benchmark("score-\(n)-128\(suffix)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
          blackHole(UncertaintyMeasure.entropy.scores(model.probabilities(pool)))
        }
      }
    }
    let candidates = Array(0..<n)
    let scores = UncertaintyMeasure.margin.scores(model.probabilities(pool))
    let predicted = model.predict(pool)
    var options = SelectionOptions()
    options.batch = 100
    for (suffix, configuration) in [("", timing()), ("-memory", memory())] {
      Benchmark("select-\(n)\(suffix)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
          blackHole(BatchSelection.select(
            candidates: candidates, scores: scores, predicted: predicted, labeled: [],
            features: pool, standardizer: Standardizer(mean: model.mean, scale: model.scale),
            options: options))
        }
      }
    }
  }
}
