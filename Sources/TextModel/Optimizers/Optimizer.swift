import CKernels

/// Updates a flat parameter buffer from a flat gradient buffer of the same layout.
///
/// A step is `beginStep()` once, then `update` over disjoint ranges that together
/// cover the buffer (so several threads can share one step). `update` also zeroes the
/// gradients it consumed, ready for the next step, saving a separate pass over memory.
/// Update rules follow PyTorch's torch.optim definitions, so results can be compared.
protocol Optimizer {
    /// Starts a step whose learning rate is the configured one times `learningRateScale`
    /// (the schedule's multiplier).
    mutating func beginStep(learningRateScale: Double)
    func update(params: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>, range: Range<Int>)
    /// What a checkpoint must keep to continue exactly: the steps taken so far and the
    /// per-parameter state buffers, by name (restored by writing into the buffers).
    var stepCount: Int { get set }
    var stateBuffers: [(name: String, buffer: FloatBuffer)] { get }
}

extension Optimizer {
    mutating func beginStep() { beginStep(learningRateScale: 1) }
}

/// The optimizer a training config asks for, over `count` parameters.
func makeOptimizer(_ t: Config.Training, count: Int) throws -> Optimizer {
    switch t.optimizer {
    case .sgd:
        return SGD(learningRate: t.learningRate, momentum: t.momentum, nesterov: t.nesterov, weightDecay: t.weightDecay,
                   velocity: try FloatBuffer.allocate(count: t.momentum > 0 ? count : 0, what: "the SGD momentum"))
    case .adam, .adamw:
        return Adam(learningRate: t.learningRate, beta1: t.beta1, beta2: t.beta2, epsilon: t.epsilon,
                    weightDecay: t.weightDecay, decoupled: t.optimizer == .adamw,
                    m: try FloatBuffer.allocate(count: count, what: "Adam's first moments"),
                    v: try FloatBuffer.allocate(count: count, what: "Adam's second moments"))
    }
}

/// Stochastic gradient descent with optional L2 weight decay and (Nesterov) momentum:
///   g ← g + wd·θ;  v ← μ·v + g;  θ ← θ − lr·(nesterov ? g + μ·v : v)
/// (with μ = 0: θ ← θ − lr·g).
struct SGD: Optimizer {
    let learningRate: Double
    let momentum: Float
    let nesterov: Bool
    let weightDecay: Float
    private var currentRate: Float
    private let velocity: FloatBuffer
    var stepCount = 0
    var stateBuffers: [(name: String, buffer: FloatBuffer)] { momentum > 0 ? [("velocity", velocity)] : [] }

    init(learningRate: Double, momentum: Double, nesterov: Bool, weightDecay: Double, velocity: FloatBuffer) {
        self.learningRate = learningRate
        self.momentum = Float(momentum)
        self.nesterov = nesterov
        self.weightDecay = Float(weightDecay)
        currentRate = Float(learningRate)
        self.velocity = velocity
    }

    /// Plain SGD leaves a parameter with a zero gradient unchanged, so the trainer may
    /// skip embedding rows no example in the step touched.
    var skipsZeroGradients: Bool { momentum == 0 && weightDecay == 0 }

    mutating func beginStep(learningRateScale: Double) {
        stepCount += 1
        currentRate = Float(learningRate * learningRateScale)
    }

    func update(params: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>, range: Range<Int>) {
        let lr = currentRate, mu = momentum, wd = weightDecay
        if mu == 0 {
            for i in range {
                params[i] -= lr * (grads[i] + wd * params[i])
                grads[i] = 0
            }
            return
        }
        let v = velocity.pointer
        for i in range {
            let g = grads[i] + wd * params[i]
            v[i] = mu * v[i] + g
            params[i] -= lr * (nesterov ? g + mu * v[i] : v[i])
            grads[i] = 0
        }
    }
}

/// Adam (Kingma & Ba) with bias correction, and AdamW (Loshchilov & Hutter):
///   Adam:  g ← g + wd·θ (L2, coupled)        AdamW: θ ← θ·(1 − lr·wd) (decoupled)
///   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
///   θ ← θ − lr · (m / (1−β1^t)) / (√(v / (1−β2^t)) + ε)
struct Adam: Optimizer {
    let learningRate: Double
    let beta1: Double, beta2: Double, epsilon: Double
    let weightDecay: Double
    let decoupled: Bool
    var stepCount = 0
    private var stepSize: Float = 0
    private var rootCorrection2: Float = 1
    private var decay: Float = 1
    private let m: FloatBuffer
    private let v: FloatBuffer
    var stateBuffers: [(name: String, buffer: FloatBuffer)] { [("m", m), ("v", v)] }

    init(learningRate: Double, beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double, decoupled: Bool,
         m: FloatBuffer, v: FloatBuffer) {
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        self.m = m
        self.v = v
    }

    mutating func beginStep(learningRateScale: Double) {
        stepCount += 1
        let t = Double(stepCount)
        let rate = learningRate * learningRateScale
        stepSize = Float(rate / (1 - power(beta1, t)))
        rootCorrection2 = Float((1 - power(beta2, t)).squareRoot())
        decay = decoupled ? Float(1 - rate * weightDecay) : 1
    }

    func update(params: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>, range: Range<Int>) {
        update(params: params, grads: grads, range: range, lanes: Adam.lanes)
    }

    /// `update` through the copy of `lanes` lanes: 16 (AVX-512) and 8 (AVX2) give the
    /// same floats as `loopUpdate`, faster; call them only where the CPU has them
    /// (`Adam.lanes` is the widest it runs). Any other count runs `loopUpdate`.
    func update(params: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>, range: Range<Int>, lanes: Int) {
        let i = range.lowerBound, l2: Float = decoupled ? 0 : Float(weightDecay)
        switch lanes {
        case 16:
            tm_adam_update_avx512(params + i, grads + i, m.pointer + i, v.pointer + i, range.count, Float(beta1), Float(beta2),
                                  Float(epsilon), stepSize, 1 / rootCorrection2, decay, l2)
        case 8:
            tm_adam_update_avx2(params + i, grads + i, m.pointer + i, v.pointer + i, range.count, Float(beta1), Float(beta2),
                                Float(epsilon), stepSize, 1 / rootCorrection2, decay, l2)
        default:
            loopUpdate(params: params, grads: grads, range: range)
        }
    }

    /// `update` on any CPU (and the reference of its AVX-512 and AVX2 copies, RecurrentKernelTests).
    func loopUpdate(params: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>, range: Range<Int>) {
        let b1 = Float(beta1), b2 = Float(beta2), eps = Float(epsilon)
        let stepSize = self.stepSize, invRoot = 1 / rootCorrection2, decay = self.decay
        let l2: Float = decoupled ? 0 : Float(weightDecay)
        let m = self.m.pointer, v = self.v.pointer
        for i in range {
            let g = grads[i] + l2 * params[i]
            let mi = b1 * m[i] + (1 - b1) * g
            let vi = b2 * v[i] + (1 - b2) * g * g
            m[i] = mi
            v[i] = vi
            params[i] = params[i] * decay - stepSize * mi / (vi.squareRoot() * invRoot + eps)
            grads[i] = 0
        }
    }

    /// The lanes of the copy of `update` this CPU runs (CKernels): 16 with AVX-512, 8 with
    /// AVX2, else 0 (the Swift loop).
    static let lanes = tm_kernels_avx512() != 0 ? 16 : (tm_kernels_avx2() != 0 ? 8 : 0)

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
