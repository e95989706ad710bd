import Foundation

/// `relax figure ou-currents`: Kunin et al., Fig. 3 — an anisotropic Ornstein–Uhlenbeck process
/// `dX = A (b - X) dt + sqrt(2 D / kappa) dW` is driven by a modified loss.
///
/// The drift is `-grad Phi` for the original loss `Phi(x) = 1/2 (x - b)^T A (x - b)` (for SGD on
/// a quadratic, `A` is the Hessian `H`); with `D` not commuting with `A`, the stationary law is
/// `N(b, B/kappa)`, `A B + B A^T = 2 D`, the Gibbs density `exp(-kappa Psi)` of the modified loss
/// `Psi(x) = 1/2 (x - b)^T U (x - b)`, `U = B^-1`, and it carries the divergence-free current
/// `J_ss = -Q U (x - b) rho_ss`, `Q = A B - D` skew (`A = (D + Q) U`).
///
/// Parameters (as in the Fokker–Planck tests and benchmark): `A = V^-1 diag(4, 1) V`,
/// `V = [[-1, 1], [1, 1]]`, `b = (-0.1, 0.05)` (App. H.4), `D = diag(4, 1)` (the matrix App. H.4
/// calls D) and `kappa = 50`, so the stationary Gaussian (std 0.21, 0.14) is resolved by the
/// grid; the paper's noise scale 1e-4 would need a grid ~1000 times finer.
///
/// Data: `Phi` and `Psi` on the grid; the stationary density of the discrete Fokker–Planck
/// operator (`FokkerPlanck.stationaryDensity`, exact null vector) and its current; the exact
/// `J_ss`; one seeded Euler–Maruyama path (its first `pathSteps` steps drawn, its long run
/// averaged). Claims: the FP stationary covariance is `B/kappa` within its Richardson estimate
/// (grids n and 2n-1); the numerical current matches `J_ss` within its Richardson estimate, is
/// non-zero, and its discrete divergence is a second-order residual; the path's time averages
/// match `N(b, B/kappa)` within 4 batch-means standard errors plus the Euler–Maruyama bias.
public enum OUCurrentsFigure {
    public struct Parameters: Sendable {
        public var eigenvalues: [Double] = [4, 1]
        public var eigenvectors = Matrix([[-1, 1], [1, 1]])
        public var mean: [Double] = [-0.1, 0.05]
        public var diffusion = Matrix.diagonal([4, 1])
        public var kappa = 50.0
        public var domain: [(Double, Double)] = [(-1.2, 1.0), (-1.05, 1.15)]
        /// Nodes per axis of the fine grid; the coarse grid has `(nodes + 1)/2` (every other node).
        public var nodes = 121
        public var start: [Double] = [0.7, -0.6]
        public var dt = 1e-3
        public var steps = 10_000_000
        public var burnIn = 10_000
        /// The drawn part of the path: the first `pathSteps` steps, every `pathEvery`-th point.
        public var pathSteps = 4000
        public var pathEvery = 4
        /// Every `cloudEvery`-th point after burn-in is kept as a picture of the stationary cloud.
        public var cloudEvery = 2000
        public var batches = 100
        public var seed: UInt64 = 20_210_607
        public init() {}
    }

    public static let entry = Figures.Entry(
        name: "ou-currents",
        summary: "Kunin et al. Fig. 3: anisotropic OU — original loss Phi, modified loss Psi, stationary current, a seeded path, FP density",
        make: { try make(progress: $0) })

    public static func process(_ p: Parameters) throws -> OrnsteinUhlenbeck {
        let v = p.eigenvectors
        let a = try LinearAlgebra.inverse(v) * Matrix.diagonal(p.eigenvalues) * v
        return try OrnsteinUhlenbeck(drift: a, mean: p.mean, diffusion: p.diffusion, kappa: p.kappa)
    }

    /// Mean and covariance of a density on its grid (trapezoid weights of the FP solver).
    public static func moments(_ rho: Field) -> (mean: [Double], covariance: Matrix) {
        let g = rho.grid, d = g.dimension
        let w = FokkerPlanck.nodeWeights(g)
        var mass = 0.0
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<g.count {
            let p = g.point(i), m = w[i] * rho.values[i]
            mass += m
            for k in 0..<d { mean[k] += m * p[k] }
        }
        mean = mean.map { $0 / mass }
        var c = Matrix(rows: d, columns: d, entries: [Double](repeating: 0, count: d * d))
        for i in 0..<g.count {
            let p = g.point(i), m = w[i] * rho.values[i] / mass
            for a in 0..<d { for b in 0..<d { c[a, b] += m * (p[a] - mean[a]) * (p[b] - mean[b]) } }
        }
        return (mean, c)
    }

    /// The central-difference divergence of a 2-D nodal vector field at interior nodes (max |.|).
    static func maxDivergence(_ j: [Field]) -> Double {
        let g = j[0].grid, s = g.strides, shape = g.shape
        var worst = 0.0
        for flat in 0..<g.count {
            let idx = g.multiIndex(flat)
            guard (0..<g.dimension).allSatisfy({ idx[$0] > 0 && idx[$0] < shape[$0] - 1 }) else { continue }
            var div = 0.0
            for k in 0..<g.dimension {
                div += (j[k].values[flat + s[k]] - j[k].values[flat - s[k]]) / (2 * g.spacing[k])
            }
            worst = max(worst, abs(div))
        }
        return worst
    }

    /// Values of a field at the nodes of the grid with every other node.
    static func everyOtherNode(_ fine: Field, coarse: Grid) -> Field {
        Field(grid: coarse, values: (0..<coarse.count).map { fine.values[fine.grid.flatIndex(coarse.multiIndex($0).map { 2 * $0 })] })
    }

    public static func make(_ p: Parameters = Parameters(), progress: ProgressHandler? = nil) throws -> FigureData {
        let ou = try process(p)
        var fig = FigureData(name: "ou-currents", title: "An anisotropic OU process is driven by a modified loss (Kunin et al., Fig. 3)")
        let coarseNodes = (p.nodes + 1) / 2
        let grids = try [coarseNodes, p.nodes].map {
            try Grid(domain: p.domain, counts: [$0, $0], boundary: .neumann)
        }
        var rho: [Field] = [], current: [[Field]] = []
        for (i, g) in grids.enumerated() {
            progress?(0.3 * Double(i), "stationary Fokker–Planck, \(g.shape[0])^2")
            let drift = try ou.fokkerPlanckDrift(on: g)
            let r = try FokkerPlanck.stationaryDensity(grid: g, drift: drift, diffusion: try ou.fokkerPlanckDiffusion)
            rho.append(r)
            current.append(try FokkerPlanck.current(of: r, drift: drift, diffusion: try ou.fokkerPlanckDiffusion))
        }
        let grid = grids[1]
        let exactRho = try ou.stationaryDensity(on: grid)
        let exactJ = (0..<2).map { k in Field(grid: grid) { ou.stationaryCurrent($0)[k] } }

        fig.parameters = [
            "drift_A": JSONValue(ou.drift.entries), "mean_b": JSONValue(p.mean), "diffusion_D": JSONValue(p.diffusion.entries),
            "kappa": .number(p.kappa), "lyapunov_B": JSONValue(ou.lyapunov.entries), "U": JSONValue(ou.u.entries),
            "Q": JSONValue(ou.q.entries), "stationary_covariance": JSONValue(ou.stationaryCovariance.entries),
            "eigenvalues_A": JSONValue(p.eigenvalues), "eigenvectors_V": JSONValue(p.eigenvectors.entries),
            "domain": .array(p.domain.map { JSONValue([$0.0, $0.1]) }), "nodes": JSONValue([coarseNodes, p.nodes]),
            "boundary": "neumann (no flux)",
            "path": ["start": JSONValue(p.start), "dt": .number(p.dt), "steps": .number(Double(p.steps)),
                     "burn_in": .number(Double(p.burnIn)), "batches": .number(Double(p.batches)),
                     "seed": .number(Double(p.seed)), "drawn_steps": .number(Double(p.pathSteps)),
                     "drawn_every": .number(Double(p.pathEvery)), "cloud_every": .number(Double(p.cloudEvery))],
        ]
        fig.add("x", grid.axes[0].coordinates, "x nodes")
        fig.add("y", grid.axes[1].coordinates, "y nodes")
        fig.add("phi", Field(grid: grid) { ou.originalLoss($0) }, "original loss Phi = (x-b)^T A (x-b)/2")
        fig.add("psi", Field(grid: grid) { ou.modifiedLoss($0) }, "modified loss Psi = (x-b)^T U (x-b)/2")
        fig.add("rho", rho[1], "stationary density of the discrete Fokker–Planck operator")
        fig.add("rho_exact", exactRho, "N(b, B/kappa)")
        fig.add("jx", current[1][0], "x component of the numerical stationary current")
        fig.add("jy", current[1][1], "y component of the numerical stationary current")
        fig.add("jx_exact", exactJ[0], "x component of J_ss = -Q U (x - b) rho_ss")
        fig.add("jy_exact", exactJ[1], "y component of J_ss")

        densityClaims(&fig, ou: ou, rho: rho)
        currentClaims(&fig, ou: ou, current: current, exactJ: exactJ, coarse: grids[0])

        progress?(0.6, "Euler–Maruyama path")
        let path = try ou.eulerMaruyama(from: p.start, dt: p.dt, steps: p.steps, seed: p.seed, burnIn: p.burnIn,
                                        recordSteps: p.pathSteps, recordEvery: p.pathEvery, thinEvery: p.cloudEvery,
                                        batches: p.batches)
        fig.add("trajectory", path.recorded, shape: [path.recordedCount, 2],
                "the first \(p.pathSteps) Euler–Maruyama steps (dt = \(p.dt)), every \(p.pathEvery)-th point")
        fig.add("cloud", path.thinned, shape: [path.thinned.count / 2, 2],
                "the same path after burn-in, every \(p.cloudEvery)-th point (samples of the stationary law)")
        try pathClaim(&fig, ou: ou, path: path)
        fig.add("covariance_exact", ou.stationaryCovariance.entries, shape: [2, 2], "B / kappa")
        fig.add("covariance_fp", moments(rho[1]).covariance.entries, shape: [2, 2], "covariance of the FP stationary density")
        fig.add("covariance_path", path.covariance.entries, shape: [2, 2], "time-averaged covariance of the path")
        fig.panels = [
            FigurePanel("original loss Phi with the path", arrays: ["x", "y", "phi", "trajectory", "cloud"]),
            FigurePanel("modified loss Psi with the path and the stationary current J_ss", arrays: ["x", "y", "psi", "trajectory", "cloud", "jx_exact", "jy_exact"]),
            FigurePanel("Fokker–Planck stationary density and its current", arrays: ["x", "y", "rho", "jx", "jy"]),
        ]
        progress?(1, "done")
        return fig
    }

    /// FP stationary covariance against `B/kappa` with the Richardson estimate of grids `n`, `2n-1`.
    static func densityClaims(_ fig: inout FigureData, ou: OrnsteinUhlenbeck, rho: [Field]) {
        let target = ou.stationaryCovariance
        let c = rho.map { moments($0) }
        // Second order: error(fine) ~ |C_coarse - C_fine| / 3; allow 1.5 times that estimate.
        let estimate = (c[0].covariance - c[1].covariance).maxAbs / 3
        let error = (c[1].covariance - target).maxAbs
        let meanError = zip(c[1].mean, ou.mean).map { abs($0 - $1) }.max()!
        let meanEstimate = zip(c[0].mean, c[1].mean).map { abs($0 - $1) }.max()! / 3
        fig.claim("fp-covariance",
                  "the Fokker–Planck stationary density has mean b and covariance B/kappa (A B + B A^T = 2 D), within 1.5 "
                  + "times the Richardson estimate |C_n - C_2n-1|/3 of the second-order scheme",
                  holds: error <= 1.5 * estimate + 1e-12 && meanError <= 1.5 * meanEstimate + 1e-12,
                  ["covariance_error": error, "covariance_estimate": estimate, "relative_error": error / target.maxAbs,
                   "mean_error": meanError, "mean_estimate": meanEstimate])
        // The modified-loss Gibbs density, pointwise, with the same Richardson estimate; and the
        // Gibbs density of the original loss Phi (what isotropic noise would give) for contrast.
        let grid = rho[1].grid
        let gibbsPsi = Field(grid: grid) { exp(-ou.kappa * ou.modifiedLoss($0)) }
        let gibbsPhi = Field(grid: grid) { exp(-ou.kappa * ou.originalLoss($0)) }
        let normalized = { (g: Field) in (1 / FokkerPlanck.mass(g)) * g }
        let densityEstimate = everyOtherNode(rho[1], coarse: rho[0].grid).distance(to: rho[0], .max) / 3
        let psiError = rho[1].distance(to: normalized(gibbsPsi), .max)
        let phiDistance = rho[1].distance(to: normalized(gibbsPhi), .max)
        fig.claim("fp-gibbs-psi",
                  "the stationary density is the Gibbs density exp(-kappa Psi)/Z of the modified loss (within 1.5 times "
                  + "the Richardson estimate), not exp(-kappa Phi)/Z (at least 10 times farther)",
                  holds: psiError <= 1.5 * densityEstimate && phiDistance >= 10 * psiError,
                  ["error_psi": psiError, "estimate": densityEstimate, "distance_phi": phiDistance,
                   "max_rho": rho[1].norm(.max)])
    }

    /// The numerical current against `J_ss`: agreement, size, divergence.
    static func currentClaims(_ fig: inout FigureData, ou: OrnsteinUhlenbeck, current: [[Field]], exactJ: [Field], coarse: Grid) {
        let fine = current[1], coarseJ = current[0]
        let exactCoarse = (0..<2).map { k in Field(grid: coarse) { ou.stationaryCurrent($0)[k] } }
        let scale = exactJ.map { $0.norm(.max) }.max()!
        let errorFine = (0..<2).map { fine[$0].distance(to: exactJ[$0], .max) }.max()!
        let errorCoarse = (0..<2).map { coarseJ[$0].distance(to: exactCoarse[$0], .max) }.max()!
        let estimate = (0..<2).map { everyOtherNode(fine[$0], coarse: coarse).distance(to: coarseJ[$0], .max) }.max()! / 3
        let size = fine.map { $0.norm(.max) }.max()!
        fig.claim("current-matches",
                  "the numerical stationary current matches J_ss = -Q U (x - b) rho_ss within 1.5 times its Richardson "
                  + "estimate, and is non-zero (broken detailed balance: A D != D A^T, Q != 0)",
                  holds: errorFine <= 1.5 * estimate && size >= 0.5 * scale && ou.q.maxAbs > 0,
                  ["error": errorFine, "error_coarse": errorCoarse, "estimate": estimate, "max_J": size,
                   "max_J_exact": scale, "max_Q": ou.q.maxAbs])
        // |div J| against the size of one of its terms, |J| / sigma: a truncation residual, O(h^2).
        let sigma = min(ou.stationaryCovariance[0, 0], ou.stationaryCovariance[1, 1]).squareRoot()
        let divFine = maxDivergence(fine) / (scale / sigma)
        let divCoarse = maxDivergence(coarseJ) / (scale / sigma)
        fig.claim("current-divergence-free",
                  "the numerical current is divergence-free: its central-difference divergence, relative to |J|/sigma, "
                  + "is a second-order residual (below 5% and falling >= 3x from n to 2n-1)",
                  holds: divFine <= 0.05 && divCoarse / divFine >= 3,
                  ["relative_divergence": divFine, "relative_divergence_coarse": divCoarse])
    }

    /// The path's time averages against `N(b, B/kappa)`.
    static func pathClaim(_ fig: inout FigureData, ou: OrnsteinUhlenbeck, path: OrnsteinUhlenbeckPath) throws {
        let target = ou.stationaryCovariance
        let chain = try ou.eulerMaruyamaCovariance(dt: path.dt)
        let bias = chain - target
        var holds = true
        var worst = 0.0
        for k in 0..<2 {
            let z = abs(path.mean[k] - ou.mean[k]) / path.meanStandardError[k]
            worst = max(worst, z)
            if z > 4 { holds = false }
        }
        // Covariance: the deviation beyond the chain's O(dt) bias, in standard errors.
        var worstCov = 0.0
        for a in 0..<2 {
            for b in 0..<2 {
                let z = max(0, abs(path.covariance[a, b] - target[a, b]) - abs(bias[a, b])) / path.covarianceStandardError[a, b]
                worstCov = max(worstCov, z)
                if z > 4 { holds = false }
            }
        }
        fig.claim("path-moments",
                  "the Euler–Maruyama path's time averages match N(b, B/kappa): mean within 4 batch-means standard errors, "
                  + "covariance within 4 standard errors plus the O(dt) bias of the chain",
                  holds: holds,
                  ["mean_x": path.mean[0], "mean_y": path.mean[1], "largest_mean_z": worst,
                   "largest_covariance_z": worstCov, "covariance_xx": path.covariance[0, 0],
                   "covariance_xy": path.covariance[0, 1], "covariance_yy": path.covariance[1, 1],
                   "relative_standard_error_xx": path.covarianceStandardError[0, 0] / target[0, 0],
                   "chain_bias": bias.maxAbs])
    }
}
