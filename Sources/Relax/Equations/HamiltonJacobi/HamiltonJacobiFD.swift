import Foundation

/// Finite differences for `u_t + H(x, grad u) = nu Lap u` on a grid, d = 1, 2, 3.
///
/// Schemes (`Scheme`):
/// - `.godunov`: first-order one-sided slopes, Godunov flux, explicit Euler: monotone,
///   converges to the viscosity solution (Crandall–Lions; Oberman 2006), first order
///   where `u` is smooth (error O(h^1/2) worst case in max norm after kinks, O(h) in L1).
/// - `.laxFriedrichs`: the same slopes, flux `H((p^- + p^+)/2) - alpha (p^+ - p^-)/2` per
///   axis with `alpha_k = max |dH_k/dp|` over the grid: monotone, more diffusive.
/// - `.weno5`: WENO5 slopes with the Godunov flux and TVD Runge–Kutta 3 (Shu–Osher): fifth
///   order in space, third in time where `u` is smooth.
///
/// The diffusion term is the second-order central Laplacian. The step obeys the CFL bound
/// `dt (sum_k alpha_k / h_k + 2 nu sum_k 1/h_k^2) <= cfl`, recomputed every step because
/// `max|p|` changes; the last step is shortened to land on `t`. Boundaries fill ghost cells
/// (`GhostFill`): periodic wrap, Neumann mirror, free = linear extrapolation on a grid the
/// caller has padded by the prox reach.
///
/// Reuse (viscous HJ, HJB): pass any `SeparableHamiltonian` and `diffusion = 1/(2 beta)`;
/// `rate(_:into:)` is the semi-discrete right-hand side for other integrators.
public struct HamiltonJacobiFD<H: SeparableHamiltonian>: Sendable {
    public enum Scheme: String, Sendable, CaseIterable {
        case godunov
        case laxFriedrichs = "lax-friedrichs"
        case weno5 = "weno5"

        /// The default CFL number: 0.9 for the monotone Euler schemes, 0.5 for WENO5-RK3.
        public var defaultCFL: Double { self == .weno5 ? 0.5 : 0.9 }
    }

    public var hamiltonian: H
    public var scheme: Scheme
    /// `nu >= 0` in `nu Lap u`.
    public var diffusion: Double
    /// The fraction of the stable time step used, in (0, 1].
    public var cfl: Double
    /// The order of the central Laplacian: 2 (3-point) or 4 (5-point, needs the two ghost
    /// nodes of WENO5; for smooth viscous HJ with `.weno5`). Its spectral radius is `4/h^2`
    /// resp. `16/(3h^2)`, so the diffusive part of the CFL rate is `2 nu/h^2` resp. `8 nu/(3h^2)`.
    public var diffusionOrder = 2

    public init(hamiltonian: H, scheme: Scheme = .godunov, diffusion: Double = 0, cfl: Double? = nil) {
        self.hamiltonian = hamiltonian
        self.scheme = scheme
        self.diffusion = diffusion
        self.cfl = cfl ?? scheme.defaultCFL
    }

    var reconstruction: SlopeReconstruction { scheme == .weno5 ? .weno5 : .firstOrder }

    /// Evolves `u0` to time `t` (the boundary is `u0.grid.boundary`).
    ///
    /// Throws for `t <= 0`, a bad `cfl` or `diffusion`, a Dirichlet grid, or a non-finite
    /// value arising during the run (naming the step and grid point).
    public func evolve(_ u0: Field, time t: Double, progress: ProgressHandler? = nil) throws -> (u: Field, report: SolverReport) {
        try RelaxError.requirePositiveFinite(t, name: "t", expected: "a finite time t > 0")
        guard cfl > 0, cfl <= 1 else {
            throw RelaxError.invalidParameter(name: "cfl", value: "\(cfl)", expected: "a CFL number in (0, 1]")
        }
        guard diffusion >= 0, diffusion.isFinite else {
            throw RelaxError.invalidParameter(name: "diffusion", value: "\(diffusion)", expected: "a finite nu >= 0")
        }
        try u0.checkFinite("initial data")
        let ghosts = try GhostFill(u0.grid.boundary)
        let grid = u0.grid
        var report = SolverReport(equation: diffusion > 0 ? "viscous-hj" : "hj",
                                  scheme: scheme.rawValue + (scheme == .weno5 ? "-rk3" : "-euler"),
                                  workingShape: grid.shape)
        let (u, wall) = try Stopwatch.time { () throws -> [Double] in
            var u = u0.values
            var k1 = [Double](repeating: 0, count: grid.count)
            var stage = u
            let march = TimeMarch(time: t, grid: grid, cfl: cfl, label: "HJ \(scheme.rawValue)", progress: progress)
            try march.run(&u, report: &report) { u, remaining in
                let speeds = rate(u, ghosts: ghosts, grid: grid, into: &k1)
                let dt = min(cfl * stableStep(speeds: speeds, grid: grid), remaining)
                if scheme == .weno5 {
                    // TVD-RK3 (Shu–Osher): u1 = u + dt L(u); u2 = 3/4 u + 1/4 (u1 + dt L(u1));
                    // u^{n+1} = 1/3 u + 2/3 (u2 + dt L(u2)).
                    for i in u.indices { stage[i] = u[i] + dt * k1[i] }
                    _ = rate(stage, ghosts: ghosts, grid: grid, into: &k1)
                    for i in u.indices { stage[i] = 0.75 * u[i] + 0.25 * (stage[i] + dt * k1[i]) }
                    _ = rate(stage, ghosts: ghosts, grid: grid, into: &k1)
                    for i in u.indices { u[i] = u[i] / 3 + 2.0 / 3 * (stage[i] + dt * k1[i]) }
                } else {
                    for i in u.indices { u[i] += dt * k1[i] }
                }
                return dt
            }
            return u
        }
        report.wallTime = wall
        return (Field(grid: grid, values: u), report)
    }

    /// The largest stable Euler step for the given per-axis wave speeds.
    func stableStep(speeds: [Double], grid: Grid) -> Double {
        var rate = 0.0
        for (k, h) in grid.spacing.enumerated() {
            rate += speeds[k] / h + (diffusionOrder == 4 ? 8.0 / 3 : 2) * diffusion / (h * h)
        }
        return rate > 0 ? 1 / rate : .infinity
    }

    /// The semi-discrete right-hand side `L(u) = -H^(D^- u, D^+ u) + nu Lap_h u` into `out`,
    /// returning the wave speed `alpha_k = max |dH_k/dp|` per axis.
    public func rate(_ u: [Double], boundary: Boundary, grid: Grid, into out: inout [Double]) throws -> [Double] {
        rate(u, ghosts: try GhostFill(boundary), grid: grid, into: &out)
    }

    func rate(_ u: [Double], ghosts fill: GhostFill, grid: Grid, into out: inout [Double]) -> [Double] {
        let d = grid.dimension
        let count = grid.count
        let g = reconstruction.ghosts
        let reconstruction = self.reconstruction
        let hamiltonian = self.hamiltonian
        let scheme = self.scheme
        let nu = diffusion
        let fourthOrder = diffusionOrder == 4 && g >= 2
        var speeds = [Double](repeating: 0, count: d)
        var minus = [Double](repeating: 0, count: count)
        var plus = [Double](repeating: 0, count: count)
        for i in 0..<count { out[i] = 0 }
        u.withUnsafeBufferPointer { ub in
            out.withUnsafeMutableBufferPointer { ob in
                minus.withUnsafeMutableBufferPointer { mb in
                    plus.withUnsafeMutableBufferPointer { pb in
                        let up = ub.baseAddress!, op = ob.baseAddress!, mp = mb.baseAddress!, pp = pb.baseAddress!
                        for axis in 0..<d {
                            let n = grid.axes[axis].count
                            let h = grid.axes[axis].spacing
                            let stride = grid.strides[axis]
                            let lines = grid.lineCount(along: axis)
                            var lineSpeed = [Double](repeating: 0, count: lines)
                            // Pass 1: slopes along every line, their wave speeds, and diffusion.
                            lineSpeed.withUnsafeMutableBufferPointer { sb in
                                let sp = sb.baseAddress!
                                Parallel.forEachChunk(lines, minimumPerChunk: max(1, 8192 / n)) { range in
                                    var line = [Double](repeating: 0, count: n + 2 * g)
                                    var m = [Double](repeating: 0, count: n)
                                    var p = [Double](repeating: 0, count: n)
                                    line.withUnsafeMutableBufferPointer { lb in
                                        m.withUnsafeMutableBufferPointer { mlb in
                                            p.withUnsafeMutableBufferPointer { plb in
                                                let l = lb.baseAddress!, ml = mlb.baseAddress!, pl = plb.baseAddress!
                                                for lineIndex in range {
                                                    let start = grid.lineStart(along: axis, line: lineIndex)
                                                    fill.load(up, start: start, stride: stride, n: n, ghosts: g, into: l)
                                                    reconstruction.slopes(l, n: n, h: h, minus: ml, plus: pl)
                                                    var s = 0.0
                                                    for i in 0..<n {
                                                        let node = start + i * stride
                                                        mp[node] = ml[i]
                                                        pp[node] = pl[i]
                                                        s = max(s, hamiltonian.speed(axis: axis, node: node, minus: ml[i], plus: pl[i]))
                                                        if nu > 0 && fourthOrder {
                                                            let c = g + i
                                                            op[node] += nu * (-l[c + 2] + 16 * l[c + 1] - 30 * l[c]
                                                                              + 16 * l[c - 1] - l[c - 2]) / (12 * h * h)
                                                        } else if nu > 0 {
                                                            op[node] += nu * (l[g + i + 1] - 2 * l[g + i] + l[g + i - 1]) / (h * h)
                                                        }
                                                    }
                                                    sp[lineIndex] = s
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                            let alpha = lineSpeed.max() ?? 0
                            speeds[axis] = alpha
                            // Pass 2: the numerical Hamiltonian of this axis, node by node.
                            Parallel.forEachChunk(count, minimumPerChunk: 16384) { range in
                                for node in range {
                                    let a = mp[node], b = pp[node]
                                    let flux: Double
                                    if scheme == .laxFriedrichs {
                                        flux = hamiltonian.value(axis: axis, node: node, p: 0.5 * (a + b)) - 0.5 * alpha * (b - a)
                                    } else {
                                        flux = hamiltonian.godunov(axis: axis, node: node, minus: a, plus: b)
                                    }
                                    op[node] -= flux
                                }
                            }
                        }
                    }
                }
            }
        }
        return speeds
    }
}

extension HamiltonJacobiFD where H == QuadraticHamiltonian {
    /// The paper's inviscid HJ `u_t = -|grad u|^2 / 2` with the given scheme.
    public init(scheme: Scheme = .godunov, cfl: Double? = nil) {
        self.init(hamiltonian: QuadraticHamiltonian(), scheme: scheme, diffusion: 0, cfl: cfl)
    }
}
