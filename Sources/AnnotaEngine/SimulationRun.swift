public import AnnotaClassifier

/// A strategy's learning curve averaged over repeats.
public struct CurvePoint: Sendable, Hashable {
  public var strategy: Strategy
  public var round: Int
  public var labels: Int
  /// Mean test accuracy over repeats.
  public var accuracy: Double
  /// Standard deviation of the test accuracy over repeats.
  public var accuracySD: Double
  /// Mean expected calibration error (uncalibrated model) over repeats.
  public var ece: Double
}

/// What `simulate` produced.
public struct SimulationResult: Sendable {
  public var points: [CurvePoint]
  /// Mean accuracy of a model trained on the whole training pool (the ceiling).
  public var fullAccuracy: Double
  public var strategies: [Strategy]

  /// CSV: `strategy,round,labels,accuracy,ece,accuracy_sd`.
  public var csv: String {
    var out = "strategy,round,labels,accuracy,ece,accuracy_sd\n"
    for p in points {
      out += "\(p.strategy.rawValue),\(p.round),\(p.labels),\(fixed(p.accuracy, 5)),\(fixed(p.ece, 5)),\(fixed(p.accuracySD, 5))\n"
    }
    return out
  }

  /// Labels a strategy needs for its mean curve to reach `target` accuracy (linear
  /// interpolation between rounds), or nil if it never does within the budget.
  public func labelsToReach(_ target: Double, strategy: Strategy) -> Double? {
    let curve = points.filter { $0.strategy == strategy }
    for (i, p) in curve.enumerated() where p.accuracy >= target {
      if i == 0 { return Double(p.labels) }
      let q = curve[i - 1]
      let t = (target - q.accuracy) / (p.accuracy - q.accuracy)
      return Double(q.labels) + t * Double(p.labels - q.labels)
    }
    return nil
  }

  /// A learning-curve picture: accuracy against labels, one line per strategy, with the
  /// full-data accuracy and 95% of it as dashed lines. Plain SVG, no script.
  public func svg(title: String) -> String {
    let width = 720.0
    let height = 440.0
    let (left, right, top, bottom) = (64.0, 170.0, 40.0, 52.0)
    let maxLabels = Double(points.map(\.labels).max() ?? 1)
    let minLabels = Double(points.map(\.labels).min() ?? 0)
    var lo = min(points.map(\.accuracy).min() ?? 0, 0.95 * fullAccuracy)
    lo = (lo * 10).rounded(.down) / 10
    let hi = min(1, max(fullAccuracy, points.map(\.accuracy).max() ?? 1) + 0.02)
    func px(_ l: Double) -> Double {
      left + (l - minLabels) / max(maxLabels - minLabels, 1) * (width - left - right)
    }
    func py(_ a: Double) -> Double { top + (hi - a) / max(hi - lo, 1e-9) * (height - top - bottom) }
    let colours = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#7f7f7f", "#ff7f0e"]
    var s = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
      font-family="sans-serif" font-size="12">
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(fixed(width / 2 - 60, 1))" y="22" text-anchor="middle" font-size="14">\(escapeXML(title))</text>

      """
    // Axes and grid.
    let x0 = px(minLabels)
    let x1 = px(maxLabels)
    s += "<line x1=\"\(fixed(x0, 1))\" y1=\"\(fixed(py(lo), 1))\" x2=\"\(fixed(x1, 1))\" y2=\"\(fixed(py(lo), 1))\" stroke=\"black\"/>\n"
    s += "<line x1=\"\(fixed(x0, 1))\" y1=\"\(fixed(py(lo), 1))\" x2=\"\(fixed(x0, 1))\" y2=\"\(fixed(py(hi), 1))\" stroke=\"black\"/>\n"
    var a = lo
    while a <= hi + 1e-9 {
      s += "<line x1=\"\(fixed(x0, 1))\" y1=\"\(fixed(py(a), 1))\" x2=\"\(fixed(x1, 1))\" y2=\"\(fixed(py(a), 1))\" stroke=\"#eee\"/>\n"
      s += "<text x=\"\(fixed(x0 - 6, 1))\" y=\"\(fixed(py(a) + 4, 1))\" text-anchor=\"end\">\(fixed(a, 2))</text>\n"
      a += hi - lo > 0.3 ? 0.1 : 0.05
    }
    let step = niceStep((maxLabels - minLabels) / 6)
    var l = (minLabels / step).rounded(.up) * step
    while l <= maxLabels {
      s += "<text x=\"\(fixed(px(l), 1))\" y=\"\(fixed(py(lo) + 18, 1))\" text-anchor=\"middle\">\(Int(l))</text>\n"
      l += step
    }
    s += "<text x=\"\(fixed((x0 + x1) / 2, 1))\" y=\"\(fixed(height - 12, 1))\" text-anchor=\"middle\">labels</text>\n"
    s += "<text x=\"16\" y=\"\(fixed((py(lo) + py(hi)) / 2, 1))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(fixed((py(lo) + py(hi)) / 2, 1)))\">test accuracy</text>\n"
    for (value, name) in [(fullAccuracy, "all labels"), (0.95 * fullAccuracy, "95%")] {
      s += "<line x1=\"\(fixed(x0, 1))\" y1=\"\(fixed(py(value), 1))\" x2=\"\(fixed(x1, 1))\" y2=\"\(fixed(py(value), 1))\" stroke=\"#444\" stroke-dasharray=\"5,4\"/>\n"
      s += "<text x=\"\(fixed(x1 + 4, 1))\" y=\"\(fixed(py(value) + 4, 1))\" fill=\"#444\">\(name) \(fixed(value, 3))</text>\n"
    }
    for (i, strategy) in strategies.enumerated() {
      let colour = colours[i % colours.count]
      let curve = points.filter { $0.strategy == strategy }
      let coords = curve.map { "\(fixed(px(Double($0.labels)), 1)),\(fixed(py($0.accuracy), 1))" }
      s += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(coords.joined(separator: " "))\"/>\n"
      let ly = top + 20 + Double(i) * 18
      s += "<line x1=\"\(fixed(width - right + 60, 1))\" y1=\"\(fixed(ly + 100, 1))\" x2=\"\(fixed(width - right + 80, 1))\" y2=\"\(fixed(ly + 100, 1))\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
      s += "<text x=\"\(fixed(width - right + 84, 1))\" y=\"\(fixed(ly + 104, 1))\">\(strategy.rawValue)</text>\n"
    }
    return s + "</svg>\n"
  }

  func niceStep(_ raw: Double) -> Double {
    var base = 1.0
    while base * 10 <= raw { base *= 10 }
    for m in [1.0, 2, 5, 10] where base * m >= raw { return base * m }
    return base * 10
  }
}

func escapeXML(_ s: String) -> String {
  var out = ""
  for ch in s {
    switch ch {
    case "&": out += "&amp;"
    case "<": out += "&lt;"
    case ">": out += "&gt;"
    case "\"": out += "&quot;"
    default: out.append(ch)
    }
  }
  return out
}

extension ActiveLearningRun {
  /// Runs every (repeat, strategy) learning curve — in parallel on `runner`, each single-threaded
  /// inside — and averages them per round. The result does not depend on the thread count.
  public static func simulate(
    _ simulation: ActiveLearningSimulation, strategies: [Strategy], repeats: Int,
    runner: BatchRunner, progress: ProgressReporter?
  ) async -> SimulationResult {
    struct Job: Sendable {
      var r: Int
      var strategy: Strategy?
    }
    var jobs: [Job] = []
    for r in 0..<repeats {
      jobs.append(Job(r: r, strategy: nil))
      for s in strategies { jobs.append(Job(r: r, strategy: s)) }
    }
    var curves: [Strategy: [[ActiveLearningSimulation.Round]]] = [:]
    var full: [Double] = []
    await runner.forEach(jobs, { job -> ([ActiveLearningSimulation.Round], Double?) in
      if let s = job.strategy { return (simulation.run(job.r, strategy: s), nil) }
      return ([], simulation.fullAccuracy(job.r))
    }) { i, result in
      progress?.advance()
      guard case .success(let (rounds, fullAcc)) = result else { return }
      if let fullAcc { full.append(fullAcc) }
      if let s = jobs[i].strategy { curves[s, default: []].append(rounds) }
    }
    var points: [CurvePoint] = []
    for s in strategies {
      let runs = curves[s] ?? []
      let n = runs.map(\.count).min() ?? 0
      for round in 0..<n {
        let acc = runs.map { $0[round].accuracy }
        let mean = acc.reduce(0, +) / Double(acc.count)
        let sd = acc.count > 1
          ? (acc.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(acc.count - 1)).squareRoot() : 0
        let ece = runs.map { $0[round].ece }.reduce(0, +) / Double(runs.count)
        points.append(CurvePoint(
          strategy: s, round: round, labels: runs[0][round].labels, accuracy: mean,
          accuracySD: sd, ece: ece))
      }
    }
    return SimulationResult(
      points: points, fullAccuracy: full.reduce(0, +) / Double(max(full.count, 1)),
      strategies: strategies)
  }
}
