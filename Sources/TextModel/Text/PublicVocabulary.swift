/// Vocabularies that do not come from the training texts (tokenizer.vocabulary
/// "hashed" or "pretrained"): what a model trained with training.privacy may publish.
enum PublicVocabulary {
    static func make(config: Config) throws -> Vocabulary {
        let base = [Vocabulary.paddingToken, Vocabulary.unknownToken]
        switch config.tokenizer.vocabulary {
        case .data, .hashed:
            return try Vocabulary(tokens: base)
        case .pretrained:
            guard let path = config.model.pretrainedVectors else {
                throw TextModelError.config("tokenizer.vocabulary \"pretrained\" needs model.pretrained_vectors")
            }
            let bytes = try FileIO.readAll(path, limit: config.training.maxMemoryMB * 1_048_576, limitName: "training.max_memory_mb")
            return try Vocabulary(tokens: base + words(of: bytes, maxSize: config.tokenizer.maxSize - base.count))
        }
    }

    /// The first field of every line of a .vec/GloVe file but a "count dim" header, in
    /// file order, each once, at most `maxSize` (tokenizer.max_size less <pad> and <unk>).
    static func words(of bytes: [UInt8], maxSize: Int) throws -> [String] {
        var words = [String](), seen: Set<String> = [Vocabulary.paddingToken, Vocabulary.unknownToken]
        Lines.forEach(in: bytes) { line, lineNumber in
            guard words.count < maxSize else { return }
            var i = line.startIndex
            while i < line.endIndex && (line[i] == 0x20 || line[i] == 0x09) { i += 1 }
            let start = i
            while i < line.endIndex && !(line[i] == 0x20 || line[i] == 0x09 || line[i] == 0x0D) { i += 1 }
            guard i > start else { return }
            let word = String(decoding: line[start..<i], as: UTF8.self)
            if lineNumber == 1, Int(word) != nil { return }  // the "count dim" header
            if seen.insert(word).inserted { words.append(word) }
        }
        return words
    }
}
