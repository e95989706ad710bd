import Foundation

/// The operations of the expression language, written once for every `LossScalar`.
///
/// Derivative conventions at kinks (the only places where the language is not smooth):
/// - `abs'(0) = 0` (and `abs''(0) = 0`);
/// - `min(a, b)` and `max(a, b)` take value and derivatives from the selected argument;
///   on a tie the first argument is selected, so `min(x, 0)` has derivative 1 at `x = 0`;
/// - a NaN argument propagates through `min`, `max` and `abs` (it is never hidden).
/// Powers: `a^n` with a constant integer `n` is exact repeated multiplication (defined for
/// negative `a`); a constant non-integer exponent uses `pow` (NaN for negative `a`); a
/// variable exponent differentiates as `exp(b log a)` and so needs `a > 0` for its gradient.
enum ExpressionOperations {
    @inline(__always)
    static func apply<T: LossScalar>(_ f: UnaryFunction, _ a: T) -> T {
        let v = a.value
        let first = T.derivativeOrder >= 1
        switch f {
        case .negate:
            return T.chain(a, -v, -1, 0)
        case .sin:
            let s = Foundation.sin(v)
            return T.chain(a, s, first ? Foundation.cos(v) : 0, -s)
        case .cos:
            let c = Foundation.cos(v)
            return T.chain(a, c, first ? -Foundation.sin(v) : 0, -c)
        case .tan:
            let t = Foundation.tan(v)
            return T.chain(a, t, 1 + t * t, 2 * t * (1 + t * t))
        case .exp:
            let e = Foundation.exp(v)
            return T.chain(a, e, e, e)
        case .log:
            return T.chain(a, Foundation.log(v), 1 / v, -1 / (v * v))
        case .sqrt:
            let s = v.squareRoot()
            return T.chain(a, s, 0.5 / s, -0.25 / (s * v))
        case .abs:
            return T.chain(a, Swift.abs(v), v > 0 ? 1 : (v < 0 ? -1 : 0), 0)
        case .tanh:
            let t = Foundation.tanh(v)
            return T.chain(a, t, 1 - t * t, -2 * t * (1 - t * t))
        }
    }

    @inline(__always)
    static func apply<T: LossScalar>(_ op: BinaryOperator, _ a: T, _ b: T) -> T {
        let (u, w) = (a.value, b.value)
        switch op {
        case .add: return T.chain(a, b, u + w, 1, 1, 0, 0, 0)
        case .subtract: return T.chain(a, b, u - w, 1, -1, 0, 0, 0)
        case .multiply: return T.chain(a, b, u * w, w, u, 0, 1, 0)
        case .divide:
            let q = u / w
            return T.chain(a, b, q, 1 / w, -q / w, 0, -1 / (w * w), 2 * q / (w * w))
        case .power: return power(a, b)
        case .min: return (u <= w || u.isNaN) ? a : b
        case .max: return (u >= w || u.isNaN) ? a : b
        }
    }

    /// `a^b` with both sides variable: the partials of `exp(b log a)`.
    static func power<T: LossScalar>(_ a: T, _ b: T) -> T {
        let (u, w) = (a.value, b.value)
        let g = Foundation.pow(u, w)
        guard T.derivativeOrder >= 1 else { return T(constant: g) }
        let logU = Foundation.log(u)
        let gb = g == 0 ? 0 : g * logU
        let ga = w * Foundation.pow(u, w - 1)
        guard T.derivativeOrder >= 2 else { return T.chain(a, b, g, ga, gb, 0, 0, 0) }
        return T.chain(a, b, g, ga, gb, w * (w - 1) * Foundation.pow(u, w - 2),
                       Foundation.pow(u, w - 1) * (1 + w * logU), gb * logU)
    }

    /// `a^n` for a constant integer `n` (not 0 or 1), by repeated squaring.
    @inline(__always)
    static func power<T: LossScalar>(_ a: T, integer n: Int) -> T {
        let v = a.value
        let g = integerPower(v, n)
        guard T.derivativeOrder >= 1 else { return T(constant: g) }
        let ga = Double(n) * integerPower(v, n - 1)
        return T.chain(a, g, ga, T.derivativeOrder >= 2 ? Double(n * (n - 1)) * integerPower(v, n - 2) : 0)
    }

    /// `a^c` for a constant non-integer `c`.
    @inline(__always)
    static func power<T: LossScalar>(_ a: T, constant c: Double) -> T {
        let v = a.value
        let g = Foundation.pow(v, c)
        guard T.derivativeOrder >= 1 else { return T(constant: g) }
        let ga = c * Foundation.pow(v, c - 1)
        return T.chain(a, g, ga, T.derivativeOrder >= 2 ? c * (c - 1) * Foundation.pow(v, c - 2) : 0)
    }

    /// `v^n` by binary powering; `v^0 = 1`, negative `n` gives `1 / v^|n|`.
    @inline(__always)
    static func integerPower(_ v: Double, _ n: Int) -> Double {
        var base = v
        var e = n.magnitude
        var result = 1.0
        while e > 0 {
            if e & 1 == 1 { result *= base }
            e >>= 1
            if e > 0 { base *= base }
        }
        return n < 0 ? 1 / result : result
    }

    /// Why an operation produced a non-finite result (or derivative, if `derivative`) from
    /// finite operands, in words.
    static func reason(_ f: UnaryFunction, _ v: Double, derivative: Bool) -> String? {
        switch f {
        case .log where v <= 0 && !derivative: return "log of \(text(v)) needs a positive argument"
        case .log where v == 0: return "log has an infinite derivative at 0"
        case .sqrt where v < 0: return "sqrt of \(text(v)) needs a non-negative argument"
        case .sqrt where v == 0 && derivative: return "sqrt has an infinite derivative at 0"
        case .exp: return "exp(\(text(v))) overflows; its argument must stay below about 709.78"
        case .tan: return "tan(\(text(v))) is at or too near a pole (pi/2 + k pi)"
        default: return nil
        }
    }

    static func reason(_ op: BinaryOperator, _ u: Double, _ w: Double, derivative: Bool) -> String? {
        switch op {
        case .divide where w == 0: return "division by zero"
        case .power where u < 0 && !derivative: return "\(text(u))^\(text(w)): a negative base needs an integer exponent"
        case .power where u == 0: return "0^\(text(w)) \(derivative ? "has an infinite derivative" : "is infinite")"
        case .power where u < 0: return "a negative base \(text(u)) with a variable exponent has no real derivative"
        default: return nil
        }
    }

    /// A number for messages (`nan` without a sign).
    static func text(_ v: Double) -> String { v.isNaN ? "nan" : "\(v)" }
}
