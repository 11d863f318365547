// Per-epoch training accuracy: counted on the epoch's own forward passes (as PyTorch
// training loops count it), subset accuracy for multi-label, none for regression; in
// the report, its JSON and the epoch progress reports.
import XCTest
@testable import TextModel

final class TrainingAccuracyTests: XCTestCase {
    /// One optimizer step per epoch and no dropout: every forward pass of epoch 2 uses
    /// the weights epoch 1 ended with, so epoch 2's training accuracy must equal the
    /// accuracy of a 1-epoch run (same seed) evaluated on the training data.
    private func assertSecondEpochCountsFirstEpochsWeights(_ config: Config, _ data: LabelledTexts,
                                                           file: StaticString = #filePath, line: UInt = #line) throws {
        var c = config
        c.training.batchSize = data.count
        c.training.epochs = 2
        c.training.lrSchedule = .constant
        c.model.dropout = 0
        var epochAccuracies = [Double]()
        let report = try Model(config: c).train(data) { p in
            if p.kind == .epoch { epochAccuracies.append(p.trainAccuracy) }
            else { XCTAssertTrue(p.trainAccuracy.isNaN, "step reports carry no training accuracy", file: file, line: line) }
            return false
        }
        c.training.epochs = 1
        let one = Model(config: c)
        try one.train(data)
        let expected = try XCTUnwrap(try one.evaluate(data).accuracy, file: file, line: line)
        XCTAssertEqual(report.epochs.count, 2, file: file, line: line)
        XCTAssertEqual(report.epochs[1].trainAccuracy, expected, file: file, line: line)
        XCTAssertEqual(epochAccuracies, report.epochs.compactMap(\.trainAccuracy), "progress mirrors the report", file: file, line: line)
        let epochs = try XCTUnwrap(report.json["epochs"]?.arrayValue, file: file, line: line)
        XCTAssertEqual(epochs[1]["train_accuracy"]?.doubleValue, expected, file: file, line: line)
    }

    func testSingleLabelCountsArgmaxOfTheEpochsForwardPasses() throws {
        for type in [Config.ModelType.lstm, .bag] {
            var c = tinyConfig(embedding: 16, hidden: 16, learningRate: 0.05)
            c.model.type = type
            try assertSecondEpochCountsFirstEpochsWeights(c, KeywordData.make(count: 150, seed: 21))
        }
    }

    func testMultiLabelCountsSubsetAccuracy() throws {
        var c = tinyConfig(embedding: 16, hidden: 16, learningRate: 0.05)
        c.model.task = .multiLabel
        try assertSecondEpochCountsFirstEpochsWeights(c, TaskTests.multiLabelData(count: 150, seed: 22))
    }

    func testLearningRaisesTrainingAccuracy() throws {
        var c = tinyConfig(embedding: 16, hidden: 16, epochs: 6, threads: 2, learningRate: 0.02)
        c.training.progressEvery = 1000
        let report = try Model(config: c).train(KeywordData.make(count: 300, seed: 23))
        let accuracies = report.epochs.compactMap(\.trainAccuracy)
        XCTAssertEqual(accuracies.count, 6)
        XCTAssertTrue(accuracies.allSatisfy { (0...1).contains($0) }, "\(accuracies)")
        XCTAssertGreaterThan(accuracies.last!, 0.9)
        XCTAssertGreaterThan(accuracies.last!, accuracies.first!)
    }

    func testRegressionHasNoTrainingAccuracy() throws {
        var c = tinyConfig(epochs: 2)
        c.model.task = .regression
        var progressValues = [Double]()
        let report = try Model(config: c).train(TaskTests.regressionData(count: 100, seed: 24)) { p in
            if p.kind == .epoch { progressValues.append(p.trainAccuracy) }
            return false
        }
        XCTAssertTrue(report.epochs.allSatisfy { $0.trainAccuracy == nil })
        XCTAssertTrue(progressValues.allSatisfy(\.isNaN))
        guard case .null? = report.json["epochs"]?.arrayValue?.first?["train_accuracy"] else {
            return XCTFail("a regression report's train_accuracy is null")
        }
    }
}
