/// Saving a model with its weights in f16 or int8 (WeightPrecision), and asking which
/// precision a loaded model has. Training always runs in f32 and replaces the weights
/// with f32 ones; an int8 model predicts with int8 matrix products; explanations and
/// sentence vectors of a compact model use its weights as stored (dequantized to f32
/// where no int8 product applies).
extension Model {
    /// Saves the model with its weights in `precision` (f32: the same file `save(to:)`
    /// writes). Errors: `.state` (untrained), `.io`, `.invalidArgument` (a weight beyond
    /// f16's range for f16).
    public func save(to path: String, precision: WeightPrecision) throws {
        try ModelFile.save(trainedModel(), to: path, precision: precision)
    }

    /// The bytes `save(to:precision:)` writes, in a buffer `allocate` provides (see
    /// `serialized(allocate:)`).
    public func serialized(precision: WeightPrecision,
                           allocate: (Int) -> UnsafeMutableRawPointer?) throws -> (bytes: UnsafeMutableRawPointer, count: Int) {
        let (bytes, count) = try ModelFile.serialize(trainedModel(), precision: precision, allocate: allocate)
        return (bytes, count)
    }

    /// Bytes `save(to:precision:)` would write.
    public func serializedSize(precision: WeightPrecision) throws -> Int {
        try ModelFile.encodedSize(of: trainedModel(), precision: precision)
    }

    /// The precision of the weights this model predicts with: f32 for a model trained
    /// in this process, else what its file stored. Errors: `.state` (untrained).
    public func weightPrecision() throws -> WeightPrecision {
        try trainedModel().precision
    }
}
