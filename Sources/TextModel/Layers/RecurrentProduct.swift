import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// The step products of the recurrent layers (LSTM, GRU, plain RNN), through the packed
/// AVX-512 kernel of CKernels when the CPU has it, else through OpenBLAS.
///
/// A step multiplies the few rows still running by W_hh [blocks·H × H]: forward
/// C [rows × blocks·H] += h [rows × H] · W_hhᵀ, backward dh [rows × H] += dG [rows × blocks·H]
/// · W_hh. OpenBLAS repacks W_hh on every such call; here it is packed once per pass
/// (`Panels`) into panels that stay in cache across the steps (recurrent_gemm.c says why
/// and what that does to the floats: each row's result is independent of the others).
enum RecurrentProduct {
    /// Whether the recurrent layers run the packed kernel (and the fused LSTM step): when
    /// the CPU has AVX-512 and AVX2, unless TEXTMODEL_RECURRENT_KERNEL=blas is in the
    /// environment. Its floats differ from OpenBLAS's in the last bits (a few 1e-8 on
    /// the probabilities of tests/fixtures/v0.3.0's recurrent models); `blas` gives back
    /// exactly what 0.3.0 computed, for whoever must reproduce an old run bit for bit.
    static let packed = tm_kernels_avx512() != 0 && tm_kernels_avx2() != 0 && !openBLASRequested

    private static var openBLASRequested: Bool {
        guard let value = getenv("TEXTMODEL_RECURRENT_KERNEL") else { return false }
        return String(cString: value) == "blas"
    }

    /// Floats of the scratch a layer of `blocks` gates × width H over inputs of width
    /// `inputDim` packs its weights into (W_ih for the input projection, W_hh for either
    /// direction of the pass); 0 without the packed kernel.
    static func scratchFloats(blocks: Int, hiddenDim h: Int, inputDim: Int) -> Int {
        guard packed else { return 0 }
        return max(tm_packed_panels_floats(h, blocks * h), tm_packed_panels_floats(blocks * h, h),
                   tm_packed_panels_floats(inputDim, blocks * h))
    }

    /// W_hh packed for one pass: `k` × `n` is the shape of the right operand of the step product.
    struct Panels {
        let pointer: UnsafePointer<Float>
        let k: Int
        let n: Int

        /// c [m × n] (row stride ldc) += a [m × k] (row stride lda) · the packed operand.
        func multiplyAdd(m: Int, a: UnsafePointer<Float>, lda: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
            tm_gemm_packed_avx512(m, n, k, a, lda, pointer, c, ldc)
        }
    }

    /// Runs `body` with weightHH [blocks·H × H] packed as the forward product's operand
    /// W_hhᵀ [H × blocks·H] (`forward`) or the backward one W_hh (not `forward`), or with
    /// nil when the CPU lacks the kernel. `scratch` holds `scratchFloats` floats; without
    /// it (direct callers such as tests) a buffer is allocated for the call.
    static func withPanels(_ weightHH: UnsafePointer<Float>, blocks: Int, hiddenDim h: Int, forward: Bool,
                           scratch: UnsafeMutablePointer<Float>?, _ body: (Panels?) -> Void) {
        withPanels(weightHH, k: forward ? h : blocks * h, n: forward ? blocks * h : h, transposed: forward,
                   scratch: scratch, body)
    }

    /// Runs `body` with the right operand B [k × n] packed, read from `matrix` stored as
    /// B (row stride n) or, when `transposed`, as Bᵀ [n × k] (row stride k); nil without
    /// the kernel. `scratch` holds tm_packed_panels_floats(k, n) floats, or is nil: then
    /// a buffer is allocated for the call.
    static func withPanels(_ matrix: UnsafePointer<Float>, k: Int, n: Int, transposed: Bool,
                           scratch: UnsafeMutablePointer<Float>?, _ body: (Panels?) -> Void) {
        guard packed else { return body(nil) }
        // Checked: a failed allocation runs the OpenBLAS product instead of trapping
        // (UnsafeMutablePointer.allocate stops the process when malloc fails).
        let own = scratch == nil ? try? FloatBuffer.allocate(count: tm_packed_panels_floats(k, n), what: "packed weights") : nil
        guard let buffer = scratch ?? own?.pointer else { return body(nil) }
        withExtendedLifetime(own) {   // ARC could free `own` after its last named use
            tm_pack_panels(k, n, matrix, transposed ? k : n, transposed ? 1 : 0, buffer)
            body(Panels(pointer: UnsafePointer(buffer), k: k, n: n))
        }
    }

    /// The once-per-batch products of the backward pass (weight gradients, input
    /// gradient): c [m × n] = beta · c + op(a) · b with b row-major [k × n] (row stride
    /// ldb) and op(a) a [m × k] or, with `transA`, the transpose of the stored [k × m] a;
    /// beta is 0 or 1. Through tm_gemm_avx512 when the CPU has it (for the same reason as
    /// the steps: OpenBLAS's kernel for this CPU is its AVX2 one), else OpenBLAS.
    static func batchProduct(transA: Bool = false, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard packed, beta == 0 || beta == 1, ldb > 0 else {
            BLAS.gemm(transA: transA, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
        tm_gemm_avx512(transA ? 1 : 0, m, n, k, a, lda, b, ldb, c, ldc)
    }
}
