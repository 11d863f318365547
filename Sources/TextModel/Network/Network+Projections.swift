/// Forward and backward from the first layer's input projections (attributions).
///
/// Integrated gradients interpolate the input embeddings, r + α (x − r); the first
/// layer's projection W_ih (r + α (x − r)) + b = P(r) + α (P(x) − P(r)) is linear in α,
/// so the Explainer projects each token once and scales it per step instead of running
/// the [N × E] · [E × width] product for every point, and reads the gradient with
/// respect to the projections (dP [N × width]) instead of multiplying it back to the
/// embeddings: (x − r) · ∂f/∂input = (P(x) − P(r)) · dP. Same numbers to float rounding.
extension Network {
    /// `forward(params, workspace, embeddings:)` with the first layer's projections
    /// written by `fill(direction, into [N × width])` (Encoder.forward(_:projections:features:));
    /// false when the network cannot (bag input, or an encoder without first-layer
    /// projections), and then nothing ran.
    func forward(_ params: UnsafePointer<Float>, workspace ws: Workspace,
                 projections fill: (Int, UnsafeMutablePointer<Float>) -> Void) -> Bool {
        guard input.kind == .embedding, encoder.inputTableShape(vocabulary: input.rows) != nil else { return false }
        let pass = Pass(params: params, batch: ws.batch, workspace: ws)
        guard encoder.forward(pass, projections: fill, features: ws[buffers.features]) else { return false }
        head(pass)
        return true
    }

    /// After that forward, with `logitGradient(ws)` filled: the gradient with respect to
    /// the first layer's projections, handed to `read(direction, dProjected [N × width])`;
    /// no parameter gradients.
    func backwardFromLogits(_ params: UnsafePointer<Float>, workspace ws: Workspace,
                            projectionGradients read: (Int, UnsafePointer<Float>) -> Void) -> Bool {
        let pass = Pass(params: params, batch: ws.batch, workspace: ws)
        let dFeatures = ws[buffers.dFeatures]
        Linear.backward(dOut: ws[buffers.dLogits], x: ws[buffers.features], rows: pass.texts, inputDim: encoder.featureDim,
                        outputDim: classes, weight: params + outputWeight.offset, dWeight: nil, dBias: nil, dx: dFeatures)
        return encoder.backward(pass, dFeatures: dFeatures, projectionGradients: read)
    }
}
