import Foundation

/// Grid features the figures check their claims with, one code path for d = 1, 2, 3:
/// strict local minima over the full `3^d - 1` neighbourhood, the five-point (2d+1-point)
/// Laplacian, and the largest Hessian eigenvalue from central second differences
/// (truncation `O(h^2)`, `h^2/12 max|d^4 u|` for the pure second differences).
enum FieldFeatures {
    /// Interior nodes strictly below all `3^d - 1` neighbours (flat indices, ascending).
    static func strictLocalMinima(_ u: Field) -> [Int] {
        let grid = u.grid
        let d = grid.dimension
        let shape = grid.shape
        let strides = grid.strides
        // Flat offsets of the 3^d - 1 neighbours.
        var offsets: [Int] = [0]
        for k in 0..<d {
            offsets = offsets.flatMap { o in [o - strides[k], o, o + strides[k]] }
        }
        offsets.removeAll { $0 == 0 }
        var minima: [Int] = []
        u.values.withUnsafeBufferPointer { v in
            for flat in 0..<grid.count {
                let index = grid.multiIndex(flat)
                guard (0..<d).allSatisfy({ index[$0] > 0 && index[$0] < shape[$0] - 1 }) else { continue }
                let center = v[flat]
                if offsets.allSatisfy({ v[flat + $0] > center }) { minima.append(flat) }
            }
        }
        return minima
    }

    /// The (2d+1)-point Laplacian at the interior nodes (NaN at the edges), spacing `step * h`.
    static func laplacian(_ u: Field, step: Int = 1) -> Field {
        let grid = u.grid
        let d = grid.dimension
        let shape = grid.shape
        let strides = grid.strides
        var out = [Double](repeating: .nan, count: grid.count)
        for flat in 0..<grid.count {
            let index = grid.multiIndex(flat)
            guard (0..<d).allSatisfy({ index[$0] >= step && index[$0] < shape[$0] - step }) else { continue }
            var sum = 0.0
            for k in 0..<d {
                let h = Double(step) * grid.spacing[k]
                let s = step * strides[k]
                sum += (u.values[flat + s] - 2 * u.values[flat] + u.values[flat - s]) / (h * h)
            }
            out[flat] = sum
        }
        return Field(grid: grid, values: out)
    }

    /// The central-difference Hessian at an interior node (row-major `d x d`).
    static func hessian(_ u: Field, at flat: Int) -> Matrix {
        let grid = u.grid
        let d = grid.dimension
        let strides = grid.strides
        let v = u.values
        var m = Matrix(rows: d, columns: d, entries: [Double](repeating: 0, count: d * d))
        for a in 0..<d {
            let ha = grid.spacing[a], sa = strides[a]
            m[a, a] = (v[flat + sa] - 2 * v[flat] + v[flat - sa]) / (ha * ha)
            for b in (a + 1)..<d {
                let hb = grid.spacing[b], sb = strides[b]
                let mixed = (v[flat + sa + sb] - v[flat + sa - sb] - v[flat - sa + sb] + v[flat - sa - sb]) / (4 * ha * hb)
                m[a, b] = mixed
                m[b, a] = mixed
            }
        }
        return m
    }

    /// The largest eigenvalue of a small symmetric matrix (closed form for d <= 2).
    static func largestEigenvalue(_ m: Matrix) throws -> Double {
        switch m.rows {
        case 1: return m[0, 0]
        case 2:
            let mean = (m[0, 0] + m[1, 1]) / 2, half = (m[0, 0] - m[1, 1]) / 2
            return mean + (half * half + m[0, 1] * m[0, 1]).squareRoot()
        default: return try LinearAlgebra.symmetricEigen(m).values.max()!
        }
    }

    /// `sup lambda_max(Hess u)` over the interior nodes: the semiconcavity constant of sampled data.
    static func semiconcavityConstant(_ u: Field) throws -> Double {
        let grid = u.grid
        let shape = grid.shape
        var best = -Double.infinity
        for flat in 0..<grid.count {
            let index = grid.multiIndex(flat)
            guard (0..<grid.dimension).allSatisfy({ index[$0] > 0 && index[$0] < shape[$0] - 1 }) else { continue }
            best = max(best, try largestEigenvalue(hessian(u, at: flat)))
        }
        return best
    }

    /// The largest finite value and its flat index.
    static func finiteMaximum(_ u: Field) -> (value: Double, index: Int) {
        var best = -Double.infinity, at = 0
        for (i, v) in u.values.enumerated() where v.isFinite && v > best {
            best = v
            at = i
        }
        return (best, at)
    }
}
