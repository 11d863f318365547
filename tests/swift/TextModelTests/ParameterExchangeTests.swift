// ParameterExchangeStep: the exchange comes every sync_every optimizer steps and at each
// epoch's end (once per epoch with Hogwild, whose run is the epoch), an identity
// exchange leaves training bit for bit as it was, and every way it can go wrong is an
// error that leaves the model untrained.
import XCTest
@testable import TextModel

final class ParameterExchangeTests: XCTestCase {

    /// Records the step of every call; optionally does something to the weights.
    private final class Recorder: ParameterExchange {
        var steps: [Int] = []
        var counts: Set<Int> = []
        let body: (UnsafeMutablePointer<Float>, Int, Int) throws -> Void
        init(_ body: @escaping (UnsafeMutablePointer<Float>, Int, Int) throws -> Void = { _, _, _ in }) { self.body = body }
        func exchange(_ parameters: UnsafeMutablePointer<Float>, count: Int, step: Int) throws {
            steps.append(step)
            counts.insert(count)
            try body(parameters, count, step)
        }
    }

    private struct PeerLost: Error {}

    private func parameters(_ model: Model) throws -> [Float] {
        let n = try model.parameterCount()
        var out = [Float](repeating: .nan, count: n)
        try out.withUnsafeMutableBufferPointer { try model.copyParameters(into: $0.baseAddress!, count: n) }
        return out
    }

    func testIdentityExchangeReproducesPlainDataParallelTraining() throws {
        // 80 rows, batches of 16: 5 steps an epoch, 10 in all, on 2 threads.
        let config = tinyConfig(epochs: 2, threads: 2)
        let data = KeywordData.make(count: 80, seed: 5)
        let plain = Model(config: config)
        try plain.train(data)
        let exchanged = Model(config: config), recorder = Recorder()
        try exchanged.train(data, exchange: recorder, syncEvery: 2)
        XCTAssertEqual(try parameters(exchanged), try parameters(plain))
        XCTAssertEqual(try exchanged.serialized(), try plain.serialized())
        // Every 2 steps, and at each epoch's end (step 5), once at step 10.
        XCTAssertEqual(recorder.steps, [2, 4, 5, 6, 8, 10])
        XCTAssertEqual(recorder.counts, [try plain.parameterCount()])

        let epochEnds = Recorder()
        try Model(config: config).train(data, exchange: epochEnds, syncEvery: 0)
        XCTAssertEqual(epochEnds.steps, [5, 10])
    }

    func testHogwildExchangesOncePerEpoch() throws {
        var bag = Config(modelType: .bag)
        bag.training.epochs = 2
        bag.training.threads = 1
        let data = KeywordData.make(count: 60, seed: 2)
        let plain = Model(config: bag)
        try plain.train(data)
        let exchanged = Model(config: bag), recorder = Recorder()
        try exchanged.train(data, exchange: recorder, syncEvery: 7)
        // Hogwild counts a step per example and runs an epoch per call.
        XCTAssertEqual(recorder.steps, [60, 120])
        XCTAssertEqual(try parameters(exchanged), try parameters(plain))
    }

    func testTheExchangeReallyReplacesTheWeights() throws {
        let config = tinyConfig(epochs: 1)
        let data = KeywordData.make(count: 32, seed: 1)
        let zeroed = Model(config: config)
        try zeroed.train(data, exchange: Recorder { p, n, _ in p.update(repeating: 0, count: n) }, syncEvery: 0)
        XCTAssertEqual(Set(try parameters(zeroed)), [0])
    }

    func testFailuresStopTrainingAndLeaveTheModelUntrained() throws {
        let data = KeywordData.make(count: 48, seed: 4)
        let failing = Model(config: tinyConfig())
        XCTAssertThrowsError(try failing.train(data, exchange: Recorder { _, _, step in
            if step == 2 { throw PeerLost() }
        }, syncEvery: 1)) { XCTAssertTrue($0 is PeerLost, "\($0)") }
        XCTAssertFalse(failing.isTrained)

        let poisoning = Model(config: tinyConfig())
        assertThrowsTextModelError(.invalidArgument, mentioning: ["exchange at step 1", "parameter 3", "finite"]) {
            try poisoning.train(data, exchange: Recorder { p, _, _ in p[3] = .nan }, syncEvery: 1)
        }
        XCTAssertFalse(poisoning.isTrained)

        assertThrowsTextModelError(.invalidArgument, mentioning: ["sync_every", "-1"]) {
            try Model(config: tinyConfig()).train(data, exchange: Recorder(), syncEvery: -1)
        }
        var privateConfig = tinyConfig()
        privateConfig.training.privacy = PrivacyConfig()
        assertThrowsTextModelError(.config, mentioning: ["training.privacy", "parameter exchange"]) {
            try Model(config: privateConfig).train(data, exchange: Recorder(), syncEvery: 1)
        }
    }
}
