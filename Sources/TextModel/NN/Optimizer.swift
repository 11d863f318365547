/// Updates a flat parameter buffer from a flat gradient buffer of the same layout.
///
/// A step is `beginStep()` once, then `update` over disjoint ranges that together
/// cover the buffer (so several threads can share one step). `update` also zeroes the
/// gradients it consumed, ready for the next step, saving a separate pass over memory.
protocol Optimizer {
    /// Starts a step whose learning rate is the configured one times `learningRateScale`
    /// (the schedule's multiplier).
    mutating func beginStep(learningRateScale: Double)
    func update(params: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>, range: Range<Int>)
}

extension Optimizer {
    mutating func beginStep() { beginStep(learningRateScale: 1) }
}

/// Stochastic gradient descent, optionally with (heavy-ball) momentum, as PyTorch
/// defines it: v ← μ·v + g;  θ ← θ − lr·v.
struct SGD: Optimizer {
    let learningRate: Double
    let momentum: Float
    private var currentRate: Float
    private let velocity: FloatBuffer

    init(count: Int, learningRate: Double, momentum: Double) {
        self.learningRate = learningRate
        self.momentum = Float(momentum)
        currentRate = Float(learningRate)
        velocity = FloatBuffer(count: momentum > 0 ? count : 0)
    }

    /// Plain SGD leaves a parameter with a zero gradient unchanged, so the trainer may
    /// skip embedding rows no example in the step touched.
    var skipsZeroGradients: Bool { momentum == 0 }

    mutating func beginStep(learningRateScale: Double) { currentRate = Float(learningRate * learningRateScale) }

    func update(params: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>, range: Range<Int>) {
        let lr = currentRate, mu = momentum
        if mu == 0 {
            for i in range {
                params[i] -= lr * grads[i]
                grads[i] = 0
            }
            return
        }
        let v = velocity.pointer
        for i in range {
            v[i] = mu * v[i] + grads[i]
            params[i] -= lr * v[i]
            grads[i] = 0
        }
    }
}

/// Adam (Kingma & Ba) with bias correction, as PyTorch implements it:
/// m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
/// θ ← θ − lr · (m / (1−β1^t)) / (√(v / (1−β2^t)) + ε)
struct Adam: Optimizer {
    let learningRate: Double
    let beta1: Double, beta2: Double, epsilon: Double
    private(set) var stepCount = 0
    private var stepSize: Float = 0
    private var rootCorrection2: Float = 1
    private let m: FloatBuffer
    private let v: FloatBuffer

    init(count: Int, learningRate: Double, beta1: Double, beta2: Double, epsilon: Double) {
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        m = FloatBuffer(count: count)
        v = FloatBuffer(count: count)
    }

    mutating func beginStep(learningRateScale: Double) {
        stepCount += 1
        let t = Double(stepCount)
        stepSize = Float(learningRate * learningRateScale / (1 - power(beta1, t)))
        rootCorrection2 = Float((1 - power(beta2, t)).squareRoot())
    }

    func update(params: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>, range: Range<Int>) {
        let b1 = Float(beta1), b2 = Float(beta2), eps = Float(epsilon)
        let stepSize = self.stepSize, invRoot = 1 / rootCorrection2
        let m = self.m.pointer, v = self.v.pointer
        for i in range {
            let g = grads[i]
            let mi = b1 * m[i] + (1 - b1) * g
            let vi = b2 * v[i] + (1 - b2) * g * g
            m[i] = mi
            v[i] = vi
            params[i] -= stepSize * mi / (vi.squareRoot() * invRoot + eps)
            grads[i] = 0
        }
    }

    /// base^exponent for exponent a whole number ≥ 1, without libm.
    private func power(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0, b = base, e = Int(exponent)
        while e > 0 {
            if e & 1 == 1 { result *= b }
            b *= b
            e >>= 1
        }
        return result
    }
}
