extension Vocabulary {
    /// Token counts of texts handed over a batch at a time (training from a file counts
    /// it a chunk at a time, without holding its texts): share w of every batch is
    /// counted by thread w into its own TokenTable, which lasts across batches, so the
    /// counts grow with the distinct tokens, not with the texts. One batch of all the
    /// texts counts exactly as `build(texts:)`.
    struct Counter {
        let tokenizer: Tokenizer
        let threads: Int
        /// Per counting thread: its tokens by bytes and their counts.
        private(set) var shares: [(table: TokenTable, counts: [Int])] = []

        init(tokenizer: Tokenizer, threads: Int) {
            self.tokenizer = tokenizer
            self.threads = threads
        }

        /// Counts `texts`; `each(i, tokens)`, if given, sees text i's tokens, on the counting thread.
        mutating func add(_ texts: [String], each: ((Int, TokenBuffer) -> Void)? = nil) {
            let workers = Parallel.workers(threads: threads, items: texts.count, minimumEach: 256)
            while shares.count < workers { shares.append((TokenTable(), [])) }
            let tokenizer = self.tokenizer
            shares.withUnsafeMutableBufferPointer { out in
                Parallel.run(workers) { w in
                    var (table, counts) = out[w]
                    var buffer = TokenBuffer()
                    out[w] = (TokenTable(), [])  // one owner while counting, so no copy
                    for i in (w * texts.count / workers)..<((w + 1) * texts.count / workers) {
                        tokenizer.tokenize(texts[i], into: &buffer)
                        each?(i, buffer)
                        for t in 0..<buffer.count {
                            let k = buffer.withToken(t) { table.insert($0, hash: buffer.hashes[t]) }
                            if k == counts.count { counts.append(1) } else { counts[k] += 1 }
                        }
                    }
                    out[w] = (table, counts)
                }
            }
        }

        /// Every counted token by bytes (with its FNV-1a hash) and how often it occurred,
        /// per counting thread (a token several threads saw comes once from each).
        func forEachCount(_ body: (UnsafeBufferPointer<UInt8>, UInt64, Int) -> Void) {
            for share in shares {
                var k = 0
                share.table.forEach { bytes, hash in
                    body(bytes, hash, share.counts[k])
                    k += 1
                }
            }
        }

        /// The vocabulary of the counts (see `build(counts:minFreq:maxSize:)`).
        func vocabulary(minFreq: Int, maxSize: Int) -> Vocabulary {
            var counts = [String: Int]()
            for share in shares {
                for k in 0..<share.table.count { counts[share.table.string(k), default: 0] += share.counts[k] }
            }
            return Vocabulary.build(counts: counts, minFreq: minFreq, maxSize: maxSize)
        }
    }
}
