import XCTest
@testable import TextModel

/// Bag-model compression: k-means, product quantization, the cutoff, the format-4 file
/// and retraining the output layer.
final class QuantizationTests: XCTestCase {
    private func bagConfig(buckets: Int = 2000, dim: Int = 8) -> Config {
        var c = Config(modelType: .bag)
        c.model.embeddingDim = dim
        c.tokenizer.buckets = buckets
        c.tokenizer.minFreq = 1
        c.training.threads = 1
        c.training.epochs = 5
        return c
    }

    private func trained(_ c: Config, _ data: LabelledTexts) throws -> (Model, TrainedModel) {
        let model = Model(config: c)
        _ = try model.train(data)
        return (model, try model.trainedModel())
    }

    private func accuracy(_ model: Model, _ data: LabelledTexts) throws -> Double {
        guard case .singleLabel(let m) = try model.evaluate(data) else { XCTFail("not single-label"); return 0 }
        return m.accuracy
    }

    func testKMeansFindsWellSeparatedClusters() {
        // Three tight blobs: every point must end up at its blob's centre.
        let centres: [(Float, Float)] = [(-5, 0), (0, 5), (6, -3)]
        var rng = SeededGenerator(seed: 3)
        var points = [Float]()
        for i in 0..<300 {
            let c = centres[i % 3]
            points += [c.0 + rng.uniform(-0.1, 0.1), c.1 + rng.uniform(-0.1, 0.1)]
        }
        var centroids = [Float](repeating: 0, count: 6)
        var krng = SeededGenerator(seed: 9)
        KMeans.cluster(points: points, count: 300, dim: 2, k: 3, iterations: 50, rng: &krng, centroids: &centroids)
        for c in centres {
            let nearest = (0..<3).map { abs(centroids[2 * $0] - c.0) + abs(centroids[2 * $0 + 1] - c.1) }.min()!
            XCTAssertLessThan(nearest, 0.05, "no centroid at \(c): \(centroids)")
        }
        // Deterministic for a seed.
        var again = [Float](repeating: 0, count: 6)
        var krng2 = SeededGenerator(seed: 9)
        KMeans.cluster(points: points, count: 300, dim: 2, k: 3, iterations: 50, rng: &krng2, centroids: &again)
        XCTAssertEqual(centroids, again)
    }

    func testProductQuantizationErrorIsBoundedAndShrinksWithCentroids() {
        var rng = SeededGenerator(seed: 5)
        let n = 1000, d = 8
        let rows = (0..<(n * d)).map { _ in rng.uniform(-1, 1) }
        func meanSquaredError(_ pq: ProductQuantizer) -> Double {
            var codes = [UInt8](repeating: 0, count: n * pq.subspaces)
            rows.withUnsafeBufferPointer { pq.encode(rows: $0.baseAddress!, count: n, into: &codes, threads: 2) }
            var decoded = [Float](repeating: 0, count: d), total = 0.0
            for r in 0..<n {
                codes.withUnsafeBufferPointer { pq.decode($0.baseAddress! + r * pq.subspaces, into: &decoded) }
                for j in 0..<d { total += Double((decoded[j] - rows[r * d + j]) * (decoded[j] - rows[r * d + j])) }
            }
            return total / Double(n * d)
        }
        let full = rows.withUnsafeBufferPointer {
            ProductQuantizer.train(rows: $0.baseAddress!, count: n, dim: d, dsub: 2, options: .init(seed: 1, threads: 2))
        }
        XCTAssertEqual(full.ksub, 256)
        XCTAssertEqual(full.codebooks.count, 4 * 256 * 2)
        // Uniform on [-1, 1]² cut into 256 cells: cells ~0.125 wide, so the error per
        // value is about 0.125² / 12 ≈ 0.0013; the raw variance is 1/3.
        let error = meanSquaredError(full)
        XCTAssertLessThan(error, 0.004)
        let few = rows.withUnsafeBufferPointer {
            ProductQuantizer.train(rows: $0.baseAddress!, count: 16, dim: d, dsub: 2, options: .init(seed: 1))
        }
        XCTAssertEqual(few.ksub, 16, "fewer rows than centroids: one centroid per row")
        XCTAssertGreaterThan(meanSquaredError(few), error)
        // Threads do not change the codebooks.
        let single = rows.withUnsafeBufferPointer {
            ProductQuantizer.train(rows: $0.baseAddress!, count: n, dim: d, dsub: 2, options: .init(seed: 1, threads: 1))
        }
        XCTAssertEqual(single.codebooks, full.codebooks)
    }

    func testCutoffKeepsTheLargestNormRowsAndPrunesUntouchedOnes() throws {
        let data = KeywordData.make(count: 200, seed: 31)
        let (model, plain) = try trained(bagConfig(), data)
        let rows = plain.network.input.rows, e = plain.network.input.dim
        let table = plain.parameters.pointer + plain.network.input.table.offset
        let untouched = BagQuantizer.untouchedRows(table: table, rows: rows, dim: e, model: plain)!
        for threads in [2, 3] {
            XCTAssertEqual(BagQuantizer.untouchedRows(table: table, rows: rows, dim: e, model: plain, threads: threads,
                                                      minimumRowsEach: 1), untouched, "\(threads) threads")
        }
        // The four-lane AVX2 redraw gives the one-lane loop's answers.
        for threads in [1, 3] {
            XCTAssertEqual(BagQuantizer.untouchedRows(table: table, rows: rows, dim: e, model: plain, threads: threads,
                                                      minimumRowsEach: 1, vectorized: false), untouched, "\(threads) threads, one lane")
        }
        let touched = untouched.filter { !$0 }.count
        XCTAssertGreaterThan(touched, 10)
        XCTAssertLessThan(touched, rows / 2, "most of the 2000 buckets are never reached by 200 short texts")

        var options = QuantizeOptions()
        let all = try model.quantized(options).trainedModel().network.quantizedInput!
        XCTAssertEqual(all.kept, touched, "no cutoff: every row training changed")

        options.cutoff = 12
        let q = try model.quantized(options).trainedModel()
        let input = q.network.quantizedInput!
        XCTAssertEqual(input.kept, 12)
        // The kept rows are the 12 touched rows of largest norm (old ids), mapped to the
        // pruned vocabulary: its words are exactly the kept words.
        func norm(_ r: Int) -> Float { (0..<e).reduce(0) { $0 + table[r * e + $1] * table[r * e + $1] }.squareRoot() }
        let ranked = (0..<rows).filter { !untouched[$0] }.sorted { norm($0) != norm($1) ? norm($0) > norm($1) : $0 < $1 }
        let keptOld = Array(ranked.prefix(12)).sorted()
        let vocabularyCount = plain.vocabulary.count
        let keptWords = keptOld.filter { $0 < vocabularyCount && $0 > 1 }.map { plain.vocabulary.tokens[$0] }
        XCTAssertEqual(Array(q.vocabulary.tokens.dropFirst(2)), keptWords)
        let shift = vocabularyCount - q.vocabulary.count
        let expected = keptOld.map { old -> Int32 in
            old < vocabularyCount ? (old <= 1 ? Int32(old) : Int32(2 + keptWords.firstIndex(of: plain.vocabulary.tokens[old])!))
                : Int32(old - shift)
        }
        XCTAssertEqual(input.keptIDs, expected)
        XCTAssertEqual(input.index(of: expected[3]), 3)
        XCTAssertNil(input.index(of: Int32(q.network.input.rows + 1)))
    }

    func testCompressedOutputsMatchTheDecodedRowsMean() throws {
        let data = KeywordData.make(count: 200, seed: 32)
        let (model, plain) = try trained(bagConfig(), data)
        var options = QuantizeOptions()
        options.qnorm = true
        options.cutoff = 40
        let q = try model.quantized(options).trainedModel()
        let input = q.network.quantizedInput!
        XCTAssertNotNil(input.normCodebook)
        let e = input.dim, c = q.network.classes
        let texts = Array(data.texts.prefix(20)) + ["", "unseen words only"]
        var features = [Float](repeating: .nan, count: texts.count * e)
        try features.withUnsafeMutableBufferPointer { try q.features(of: texts, into: $0.baseAddress!) }
        for (i, text) in texts.enumerated() {
            var sum = [Float](repeating: 0, count: e), row = sum, used = 0
            for id in q.encode(text) {
                guard let index = input.index(of: id) else { continue }
                input.decodedRow(index, into: &row)
                for j in 0..<e { sum[j] += row[j] }
                used += 1
            }
            for j in 0..<e {
                let expected = used == 0 ? 0 : sum[j] / Float(used)
                XCTAssertEqual(features[i * e + j], expected, accuracy: 1e-5, "text \(i)")
            }
        }
        // Without retraining the output layer is the f32 model's.
        let w = q.network.outputWeight, pw = plain.network.outputWeight
        XCTAssertEqual(array(q.parameters.pointer + w.offset, c * e), array(plain.parameters.pointer + pw.offset, c * e))
    }

    func testSaveLoadRoundTripKeepsPredictionsAndIsSmall() throws {
        let dir = ScratchDirectory()
        let data = KeywordData.make(count: 200, seed: 33)
        let (model, _) = try trained(bagConfig(), data)
        for qnorm in [false, true] {
            var options = QuantizeOptions()
            options.qnorm = qnorm
            options.cutoff = 30
            let q = try model.quantized(options)
            XCTAssertTrue(q.isQuantized)
            XCTAssertFalse(model.isQuantized)
            let path = dir.file("q\(qnorm).tm")
            try q.save(to: path)
            let bytes = readBytes(path)
            XCTAssertEqual(bytes.count, try q.serializedSize())
            XCTAssertLessThan(bytes.count * 5, try model.serializedSize())
            XCTAssertTrue(String(decoding: bytes, as: UTF8.self).contains(#""format_version":"4""#))
            let loaded = try Model.load(from: path)
            XCTAssertTrue(loaded.isQuantized)
            let texts = Array(data.texts.prefix(50))
            XCTAssertEqual(try loaded.predictProbabilities(texts), try q.predictProbabilities(texts))
            let fromBytes = try Model.load(bytes: bytes)
            XCTAssertEqual(try fromBytes.predictProbabilities(texts), try q.predictProbabilities(texts))
            // Saving the loaded model writes the same bytes.
            try loaded.save(to: dir.file("again.tm"))
            XCTAssertEqual(readBytes(dir.file("again.tm")), bytes)
        }
    }

    func testRetrainingKeepsOrImprovesTrainingAccuracy() throws {
        let data = KeywordData.make(count: 300, seed: 34)
        var c = bagConfig()
        c.training.epochs = 2
        let (model, _) = try trained(c, data)
        var options = QuantizeOptions()
        options.cutoff = 15
        options.dsub = 4
        let before = try accuracy(model.quantized(options), data)
        options.retrain = true
        options.epochs = 10
        options.learningRate = 0.5
        let retrained = try model.quantized(options, training: data)
        let after = try accuracy(retrained, data)
        XCTAssertGreaterThanOrEqual(after, before)
        XCTAssertGreaterThan(after, 0.8)
        // Deterministic for the same options and data.
        XCTAssertEqual(try retrained.predictProbabilities(Array(data.texts.prefix(20))),
                       try model.quantized(options, training: data).predictProbabilities(Array(data.texts.prefix(20))))
    }

    func testRefusals() throws {
        let data = KeywordData.make(count: 100, seed: 35)
        let (bag, _) = try trained(bagConfig(), data)
        var options = QuantizeOptions()
        options.dsub = 3
        assertThrowsTextModelError(.invalidArgument, mentioning: ["dsub", "8"]) { _ = try bag.quantized(options) }
        options = QuantizeOptions()
        options.retrain = true
        assertThrowsTextModelError(.invalidArgument, mentioning: ["retrain", "training data"]) { _ = try bag.quantized(options) }
        let q = try bag.quantized()
        assertThrowsTextModelError(.invalidArgument, mentioning: ["already quantized"]) { _ = try q.quantized() }
        assertThrowsTextModelError(.invalidArgument, mentioning: ["explanations", "product-quantized"]) { _ = try q.explain(["pizza"]) }
        var cnn = tinyConfig(epochs: 1)
        cnn.model.type = .cnn
        let (cnnModel, _) = try trained(cnn, data)
        assertThrowsTextModelError(.invalidArgument, mentioning: ["bag models only", "cnn"]) { _ = try cnnModel.quantized() }
        assertThrowsTextModelError(.state) { _ = try Model(config: bagConfig()).quantized() }
    }
}

extension QuantizationTests {
    func testEightWideNearestCentroidMatchesTheScalarSearch() {
        var rng = SeededGenerator(seed: 12)
        for k in [8, 13, 100, 256] {
            // Coarse values make exact ties between centroids common.
            let centroids = (0..<(2 * k)).map { _ in Float(Int(rng.next() % 9)) / 4 }
            for _ in 0..<500 {
                let point = [Float(Int(rng.next() % 9)) / 4, Float(Int(rng.next() % 9)) / 4]
                var expected = 0, bestDistance = Float.infinity
                for c in 0..<k {
                    let dx = centroids[2 * c] - point[0], dy = centroids[2 * c + 1] - point[1]
                    if dx * dx + dy * dy < bestDistance { bestDistance = dx * dx + dy * dy; expected = c }
                }
                XCTAssertEqual(KMeans.nearest(point, centroids: centroids, k: k, dim: 2), expected, "k \(k), point \(point)")
            }
        }
    }

    func testSortedPlaneSearchMatchesTheFullSearch() throws {
        var rng = SeededGenerator(seed: 13)
        for k in [1, 3, 8, 13, 100, 256] {
            // Coarse values (exact ties, centroids on one x) and fine ones (the usual case).
            for coarse in [true, false] {
                let value = { (rng: inout SeededGenerator) -> Float in
                    coarse ? Float(Int(rng.next() % 9)) / 4 : rng.uniform(-1, 1)
                }
                let centroids = (0..<(2 * k)).map { _ in value(&rng) }
                guard let plane = centroids.withUnsafeBufferPointer({ PlaneCentroids($0.baseAddress!, k: k) }) else {
                    throw XCTSkip("no AVX2: the sorted search is off")
                }
                var points = (0..<1000).map { _ in value(&rng) * 1.5 }
                points += [.infinity, 0, .nan, 1, 3e38, -3e38]   // no finite distance: the full search's answer
                let count = points.count / 2
                var found = [Int32](repeating: -7, count: count)
                plane.nearest(points: points, stride: 2, count: count, centroids: centroids, into: &found)
                for i in 0..<count {
                    let expected = KMeans.nearest(Array(points[(2 * i)...(2 * i + 1)]), centroids: centroids, k: k, dim: 2)
                    XCTAssertEqual(Int(found[i]), expected, "k \(k), coarse \(coarse), point \(points[2 * i]), \(points[2 * i + 1])")
                }
            }
        }
        // A centroid that is not finite: no sorted search.
        XCTAssertNil([Float(0), 1, .nan, 2].withUnsafeBufferPointer { PlaneCentroids($0.baseAddress!, k: 2) })
    }

    func testAdvancedGeneratorContinuesTheSequence() {
        for steps in [0, 1, 63, 64, 1000, 12_345] {
            var drawn = SeededGenerator(seed: 77)
            for _ in 0..<steps { _ = drawn.next() }
            var jumped = SeededGenerator(seed: 77).advanced(by: UInt64(steps))
            XCTAssertEqual(jumped.state, drawn.state, "\(steps) steps")
            XCTAssertEqual(jumped.next(), drawn.next())
        }
    }

    func testEightWideScalarNearestCentroidMatchesTheScalarSearch() {
        var rng = SeededGenerator(seed: 14)
        for k in [8, 13, 100, 256] {
            let centroids = (0..<k).map { _ in Float(Int(rng.next() % 9)) / 4 }   // many exact ties
            for _ in 0..<500 {
                let x = Float(Int(rng.next() % 11)) / 4 - 0.25
                var expected = 0, bestDistance = Float.infinity
                for c in 0..<k where (centroids[c] - x) * (centroids[c] - x) < bestDistance {
                    bestDistance = (centroids[c] - x) * (centroids[c] - x)
                    expected = c
                }
                XCTAssertEqual(KMeans.nearest([x], centroids: centroids, k: k, dim: 1), expected, "k \(k), x \(x)")
            }
        }
    }
}
