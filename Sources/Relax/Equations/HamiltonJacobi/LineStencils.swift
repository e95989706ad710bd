/// Boundary conditions as ghost values on one grid line, and the one-sided derivative
/// reconstructions that read them. Reused by every finite-difference HJ scheme (inviscid
/// and viscous), one code path for every axis and dimension.
public enum GhostFill: Sendable, Equatable {
    /// The line wraps: `u[-m] = u[n-m]`.
    case periodic
    /// Mirror about the end node (zero normal derivative): `u[-m] = u[m]`.
    case mirror
    /// Linear extrapolation of the two end nodes (free space: the grid is padded beyond
    /// the window so the edge does not reach it).
    case extrapolate

    /// The ghost rule of a boundary kind; Dirichlet data is refused by the HJ solvers.
    public init(_ boundary: Boundary) throws {
        switch boundary {
        case .periodic: self = .periodic
        case .neumann: self = .mirror
        case .free: self = .extrapolate
        case .dirichlet:
            throw RelaxError.unsupported(
                "finite-difference HJ with a Dirichlet boundary: use --boundary free, periodic or neumann")
        }
    }

    /// Copies the line `u[start + i*stride]`, `i in 0..<n`, into `line[g + i]` and fills `g`
    /// ghost values on each side (`n > g` for `.mirror`).
    @inline(__always)
    func load(_ u: UnsafePointer<Double>, start: Int, stride: Int, n: Int, ghosts g: Int,
              into line: UnsafeMutablePointer<Double>) {
        for i in 0..<n { line[g + i] = u[start + i * stride] }
        for m in 1...g {
            switch self {
            case .periodic:
                line[g - m] = line[g + ((n - m) % n + n) % n]
                line[g + n - 1 + m] = line[g + (m - 1) % n]
            case .mirror:
                line[g - m] = line[g + min(m, n - 1)]
                line[g + n - 1 + m] = line[g + n - 1 - min(m, n - 1)]
            case .extrapolate:
                line[g - m] = line[g] - Double(m) * (line[g + 1] - line[g])
                line[g + n - 1 + m] = line[g + n - 1] + Double(m) * (line[g + n - 1] - line[g + n - 2])
            }
        }
    }
}

/// One-sided derivatives `D^- u` and `D^+ u` at the nodes of a ghost-padded line.
public enum SlopeReconstruction: Sendable, Equatable {
    /// First-order differences `(u_i - u_{i-1})/h`, `(u_{i+1} - u_i)/h` (1 ghost).
    case firstOrder
    /// WENO5 (Jiang & Peng 2000): fifth order where `u` is smooth, non-oscillatory at kinks
    /// (3 ghosts).
    case weno5

    public var ghosts: Int { self == .firstOrder ? 1 : 3 }

    /// `minus[i]`, `plus[i]` for `i in 0..<n` from `line[ghosts + i]`.
    @inline(__always)
    func slopes(_ line: UnsafePointer<Double>, n: Int, h: Double,
                minus: UnsafeMutablePointer<Double>, plus: UnsafeMutablePointer<Double>) {
        let inv = 1 / h
        switch self {
        case .firstOrder:
            for i in 0..<n {
                let c = line[1 + i]
                minus[i] = (c - line[i]) * inv
                plus[i] = (line[2 + i] - c) * inv
            }
        case .weno5:
            // Differences d_j = (u_{j+1} - u_j)/h at line positions j; node i sits at 3 + i.
            for i in 0..<n {
                let c = 3 + i
                @inline(__always) func d(_ j: Int) -> Double { (line[j + 1] - line[j]) * inv }
                minus[i] = Self.weno(d(c - 3), d(c - 2), d(c - 1), d(c), d(c + 1))
                plus[i] = Self.weno(d(c + 2), d(c + 1), d(c), d(c - 1), d(c - 2))
            }
        }
    }

    /// The WENO5 combination of the three third-order candidate slopes from five
    /// consecutive differences (upwind side first), with smoothness indicators and
    /// `epsilon = 1e-6 max v_i^2 + 1e-99` (scale-invariant, Osher & Fedkiw 2003).
    @inline(__always)
    static func weno(_ v1: Double, _ v2: Double, _ v3: Double, _ v4: Double, _ v5: Double) -> Double {
        let p1 = v1 / 3 - 7 * v2 / 6 + 11 * v3 / 6
        let p2 = -v2 / 6 + 5 * v3 / 6 + v4 / 3
        let p3 = v3 / 3 + 5 * v4 / 6 - v5 / 6
        let s1 = 13.0 / 12 * (v1 - 2 * v2 + v3) * (v1 - 2 * v2 + v3) + 0.25 * (v1 - 4 * v2 + 3 * v3) * (v1 - 4 * v2 + 3 * v3)
        let s2 = 13.0 / 12 * (v2 - 2 * v3 + v4) * (v2 - 2 * v3 + v4) + 0.25 * (v2 - v4) * (v2 - v4)
        let s3 = 13.0 / 12 * (v3 - 2 * v4 + v5) * (v3 - 2 * v4 + v5) + 0.25 * (3 * v3 - 4 * v4 + v5) * (3 * v3 - 4 * v4 + v5)
        let eps = 1e-6 * max(v1 * v1, v2 * v2, v3 * v3, v4 * v4, v5 * v5) + 1e-99
        let a1 = 0.1 / ((s1 + eps) * (s1 + eps))
        let a2 = 0.6 / ((s2 + eps) * (s2 + eps))
        let a3 = 0.3 / ((s3 + eps) * (s3 + eps))
        return (a1 * p1 + a2 * p2 + a3 * p3) / (a1 + a2 + a3)
    }
}
