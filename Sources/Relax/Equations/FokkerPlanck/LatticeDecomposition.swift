/// A decomposition `D~ = sum_e gamma_e e e^T` of a symmetric positive definite matrix (in
/// grid-index units, `D~_kl = D_kl / (h_k h_l)`) into rank-one terms along integer grid
/// offsets `e` with weights `gamma_e >= 0`: Selling's decomposition (Fehrenbach & Mirebeau,
/// "Sparse non-negative stencils for anisotropic diffusion", 2014).
///
/// `div(D grad rho)` then becomes `sum_e gamma_e` times a second difference along `e`,
/// with non-negative coefficients for ANY SPD `D` in d = 1, 2, 3: the discrete operator is
/// a Markov generator (an M-matrix step), so positivity needs no condition. A diagonal
/// `D` gives the axis offsets only; a diagonally dominant `D~` in 2-D adds one diagonal
/// `(1, ±1)`; stronger anisotropy gives longer offsets such as `(2, 1)` (at most a few
/// cells for condition numbers up to ~100).
struct LatticeDecomposition: Sendable {
    struct Term: Sendable, Equatable {
        /// The offset, with its first non-zero component positive.
        var offset: [Int]
        var weight: Double
    }
    var terms: [Term]

    /// Decomposes `scaled` (d x d, SPD). Terms with weight below `1e-13` of the trace are dropped.
    init(_ scaled: Matrix) throws {
        let d = scaled.rows
        func dot(_ a: [Int], _ b: [Int]) -> Double {
            var s = 0.0
            for i in 0..<d { for j in 0..<d { s += Double(a[i]) * scaled[i, j] * Double(b[j]) } }
            return s
        }
        let trace = (0..<d).reduce(0) { $0 + scaled[$1, $1] }
        let tolerance = 1e-13 * trace
        var raw: [Term] = []
        switch d {
        case 1:
            raw = [Term(offset: [1], weight: scaled[0, 0])]
        case 2:
            var b = [[-1, -1], [1, 0], [0, 1]]
            var iterations = 0
            while let (i, j) = Self.acutePair(b, dot, tolerance) {
                // (b_i, b_j, b_k) -> (-b_i, b_j, b_i - b_j)
                let k = 3 - i - j
                b[k] = zip(b[i], b[j]).map { $0 - $1 }
                b[i] = b[i].map { -$0 }
                iterations += 1
                if iterations > 1000 { throw Self.failure }
            }
            for i in 0..<3 {
                for j in (i + 1)..<3 {
                    let k = 3 - i - j
                    raw.append(Term(offset: [-b[k][1], b[k][0]], weight: -dot(b[i], b[j])))
                }
            }
        case 3:
            var b = [[-1, -1, -1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
            var iterations = 0
            while let (i, j) = Self.acutePair(b, dot, tolerance) {
                // b_k += b_i, b_l += b_i, b_i = -b_i (b_j unchanged)
                for k in 0..<4 where k != i && k != j {
                    b[k] = zip(b[k], b[i]).map { $0 + $1 }
                }
                b[i] = b[i].map { -$0 }
                iterations += 1
                if iterations > 1000 { throw Self.failure }
            }
            for i in 0..<4 {
                for j in (i + 1)..<4 {
                    let others = (0..<4).filter { $0 != i && $0 != j }
                    let e = Self.cross(b[others[0]], b[others[1]])
                    raw.append(Term(offset: e, weight: -dot(b[i], b[j])))
                }
            }
        default:
            preconditionFailure("lattice decomposition for d = 1, 2, 3")
        }
        terms = raw.filter { $0.weight > tolerance }.map { term in
            var t = term
            if let first = t.offset.first(where: { $0 != 0 }), first < 0 { t.offset = t.offset.map { -$0 } }
            return t
        }.sorted { Self.order($0.offset) < Self.order($1.offset) }
    }

    /// Axis offsets first (in axis order), then the others by length.
    private static func order(_ e: [Int]) -> Int {
        let nonzero = e.filter { $0 != 0 }.count
        if nonzero == 1 { return e.firstIndex { $0 != 0 }! }
        return 10 + e.reduce(0) { $0 + $1 * $1 }
    }

    private static func acutePair(_ b: [[Int]], _ dot: ([Int], [Int]) -> Double,
                                  _ tolerance: Double) -> (Int, Int)? {
        for i in 0..<b.count {
            for j in (i + 1)..<b.count where dot(b[i], b[j]) > tolerance { return (i, j) }
        }
        return nil
    }

    private static func cross(_ a: [Int], _ b: [Int]) -> [Int] {
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    }

    private static let failure = RelaxError.numerical(
        "Selling's decomposition of the diffusion matrix did not terminate; is it positive definite?")
}
