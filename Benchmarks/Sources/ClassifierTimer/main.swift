// The timing loop of compare-classifier.sh: fit, predict and score with Annota's classifier on
// the files baselines/pyclassifier.py writes, and print one JSON line.
//
//   annota-classifier-bench FEATURES.npy TRAIN.csv TEST.csv POOL.npy [REPEATS]
//
// fit: standardisation + L-BFGS on the training rows (median of REPEATS); accuracy on the test
// rows; predict: probabilities of the test rows; score: entropy of every row of POOL.npy
// (probabilities + entropy), reported as rows per second.
import AnnotaClassifier
import AnnotaEngine
import AnnotaLinearAlgebra
import Foundation

func seconds(_ d: Duration) -> Double {
  Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

func median(_ v: [Double]) -> Double {
  let s = v.sorted()
  return s[s.count / 2]
}

let args = CommandLine.arguments
guard args.count >= 5 else {
  print("usage: annota-classifier-bench FEATURES.npy TRAIN.csv TEST.csv POOL.npy [REPEATS] [THREADS]")
  exit(64)
}
let repeats = args.count > 5 ? Int(args[5])! : 5
BLAS.threads = args.count > 6 ? Int(args[6])! : 1
let x = try NPY.read(args[1])
let (train, _) = try LabelFile.read(args[2], rowCount: x.rows)
let (test, _) = try LabelFile.read(args[3], rowCount: x.rows)
let names = LabelFile.classOrder(train.map(\.label))
let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
let rows = train.map(\.index)
let y = train.map { index[$0.label]! }
var fitTimes: [Double] = []
var model: SoftmaxModel? = nil
var report: FitReport? = nil
let clock = ContinuousClock()
for _ in 0..<repeats {
  let start = clock.now
  let (m, r) = SoftmaxRegression.fit(x, rows: rows, labels: y, classes: names.count)
  fitTimes.append(seconds(clock.now - start))
  model = m
  report = r
}
let testX = x.gathering(rows: test.map(\.index))
var predictTimes: [Double] = []
var predicted: [Int] = []
for _ in 0..<repeats {
  let start = clock.now
  let p = model!.probabilities(testX)
  predicted = Softmax.argmax(p)
  predictTimes.append(seconds(clock.now - start))
}
let right = zip(predicted, test).filter { names[$0] == $1.label }.count
let pool = try NPY.read(args[4])
var scoreTimes: [Double] = []
var checksum = 0.0
for _ in 0..<max(1, repeats / 2) {
  let start = clock.now
  // Chunks of 65,536 rows keep the probability matrix small and cache-friendly.
  var total = 0.0
  var r0 = 0
  while r0 < pool.rows {
    let r1 = min(r0 + 65_536, pool.rows)
    let chunk = Matrix<Float>(
      rows: r1 - r0, columns: pool.columns,
      storage: Array(pool.storage[(r0 * pool.columns)..<(r1 * pool.columns)]))
    let s = UncertaintyMeasure.entropy.scores(model!.probabilities(chunk))
    total += s.reduce(0, +)
    r0 = r1
  }
  checksum = total
  scoreTimes.append(seconds(clock.now - start))
}
print("""
  {"fitSeconds": \(median(fitTimes)), "iterations": \(report!.iterations), "converged": \(report!.converged), \
  "accuracy": \(Double(right) / Double(test.count)), "predictSeconds": \(median(predictTimes)), \
  "scoreRowsPerSecond": \(Double(pool.rows) / median(scoreTimes)), "scoreChecksum": \(checksum)}
  """)
