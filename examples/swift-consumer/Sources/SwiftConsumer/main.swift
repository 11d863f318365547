// A Swift program over the TextModel library product: the README's Swift quick start,
// kept true by tests/docs/test_swift_consumer.py, which builds and runs it from the
// repository root. Usage: SwiftConsumer [DATA_DIR] (default data/support).
import Glibc
import TextModel

let data = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "data/support"

do {
    // A config from JSON (docs/config.md); Config(json: nil) is the default model.
    let config = try Config(json: #"{"model": {"type": "bag"}, "training": {"epochs": 10}}"#)
    let model = Model(config: config)
    let report = try model.train(file: "\(data)/train.csv", validationFile: "\(data)/valid.csv")
    print("trained on \(report.trainExamples) texts, \(report.labels.count) labels, \(report.epochs.count) epochs")

    let evaluation = try model.evaluate(file: "\(data)/test.csv")
    print("test accuracy \(evaluation.accuracy ?? 0), macro-F1 \(evaluation.macroF1 ?? 0)")

    try model.save(to: "support.tmmodel")
    let loaded = try Model.load(from: "support.tmmodel")
    let texts = ["my parcel never came", "I was charged twice"]
    let labels = try loaded.predictLabels(texts)            // [["delivery"], ["billing"]]
    let probabilities = try loaded.predictProbabilities(texts) // [texts × labels], row-major
    for (i, text) in texts.enumerated() {
        let row = probabilities[(i * loaded.labels.count)..<((i + 1) * loaded.labels.count)]
        print("\(text) -> \(labels[i][0]) (\(row.max() ?? 0))")
    }
} catch let error as TextModelError {
    // Every failure is a TextModelError: its kind is the C API's tm_status.
    print("textmodel error (\(error.kind)): \(error.message)")
    exit(1)
} catch {
    print("unexpected error: \(error)")
    exit(1)
}

// Errors are typed: a bad config is .config, a missing file .io, each with a message.
do {
    _ = try Config(json: #"{"model": {"hidden_dim": -1}}"#)
    print("a bad config was accepted")
    exit(1)
} catch let error as TextModelError where error.kind == .config {
    print("config error, as expected: \(error.message)")
} catch {
    exit(1)
}
do {
    _ = try Model.load(from: "no-such-model.tmmodel")
    print("a missing model loaded")
    exit(1)
} catch let error as TextModelError where error.kind == .io {
    print("file error, as expected: \(error.message)")
} catch {
    exit(1)
}
