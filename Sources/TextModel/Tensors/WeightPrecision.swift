/// The number type a model file stores its weights in (the metadata's "weights_dtype").
///
///   f32   4 bytes a weight, as trained (format versions 1 and 2)
///   f16   2 bytes a weight (IEEE half, round to nearest even); loaded back to f32
///   int8  1 byte a weight of every matrix (rank ≥ 2 tensors: embeddings, filters,
///         projections, the output layer), symmetric, with one f32 scale per row: per
///         embedding row, per output channel of a layer; vectors (biases, layer-norm
///         gains) stay f32. Loaded models run int8 matrix products (QuantizedMatrix).
///
/// Training always runs in f32; the precision is chosen when a model is saved.
public enum WeightPrecision: String, CaseIterable, Sendable {
    case f32, f16, int8

    /// The precision named `text` ("f32", "f16", "int8"), or nil.
    public init?(name text: String) { self.init(rawValue: text) }

    public var name: String { rawValue }
}
