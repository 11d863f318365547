import CAllocationCounter
import XCTest
@testable import TextModel

/// Issue 10's promise, checked with a real count of heap allocations (the test
/// executable's own malloc, see CAllocationCounter): once a network's activation plan
/// exists, a training step allocates nothing, and neither does a warm prediction call,
/// for every model type and weight precision. What a call returns (a Swift array the
/// caller asked for) is the caller's, so the prediction checks write into buffers made
/// beforehand, as the C ABI does. Counted in release builds only (see setUpWithError).
final class AllocationFreeTests: XCTestCase {
    private static let types: [Config.ModelType] = [.bag, .cnn, .lstm, .gru, .transformer]

    override func setUpWithError() throws {
        #if DEBUG
        // -Onone heap-allocates closure contexts and boxes that -O keeps on the stack:
        // what ships is optimised, so that is what is counted.
        throw XCTSkip("allocation counts are of optimised code: scripts/test.sh runs this class in a release build (swift test -c release -Xswiftc -enable-testing)")
        #endif
        try XCTSkipUnless(tm_test_allocation_counting_available(),
                          "sanitizer builds bring their own malloc: nothing is counted")
    }

    /// Allocations made by `body`, on any thread.
    private func allocations(_ body: () throws -> Void) rethrows -> (count: Int, firstSize: Int) {
        tm_test_allocations_begin()
        defer { _ = tm_test_allocations_end() }
        try body()
        let count = tm_test_allocations_end()
        return (count, tm_test_first_allocation_size())
    }

    func testTheCounterSeesAllocationsAndTheirAbsence() throws {
        let none = allocations {
            var sum = 0
            for i in 0..<1000 { sum &+= i }
            XCTAssertEqual(sum, 499_500)
        }
        XCTAssertEqual(none.count, 0)
        let some = allocations {
            let buffer = UnsafeMutablePointer<Int>.allocate(capacity: 777)
            buffer.deallocate()
            let array = [Int](repeating: 1, count: 1000 + Int.random(in: 0..<2))
            XCTAssertGreaterThan(array.count, 999)
        }
        XCTAssertGreaterThanOrEqual(some.count, 2)
        XCTAssertEqual(some.firstSize, 777 * MemoryLayout<Int>.stride)
    }

    // MARK: training steps

    private func config(_ type: Config.ModelType, threads: Int) -> Config {
        var c = Config(modelType: type)
        c.tokenizer.minFreq = 1
        c.model.embeddingDim = 8
        c.model.hiddenDim = 6
        c.model.filters = 4
        c.model.heads = 2
        c.tokenizer.maxLength = 16
        if type == .bag { c.tokenizer.buckets = 2_000 }
        c.training.threads = threads
        c.training.batchSize = 40   // over 20: Array.sort would allocate its merge buffer
        c.training.optimizer = .adam
        return c
    }

    private func state(_ c: Config, _ network: Network, totalSteps: Int) throws -> TrainingState {
        let parameters = FloatBuffer.zeros(count: network.layout.count)
        var rng = SeededGenerator(seed: 1)
        network.initialize(parameters.pointer, rng: &rng)
        return TrainingState(parameters: parameters, optimizer: try makeOptimizer(c.training, count: network.layout.count),
                             rng: rng, totalSteps: totalSteps,
                             schedule: LearningRateSchedule(config: c.training, totalSteps: totalSteps, stepsPerEpoch: totalSteps))
    }

    /// Steps of every type on 1 and 2 threads, including the first: the step's
    /// init and the workspaces' preparation are the plan; the steps after it allocate
    /// nothing (batches of several lengths, so a later batch is never just a repeat).
    func testDataParallelStepsAllocateNothing() throws {
        for type in Self.types {
            for threads in [1, 2] { try assertStepsAllocateNothing(config(type, threads: threads), "\(type) on \(threads) threads") }
        }
        var augmented = config(.lstm, threads: 2)
        augmented.training.augmentTokenDropout = 0.2
        augmented.training.augmentSwap = 0.1
        try assertStepsAllocateNothing(augmented, "augmented lstm")
        var clipped = config(.cnn, threads: 2)
        clipped.training.clipNorm = 0.5
        clipped.training.labelSmoothing = 0.1
        try assertStepsAllocateNothing(clipped, "clipped, smoothed cnn")
        var sparse = config(.bag, threads: 2)
        sparse.training.optimizer = .sgd
        sparse.model.freezeEmbeddings = true
        try assertStepsAllocateNothing(sparse, "SGD bag with frozen embeddings")
    }

    private func assertStepsAllocateNothing(_ c: Config, _ name: String) throws {
        let set = try TrainingSet(config: c, data: KeywordData.make(count: 300, seed: 3), validation: nil)
        let network = NetworkBuilder.make(config: c, vocabularySize: set.vocabulary.count, classes: set.width)
        let threads = c.training.threads, batch = c.training.batchSize
        let order = Array(Int32(0)..<300)
        func makeStep() throws -> DataParallelStep {
            let workspaces = (0..<threads).map { _ in network.makeWorkspace() }
            let shard = DataParallelStep.shardShape(batchSize: batch, threads: threads, longest: set.examples.longest)
            for ws in workspaces { try ws.prepare(for: shard) }
            return try DataParallelStep(config: c, network: network, set: set, classWeights: [1, 1, 1], workspaces: workspaces)
        }
        // The Swift runtime builds a generic type's metadata (and a cast's) the first
        // time the process uses it: one-time allocations of the runtime's. A step of
        // another step object fills those first; the step counted is fresh, from its
        // first step, so whatever the plan missed would show.
        var warm = try makeStep(), warmState = try self.state(c, network, totalSteps: 1)
        _ = try warm.run(order[0..<batch], epoch: 1, state: &warmState) { _, _ in false }
        var step = try makeStep()
        var state = try self.state(c, network, totalSteps: 12)
        let counted = try allocations {
            for epoch in 1...2 {
                for k in 0..<6 {
                    _ = try step.run(order[(k * 37)..<(k * 37 + batch)], epoch: epoch, state: &state) { _, _ in false }
                }
            }
        }
        XCTAssertEqual(state.step, 12, name)
        XCTAssertEqual(counted.count, 0, "\(name): 12 steps allocated \(counted.count) times (first: \(counted.firstSize) bytes)")
    }

    func testHogwildEpochsAllocateNothing() throws {
        for threads in [1, 2] {
            var c = config(.bag, threads: threads)
            c.training.optimizer = .sgd
            c.training.batchSize = 1
            c.training.hogwild = true
            let set = try TrainingSet(config: c, data: KeywordData.make(count: 120, seed: 3), validation: nil)
            let network = NetworkBuilder.make(config: c, vocabularySize: set.vocabulary.count, classes: set.width)
            var step = try HogwildStep(config: c, network: network, set: set, classWeights: [1, 1, 1], threads: threads)
            var state = try self.state(c, network, totalSteps: 240)
            let order = Array(Int32(0)..<120)
            let counted = try allocations {
                for epoch in 1...2 { _ = try step.run(order[...], epoch: epoch, state: &state) { _, _ in false } }
            }
            XCTAssertEqual(state.step, 240)
            // A Hogwild step is one example's update, and allocates nothing. An epoch is
            // one parallel section whose closure (it calls the progress callback)
            // reaches the team's threads through a small thunk and work object: two
            // allocations per epoch on several threads, none on one.
            XCTAssertEqual(counted.count, threads == 1 ? 0 : 4, "Hogwild on \(threads) threads: 2 epochs, 240 steps, allocated \(counted.count) times (first: \(counted.firstSize) bytes)")
        }
    }

    func testDPSGDEpochsAllocateNothing() throws {
        for type in [Config.ModelType.bag, .lstm] {
            for threads in [1, 2] {
                var c = config(type, threads: threads)
                c.training.optimizer = .sgd
                var privacy = PrivacyConfig()
                privacy.noiseMultiplier = 1.0
                c.training.privacy = privacy
                let set = try TrainingSet(config: c, data: KeywordData.make(count: 64, seed: 5), validation: nil)
                let network = NetworkBuilder.make(config: c, vocabularySize: set.vocabulary.count, classes: set.width)
                let workspaces = (0..<threads).map { _ in network.makeWorkspace() }
                for ws in workspaces { try ws.prepare(for: .bound(texts: 1, longest: set.examples.longest)) }
                var step = try DPSGDStep(config: c, network: network, set: set, classWeights: [1, 1, 1],
                                         workspaces: workspaces, noiseMultiplier: 1.0)
                let steps = 2 * DPSGDStep.stepsPerEpoch(examples: 64, batchSize: c.training.batchSize)
                var state = try self.state(c, network, totalSteps: steps)
                let order = Array(Int32(0)..<64)
                let counted = try allocations {
                    for epoch in 1...2 { _ = try step.run(order[...], epoch: epoch, state: &state) { _, _ in false } }
                }
                XCTAssertEqual(state.step, steps)
                XCTAssertEqual(counted.count, 0, "DP-SGD \(type) on \(threads) threads: 2 epochs allocated \(counted.count) times (first: \(counted.firstSize) bytes)")
            }
        }
    }

    // MARK: prediction

    private static let texts = KeywordData.make(count: 40, seed: 4).texts + ["", "unseen words only"]

    private func models(_ type: Config.ModelType) throws -> [(String, Model)] {
        var c = config(type, threads: 1)
        c.tokenizer.maxLength = 64
        let f32 = Model(model: randomModel(config: c, texts: Self.texts, labels: ["food", "sport", "tech"]))
        return [("f32", f32), ("f16", try reloaded(f32, precision: .f16)), ("int8", try reloaded(f32, precision: .int8))]
    }

    func testWarmSingleTextPredictionsAllocateNothing() throws {
        let utf8 = Self.texts.map { Array($0.utf8) }
        for type in Self.types {
            for (precision, model) in try models(type) {
                let counted = try warmPredictOneAllocations(model, utf8)
                XCTAssertEqual(counted.count, 0, "\(type) \(precision): warm predictOne calls allocated \(counted.count) times (first: \(counted.firstSize) bytes)")
            }
        }
    }

    /// Allocations of two rounds of `predictOne` over `texts`, after one round to warm up.
    private func warmPredictOneAllocations(_ model: Model, _ texts: [[UInt8]]) throws -> (count: Int, firstSize: Int) {
        for text in texts { _ = try text.withUnsafeBufferPointer { try model.predictOne(utf8: $0) } }
        var labels = 0
        let counted = try allocations {
            for _ in 0..<2 {
                for text in texts { labels &+= try text.withUnsafeBufferPointer { try model.predictOne(utf8: $0) }.label }
            }
        }
        XCTAssertGreaterThanOrEqual(labels, 0)
        return counted
    }

    func testWarmTokenizingOfNonASCIITextsAllocatesNothing() {
        // The tokenizer reads these from their bytes (no String): valid and invalid UTF-8,
        // lower-casing that changes a scalar's length, emoji with joiners, a curly apostrophe.
        let utf8 = ["Café crème brûlée 🎉", "ÉMOJI ünïcode ÇA 👩\u{200D}💻", "don\u{2019}t İstanbul ǅ ß",
                    "http://ünï.com/x www.é.fr"].map { Array($0.utf8) } + [[0xFF, 0x61, 0x20, 0xC3], [0xE2, 0x82, 0x28, 0x41]]
        let tokenizer = Tokenizer(config(.bag, threads: 1).tokenizer)
        var buffer = TokenBuffer()
        for text in utf8 { text.withUnsafeBufferPointer { tokenizer.tokenize(utf8: $0, into: &buffer) } }
        var tokens = 0
        let counted = allocations {
            for _ in 0..<2 {
                for text in utf8 {
                    text.withUnsafeBufferPointer { tokenizer.tokenize(utf8: $0, into: &buffer) }
                    tokens &+= buffer.count
                }
            }
        }
        XCTAssertGreaterThan(tokens, 0)
        XCTAssertEqual(counted.count, 0, "warm non-ASCII tokenizing allocated \(counted.count) times (first: \(counted.firstSize) bytes)")
    }

    func testWarmSingleTextPredictionsOnNonASCIITextsAllocateNothing() throws {
        // A vocabulary with non-ASCII words, asked for known and unknown ones longer than
        // a small String's 15 bytes. (Texts not in NFC, like a decomposed "é", still make
        // a String: canonical equivalence needs it.)
        let trained = Self.texts + ["Café crème brûlée", "привет мир", "Ångström 🎉 naïve"]
        let asked = ["Café crème brûlée 🎉", "непредсказуемость привет", "Ångströmångström naïveté",
                     "ÉMOJI ünïcode ÇA 👩\u{200D}💻 здравствуйте"].map { Array($0.utf8) }
        var c = config(.bag, threads: 1)
        c.tokenizer.maxLength = 64
        let model = Model(model: randomModel(config: c, texts: trained, labels: ["food", "sport", "tech"]))
        let counted = try warmPredictOneAllocations(model, asked)
        XCTAssertEqual(counted.count, 0, "warm non-ASCII predictOne calls allocated \(counted.count) times (first: \(counted.firstSize) bytes)")
    }

    func testWarmBatchPredictionsOnOneThreadAllocateNothing() throws {
        for type in Self.types {
            for (precision, model) in try models(type) {
                try model.setPredictionThreads(1)
                let texts = Self.texts, some = Array(texts[5..<20])
                var probs = [Float](repeating: 0, count: texts.count * 3)
                var labels = [Int32](repeating: 0, count: texts.count)
                try probs.withUnsafeMutableBufferPointer { p in
                    try labels.withUnsafeMutableBufferPointer { l in
                        guard let p = p.baseAddress, let l = l.baseAddress else { return }
                        try model.predictProbabilities(texts, into: p)     // warm: the longest text's shape
                        try model.predictTopK(texts, k: 1, labels: l, probabilities: p)
                        let counted = try allocations {
                            try model.predictProbabilities(texts, into: p)
                            try model.predictProbabilities(some, into: p)
                        }
                        XCTAssertEqual(counted.count, 0, "\(type) \(precision): warm batch predictions allocated \(counted.count) times (first: \(counted.firstSize) bytes)")
                        // Top-k ranks each text's row of a probability matrix it makes per
                        // call: that matrix and the label order are its only allocations.
                        let topK = try allocations { try model.predictTopK(texts, k: 1, labels: l, probabilities: p) }
                        XCTAssertEqual(topK.count, 2, "\(type) \(precision): warm predictTopK (first: \(topK.firstSize) bytes)")
                    }
                }
            }
        }
    }
}
