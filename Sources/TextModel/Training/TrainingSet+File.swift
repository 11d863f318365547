extension TrainingSet {
    /// The training set of a labelled file, read a chunk of rows at a time (LabelledFile)
    /// in two passes instead of held: the first counts the vocabulary, the labels and the
    /// texts' sizes, the second encodes each chunk straight into the set (CompactTexts for
    /// the bag with Hogwild, else the flat ids), reserved once at its size. The compact
    /// texts, and the flat ids of the data-parallel step (spillsFlatIDs), go to a
    /// temporary file (SpilledTexts) when they would take more than `file.spillBytes`,
    /// so that memory stops growing with the corpus's words. When
    /// training.validation_fraction holds rows out, a pass before them counts the rows.
    ///
    /// Why: every line's `String`, held from reading until encoded, was the peak of
    /// training from ten million lines (~1.9 GB at 9M lines, over twice the compact set
    /// and the weights); now one chunk's texts (8 MB of file) are held at a time.
    ///
    /// The same set as `init(config:data:validation:)` on the rows `LabelledTexts.read`
    /// gives, hence the same model: the same vocabulary, labels, ids and order. (With
    /// several threads, the vocabulary's counting shares are a chunk's rather than the
    /// file's, which matters only to which of two canonically equivalent spellings of a
    /// token is kept.) A file that changes between the passes is an error.
    /// `validation` reads the validation rows, if any, after the first pass (so a bad
    /// training file is reported before a bad validation file, as when it was read whole).
    ///
    /// `progress` hears of each chunk read (ReadingProgress) and may cancel the reading
    /// (ReadingCancelled).
    init(config: Config, file: LabelledFile, validation readValidation: (() throws -> LabelledTexts)?,
         progress: ProgressHandler? = nil, started: Double = Clock.now()) throws {
        let task = config.model.task, separator = config.data.labelSeparator, threads = config.training.threads
        func noRows(_ empty: Int, _ missing: Int) -> TextModelError {
            .data("no usable training rows (\(empty) with an empty text and \(missing) with a missing label were skipped)")
        }
        let countsHeldOut = readValidation == nil && config.training.validationFraction > 0
        let reading = ReadingProgress(handler: progress, epochs: config.training.epochs, started: started,
                                      fileBytes: FileIO.regularFileSize(file.path), passes: countsHeldOut ? 3 : 2)
        var pass = 0
        // Rows (numbered over the usable rows) held out for validation, in row order.
        var heldOut = [Int]()
        if countsHeldOut {
            var rows = 0, empty = 0, missing = 0
            try file.forEachChunk { chunk, bytesRead in
                try reading.report(pass: pass, bytesRead: bytesRead)
                rows += chunk.count
                empty += chunk.skippedEmptyText
                missing += chunk.skippedMissingLabel
            }
            guard rows > 0 else { throw noRows(empty, missing) }
            heldOut = try TrainingSet.holdOut(rows: rows, config: config).heldOut
            pass += 1
        }
        /// Calls `body` with each chunk's training rows (texts and labels, taken out of the
        /// chunk) and its held-out rows; the number of the chunk's first training row.
        func forEachChunk(_ body: (inout [String], [String], _ heldOut: LabelledTexts, _ firstRow: Int) throws -> Void) throws {
            var row = 0, next = 0, trainRow = 0
            defer { pass += 1 }
            try file.forEachChunk { chunk, bytesRead in
                try reading.report(pass: pass, bytesRead: bytesRead)
                var texts = [String](), labels = [String](), held = LabelledTexts()
                held.skippedEmptyText = chunk.skippedEmptyText
                held.skippedMissingLabel = chunk.skippedMissingLabel
                if next == heldOut.count || heldOut[next] >= row + chunk.count {
                    swap(&texts, &chunk.texts)  // one owner, so encoding frees each text
                    swap(&labels, &chunk.labels)
                } else {
                    for i in 0..<chunk.count {
                        if next < heldOut.count && heldOut[next] == row + i {
                            held.texts.append(chunk.texts[i])
                            held.labels.append(chunk.labels[i])
                            next += 1
                        } else {
                            texts.append(chunk.texts[i])
                            labels.append(chunk.labels[i])
                        }
                    }
                    chunk = LabelledTexts()
                }
                row += held.count + texts.count
                let first = trainRow
                trainRow += texts.count
                try body(&texts, labels, held, first)
            }
        }

        // Pass 1: count.
        let fromData = config.tokenizer.vocabulary == .data
        let hasher = NGramHasher(config: config.tokenizer), tokenizer = Tokenizer(config.tokenizer)
        var counter = Vocabulary.Counter(tokenizer: tokenizer, threads: threads)
        var labelSet = Set<String>()
        var rows = 0, featureCount = 0, longest = 0, tokenTotal = 0, mostTokens = 0, empty = 0, missing = 0
        try forEachChunk { texts, labels, held, _ in
            empty += held.skippedEmptyText
            missing += held.skippedMissingLabel
            rows += texts.count + held.count
            if config.model.labels == nil { labelSet.formUnion(Targets.labels(of: labels, task: task, separator: separator)) }
            var lengths = [Int](repeating: 0, count: texts.count), tokens = [Int](repeating: 0, count: texts.count)
            lengths.withUnsafeMutableBufferPointer { lengthsBuffer in
                tokens.withUnsafeMutableBufferPointer { tokensBuffer in
                    let (lengths, tokens) = (lengthsBuffer, tokensBuffer)  // captured by the counting threads
                    let sizes = { (i: Int, buffer: TokenBuffer) in
                        lengths[i] = FeatureEncoder.encodedLength(buffer, hasher: hasher)
                        tokens[i] = buffer.count
                    }
                    if fromData {
                        counter.add(texts, each: sizes)
                    } else {
                        var buffer = TokenBuffer()
                        for i in texts.indices {
                            tokenizer.tokenize(texts[i], into: &buffer)
                            sizes(i, buffer)
                        }
                    }
                }
            }
            featureCount += lengths.reduce(0, +)
            longest = max(longest, lengths.max() ?? 0)
            tokenTotal += tokens.reduce(0, +)
            mostTokens = max(mostTokens, tokens.max() ?? 0)
        }
        guard rows > 0 else { throw noRows(empty, missing) }
        let validation = try readValidation?()
        let trainCount = rows - heldOut.count
        skippedEmptyText = empty
        skippedMissingLabel = missing

        // model.labels: the user's label set, in their order (training.privacy requires it).
        let labels = config.model.labels ?? labelSet.sorted { Array($0.utf8).lexicographicallyPrecedes($1.utf8) }
        let labelIDs = try TrainingSet.labelIDs(labels, config: config)
        let width = task == .regression ? 1 : labels.count
        vocabulary = try fromData ? counter.vocabulary(minFreq: config.tokenizer.minFreq, maxSize: config.tokenizer.maxSize)
            : PublicVocabulary.make(config: config)
        let configuredEncoder = FeatureEncoder(config: config.tokenizer, vocabulary: vocabulary)
        var compact: CompactTexts?
        var flat = EncodedTexts(), spilled: SpilledTexts?
        if config.usesHogwild && config.model.type == .bag && CompactTexts.supports(configuredEncoder) {
            let storedIDs = fromData ? CompactTexts.storedLength(of: counter, encoder: configuredEncoder)
                : tokenTotal + tokenTotal / 8 + 64
            compact = try CompactTexts(encoder: configuredEncoder, featureCount: featureCount, longest: longest,
                                       mostTokens: mostTokens, texts: trainCount, storedIDs: storedIDs,
                                       spilling: 4 * storedIDs > file.spillBytes)
        } else if TrainingSet.spillsFlatIDs(config: config, ids: featureCount, spillBytes: file.spillBytes) {
            spilled = try SpilledTexts(count: trainCount)
        } else {
            flat.reserve(texts: trainCount, ids: featureCount)
        }
        counter = Vocabulary.Counter(tokenizer: tokenizer, threads: threads)  // its tables are done with

        // Pass 2: encode.
        var targets = try Targets(task: task, labels: [], labelIDs: labelIDs, width: width, separator: separator,
                                  what: "the training data", knownLabels: labels)
        var validTexts = [String](), validLabels = [String](), encoded = 0
        try forEachChunk { texts, chunkLabels, held, firstRow in
            validTexts.append(contentsOf: held.texts)
            validLabels.append(contentsOf: held.labels)
            targets.append(contentsOf: try Targets(task: task, labels: chunkLabels, labelIDs: labelIDs, width: width,
                                                   separator: separator, what: "the training data", knownLabels: labels,
                                                   firstRow: firstRow))
            encoded += texts.count
            guard encoded <= trainCount else { return }
            if case .some(var store) = compact {
                compact = nil  // one owner while appending, so no copy
                try store.append(consuming: &texts, threads: threads)
                compact = store
            } else if let spilled {
                try spilled.append(configuredEncoder.encode(texts, threads: threads))
                texts = []
            } else {
                flat.append(contentsOf: configuredEncoder.encode(texts, threads: threads))
                texts = []
            }
        }
        guard encoded == trainCount else {
            throw TextModelError.data("\(file.path) changed while it was read for training (\(trainCount) training rows, then \(encoded))")
        }
        scaling = try TrainingSet.standardize(&targets)
        self.targets = targets
        var examples: TrainingExamples = compact.map { .compact($0) } ?? spilled.map { .spilled($0) } ?? .flat(flat)
        compact = nil
        spilled = nil
        flat = EncodedTexts()
        self.tokenizer = try TrainingSet.fitBuckets(&examples, config: config, vocabulary: vocabulary, counts: nil)
        if let failure = examples.readFailure { throw TextModelError.io(failure) }   // fitting read every text
        encoder = FeatureEncoder(config: self.tokenizer, vocabulary: vocabulary)
        self.examples = examples
        self.labels = labels
        (validExamples, validTargets, validationSkipped) = try TrainingSet.validation(
            validation, heldOut: (validTexts, validLabels), encoder: encoder, labels: labels, labelIDs: labelIDs,
            config: config)
    }

    /// Whether a file's flat ids (`ids` of them) go to a temporary file (SpilledTexts)
    /// rather than memory: when larger than `spillBytes` and trained by the data-parallel
    /// step without augmentation, which reads them a batch at a time (a few hundred
    /// bytes a step, two `pread`s a text). Not for Hogwild or DP-SGD, which would read
    /// them all back; nor when hashed buckets are fitted, which counts them in memory.
    /// Why: the ids (4 B a word) were what grew with the corpus in a sequence model's
    /// training (66 of ~90 B a line at 900k lines of the generated corpus).
    static func spillsFlatIDs(config: Config, ids: Int, spillBytes: Int) -> Bool {
        let t = config.training
        return 4 * ids > spillBytes && !config.usesHogwild && t.privacy == nil
            && t.augmentTokenDropout == 0 && t.augmentSwap == 0
            && !(config.tokenizer.fitBuckets && config.tokenizer.hashedFeatures > 0)
    }
}
