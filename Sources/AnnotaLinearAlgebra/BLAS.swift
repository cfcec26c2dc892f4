internal import COpenBLAS
internal import Glibc

/// Whether a matrix operand is used as stored or transposed.
public enum Transpose: Sendable, Hashable {
  case none
  case transposed
}

/// A dense row-major matrix of `Float` or `Double`.
public struct Matrix<Scalar: BLASScalar>: Sendable, Equatable {
  /// Number of rows.
  public let rows: Int
  /// Number of columns.
  public let columns: Int
  /// Row-major storage, `rows * columns` elements.
  public var storage: [Scalar]

  /// A zero matrix.
  public init(rows: Int, columns: Int) {
    precondition(rows >= 0 && columns >= 0, "negative matrix size \(rows)x\(columns)")
    self.rows = rows
    self.columns = columns
    self.storage = [Scalar](repeating: 0, count: rows * columns)
  }

  /// Wraps row-major `storage`.
  ///
  /// - Precondition: `storage.count == rows * columns`.
  public init(rows: Int, columns: Int, storage: [Scalar]) {
    precondition(rows >= 0 && columns >= 0, "negative matrix size \(rows)x\(columns)")
    precondition(storage.count == rows * columns,
                 "\(storage.count) elements cannot form a \(rows)x\(columns) matrix")
    self.rows = rows
    self.columns = columns
    self.storage = storage
  }

  /// The element at row `r`, column `c`.
  @inlinable public subscript(r: Int, c: Int) -> Scalar {
    get { storage[r * columns + c] }
    set { storage[r * columns + c] = newValue }
  }
}

extension Matrix {
  /// The given rows, in the given order, as a new matrix (a row may repeat).
  ///
  /// - Complexity: O(rows.count × columns).
  public func gathering(rows picked: [Int]) -> Matrix {
    var out = Matrix(rows: picked.count, columns: columns)
    out.storage.withUnsafeMutableBufferPointer { o in
      storage.withUnsafeBufferPointer { s in
        for (i, r) in picked.enumerated() {
          precondition(r >= 0 && r < rows, "row \(r) is outside 0..<\(rows)")
          for j in 0..<columns { o[i * columns + j] = s[r * columns + j] }
        }
      }
    }
    return out
  }
}

/// Scalars OpenBLAS multiplies: `Float` (sgemm) and `Double` (dgemm).
public protocol BLASScalar: BinaryFloatingPoint, Sendable {
  /// C ← alpha · op(A) · op(B) + beta · C on row-major buffers (cblas `?gemm`).
  static func gemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Self,
    a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int, beta: Self,
    c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Transpose {
  var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

extension Float: BLASScalar {
  public static func gemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    OpenBLAS.library.sgemm(
      CblasRowMajor, transA.cblas, transB.cblas, blasint(m), blasint(n), blasint(k), alpha, a,
      blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
  }
}

extension Double: BLASScalar {
  public static func gemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Double,
    a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int, beta: Double,
    c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    OpenBLAS.library.dgemm(
      CblasRowMajor, transA.cblas, transB.cblas, blasint(m), blasint(n), blasint(k), alpha, a,
      blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
  }
}

/// The OpenBLAS entry points, resolved when the first product is computed. Linking OpenBLAS
/// would start its thread pool at process start, and idle pool threads spin for about 0.1 s of
/// CPU before they sleep: a cost every command would pay, most of which never multiply a matrix.
struct OpenBLAS: @unchecked Sendable {
  let sgemm: annota_cblas_sgemm_fn
  let dgemm: annota_cblas_dgemm_fn
  let setThreads: annota_openblas_set_num_threads_fn
  let getThreads: annota_openblas_get_num_threads_fn
  let configuration: annota_openblas_get_config_fn

  /// The shared library's names: the versioned runtime name first (what the runtime package
  /// installs), then the development symlink.
  static let names = ["libopenblas.so.0", "libopenblas.so"]

  /// Loaded once, on first use (a global `let` is initialised exactly once, thread-safely).
  static let library: OpenBLAS = {
    var reasons: [String] = []
    for name in names {
      guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
        reasons.append(dlerror().map { String(cString: $0) } ?? name)
        continue
      }
      func symbol<T>(_ name: String, as type: T.Type) -> T {
        guard let address = dlsym(handle, name) else {
          fatalError("OpenBLAS (\(names[0])) lacks \(name); install libopenblas0")
        }
        return unsafeBitCast(address, to: type)
      }
      return OpenBLAS(
        sgemm: symbol("cblas_sgemm", as: annota_cblas_sgemm_fn.self),
        dgemm: symbol("cblas_dgemm", as: annota_cblas_dgemm_fn.self),
        setThreads: symbol("openblas_set_num_threads", as: annota_openblas_set_num_threads_fn.self),
        getThreads: symbol("openblas_get_num_threads", as: annota_openblas_get_num_threads_fn.self),
        configuration: symbol("openblas_get_config", as: annota_openblas_get_config_fn.self))
    }
    fatalError("OpenBLAS could not be loaded (\(reasons.joined(separator: "; "))); install libopenblas0")
  }()
}

/// OpenBLAS, reached from this module only.
public enum BLAS {
  /// Threads OpenBLAS uses inside one call. Set 1 when the caller already runs batches in
  /// parallel; on 2 cores the second BLAS thread gains little.
  public static var threads: Int {
    get { Int(OpenBLAS.library.getThreads()) }
    set {
      precondition(newValue >= 1, "BLAS thread count must be at least 1")
      OpenBLAS.library.setThreads(Int32(newValue))
    }
  }

  /// OpenBLAS's build configuration string (CPU core it dispatched to, threading model).
  public static var configuration: String { OpenBLAS.library.configuration().map { String(cString: $0) } ?? "" }

  /// `C ← alpha · op(A) · op(B) + beta · C`.
  ///
  /// - Parameters:
  ///   - a: `m x k` after `transA` is applied.
  ///   - b: `k x n` after `transB` is applied.
  ///   - c: `m x n`, updated in place.
  /// - Precondition: the shapes agree.
  /// - Complexity: O(m · n · k).
  public static func gemm<T: BLASScalar>(
    _ a: Matrix<T>, _ b: Matrix<T>, transA: Transpose = .none, transB: Transpose = .none,
    alpha: T = 1, beta: T = 0, into c: inout Matrix<T>
  ) {
    let (m, k) = transA == .none ? (a.rows, a.columns) : (a.columns, a.rows)
    let (kb, n) = transB == .none ? (b.rows, b.columns) : (b.columns, b.rows)
    precondition(k == kb, "inner dimensions differ: \(m)x\(k) times \(kb)x\(n)")
    precondition(c.rows == m && c.columns == n,
                 "output is \(c.rows)x\(c.columns), product is \(m)x\(n)")
    if m == 0 || n == 0 { return }
    if k == 0 {
      for i in c.storage.indices { c.storage[i] *= beta }
      return
    }
    a.storage.withUnsafeBufferPointer { pa in
      b.storage.withUnsafeBufferPointer { pb in
        c.storage.withUnsafeMutableBufferPointer { pc in
          T.gemm(
            transA, transB, m: m, n: n, k: k, alpha: alpha, a: pa.baseAddress!,
            lda: max(a.columns, 1), b: pb.baseAddress!, ldb: max(b.columns, 1), beta: beta,
            c: pc.baseAddress!, ldc: max(n, 1))
        }
      }
    }
  }

  /// The product `op(A) · op(B)`.
  public static func multiply<T: BLASScalar>(
    _ a: Matrix<T>, _ b: Matrix<T>, transA: Transpose = .none, transB: Transpose = .none
  ) -> Matrix<T> {
    let m = transA == .none ? a.rows : a.columns
    let n = transB == .none ? b.columns : b.rows
    var c = Matrix<T>(rows: m, columns: n)
    gemm(a, b, transA: transA, transB: transB, into: &c)
    return c
  }
}
