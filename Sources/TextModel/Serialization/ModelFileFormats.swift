/// What each model-file format version means, beyond the layout ModelFile reads.
///
///   1  every model before a CNN could pool by mean (0.3.0 wrote these). A format-1
///      CNN max-pools over time whatever its config's model.pooling says: 0.3.0
///      accepted that key for a CNN and ignored it.
///   2  a CNN that pools by mean. Only those files are written as 2, so every other
///      model stays readable by 0.3.0, and 0.3.0 refuses a mean-pooled CNN (a newer
///      format) instead of max-pooling weights trained for the mean.
///   4  a product-quantized bag model (Model.quantized; QuantizedModelFile): metadata
///      "compression": "pq" with its parameters, tensors output.weight/bias (F32),
///      pq.kept_ids (I32), pq.codebooks (F32), pq.codes (U8) and, with qnorm,
///      pq.norm_codebook (F32) and pq.norm_codes (U8) instead of embedding.weight.
///      Only compressed models are written as 4; the version(of:) below never says 4.
enum ModelFileFormats {
    /// The versions this library reads: every one up to ModelFile.formatVersion that it
    /// knows (a version it does not know is refused as newer, not guessed at).
    static let readable: Set<Int> = [1, 2, QuantizedModelFile.version]

    /// The version a model's file is written with: the oldest that describes it.
    static func version(of config: Config) -> Int {
        config.model.type == .cnn && config.model.pooling == .mean ? 2 : 1
    }

    /// The config a file of `version` means: format 1's CNN pooling is "max".
    static func config(_ value: JSONValue, version: Int) -> JSONValue {
        guard version == 1, value["model"]?["type"]?.stringValue == "cnn",
              case .object(let sections) = value else { return value }
        return .object(sections.map { name, section in
            guard name == "model", case .object(let keys) = section else { return (name, section) }
            return (name, .object(keys.map { key, v in key == "pooling" ? (key, .string("max")) : (key, v) }))
        })
    }
}
