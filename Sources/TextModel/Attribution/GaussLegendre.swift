#if canImport(Glibc)
import Glibc
#endif

/// The n-point Gauss–Legendre rule on [0, 1]: ∫₀¹ g(α) dα ≈ Σₖ weights[k] · g(nodes[k]).
///
/// Exact for polynomials of degree up to 2n − 1, its weights sum to 1 (so a linear
/// model's integrated gradients are exact at any n), and it never evaluates the
/// endpoints. The trapezoid and Riemann rules common elsewhere converge as 1/n² or 1/n;
/// Gauss–Legendre converges much faster on the smooth paths of softmax networks.
///
/// Nodes are the roots of the Legendre polynomial Pₙ on [−1, 1], found by Newton's
/// method from Tricomi's estimate cos(π(k + 3/4)/(n + 1/2)), with weights
/// 2 / ((1 − x²) Pₙ'(x)²), then mapped to [0, 1] (α = (x + 1)/2, w/2). In Double.
struct GaussLegendre {
    let nodes: [Double]
    let weights: [Double]

    init(points n: Int) {
        var nodes = [Double](repeating: 0, count: n), weights = [Double](repeating: 0, count: n)
        for k in 0..<n {
            var x = cos(Double.pi * (Double(k) + 0.75) / (Double(n) + 0.5))
            var derivative = 1.0
            for _ in 0..<100 {
                let (p, dp) = GaussLegendre.legendre(n, x)
                derivative = dp
                let step = p / dp
                x -= step
                if abs(step) < 1e-15 { break }
            }
            derivative = GaussLegendre.legendre(n, x).1
            nodes[n - 1 - k] = (x + 1) / 2
            weights[n - 1 - k] = 1 / ((1 - x * x) * derivative * derivative)
        }
        self.nodes = nodes
        self.weights = weights
    }

    /// Pₙ(x) and Pₙ'(x) by the three-term recurrence.
    static func legendre(_ n: Int, _ x: Double) -> (Double, Double) {
        var p0 = 1.0, p1 = x
        if n == 0 { return (1, 0) }
        for j in stride(from: 2, through: n, by: 1) {
            let p2 = ((2 * Double(j) - 1) * x * p1 - (Double(j) - 1) * p0) / Double(j)
            p0 = p1
            p1 = p2
        }
        return (p1, Double(n) * (x * p1 - p0) / (x * x - 1))
    }
}
