// Shared helpers for the TextModel tests: error assertions, seeded random tensors,
// finite-difference gradient comparison, scratch directories and raw file access
// (Glibc only, like the library itself).
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import TextModel

// MARK: errors

/// Runs `body`, which must throw a TextModelError of `kind` whose message contains every
/// string of `mentioning`. Returns the error for further checks.
@discardableResult
func assertThrowsTextModelError<T>(_ kind: TextModelError.Kind, mentioning: [String] = [],
                                   _ message: @autoclosure () -> String = "",
                                   file: StaticString = #filePath, line: UInt = #line,
                                   _ body: () throws -> T) -> TextModelError? {
    do {
        _ = try body()
        XCTFail("expected TextModelError(.\(kind)) but nothing was thrown. \(message())", file: file, line: line)
        return nil
    } catch let error as TextModelError {
        XCTAssertEqual(error.kind, kind, "wrong kind for error \"\(error.message)\". \(message())", file: file, line: line)
        for part in mentioning {
            XCTAssertTrue(error.message.contains(part),
                          "error message \"\(error.message)\" does not mention \"\(part)\". \(message())", file: file, line: line)
        }
        return error
    } catch {
        XCTFail("expected TextModelError(.\(kind)) but got \(error). \(message())", file: file, line: line)
        return nil
    }
}

// MARK: configs

/// A resolved config without one key ("model.heads"), as a library that predates the
/// key wrote it.
func removingConfigKey(_ path: String, from config: JSONValue) -> JSONValue {
    let parts = path.split(separator: ".").map(String.init)
    guard parts.count == 2, case .object(let sections) = config else { return config }
    return .object(sections.map { name, members in
        guard name == parts[0], case .object(let keys) = members else { return (name, members) }
        return (name, .object(keys.filter { $0.0 != parts[1] }))
    })
}

// MARK: random tensors

/// A tensor of `count` floats uniform in [low, high), in a FloatBuffer (stable pointer).
func randomBuffer(_ count: Int, _ rng: inout SeededGenerator, _ low: Float = -1, _ high: Float = 1) -> FloatBuffer {
    let b = FloatBuffer.zeros(count: count)
    for i in 0..<count { b.pointer[i] = rng.uniform(low, high) }
    return b
}

func copyBuffer(_ source: FloatBuffer, _ count: Int) -> FloatBuffer {
    let b = FloatBuffer.zeros(count: count)
    b.pointer.update(from: source.pointer, count: count)
    return b
}

func array(_ p: UnsafePointer<Float>, _ count: Int) -> [Float] {
    Array(UnsafeBufferPointer(start: p, count: count))
}

/// Σ out ⊙ r, accumulated in Double so the loss itself adds no rounding noise.
func weightedSum(_ out: UnsafePointer<Float>, _ r: UnsafePointer<Float>, _ count: Int) -> Double {
    var s = 0.0
    for i in 0..<count { s += Double(out[i]) * Double(r[i]) }
    return s
}

/// All of 0..<count when small, else `limit` distinct indices drawn with `rng` (sorted).
func sampleIndices(_ count: Int, limit: Int, _ rng: inout SeededGenerator) -> [Int] {
    var all = Array(0..<count)
    if count <= limit { return all }
    rng.shuffle(&all)
    return all[0..<limit].sorted()
}

// MARK: gradient checks

/// Central difference of `loss` with respect to values[i]; the value is restored after.
func numericDerivative(_ values: UnsafeMutablePointer<Float>, _ i: Int, eps: Float, _ loss: () -> Double) -> Double {
    let saved = values[i]
    let plus = saved + eps, minus = saved - eps
    values[i] = plus
    let lp = loss()
    values[i] = minus
    let lm = loss()
    values[i] = saved
    return (lp - lm) / (Double(plus) - Double(minus))
}

/// |a − n| / max(1e-2, |a| + |n|): relative error with a floor for tiny gradients.
func gradientError(_ analytic: Double, _ numeric: Double) -> Double {
    abs(analytic - numeric) / max(1e-2, abs(analytic) + abs(numeric))
}

/// Compares analytic and numeric derivatives of one tensor at `indices`:
/// every coordinate within `tolerance` (gradientError), and the tensor as a whole
/// ‖a − n‖ / (‖a‖ + ‖n‖) below `tolerance` too (this catches wrong but tiny gradients
/// that the per-coordinate floor would let through). Returns the number of coordinates
/// whose numeric derivative is clearly non-zero, so callers can assert the check
/// exercised something.
@discardableResult
func assertGradientsMatch(_ name: String, indices: [Int], tolerance: Double = 1e-2,
                          file: StaticString = #filePath, line: UInt = #line,
                          analytic: (Int) -> Double, numeric: (Int) -> Double) -> Int {
    var bad = [String]()
    var diff2 = 0.0, a2 = 0.0, n2 = 0.0
    var significant = 0
    for i in indices {
        let a = analytic(i), n = numeric(i)
        XCTAssertTrue(a.isFinite, "\(name)[\(i)]: analytic gradient \(a) is not finite", file: file, line: line)
        let e = gradientError(a, n)
        if !(e < tolerance) { bad.append("[\(i)] analytic \(a) numeric \(n) error \(e)") }
        diff2 += (a - n) * (a - n); a2 += a * a; n2 += n * n
        if abs(n) > 1e-3 { significant += 1 }
    }
    XCTAssertTrue(bad.isEmpty, "\(name): \(bad.count) of \(indices.count) coordinates differ: \(bad.prefix(8).joined(separator: "; "))",
                  file: file, line: line)
    let norm = a2.squareRoot() + n2.squareRoot()
    if norm > 1e-4 {
        let relative = diff2.squareRoot() / norm
        XCTAssertLessThan(relative, tolerance, "\(name): whole-tensor relative error", file: file, line: line)
    }
    return significant
}

// MARK: files

/// A fresh directory, removed (with the files in it) on deinit. In memory (/dev/shm)
/// when available: the model-file tests write thousands of small files.
final class ScratchDirectory {
    let path: String

    init() {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array("\(base)/textmodel-tests-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(cString: template)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    deinit { removeTree(path) }
}

/// Names in a directory (without . and ..).
func directoryEntries(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names = [String]()
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

func removeTree(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if (st.st_mode & S_IFMT) == S_IFDIR {
        chmod(path, 0o755)
        for name in directoryEntries(path) { removeTree("\(path)/\(name)") }
        rmdir(path)
    } else {
        unlink(path)
    }
}

func writeBytes(_ path: String, _ bytes: [UInt8]) {
    guard let f = fopen(path, "wb") else { XCTFail("cannot create \(path)"); return }
    if !bytes.isEmpty { _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, f) } }
    fclose(f)
}

func writeText(_ path: String, _ text: String) { writeBytes(path, Array(text.utf8)) }

func readBytes(_ path: String) -> [UInt8] {
    guard let f = fopen(path, "rb") else { XCTFail("cannot open \(path)"); return [] }
    defer { fclose(f) }
    var out = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, 65536, f) }
        if n == 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}

// MARK: configs and models

/// A small config for fast tests.
func tinyConfig(embedding: Int = 8, hidden: Int = 8, layers: Int = 1, epochs: Int = 2, threads: Int = 1,
                seed: UInt64 = 7, batchSize: Int = 16, learningRate: Double = 0.01) -> Config {
    var c = Config(modelType: .lstm)
    c.tokenizer.minFreq = 1
    c.model.embeddingDim = embedding
    c.model.hiddenDim = hidden
    c.model.layers = layers
    c.training.epochs = epochs
    c.training.threads = threads
    c.training.seed = seed
    c.training.batchSize = batchSize
    c.training.learningRate = learningRate
    return c
}

/// An untrained but randomly initialised model over `texts`' vocabulary, built without
/// running the trainer (fast, and independent of training).
func randomModel(config: Config, texts: [String], labels: [String], seed: UInt64 = 11) -> TrainedModel {
    let tokenizer = Tokenizer(config.tokenizer)
    let vocabulary = Vocabulary.build(from: texts.map(tokenizer.tokenize), minFreq: 1, maxSize: config.tokenizer.maxSize)
    let network = NetworkBuilder.make(config: config, vocabularySize: vocabulary.count, classes: labels.count)
    let parameters = FloatBuffer.zeros(count: network.layout.count)
    var rng = SeededGenerator(seed: seed)
    network.initialize(parameters.pointer, rng: &rng)
    return TrainedModel(config: config, vocabulary: vocabulary, labels: labels, network: network, parameters: parameters)
}

/// Probabilities [N × C] of raw texts through a model.
func probabilities(_ model: TrainedModel, _ texts: [String]) -> [Float] {
    var out = [Float](repeating: .nan, count: texts.count * model.labels.count)
    out.withUnsafeMutableBufferPointer { try! model.outputs(of: texts, into: $0.baseAddress!) }
    return out
}

/// Keyword data: each class has its own keywords, texts mix one or two of them with
/// filler words that carry no class information. Deterministic for a seed.
enum KeywordData {
    static let classes = ["food", "sport", "tech"]
    static let keywords = [
        ["pizza", "pasta", "salad", "soup", "bread"],
        ["goal", "match", "team", "score", "coach"],
        ["code", "server", "compiler", "laptop", "bug"],
    ]
    static let filler = ["the", "a", "very", "today", "we", "saw", "nice", "big", "really", "and",
                         "it", "was", "so", "good", "my", "friend", "said", "that", "this", "one"]

    static func make(count: Int, seed: UInt64) -> LabelledTexts {
        var rng = SeededGenerator(seed: seed)
        var data = LabelledTexts()
        for i in 0..<count {
            let c = Int(rng.next() % 3)
            let length = 3 + Int(rng.next() % 6)
            var words = (0..<length).map { _ in filler[Int(rng.next() % UInt64(filler.count))] }
            let keywordCount = 1 + Int(rng.next() % 2)
            for _ in 0..<keywordCount {
                let k = keywords[c][Int(rng.next() % UInt64(keywords[c].count))]
                words.insert(k, at: Int(rng.next() % UInt64(words.count + 1)))
            }
            // A little variety in case and punctuation, which the tokenizer must absorb.
            var text = words.joined(separator: " ")
            if i % 5 == 0 { text = text.uppercased() }
            if i % 7 == 0 { text += "!" }
            data.append(text: text, label: classes[c])
        }
        return data
    }
}

/// A tokenizer with the given settings (the rest at their defaults).
func makeTokenizer(lowercase: Bool = true, replaceURLs: Bool = true, maxLength: Int = 128) -> Tokenizer {
    var c = Config.Tokenizer()
    c.lowercase = lowercase
    c.replaceURLs = replaceURLs
    c.maxLength = maxLength
    return Tokenizer(c)
}

// MARK: test shorthands over the engine's API

extension Buffer {
    /// A zeroed buffer for a test (tests may stop on allocation failure).
    static func zeros(count: Int) -> Buffer { try! allocate(count: count, what: "a test buffer") }
}

extension SGD {
    init(count: Int, learningRate: Double, momentum: Double, nesterov: Bool = false, weightDecay: Double = 0) {
        self.init(learningRate: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay,
                  velocity: FloatBuffer.zeros(count: momentum > 0 ? count : 0))
    }
}

extension Adam {
    init(count: Int, learningRate: Double, beta1: Double, beta2: Double, epsilon: Double,
         weightDecay: Double = 0, decoupled: Bool = false) {
        self.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                  decoupled: decoupled, m: FloatBuffer.zeros(count: count), v: FloatBuffer.zeros(count: count))
    }
}

/// Cross-entropy through the single-label Loss, in the shapes the tests were written in.
enum SoftmaxCrossEntropy {
    static func softmax(logits: UnsafePointer<Float>, rows: Int, classes: Int, probs: UnsafeMutablePointer<Float>) {
        SoftmaxCrossEntropyLoss.softmax(logits: logits, rows: rows, classes: classes, probs: probs)
    }

    /// Σ over rows of −log p[target].
    static func loss(probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, classes: Int) -> Double {
        SoftmaxCrossEntropyLoss().loss(outputs: probs, rows: rows, width: classes, targets: LossTargets(targets: targets))
    }

    static func loss(probs: UnsafePointer<Float>, rows: Int, classes: Int, loss: LossTargets) -> Double {
        SoftmaxCrossEntropyLoss().loss(outputs: probs, rows: rows, width: classes, targets: loss)
    }

    static func backward(probs: UnsafePointer<Float>, rows: Int, classes: Int, loss: LossTargets,
                         dLogits: UnsafeMutablePointer<Float>) {
        SoftmaxCrossEntropyLoss().backward(outputs: probs, rows: rows, width: classes, targets: loss, dLogits: dLogits)
    }

    static func backward(probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, classes: Int,
                         scale: Float, dLogits: UnsafeMutablePointer<Float>) {
        backward(probs: probs, rows: rows, classes: classes, loss: LossTargets(targets: targets, scale: scale), dLogits: dLogits)
    }
}

extension Network {
    /// The network NetworkBuilder makes for `config` (bag: `vocabularySize` counts the
    /// hash buckets' features too, as the tests size them).
    static func make(_ config: Config, vocabulary: Int, classes: Int) -> Network {
        var c = config
        if c.model.type == .bag {
            c.tokenizer.wordNgrams = 1
            c.tokenizer.charNgramsMax = 0
        }
        return NetworkBuilder.make(config: c, vocabularySize: vocabulary, classes: classes)
    }

    /// Prepares `ws` for `batch` (which must be its own) and runs forward.
    func forward(_ params: UnsafePointer<Float>, batch: PackedBatch, workspace ws: Workspace,
                 inputTable: InputProjectionTable? = nil) {
        precondition(batch === ws.batch, "tests pack into the workspace's own batch")
        try! ws.prepareForBatch()
        forward(params, workspace: ws, inputTable: inputTable)
    }

    func backward(_ params: UnsafePointer<Float>, batch: PackedBatch, loss: LossTargets, workspace ws: Workspace,
                  grads: UnsafeMutablePointer<Float>) {
        backward(params, loss: loss, workspace: ws, grads: grads)
    }

    /// Plain cross-entropy: the gradient of `scale · Σ cross-entropy`.
    func backward(_ params: UnsafePointer<Float>, batch: PackedBatch, targets: UnsafePointer<Int32>, scale: Float,
                  workspace ws: Workspace, grads: UnsafeMutablePointer<Float>) {
        backward(params, loss: LossTargets(targets: targets, scale: scale), workspace: ws, grads: grads)
    }

    /// This network if its encoder is recurrent (then the properties below read it).
    var recurrent: Network? { encoder is RecurrentEncoder ? self : nil }
    private var recurrentEncoder: RecurrentEncoder { encoder as! RecurrentEncoder }
    var hiddenDim: Int { recurrentEncoder.hiddenDim }
    var layers: Int { recurrentEncoder.layers }
    var outputDim: Int { recurrentEncoder.featureDim }
    var cell: RecurrentCell { recurrentEncoder.cell }
    var directions: Int { recurrentEncoder.directions }
    var cnnEncoder: CNNEncoder { encoder as! CNNEncoder }
    func recurrentPoolingRows(_ ws: Workspace) -> UnsafeMutablePointer<Int32> { recurrentEncoder.poolingRows(ws) }
    var kernelSizes: [Int] { cnnEncoder.kernelSizes }
    var filters: Int { cnnEncoder.filters }
}

/// A CNN config around model settings written as a Config.Model.
func cnnOf(_ model: Config.Model) -> Config {
    var c = Config(modelType: .cnn)
    c.model = model
    c.model.type = .cnn
    return c
}

/// A config around model settings written as a Config.Model (their type decides the network).
func configOf(_ model: Config.Model) -> Config {
    var c = Config(modelType: model.type)
    c.model = model
    return c
}

/// `model` reloaded from its file bytes stored in `precision` (f16, int8: a compact model).
func reloaded(_ model: Model, precision: WeightPrecision) throws -> Model {
    let (bytes, count) = try model.serialized(precision: precision) { malloc($0) }
    defer { free(bytes) }
    return try Model.load(copying: UnsafeRawBufferPointer(start: bytes, count: count), source: "\(precision) bytes")
}

/// A small model of `type` for prediction-path tests: 16-wide embeddings and hidden
/// states, 8 CNN filters of widths 2 and 3, 2 attention heads, every token kept
/// (minFreq 1), 5,000 buckets for the bag.
func smallPredictionConfig(_ type: Config.ModelType) -> Config {
    var c = Config(modelType: type)
    c.tokenizer.minFreq = 1
    c.model.embeddingDim = 16
    c.model.hiddenDim = 16
    c.model.filters = 8
    c.model.kernelSizes = [2, 3]
    c.model.heads = 2
    if type == .bag { c.tokenizer.buckets = 5_000 }
    return c
}
