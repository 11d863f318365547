/// Word vectors in the text format fastText (.vec) and GloVe write: an optional header
/// line "count dim", then one line per word: the word and `dim` numbers, separated by
/// spaces. Rows for vocabulary words found in the file overwrite their embeddings.
enum PretrainedVectors {
    /// Copies the vectors of `vocabulary`'s words into `table` [V × dim]; returns how many
    /// vocabulary words the file had. A file over `maxMemoryMB` (training.max_memory_mb)
    /// is refused, as are endless devices.
    static func load(path: String, vocabulary: Vocabulary, dim: Int, into table: UnsafeMutablePointer<Float>,
                     maxMemoryMB: Int = 8192) throws -> Int {
        let bytes = try FileIO.readAll(path, limit: maxMemoryMB * 1_048_576, limitName: "training.max_memory_mb")
        return try parse(bytes, source: path, vocabulary: vocabulary, dim: dim, into: table)
    }

    /// The same from the bytes of a vectors file; `path` names it in messages.
    static func parse(_ bytes: [UInt8], source path: String, vocabulary: Vocabulary, dim: Int,
                      into table: UnsafeMutablePointer<Float>) throws -> Int {
        var found = 0
        var seen = Set<Int32>()
        try Lines.forEach(in: bytes) { line, lineNumber in
            let fields = split(line)
            if fields.isEmpty { return }
            if lineNumber == 1 && fields.count == 2, Int(fields[0]) != nil, let d = Int(fields[1]) {
                guard d == dim else {
                    throw TextModelError.config("model.pretrained_vectors: \(path) holds \(d)-dimensional vectors but model.embedding_dim is \(dim)")
                }
                return
            }
            guard fields.count == dim + 1 else {
                throw TextModelError.data("\(path):\(lineNumber): expected a word and \(dim) numbers, found \(fields.count - 1) numbers")
            }
            let id = vocabulary.id(of: fields[0])
            guard id != Vocabulary.unknownID || fields[0] == Vocabulary.unknownToken, !seen.contains(id) else { return }
            var row = [Float]()
            row.reserveCapacity(dim)
            for f in fields.dropFirst() {
                guard let v = Float(f), v.isFinite else {
                    throw TextModelError.data("\(path):\(lineNumber): \"\(echo(String(f)))\" is not a finite number")
                }
                row.append(v)
            }
            (table + Int(id) * dim).update(from: row, count: dim)
            seen.insert(id)
            found += 1
        }
        return found
    }

    private static func split(_ line: Lines.Line) -> [String] {
        var fields = [String](), i = line.startIndex
        while i < line.endIndex {
            while i < line.endIndex && (line[i] == 0x20 || line[i] == 0x09 || line[i] == 0x0D) { i += 1 }
            let s = i
            while i < line.endIndex && !(line[i] == 0x20 || line[i] == 0x09 || line[i] == 0x0D) { i += 1 }
            if i > s { fields.append(String(decoding: line[s..<i], as: UTF8.self)) }
        }
        return fields
    }
}
