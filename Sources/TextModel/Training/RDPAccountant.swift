#if canImport(Glibc)
import Glibc
#endif

/// Privacy loss of DP-SGD by Rényi differential privacy: the sampled Gaussian mechanism
/// (each example in a step's batch with probability q, noise σ·C on a sum of gradients
/// clipped to C) composed over steps, then converted to (ε, δ).
///
/// RDP of one step at order α (Mironov, Talwar, Zhang 2019, "Rényi Differential
/// Privacy of the Sampled Gaussian Mechanism"): log A_α / (α − 1), with A_α the
/// binomial sum of Section 3.3 for integer α and the two-sided series with erfc
/// terms (Section 3.3, fractional α) otherwise. Steps compose by adding RDP.
///
/// Conversion to (ε, δ): ε = min over α of  RDP(α) + log((α − 1)/α) − (log δ + log α)/(α − 1),
/// the bound of Balle et al. 2020 ("Hypothesis testing interpretations and Rényi
/// differential privacy", Thm. 21) that Canonne, Kamath and Steinke 2020 also give;
/// Opacus (since 1.0) and Google's dp-accounting use it. Older releases used
/// ε = RDP(α) − log δ / (α − 1) (Mironov 2017, Prop. 3), which gives larger ε.
///
/// Orders: dp-accounting's default grid, 1.1 … 10.9 by 0.1, 11 … 63, 128, 256, 512, 1024.
public struct RDPAccountant {
    public static let defaultOrders: [Double] = (1..<100).map { 1 + Double($0) / 10 } + (11...63).map(Double.init) + [128, 256, 512, 1024]

    public let orders: [Double]
    /// RDP spent so far at each order.
    public private(set) var rdp: [Double]

    public init(orders: [Double] = RDPAccountant.defaultOrders) {
        self.orders = orders
        rdp = [Double](repeating: 0, count: orders.count)
    }

    /// Adds `steps` steps of the sampled Gaussian mechanism at rate q and multiplier σ.
    public mutating func compose(samplingRate q: Double, noiseMultiplier sigma: Double, steps: Int) {
        for (i, alpha) in orders.enumerated() {
            rdp[i] += Double(steps) * RDPAccountant.stepRDP(q: q, sigma: sigma, alpha: alpha)
        }
    }

    /// This accountant's RDP after `k` times as many steps.
    public func scaled(by k: Int) -> RDPAccountant {
        var a = self
        for i in a.rdp.indices { a.rdp[i] *= Double(k) }
        return a
    }

    /// ε at `delta` and the order that gives it (infinity when σ = 0 and q > 0).
    public func epsilon(delta: Double) -> (epsilon: Double, order: Double) {
        var best = (Double.infinity, orders.first ?? 0)
        for (alpha, r) in zip(orders, rdp) where alpha > 1 {
            let e = r + log((alpha - 1) / alpha) - (log(delta) + log(alpha)) / (alpha - 1)
            if e.isFinite, e < best.0 { best = (e, alpha) }
        }
        return (max(best.0, 0), best.1)
    }

    /// ε after `steps` steps at (q, σ), δ.
    public static func epsilon(samplingRate q: Double, noiseMultiplier sigma: Double, steps: Int, delta: Double,
                               orders: [Double] = RDPAccountant.defaultOrders) -> Double {
        var a = RDPAccountant(orders: orders)
        a.compose(samplingRate: q, noiseMultiplier: sigma, steps: steps)
        return a.epsilon(delta: delta).epsilon
    }

    /// The smallest σ (to relative `tolerance`) whose ε after `steps` steps at rate q is
    /// at most `target`: as Opacus's get_noise_multiplier, a doubling of the upper end
    /// then bisection, but stopping on a relative gap in ε (target·tolerance) so the result
    /// is ≤ target and ≥ (1 − tolerance)·target. nil if no σ ≤ 10⁴ reaches the target.
    public static func noiseMultiplier(targetEpsilon target: Double, samplingRate q: Double, steps: Int, delta: Double,
                                       tolerance: Double = 0.01) -> Double? {
        func eps(_ s: Double) -> Double { epsilon(samplingRate: q, noiseMultiplier: s, steps: steps, delta: delta) }
        var high = 10.0, epsHigh = eps(high)
        while epsHigh > target {
            high *= 2
            if high > 1e4 { return nil }
            epsHigh = eps(high)
        }
        var low = 0.0
        for _ in 0..<200 where target - epsHigh > tolerance * target {
            let mid = (low + high) / 2, e = eps(mid)
            if e > target { low = mid } else { high = mid; epsHigh = e }
        }
        return high
    }

    // MARK: the sampled Gaussian mechanism

    /// RDP of one step at order α.
    static func stepRDP(q: Double, sigma: Double, alpha: Double) -> Double {
        if q == 0 { return 0 }
        if sigma == 0 || alpha.isInfinite { return .infinity }
        if q == 1 { return alpha / (2 * sigma * sigma) }
        let logA = alpha == alpha.rounded() ? logAInteger(q: q, sigma: sigma, alpha: Int(alpha))
                                            : logAFractional(q: q, sigma: sigma, alpha: alpha)
        return logA / (alpha - 1)
    }

    /// log A_α for integer α: log Σ_i C(α, i) q^i (1−q)^(α−i) exp((i² − i) / 2σ²).
    static func logAInteger(q: Double, sigma: Double, alpha: Int) -> Double {
        var logA = -Double.infinity
        for i in 0...alpha {
            let logBinomial = lgamma(Double(alpha + 1)) - lgamma(Double(i + 1)) - lgamma(Double(alpha - i + 1))
            let term = logBinomial + Double(i) * log(q) + Double(alpha - i) * log1p(-q)
                + Double(i * i - i) / (2 * sigma * sigma)
            logA = logAdd(logA, term)
        }
        return logA
    }

    /// log A_α for fractional α: the two series of MTZ19 §3.3, summed until both terms
    /// fall below e^−30.
    static func logAFractional(q: Double, sigma: Double, alpha: Double) -> Double {
        var logA0 = -Double.infinity, logA1 = -Double.infinity
        let z0 = sigma * sigma * log(1 / q - 1) + 0.5
        var logCoefficient = 0.0, positive = true   // log |C(α, i)| and its sign, i = 0
        var i = 0.0
        while i < 10_000 {
            let j = alpha - i
            let logT0 = logCoefficient + i * log(q) + j * log1p(-q)
            let logT1 = logCoefficient + j * log(q) + i * log1p(-q)
            let logE0 = log(0.5) + logErfc((i - z0) / (2.0.squareRoot() * sigma))
            let logE1 = log(0.5) + logErfc((z0 - j) / (2.0.squareRoot() * sigma))
            let logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0
            let logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1
            if positive {
                logA0 = logAdd(logA0, logS0)
                logA1 = logAdd(logA1, logS1)
            } else {
                logA0 = logSub(logA0, logS0)
                logA1 = logSub(logA1, logS1)
            }
            if max(logS0, logS1) < -30 { break }
            // C(α, i+1) = C(α, i) · (α − i) / (i + 1)
            let factor = (alpha - i) / (i + 1)
            if factor < 0 { positive.toggle() }
            logCoefficient += log(abs(factor))
            i += 1
        }
        return logAdd(logA0, logA1)
    }

    /// log erfc(x), accurate where erfc underflows (large x: the asymptotic series).
    static func logErfc(_ x: Double) -> Double {
        if x < 20 { return log(erfc(x)) }
        let x2 = x * x
        // erfc(x) ≈ e^{−x²} / (x √π) · (1 − 1/(2x²) + 3/(4x⁴) − 15/(8x⁶) + 105/(16x⁸))
        let series = 1 - 1 / (2 * x2) + 3 / (4 * x2 * x2) - 15 / (8 * x2 * x2 * x2) + 105 / (16 * x2 * x2 * x2 * x2)
        return -x2 - log(x) - 0.5 * log(Double.pi) + log(series)
    }

    static func logAdd(_ x: Double, _ y: Double) -> Double {
        let (a, b) = (min(x, y), max(x, y))
        if a == -.infinity { return b }
        return log1p(exp(a - b)) + b
    }

    /// log(e^x − e^y) for x ≥ y; −∞ when they are equal (or y > x from rounding).
    static func logSub(_ x: Double, _ y: Double) -> Double {
        if y == -.infinity { return x }
        if x <= y { return -.infinity }
        return log(expm1(x - y)) + y
    }
}
