import XCTest
@testable import TextModel

/// TrainingSet(config:file:), the training set of a file read in passes a chunk at a
/// time, is the set of the same rows read whole (TrainingSet(config:data:)): the same
/// vocabulary, labels, tokenizer (fitted buckets), encoded or compact ids, targets and
/// validation examples, for CSV, fastText and JSON Lines, every task, held-out rows and
/// chunks that cut anywhere, compact texts in memory or spilled to a temporary file;
/// the compact store is reserved at exactly its size; Model.train(file:) writes the same
/// model bytes as training on the rows in memory; and a file that changes between the
/// passes or a temporary directory that cannot be written is an error, not a trap.
final class FileTrainingSetTests: XCTestCase {
    private struct Rows {
        var texts: [String]
        var labels: [String]
    }

    private func rows(task: Config.Task) -> Rows {
        let data = KeywordData.make(count: 700, seed: 5)
        var texts = data.texts + ["émoji 🎉 ünïcode", "cafe\u{301} café", "rare wordz", "  "]
        var labels = data.labels + ["food", "tech", "sport", "food"]
        texts.append("a row without a label")
        labels.append("")
        switch task {
        case .singleLabel: break
        case .multiLabel: labels = labels.enumerated().map { i, l in l.isEmpty ? l : (i % 3 == 0 ? "\(l)|news" : l) }
        case .regression: labels = labels.enumerated().map { i, l in l.isEmpty ? l : "\(Double(i % 17) * 0.5 - 2)" }
        }
        return Rows(texts: texts, labels: labels)
    }

    /// The rows' texts hold no quote or backslash, so quoting is all CSV and JSON need.
    private func csvField(_ s: String) -> String { "\"" + s + "\"" }

    private func write(_ rows: Rows, format: String, to path: String) {
        var out = format == "csv" ? "label,text\n" : ""
        for (text, label) in zip(rows.texts, rows.labels) {
            switch format {
            case "csv": out += "\(csvField(label)),\(csvField(text))\n"
            case "jsonl": out += "{\"label\": \(label.isEmpty ? "null" : "\"\(label)\""), \"text\": \"\(text)\"}\n"
            default:
                let tags = label.split(separator: "|").map { "__label__\($0)" }.joined(separator: " ")
                out += "\(tags) \(text)\n"
            }
        }
        writeText(path, out)
    }

    private func assertSameSet(_ a: TrainingSet, _ b: TrainingSet, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.vocabulary.tokens, b.vocabulary.tokens, what, file: file, line: line)
        XCTAssertEqual(a.labels, b.labels, what, file: file, line: line)
        XCTAssertEqual(a.tokenizer.buckets, b.tokenizer.buckets, what, file: file, line: line)
        XCTAssertEqual(try a.examples.features(), try b.examples.features(), what, file: file, line: line)
        XCTAssertEqual(a.targets.classes, b.targets.classes, what, file: file, line: line)
        XCTAssertEqual(a.targets.values, b.targets.values, what, file: file, line: line)
        XCTAssertEqual(a.scaling, b.scaling, what, file: file, line: line)
        XCTAssertEqual(a.validExamples, b.validExamples, what, file: file, line: line)
        XCTAssertEqual(a.validTargets.classes, b.validTargets.classes, what, file: file, line: line)
        XCTAssertEqual(a.validTargets.values, b.validTargets.values, what, file: file, line: line)
        XCTAssertEqual(a.skippedEmptyText, b.skippedEmptyText, what, file: file, line: line)
        XCTAssertEqual(a.skippedMissingLabel, b.skippedMissingLabel, what, file: file, line: line)
        XCTAssertEqual(a.fingerprint(), b.fingerprint(), what, file: file, line: line)
    }

    private func configs(_ task: Config.Task) -> [(String, Config)] {
        var bag = Config(modelType: .bag)
        bag.model.task = task
        bag.tokenizer.buckets = 20_000
        bag.training.threads = 1
        var heldOut = bag
        heldOut.training.validationFraction = 0.2
        var flat = bag
        flat.training.hogwild = false
        var lstm = tinyConfig()
        lstm.model.task = task
        return [("bag", bag), ("bag, validation_fraction 0.2", heldOut), ("bag without Hogwild", flat), ("lstm", lstm)]
    }

    func testFileSetIsTheSetOfTheRowsReadWhole() throws {
        let dir = ScratchDirectory()
        for task in [Config.Task.singleLabel, .multiLabel, .regression] {
            let data = rows(task: task)
            for format in ["csv", "txt", "jsonl"] {
                let path = dir.file("train-\(task.rawValue).\(format)")
                write(data, format: format, to: path)
                // Every config for single labels; the other tasks on the bag (for time).
                for (name, config) in configs(task) where task == .singleLabel || name.hasPrefix("bag") {
                    let multi = task == .multiLabel
                    let whole = try TrainingSet(config: config, data: try LabelledTexts.read(path: path, config: config.data, multiLabel: multi),
                                                validation: nil)
                    XCTAssertGreaterThan(whole.skippedMissingLabel + whole.skippedEmptyText, 0)
                    for chunk in format == "csv" ? [97, 8 << 20] : [331] {
                        // Spilled (0) on the Hogwild bag configs, which keep compact texts, and
                        // on the LSTM, whose flat ids the data-parallel step reads back.
                        let spills = name.hasPrefix("bag") && name.contains("without") ? [LabelledFile.defaultSpillBytes]
                            : [LabelledFile.defaultSpillBytes, 0]
                        for spill in spills {
                            var source = LabelledFile(path: path, config: config.data, multiLabel: multi)
                            source.chunkBytes = chunk
                            source.spillBytes = spill
                            let passes = try TrainingSet(config: config, file: source, validation: nil)
                            if case .compact(let texts) = passes.examples { XCTAssertEqual(texts.isSpilled, spill == 0) }
                            if name == "lstm" {
                                if case .spilled = passes.examples { XCTAssertEqual(spill, 0) } else { XCTAssertNotEqual(spill, 0) }
                            }
                            assertSameSet(passes, whole, "\(task.rawValue), \(format), \(name), chunks of \(chunk) bytes, spill over \(spill)")
                        }
                    }
                }
            }
        }
    }

    func testAGivenValidationFileIsReadAfterTheFirstPass() throws {
        let dir = ScratchDirectory()
        let data = rows(task: .singleLabel)
        let path = dir.file("train.csv")
        write(data, format: "csv", to: path)
        let config = configs(.singleLabel)[0].1
        let validation = KeywordData.make(count: 50, seed: 9)
        let whole = try TrainingSet(config: config, data: try LabelledTexts.read(path: path, config: config.data), validation: validation)
        let passes = try TrainingSet(config: config, file: LabelledFile(path: path, config: config.data, multiLabel: false),
                                     validation: { validation })
        assertSameSet(passes, whole, "a validation set")
        // A bad training file is reported, not the validation reader's error.
        writeText(path, "label,text\nfood\n")
        _ = assertThrowsTextModelError(.data, mentioning: ["field"]) {
            _ = try TrainingSet(config: config, file: LabelledFile(path: path, config: config.data, multiLabel: false),
                                validation: { throw TextModelError.data("validation read") })
        }
    }

    func testCompactStoreIsReservedAtItsSize() throws {
        let data = rows(task: .singleLabel)
        for tokenizer in [Config(modelType: .bag).tokenizer, { var t = Config(modelType: .bag).tokenizer; t.charNgramsMax = 0; return t }()] {
            var counter = Vocabulary.Counter(tokenizer: Tokenizer(tokenizer), threads: 2)
            counter.add(Array(data.texts.prefix(400)))
            counter.add(Array(data.texts.dropFirst(400)))
            let vocabulary = counter.vocabulary(minFreq: 2, maxSize: 30)   // some words unknown
            let encoder = FeatureEncoder(config: tokenizer, vocabulary: vocabulary)
            var store = try CompactTexts(encoder: encoder, featureCount: 0, longest: 0, mostTokens: 0, texts: 0, storedIDs: 0)
            var texts = data.texts
            try store.append(consuming: &texts, threads: 2)
            XCTAssertEqual(CompactTexts.storedLength(of: counter, encoder: encoder), store.stored.totalLength)
            XCTAssertEqual(vocabulary.tokens, Vocabulary.build(texts: data.texts, tokenizer: Tokenizer(tokenizer), threads: 1,
                                                               minFreq: 2, maxSize: 30).tokens)
        }
    }

    func testTrainingFromAFileWritesTheModelOfItsRowsInMemory() throws {
        let dir = ScratchDirectory()
        let path = dir.file("train.csv")
        write(rows(task: .singleLabel), format: "csv", to: path)
        for (name, config) in configs(.singleLabel) {
            var config = config
            config.training.epochs = 2
            let fromRows = Model(config: config)
            try fromRows.train(try LabelledTexts.read(path: path, config: config.data))
            for spill in [LabelledFile.defaultSpillBytes, 0] {
                let fromFile = Model(config: config)
                fromFile.fileSpillBytes = spill
                let report = try fromFile.train(file: path)
                XCTAssertEqual(try fromFile.serialized(), try fromRows.serialized(), "\(name), spill over \(spill)")
                XCTAssertEqual(report.skippedMissingLabel, 1, name)
            }
        }
    }

    func testAFileThatChangesBetweenThePassesIsAnError() throws {
        let dir = ScratchDirectory()
        let path = dir.file("train.csv")
        let data = rows(task: .singleLabel)
        let config = configs(.singleLabel)[0].1
        for (change, spill) in [(50, 0), (-50, 0), (50, LabelledFile.defaultSpillBytes)] {
            write(data, format: "csv", to: path)
            var source = LabelledFile(path: path, config: config.data, multiLabel: false)
            source.spillBytes = spill
            // The validation reader runs between the passes: it rewrites the file.
            let changed = Rows(texts: change > 0 ? data.texts + Array(data.texts.prefix(change)) : Array(data.texts.dropFirst(-change)),
                               labels: change > 0 ? data.labels + Array(data.labels.prefix(change)) : Array(data.labels.dropFirst(-change)))
            _ = assertThrowsTextModelError(.data, mentioning: ["changed while it was read"]) {
                _ = try TrainingSet(config: config, file: source, validation: {
                    self.write(changed, format: "csv", to: path)
                    return KeywordData.make(count: 20, seed: 9)
                })
            }
        }
    }

    func testSpilledTextsReadBackAndFailCleanly() throws {
        let texts = EncodedTexts([[1, 2, 3], [], [7, -3, 9, 9]])
        let spill = try SpilledTexts(count: 3)
        try spill.append(EncodedTexts([[1, 2, 3]]))
        try spill.append(EncodedTexts([[], [7, -3, 9, 9]]))
        XCTAssertEqual(spill.longest, 4)
        var out = [Int32](repeating: 0, count: 4)
        for e in 0..<3 {
            let n = out.withUnsafeMutableBufferPointer { spill.read(e, into: $0.baseAddress!) }
            XCTAssertEqual(n.map { Array(out[0..<$0]) }, Array(texts[e]))
        }
        XCTAssertNil(spill.failure)
        XCTAssertNil(out.withUnsafeMutableBufferPointer { spill.read(9, into: $0.baseAddress!) })   // past the end
        XCTAssertNotNil(spill.failure)
        _ = assertThrowsTextModelError(.internal) { try spill.append(EncodedTexts([[1]])) }
        try spill.update { ids in for i in ids.indices { ids[i] += 1 } }
        XCTAssertEqual(out.withUnsafeMutableBufferPointer { spill.read(2, into: $0.baseAddress!) }, 4)
        XCTAssertEqual(out, [8, -2, 10, 10])
    }

    func testAnUnwritableTemporaryDirectoryIsAnIOError() throws {
        let dir = ScratchDirectory()
        let path = dir.file("train.csv")
        write(rows(task: .singleLabel), format: "csv", to: path)
        let saved = getenv("TMPDIR").map { String(cString: $0) }
        setenv("TMPDIR", dir.file("no-such-directory"), 1)
        defer { if let saved { setenv("TMPDIR", saved, 1) } else { unsetenv("TMPDIR") } }
        let model = Model(config: configs(.singleLabel)[0].1)
        model.fileSpillBytes = 0
        _ = assertThrowsTextModelError(.io, mentioning: ["TMPDIR"]) { try model.train(file: path) }
    }

    /// Each chunk read in each pass is a `.loading` report (bytes of all the passes, on
    /// the calling thread, before any step), so that a cancel is heard while a long file
    /// is read; a cancel there stops the reading: nothing is trained and the model,
    /// trained before or not, stays as it was.
    func testReadingReportsEachChunkAndACancelLeavesTheModelAsItWas() throws {
        let dir = ScratchDirectory()
        let path = dir.file("train.csv")
        write(rows(task: .singleLabel), format: "csv", to: path)
        let size = FileIO.regularFileSize(path)
        XCTAssertGreaterThan(size, 4 * 4096)
        for (name, config) in configs(.singleLabel) {
            let passes = config.training.validationFraction > 0 ? 3 : 2
            var source = LabelledFile(path: path, config: config.data, multiLabel: false)
            source.chunkBytes = 4096
            var seen = [TrainingProgress]()
            _ = try TrainingSet(config: config, file: source, validation: nil, progress: { seen.append($0); return false })
            XCTAssertGreaterThan(seen.count, passes * 4, name)
            XCTAssert(seen.allSatisfy { $0.kind == .loading && $0.epoch == 0 && $0.step == 0 && $0.bytesTotal == passes * size }, name)
            XCTAssertEqual(zip(seen, seen.dropFirst()).filter { $0.bytesRead >= $1.bytesRead }.count, 0, "\(name): bytes read went back")
            XCTAssertEqual(seen.last?.bytesRead, passes * size, name)

            // Through Model.train(file:): the loading reports come first, then the steps.
            var kinds = [TrainingProgress.Kind]()
            let trained = Model(config: config)
            let report = try trained.train(file: path, progress: { kinds.append($0.kind); return false })
            XCTAssertFalse(report.cancelled || report.cancelledWhileReading, name)
            XCTAssertEqual(kinds.prefix { $0 == .loading }.count, passes, name)
            XCTAssertFalse(kinds.dropFirst(passes).contains(.loading), name)
            let before = try trained.serialized()

            for cancelAt in [1, passes] {
                for model in [Model(config: config), trained] {
                    var reports = 0, after = 0
                    let cancelled = try model.train(file: path, progress: { p in
                        reports += 1
                        if reports > cancelAt { after += 1 }
                        XCTAssertEqual(p.kind, .loading, name)
                        return reports >= cancelAt
                    })
                    XCTAssertTrue(cancelled.cancelled && cancelled.cancelledWhileReading, name)
                    XCTAssertTrue(cancelled.epochs.isEmpty, name)
                    XCTAssertEqual(after, 0, "\(name): reports after the cancel")
                    if model === trained {
                        XCTAssertEqual(try model.serialized(), before, "\(name): a cancelled reading changed the trained model")
                    } else {
                        XCTAssertFalse(model.isTrained, name)
                    }
                }
            }
        }
    }
}
