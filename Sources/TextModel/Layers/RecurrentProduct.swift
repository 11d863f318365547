import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// The step products of the recurrent layers (LSTM, GRU, plain RNN), through a packed
/// kernel of CKernels when the CPU has AVX-512 or AVX2 with FMA, else through OpenBLAS.
///
/// A step multiplies the few rows still running by W_hh [blocks·H × H]: forward
/// C [rows × blocks·H] += h [rows × H] · W_hhᵀ, backward dh [rows × H] += dG [rows × blocks·H]
/// · W_hh. OpenBLAS repacks W_hh on every such call; here it is packed once per pass
/// (`Panels`) into panels that stay in cache across the steps (recurrent_gemm.c says why
/// and what that does to the floats: each row's result is independent of the others).
enum RecurrentProduct {
    /// The instruction sets of the packed kernels. Both read the same panels and give the
    /// same floats (recurrent_gemm_avx2.c); AVX-512 is twice as wide.
    enum Kernel {
        case avx512, avx2
    }

    /// The packed kernel the recurrent layers run (and the fused LSTM step), nil for
    /// OpenBLAS: AVX-512 where the CPU has it, else AVX2 with FMA. In the environment,
    /// TEXTMODEL_RECURRENT_KERNEL=blas runs OpenBLAS and =avx2 the AVX2 kernel on an
    /// AVX-512 CPU. The kernels' floats differ from OpenBLAS's in the last bits (a few
    /// 1e-8 on the probabilities of tests/fixtures/v0.3.0's recurrent models); `blas`
    /// gives back exactly what 0.3.0 computed, for whoever must reproduce an old run bit
    /// for bit.
    static let kernel: Kernel? = {
        let requested = getenv("TEXTMODEL_RECURRENT_KERNEL").map { String(cString: $0) }
        if requested == "blas" { return nil }
        let avx2 = tm_kernels_fma() != 0
        if tm_kernels_avx512() != 0 && avx2 && requested != "avx2" { return .avx512 }
        return avx2 ? .avx2 : nil
    }()

    /// Whether the recurrent layers run a packed kernel rather than OpenBLAS.
    static var packed: Bool { kernel != nil }

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
        let kernel: Kernel

        /// c [m × n] (row stride ldc) += a [m × k] (row stride lda) · the packed operand.
        func multiplyAdd(m: Int, a: UnsafePointer<Float>, lda: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
            switch kernel {
            case .avx512: tm_gemm_packed_avx512(m, n, k, a, lda, pointer, c, ldc)
            case .avx2: tm_gemm_packed_avx2(m, n, k, a, lda, pointer, c, ldc)
            }
        }

        /// One LSTM step with these panels as W_hhᵀ [H × 4H], product and gate math fused
        /// block by block of rows (tm_lstm_step_fused_avx512 says the shapes).
        func lstmStep(rows: Int, hiddenDim h: Int, previousHidden: UnsafePointer<Float>?,
                      gates: UnsafeMutablePointer<Float>, cells: UnsafeMutablePointer<Float>,
                      hidden: UnsafeMutablePointer<Float>, previousCells: UnsafePointer<Float>?) {
            switch kernel {
            case .avx512: tm_lstm_step_fused_avx512(rows, h, previousHidden, pointer, gates, cells, hidden, previousCells)
            case .avx2: tm_lstm_step_fused_avx2(rows, h, previousHidden, pointer, gates, cells, hidden, previousCells)
            }
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
        guard let kernel = kernel else { return body(nil) }
        // Checked: a failed allocation runs the OpenBLAS product instead of trapping
        // (UnsafeMutablePointer.allocate stops the process when malloc fails).
        let own = scratch == nil ? try? FloatBuffer.allocate(count: tm_packed_panels_floats(k, n), what: "packed weights") : nil
        guard let buffer = scratch ?? own?.pointer else { return body(nil) }
        withExtendedLifetime(own) {   // ARC could free `own` after its last named use
            tm_pack_panels(k, n, matrix, transposed ? k : n, transposed ? 1 : 0, buffer)
            body(Panels(pointer: UnsafePointer(buffer), k: k, n: n, kernel: kernel))
        }
    }

    /// The once-per-batch products of the backward pass (weight gradients, input
    /// gradient): c [m × n] = beta · c + op(a) · b with b row-major [k × n] (row stride
    /// ldb) and op(a) a [m × k] or, with `transA`, the transpose of the stored [k × m] a;
    /// beta is 0 or 1. Through the packed kernel's unpacked product (tm_gemm_avx512 or
    /// tm_gemm_avx2) when the CPU has one, for the same reason as the steps: OpenBLAS's
    /// kernel for this project's CPUs is its AVX2 one; else OpenBLAS.
    static func batchProduct(transA: Bool = false, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard let kernel = kernel, beta == 0 || beta == 1, ldb > 0 else {
            BLAS.gemm(transA: transA, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
        switch kernel {
        case .avx512: tm_gemm_avx512(transA ? 1 : 0, m, n, k, a, lda, b, ldb, c, ldc)
        case .avx2: tm_gemm_avx2(transA ? 1 : 0, m, n, k, a, lda, b, ldb, c, ldc)
        }
    }
}
