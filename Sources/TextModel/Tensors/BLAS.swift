import CBLAS

/// Row-major matrix products through OpenBLAS.
///
/// libtextmodel runs its own threads, so OpenBLAS is pinned to one thread the first time
/// any product runs: nested BLAS threads would oversubscribe the cores.
enum BLAS {
    private static let singleThreaded: Void = { openblas_set_num_threads(1) }()

    /// Whether OpenBLAS runs its Haswell sgemm kernel here (its Haswell and Zen cores
    /// do), whose sums for one row tm_linear_row_fma reproduces bit for bit; other
    /// cores (SkylakeX's small-matrix kernels, say) may sum in another order.
    static let runsHaswellSgemm: Bool = {
        guard let name = openblas_get_corename() else { return false }
        let core = String(cString: name).lowercased()
        return core == "haswell" || core == "zen"
    }()

    /// C[M×N] = alpha · op(A) · op(B) + beta · C, where op(A) is M×K and op(B) is K×N.
    /// Leading dimensions are the row strides of the matrices as stored.
    @inline(__always)
    static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                     alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                     b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        _ = singleThreaded
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            else if beta != 1 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } } }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
                    beta, c, blasint(ldc))
    }
}
