// ClassificationMetrics against values worked out by hand from the definitions.
import XCTest
@testable import TextModel

final class MetricsTests: XCTestCase {

    private func number(_ json: JSONValue, _ path: String...) -> Double? {
        var v: JSONValue? = json
        for key in path { v = v?[key] }
        return v?.doubleValue
    }

    func testHandMadeConfusion() {
        // truth:     a a a a b b b c c c
        // predicted: a a b c b b a c b c
        // Confusion (rows true, columns predicted):
        //   a: 2 1 1
        //   b: 1 2 0
        //   c: 0 1 2
        let m = ClassificationMetrics(labels: ["a", "b", "c"], truth: [0, 0, 0, 0, 1, 1, 1, 2, 2, 2],
                                      predicted: [0, 0, 1, 2, 1, 1, 0, 2, 1, 2], meanLoss: 0.75, skipped: 4)
        XCTAssertEqual(m.confusion, [[2, 1, 1], [1, 2, 0], [0, 1, 2]])
        XCTAssertEqual(m.examples, 10)
        XCTAssertEqual(m.accuracy, 0.6, accuracy: 1e-12)                  // 6 of 10 on the diagonal
        let c = m.perClass
        // Precision = diagonal / column sum: a 2/3, b 2/4, c 2/3.
        XCTAssertEqual(c[0].precision, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(c[1].precision, 0.5, accuracy: 1e-12)
        XCTAssertEqual(c[2].precision, 2.0 / 3, accuracy: 1e-12)
        // Recall = diagonal / row sum: a 2/4, b 2/3, c 2/3.
        XCTAssertEqual(c[0].recall, 0.5, accuracy: 1e-12)
        XCTAssertEqual(c[1].recall, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(c[2].recall, 2.0 / 3, accuracy: 1e-12)
        // F1 = 2PR/(P+R): a (2/3)/(7/6) = 4/7, b 4/7, c 2/3.
        XCTAssertEqual(c[0].f1, 4.0 / 7, accuracy: 1e-12)
        XCTAssertEqual(c[1].f1, 4.0 / 7, accuracy: 1e-12)
        XCTAssertEqual(c[2].f1, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(c.map(\.support), [4, 3, 3])

        let json = m.json
        XCTAssertEqual(number(json, "examples"), 10)
        XCTAssertEqual(number(json, "accuracy")!, 0.6, accuracy: 1e-12)
        XCTAssertEqual(number(json, "loss")!, 0.75, accuracy: 1e-12)
        XCTAssertEqual(number(json, "macro_precision")!, 11.0 / 18, accuracy: 1e-12)   // (2/3 + 1/2 + 2/3) / 3
        XCTAssertEqual(number(json, "macro_recall")!, 11.0 / 18, accuracy: 1e-12)      // (1/2 + 2/3 + 2/3) / 3
        XCTAssertEqual(number(json, "macro_f1")!, 38.0 / 63, accuracy: 1e-12)          // (4/7 + 4/7 + 2/3) / 3
        XCTAssertEqual(number(json, "weighted_f1")!, 0.6, accuracy: 1e-12)             // (4·4/7 + 3·4/7 + 3·2/3) / 10
        XCTAssertEqual(number(json, "per_class", "b", "precision")!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(number(json, "per_class", "a", "recall")!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(number(json, "per_class", "c", "support"), 3)
        XCTAssertEqual(number(json, "skipped"), 4)
        XCTAssertEqual(json["labels"]?.arrayValue?.compactMap(\.stringValue), ["a", "b", "c"])
        let matrix = json["confusion_matrix"]?.arrayValue?.map { $0.arrayValue?.compactMap(\.doubleValue) ?? [] }
        XCTAssertEqual(matrix, [[2, 1, 1], [1, 2, 0], [0, 1, 2]])
    }

    func testMetricsFromTheDefinitionOnRandomData() {
        // Count true/false positives directly from the pairs and compare.
        var rng = SeededGenerator(seed: 4)
        let classes = 4, n = 200
        let truth = (0..<n).map { _ in Int(rng.next() % UInt64(classes)) }
        let predicted = truth.map { t in rng.next() % 3 == 0 ? Int(rng.next() % UInt64(classes)) : t }
        let m = ClassificationMetrics(labels: ["w", "x", "y", "z"], truth: truth, predicted: predicted, meanLoss: 0)
        for c in 0..<classes {
            let pairs = zip(truth, predicted)
            let tp = Double(pairs.filter { $0 == c && $1 == c }.count)
            let fp = Double(pairs.filter { $0 != c && $1 == c }.count)
            let fn = Double(pairs.filter { $0 == c && $1 != c }.count)
            XCTAssertEqual(m.perClass[c].precision, tp / (tp + fp), accuracy: 1e-12)
            XCTAssertEqual(m.perClass[c].recall, tp / (tp + fn), accuracy: 1e-12)
            XCTAssertEqual(m.perClass[c].f1, 2 * tp / (2 * tp + fp + fn), accuracy: 1e-12)
            XCTAssertEqual(m.perClass[c].support, Int(tp + fn))
        }
        XCTAssertEqual(m.accuracy, Double(zip(truth, predicted).filter { $0 == $1 }.count) / Double(n), accuracy: 1e-12)
    }

    func testZeroDivisionGivesZero() {
        // x: predicted 3 times, right twice; y: never predicted; z: no examples at all.
        let m = ClassificationMetrics(labels: ["x", "y", "z"], truth: [0, 0, 1], predicted: [0, 0, 0], meanLoss: 1)
        let c = m.perClass
        XCTAssertEqual(c[0].precision, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(c[0].recall, 1, accuracy: 1e-12)
        XCTAssertEqual(c[0].f1, 0.8, accuracy: 1e-12)
        XCTAssertEqual(c[1].precision, 0)
        XCTAssertEqual(c[1].recall, 0)
        XCTAssertEqual(c[1].f1, 0)
        XCTAssertEqual(c[2].precision, 0)
        XCTAssertEqual(c[2].recall, 0)
        XCTAssertEqual(c[2].f1, 0)
        XCTAssertEqual(c[2].support, 0)
        XCTAssertEqual(number(m.json, "macro_f1")!, 0.8 / 3, accuracy: 1e-12)
        XCTAssertEqual(number(m.json, "weighted_f1")!, 1.6 / 3, accuracy: 1e-12)
        XCTAssertFalse(m.json.serialized.contains("null"), "no NaN anywhere")
    }

    func testNoExamples() {
        let m = ClassificationMetrics(labels: ["a", "b"], truth: [], predicted: [], meanLoss: 0)
        XCTAssertEqual(m.examples, 0)
        XCTAssertEqual(m.accuracy, 0)
        XCTAssertEqual(m.confusion, [[0, 0], [0, 0]])
        for c in m.perClass { XCTAssertEqual([c.precision, c.recall, c.f1], [0, 0, 0]) }
        XCTAssertEqual(number(m.json, "weighted_f1"), 0)
        XCTAssertFalse(m.json.serialized.contains("null"))
    }

    func testPerfectPredictions() {
        let m = ClassificationMetrics(labels: ["a", "b"], truth: [0, 1, 1], predicted: [0, 1, 1], meanLoss: 0)
        XCTAssertEqual(m.accuracy, 1)
        XCTAssertEqual(number(m.json, "macro_f1"), 1)
        XCTAssertEqual(number(m.json, "weighted_f1"), 1)
    }
}
