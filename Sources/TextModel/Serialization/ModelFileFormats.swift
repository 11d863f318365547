/// What each model-file format version means, beyond the layout ModelFile reads.
///
///   1  every model before a CNN could pool by mean (0.3.0 wrote these). A format-1
///      CNN max-pools over time whatever its config's model.pooling says: 0.3.0
///      accepted that key for a CNN and ignored it.
///   2  a CNN that pools by mean. Only those files are written as 2, so every other
///      model stays readable by 0.3.0, and 0.3.0 refuses a mean-pooled CNN (a newer
///      format) instead of max-pooling weights trained for the mean.
///   3  weights stored as f16 or int8 (metadata weights_dtype "f16" or "int8", which
///      the metadata checksum covers; WeightEncoding says how the tensors are laid out).
///      Every model type; a CNN reads its pooling from the config, as in format 2.
///      f32 files keep versions 1 and 2 (their weights_dtype, "f32", is informative
///      only), so older readers still read every f32 file and refuse compact ones.
///   4  a product-quantized bag model (Model.quantized; QuantizedModelFile): metadata
///      "compression": "pq" with its parameters, tensors output.weight/bias (F32),
///      pq.kept_ids (I32), pq.codebooks (F32), pq.codes (U8) and, with qnorm,
///      pq.norm_codebook (F32) and pq.norm_codes (U8) instead of embedding.weight.
///      Only compressed models are written as 4; the version(of:) below never says 4.
///   5  format 3 with the vocabulary as a tensor: metadata vocabulary_tokens (the token
///      count) instead of the JSON vocabulary, and a U8 tensor "vocabulary" after the
///      weights (VocabularyTensor), so a compact file is not held above a quarter of
///      the f32 file by its header. Every f16 and int8 file is written as 5 from 0.6.0 on;
///      format-3 files (0.5) still load.
enum ModelFileFormats {
    /// The versions this library reads: every one up to ModelFile.formatVersion that it
    /// knows (a version it does not know is refused as newer, not guessed at).
    static let readable: Set<Int> = [1, 2, 3, QuantizedModelFile.version, 5]

    /// The version a model's file is written with: the oldest that describes it.
    static func version(of config: Config, precision: WeightPrecision = .f32) -> Int {
        if precision != .f32 { return 5 }
        return config.model.type == .cnn && config.model.pooling == .mean ? 2 : 1
    }

    /// Whether a file of `version` stores its vocabulary as a tensor (VocabularyTensor).
    static func storesVocabularyTensor(_ version: Int) -> Bool { version == 5 }

    /// The config a file of `version` means: format 1's CNN pooling is "max".
    static func config(_ value: JSONValue, version: Int) -> JSONValue {
        guard version == 1, value["model"]?["type"]?.stringValue == "cnn",
              case .object(let sections) = value else { return value }
        return .object(sections.map { name, section in
            guard name == "model", case .object(let keys) = section else { return (name, section) }
            return (name, .object(keys.map { key, v in key == "pooling" ? (key, .string("max")) : (key, v) }))
        })
    }

    /// The precision of a file of `version` whose weights_dtype is `dtype` (absent in
    /// files before 0.5): formats 1, 2 and 4 hold f32 only, formats 3 and 5 f16 or int8.
    static func precision(_ dtype: String?, version: Int, bad: (String) -> TextModelError) throws -> WeightPrecision {
        if version != 3 && version != 5 {   // formats 1, 2 and 4 (whose dense tensors are f32)
            guard dtype == nil || dtype == "f32" else {
                throw bad("format version \(version) stores f32 weights, but its weights_dtype says \"\(dtype ?? "")\" (corrupted)")
            }
            return .f32
        }
        guard let dtype = dtype else { throw bad("the metadata has no weights_dtype (format version \(version) needs \"f16\" or \"int8\")") }
        guard let precision = WeightPrecision(name: dtype), precision != .f32 else {
            throw bad("weights_dtype \"\(dtype)\" is not \"f16\" or \"int8\", the dtypes of format version \(version)")
        }
        return precision
    }
}
