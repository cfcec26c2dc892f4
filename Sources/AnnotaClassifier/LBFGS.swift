/// Limited-memory BFGS (Nocedal & Wright, "Numerical Optimization", algorithm 7.4 and 7.5) for
/// smooth unconstrained minimisation, with a backtracking Armijo line search.
///
/// The objective evaluates value and gradient together, which is what a GEMM-based loss does
/// anyway: the forward product is needed for both.
public struct LBFGS: Sendable {
  /// Stopping and memory settings.
  public struct Options: Sendable, Hashable {
    /// Corrections kept (the `m` of L-BFGS).
    public var memory = 10
    /// Iteration cap (one iteration = one accepted step).
    public var maxIterations = 200
    /// Converged when the largest absolute gradient component is at most this.
    public var gradientTolerance = 1e-4
    /// Converged when a step lowers the value by less than this, relative to the value.
    public var relativeDecrease = 1e-10

    public init() {}
  }

  /// How a minimisation ended.
  public struct Result: Sendable {
    /// The point reached.
    public var x: [Double]
    /// The objective there.
    public var value: Double
    /// Largest absolute gradient component there.
    public var gradientNorm: Double
    /// Accepted steps.
    public var iterations: Int
    /// Objective evaluations, line-search trials included.
    public var evaluations: Int
    /// Whether a stopping test was met (false: iteration cap or a failed line search).
    public var converged: Bool
  }

  public var options: Options

  public init(options: Options = Options()) { self.options = options }

  /// Minimises `objective` from `start`.
  ///
  /// - Parameter objective: fills the gradient (same length as the point) and returns the value.
  /// - Complexity: O(iterations × (evaluation + memory × dimension)).
  public func minimize(
    from start: [Double], objective: (_ x: [Double], _ gradient: inout [Double]) -> Double
  ) -> Result {
    let n = start.count
    var x = start
    var g = [Double](repeating: 0, count: n)
    var f = objective(x, &g)
    var evaluations = 1
    var s: [[Double]] = []
    var y: [[Double]] = []
    var rho: [Double] = []
    var iterations = 0
    var converged = maxAbs(g) <= options.gradientTolerance
    var direction = [Double](repeating: 0, count: n)
    var alpha = [Double](repeating: 0, count: options.memory)
    var xNew = x
    var gNew = g
    while !converged && iterations < options.maxIterations {
      // Two-loop recursion: direction = -H·g.
      for i in 0..<n { direction[i] = -g[i] }
      for k in stride(from: s.count - 1, through: 0, by: -1) {
        alpha[k] = rho[k] * dot(s[k], direction)
        axpy(-alpha[k], y[k], &direction)
      }
      if let last = s.indices.last {
        let gamma = dot(s[last], y[last]) / dot(y[last], y[last])
        for i in 0..<n { direction[i] *= gamma }
      }
      for k in s.indices {
        let beta = rho[k] * dot(y[k], direction)
        axpy(alpha[k] - beta, s[k], &direction)
      }
      var slope = dot(g, direction)
      if !(slope < 0) {
        // Not a descent direction (rounding): restart from steepest descent.
        s.removeAll(); y.removeAll(); rho.removeAll()
        for i in 0..<n { direction[i] = -g[i] }
        slope = dot(g, direction)
      }
      // First step: unit length; later steps: the quasi-Newton step, which is usually accepted.
      var step = s.isEmpty ? min(1, 1 / max((-slope).squareRoot(), 1e-12)) : 1
      var fNew = f
      var accepted = false
      for _ in 0..<40 {
        for i in 0..<n { xNew[i] = x[i] + step * direction[i] }
        fNew = objective(xNew, &gNew)
        evaluations += 1
        if fNew.isFinite && fNew <= f + 1e-4 * step * slope {
          accepted = true
          break
        }
        step *= 0.5
      }
      if !accepted { break }
      iterations += 1
      var sk = [Double](repeating: 0, count: n)
      var yk = [Double](repeating: 0, count: n)
      for i in 0..<n {
        sk[i] = xNew[i] - x[i]
        yk[i] = gNew[i] - g[i]
      }
      let sy = dot(sk, yk)
      if sy > 1e-10 * dot(yk, yk).squareRoot() * dot(sk, sk).squareRoot() && sy > 0 {
        if s.count == options.memory {
          s.removeFirst(); y.removeFirst(); rho.removeFirst()
        }
        s.append(sk); y.append(yk); rho.append(1 / sy)
      }
      let decrease = f - fNew
      swap(&x, &xNew)
      swap(&g, &gNew)
      f = fNew
      if maxAbs(g) <= options.gradientTolerance
        || decrease <= options.relativeDecrease * max(abs(f), 1)
      {
        converged = true
      }
    }
    return Result(
      x: x, value: f, gradientNorm: maxAbs(g), iterations: iterations, evaluations: evaluations,
      converged: converged)
  }
}

@inline(__always) func dot(_ a: [Double], _ b: [Double]) -> Double {
  var sum = 0.0
  for i in a.indices { sum += a[i] * b[i] }
  return sum
}

@inline(__always) func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
  for i in x.indices { y[i] += alpha * x[i] }
}

@inline(__always) func maxAbs(_ a: [Double]) -> Double {
  var m = 0.0
  for v in a { m = max(m, abs(v)) }
  return m
}
