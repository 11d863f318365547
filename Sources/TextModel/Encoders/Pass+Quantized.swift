/// The seam of int8 inference: a layer product written as `pass.linear` runs in int8
/// (QuantizedMatrix.linear) when the pass carries an int8 model's matrix for its weight,
/// and as the f32 Linear otherwise (training, f32 and f16 models).
extension Pass {
    /// y [rows × O] = x [rows × I] · Wᵀ + b, W the tensor `weight` [O × I], b `bias` [O].
    func linear(x: UnsafePointer<Float>, rows: Int, inputDim: Int, outputDim: Int,
                weight: ParameterLayout.Tensor, bias: ParameterLayout.Tensor, out: UnsafeMutablePointer<Float>) {
        if let q = quantized?[weight], q.rows == outputDim, q.columns == inputDim {
            q.linear(x: x, count: rows, bias: params + bias.offset, out: out)
        } else {
            Linear.forward(x: x, rows: rows, inputDim: inputDim, outputDim: outputDim, weight: params + weight.offset,
                           bias: params + bias.offset, out: out)
        }
    }
}
