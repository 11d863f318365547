// SGD (with and without momentum) and Adam against hand-computed updates (PyTorch
// semantics, as the doc comments in NN/Optimizer.swift state them).
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import TextModel

final class OptimizerTests: XCTestCase {

    /// Runs one optimizer step over the whole buffer with the given gradients and
    /// checks that the gradients were consumed (zeroed).
    private func step<O: Optimizer>(_ optimizer: inout O, _ params: inout [Float], _ grads: [Float],
                                    file: StaticString = #filePath, line: UInt = #line) {
        var g = grads
        optimizer.beginStep()
        optimizer.update(params: &params, grads: &g, range: 0..<params.count)
        XCTAssertEqual(g, [Float](repeating: 0, count: g.count), "update must zero the gradients", file: file, line: line)
    }

    private func assertClose(_ a: [Float], _ b: [Double], accuracy: Double = 1e-6,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(Double(x), y, accuracy: accuracy, "\(a) vs \(b)", file: file, line: line) }
    }

    // MARK: SGD

    func testPlainSGD() {
        // θ ← θ − lr·g with lr = 0.1.
        var sgd = SGD(count: 2, learningRate: 0.1, momentum: 0)
        var p: [Float] = [1, -2]
        step(&sgd, &p, [0.5, -1])
        assertClose(p, [0.95, -1.9])            // 1 − 0.05, −2 + 0.1
        step(&sgd, &p, [0.2, 0.4])
        assertClose(p, [0.93, -1.94])           // 0.95 − 0.02, −1.9 − 0.04
        step(&sgd, &p, [0, 0])
        assertClose(p, [0.93, -1.94])           // no gradient, no momentum: no move
    }

    func testSGDWithMomentum() {
        // v ← 0.9·v + g; θ ← θ − 0.1·v (PyTorch: the first step's v is g itself).
        var sgd = SGD(count: 2, learningRate: 0.1, momentum: 0.9)
        var p: [Float] = [1, -2]
        step(&sgd, &p, [0.5, -1])
        assertClose(p, [0.95, -1.9])            // v = (0.5, −1)
        step(&sgd, &p, [0.2, 0.4])
        assertClose(p, [0.885, -1.85])          // v = (0.65, −0.5)
        step(&sgd, &p, [0, 0])
        assertClose(p, [0.8265, -1.805])        // v = (0.585, −0.45): momentum keeps moving
    }

    // MARK: Adam

    /// Adam from its definition, in Double, for one coordinate.
    private func adamReference(theta0: Double, grads: [Double], lr: Double, b1: Double, b2: Double, eps: Double) -> [Double] {
        var theta = theta0, m = 0.0, v = 0.0
        var out = [Double]()
        for (k, g) in grads.enumerated() {
            let t = Double(k + 1)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            let mHat = m / (1 - pow(b1, t)), vHat = v / (1 - pow(b2, t))
            theta -= lr * mHat / (vHat.squareRoot() + eps)
            out.append(theta)
        }
        return out
    }

    func testAdamByHand() {
        var adam = Adam(count: 1, learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
        var p: [Float] = [1]
        // Step 1: m = 0.05, v = 0.00025, m̂ = 0.5, v̂ = 0.25: θ = 1 − 0.1·0.5/0.5 = 0.9.
        step(&adam, &p, [0.5])
        assertClose(p, [0.9])
        // Step 2: m = 0.045 − 0.025 = 0.02, v = 0.00024975 + 0.0000625 = 0.00031225,
        // m̂ = 0.02/0.19, v̂ = 0.00031225/0.001999: θ = 0.9 − 0.1·m̂/√v̂ ≈ 0.873366.
        step(&adam, &p, [-0.25])
        let mHat = 0.02 / 0.19, vHat = 0.00031225 / 0.001999
        assertClose(p, [0.9 - 0.1 * mHat / vHat.squareRoot()])
        XCTAssertEqual(Double(p[0]), 0.873366, accuracy: 1e-5)
    }

    func testAdamEpsilonIsAddedAfterBiasCorrection() {
        // With ε = 0.1 the first step is lr·m̂/(√v̂ + ε) = 0.1·0.5/(0.5 + 0.1) = 1/12.
        var adam = Adam(count: 1, learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 0.1)
        var p: [Float] = [1]
        step(&adam, &p, [0.5])
        assertClose(p, [1 - 1.0 / 12])
    }

    func testAdamMatchesDefinitionOverSeveralSteps() {
        let grads: [[Double]] = [[0.5, -3, 0, 1e-3], [-0.25, 2, 0, 1e-3], [0.125, -1, 4, -2e-3], [0, 0.5, -4, 1e-3]]
        let start: [Float] = [1, -0.5, 2, 0]
        var adam = Adam(count: 4, learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6)
        var p = start
        var history = [[Float]]()
        for g in grads {
            step(&adam, &p, g.map { Float($0) })
            history.append(p)
        }
        for c in 0..<4 {
            let expected = adamReference(theta0: Double(start[c]), grads: grads.map { Double(Float($0[c])) },
                                         lr: 0.01, b1: 0.8, b2: 0.99, eps: 1e-6)
            for (k, e) in expected.enumerated() {
                XCTAssertEqual(Double(history[k][c]), e, accuracy: 1e-5 * max(1, abs(e)), "coordinate \(c) step \(k + 1)")
            }
        }
        // A coordinate whose gradient has always been zero has not moved.
        XCTAssertEqual(history[1][2], 2)
        XCTAssertEqual(adam.stepCount, 4)
    }

    // MARK: shared behaviour

    func testUpdateOverSeveralRangesEqualsOneUpdate() {
        var rng = SeededGenerator(seed: 5)
        let n = 11
        let start = (0..<n).map { _ in rng.uniform(-1, 1) }
        let grads = (0..<3).map { _ in (0..<n).map { _ in rng.uniform(-1, 1) } }
        func run(_ make: () -> Optimizer, split: Bool) -> [Float] {
            var o = make()
            var p = start
            for g in grads {
                var gg = g
                o.beginStep()
                if split {
                    o.update(params: &p, grads: &gg, range: 0..<4)
                    o.update(params: &p, grads: &gg, range: 4..<5)
                    o.update(params: &p, grads: &gg, range: 5..<n)
                } else {
                    o.update(params: &p, grads: &gg, range: 0..<n)
                }
                XCTAssertEqual(gg, [Float](repeating: 0, count: n))
            }
            return p
        }
        let makers: [() -> Optimizer] = [
            { SGD(count: n, learningRate: 0.05, momentum: 0) },
            { SGD(count: n, learningRate: 0.05, momentum: 0.9) },
            { Adam(count: n, learningRate: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-8) },
        ]
        for make in makers {
            let whole = run(make, split: false)
            XCTAssertEqual(run(make, split: true), whole)
            XCTAssertNotEqual(whole, start)
        }
    }

    func testUpdateOnlyTouchesItsRange() {
        var adam = Adam(count: 4, learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
        var p: [Float] = [1, 1, 1, 1]
        var g: [Float] = [1, 1, 1, 1]
        adam.beginStep()
        adam.update(params: &p, grads: &g, range: 1..<3)
        XCTAssertEqual(p[0], 1)
        XCTAssertEqual(p[3], 1)
        XCTAssertEqual(g, [1, 0, 0, 1])
        XCTAssertEqual(Double(p[1]), 0.9, accuracy: 1e-6)
    }

    func testOneDimensionalQuadraticConverges() {
        // f(θ) = (θ − 3)², ∇f = 2(θ − 3), from θ = −2.
        let cases: [(String, Optimizer, Int)] = [
            ("sgd", SGD(count: 1, learningRate: 0.1, momentum: 0), 200),
            ("sgd+momentum", SGD(count: 1, learningRate: 0.02, momentum: 0.9), 500),
            ("adam", Adam(count: 1, learningRate: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-8), 2000),
        ]
        for (name, optimizer, steps) in cases {
            var o = optimizer
            var p: [Float] = [-2]
            var g: [Float] = [0]
            for _ in 0..<steps {
                g[0] = 2 * (p[0] - 3)
                o.beginStep()
                o.update(params: &p, grads: &g, range: 0..<1)
            }
            XCTAssertEqual(Double(p[0]), 3, accuracy: 1e-2, name)
        }
    }
}
