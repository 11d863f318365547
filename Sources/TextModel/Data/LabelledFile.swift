/// A labelled file that training reads more than once, a chunk of rows at a time
/// (TrainingSet(config:file:)), instead of holding all of its texts: at ten million
/// lines those are ~2 GB of `String`s, more than everything training keeps.
/// Rows, skipped rows and errors are those of `LabelledTexts.read` on the same file.
struct LabelledFile {
    let path: String
    let config: Config.Data
    let multiLabel: Bool
    var chunkBytes = 8 << 20
    /// Compact bag texts larger than this are kept in a temporary file rather than in
    /// memory (TrainingSet(config:file:)); smaller ones stay in memory, where reading
    /// them costs no system call.
    var spillBytes = LabelledFile.defaultSpillBytes
    static let defaultSpillBytes = 1 << 20
    var limit = FileIO.defaultReadLimit
    var limitName = "the 8192 MB file size limit"

    /// Whether `path` can be read as a LabelledFile: a regular file, which a second
    /// pass reads again from its start (a pipe or a device could not be).
    static func canReadTwice(_ path: String) -> Bool { FileIO.isRegularFile(path) }

    /// Reads the file once, calling `body` with the rows of each chunk in file order
    /// (with the rows that chunk skipped counted in it) and the bytes of the file read
    /// up to the chunk's end. `body` may take the rows over.
    func forEachChunk(_ body: (inout LabelledTexts, _ bytesRead: Int) throws -> Void) throws {
        let separator = multiLabel ? config.labelSeparator : nil
        func feed(_ consume: (UnsafeBufferPointer<UInt8>, Bool, Bool) throws -> Int) throws {
            try ChunkedFile.forEachChunk(path, chunkBytes: chunkBytes, limit: limit, limitName: limitName, consume)
        }
        // The rows go to `body` with one owner, so it can take their strings without a copy.
        var bytesRead = 0
        func hand(_ rows: inout LabelledTexts, taken: Int) throws {
            bytesRead += taken
            if rows.count > 0 || rows.skipped > 0 { try body(&rows, bytesRead) }
        }
        switch LabelledTexts.format(of: path, config: config) {
        case .csv:
            var parser = CSVReader.Parser(source: path, textColumn: config.textColumn, labelColumn: config.labelColumn)
            try feed { chunk, first, last in
                let taken = try parser.consume(chunk, first: first, last: last)
                var rows = parser.takeRows()
                try hand(&rows, taken: taken)
                return taken
            }
            _ = try parser.finish()   // the error for a file without a header
        case .jsonl:
            var parser = JSONLReader.Parser(source: path, textField: config.textColumn, labelField: config.labelColumn,
                                            labelSeparator: separator)
            try feed { chunk, first, last in
                let taken = try parser.consume(chunk, first: first, last: last)
                var rows = parser.takeRows()
                try hand(&rows, taken: taken)
                return taken
            }
        case .fasttext, .auto:   // format(of:) resolves auto
            var parser = FastTextReader.Parser(source: path, labelSeparator: separator)
            try feed { chunk, first, last in
                let taken = try parser.consume(chunk, first: first, last: last)
                var rows = parser.takeRows()
                try hand(&rows, taken: taken)
                return taken
            }
        }
    }
}
