import AnnotaLinearAlgebra
import Testing

private struct LCG: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state = state &* 6364136223846793005 &+ 1442695040888963407
    return state
  }
}

private func naive<T: BLASScalar>(_ a: Matrix<T>, _ ta: Transpose, _ b: Matrix<T>, _ tb: Transpose) -> Matrix<T> {
  let m = ta == .none ? a.rows : a.columns
  let k = ta == .none ? a.columns : a.rows
  let n = tb == .none ? b.columns : b.rows
  var c = Matrix<T>(rows: m, columns: n)
  for i in 0..<m {
    for j in 0..<n {
      var sum: T = 0
      for p in 0..<k {
        let x = ta == .none ? a[i, p] : a[p, i]
        let y = tb == .none ? b[p, j] : b[j, p]
        sum += x * y
      }
      c[i, j] = sum
    }
  }
  return c
}

private func random<T: BLASScalar>(_ rows: Int, _ columns: Int, _ rng: inout LCG) -> Matrix<T> {
  Matrix(rows: rows, columns: columns,
         storage: (0..<(rows * columns)).map { _ in T(Double.random(in: -1...1, using: &rng)) })
}

@Suite("OpenBLAS gemm against a naive product")
struct GEMMTests {
  @Test("Float and Double, every transpose combination, odd shapes")
  func products() {
    var rng = LCG(state: 1)
    for (m, n, k) in [(1, 1, 1), (3, 5, 7), (17, 9, 33), (64, 65, 31)] {
      for ta in [Transpose.none, .transposed] {
        for tb in [Transpose.none, .transposed] {
          let af: Matrix<Float> = ta == .none ? random(m, k, &rng) : random(k, m, &rng)
          let bf: Matrix<Float> = tb == .none ? random(k, n, &rng) : random(n, k, &rng)
          let cf = BLAS.multiply(af, bf, transA: ta, transB: tb)
          let rf = naive(af, ta, bf, tb)
          for (x, y) in zip(cf.storage, rf.storage) { #expect(abs(x - y) <= 1e-4 * Float(k)) }

          let ad = Matrix<Double>(rows: af.rows, columns: af.columns, storage: af.storage.map(Double.init))
          let bd = Matrix<Double>(rows: bf.rows, columns: bf.columns, storage: bf.storage.map(Double.init))
          let cd = BLAS.multiply(ad, bd, transA: ta, transB: tb)
          let rd = naive(ad, ta, bd, tb)
          for (x, y) in zip(cd.storage, rd.storage) { #expect(abs(x - y) <= 1e-12 * Double(k)) }
        }
      }
    }
  }

  @Test("alpha and beta accumulate into C")
  func accumulate() {
    var rng = LCG(state: 9)
    let a: Matrix<Double> = random(4, 6, &rng)
    let b: Matrix<Double> = random(6, 5, &rng)
    let c0: Matrix<Double> = random(4, 5, &rng)
    var c = c0
    BLAS.gemm(a, b, alpha: 2, beta: 0.5, into: &c)
    let ab = naive(a, .none, b, .none)
    for i in 0..<c.storage.count {
      #expect(abs(c.storage[i] - (2 * ab.storage[i] + 0.5 * c0.storage[i])) < 1e-12)
    }
  }

  @Test("thread count can be set and read back; results do not depend on it")
  func threads() {
    let saved = BLAS.threads
    defer { BLAS.threads = saved }
    var rng = LCG(state: 5)
    let a: Matrix<Double> = random(200, 150, &rng)
    let b: Matrix<Double> = random(150, 120, &rng)
    BLAS.threads = 1
    #expect(BLAS.threads == 1)
    let one = BLAS.multiply(a, b)
    BLAS.threads = 2
    let two = BLAS.multiply(a, b)
    for (x, y) in zip(one.storage, two.storage) { #expect(abs(x - y) < 1e-10) }
    #expect(!BLAS.configuration.isEmpty)
  }
}

@Suite("Matrix row gathering")
struct GatherTests {
  @Test("rows come out in the order asked, repeats allowed, empty selection gives 0 rows")
  func gather() {
    let m = Matrix<Float>(rows: 3, columns: 2, storage: [1, 2, 3, 4, 5, 6])
    #expect(m.gathering(rows: [2, 0, 2]).storage == [5, 6, 1, 2, 5, 6])
    #expect(m.gathering(rows: []).rows == 0)
  }
}
