/// The number types a compiled expression is evaluated in: plain values (`Double`), forward-mode
/// dual numbers carrying the gradient in up to three variables (`Dual`), and second-order
/// Taylor numbers in one variable (`Taylor2`, value and first two derivatives).
///
/// Every operation of the language is written once, generically, through two chain rules:
/// a function `g` applied to `a` needs `g(a)`, `g'(a)`, `g''(a)`; a two-argument `g(a, b)`
/// needs its value and first and second partials. A type uses the derivatives it carries
/// and ignores the others; `derivativeOrder` tells the kernels which ones to compute at all.
protocol LossScalar: Sendable {
    /// 0 for values only, 1 for first derivatives, 2 for second derivatives.
    static var derivativeOrder: Int { get }
    init(constant: Double)
    /// The independent variable `axis` at `value` (unit derivative along that axis).
    static func variable(_ value: Double, axis: Int) -> Self
    var value: Double { get }
    /// Whether the value and every derivative carried are finite.
    var isFinite: Bool { get }
    /// `g(a)` from `g`, `g'` and `g''` at `a.value`.
    static func chain(_ a: Self, _ g: Double, _ ga: Double, _ gaa: Double) -> Self
    /// `g(a, b)` from its value and first and second partials at `(a.value, b.value)`.
    static func chain(_ a: Self, _ b: Self, _ g: Double, _ ga: Double, _ gb: Double,
                      _ gaa: Double, _ gab: Double, _ gbb: Double) -> Self
}

extension Double: LossScalar {
    static var derivativeOrder: Int { 0 }
    init(constant: Double) { self = constant }
    static func variable(_ value: Double, axis: Int) -> Double { value }
    var value: Double { self }
    @inline(__always)
    static func chain(_ a: Double, _ g: Double, _ ga: Double, _ gaa: Double) -> Double { g }
    @inline(__always)
    static func chain(_ a: Double, _ b: Double, _ g: Double, _ ga: Double, _ gb: Double,
                      _ gaa: Double, _ gab: Double, _ gbb: Double) -> Double { g }
}

/// A value and its gradient in `x, y, z`: lane 0 holds the value, lane `k + 1` the partial
/// derivative along axis `k` (zero for axes the expression does not use).
struct Dual: LossScalar {
    var lanes: SIMD4<Double>

    static var derivativeOrder: Int { 1 }
    init(constant: Double) { lanes = SIMD4(constant, 0, 0, 0) }
    init(lanes: SIMD4<Double>) { self.lanes = lanes }
    static func variable(_ value: Double, axis: Int) -> Dual {
        var lanes = SIMD4<Double>(value, 0, 0, 0)
        lanes[axis + 1] = 1
        return Dual(lanes: lanes)
    }
    var value: Double { lanes[0] }
    var isFinite: Bool { lanes[0].isFinite && lanes[1].isFinite && lanes[2].isFinite && lanes[3].isFinite }
    /// The partial derivative along `axis`.
    func partial(_ axis: Int) -> Double { lanes[axis + 1] }

    @inline(__always)
    static func chain(_ a: Dual, _ g: Double, _ ga: Double, _ gaa: Double) -> Dual {
        var lanes = a.lanes * ga
        lanes[0] = g
        return Dual(lanes: lanes)
    }
    @inline(__always)
    static func chain(_ a: Dual, _ b: Dual, _ g: Double, _ ga: Double, _ gb: Double,
                      _ gaa: Double, _ gab: Double, _ gbb: Double) -> Dual {
        var lanes = a.lanes * ga + b.lanes * gb
        lanes[0] = g
        return Dual(lanes: lanes)
    }
}

/// A truncated Taylor number in one variable: the value `v`, `dv/dx` and `d2v/dx2`.
struct Taylor2: LossScalar {
    var v: Double
    var d1: Double
    var d2: Double

    static var derivativeOrder: Int { 2 }
    init(constant: Double) { (v, d1, d2) = (constant, 0, 0) }
    init(_ v: Double, _ d1: Double, _ d2: Double) { (self.v, self.d1, self.d2) = (v, d1, d2) }
    /// Only the first variable is differentiated; other axes are held fixed.
    static func variable(_ value: Double, axis: Int) -> Taylor2 { Taylor2(value, axis == 0 ? 1 : 0, 0) }
    var value: Double { v }
    var isFinite: Bool { v.isFinite && d1.isFinite && d2.isFinite }

    static func chain(_ a: Taylor2, _ g: Double, _ ga: Double, _ gaa: Double) -> Taylor2 {
        Taylor2(g, ga * a.d1, gaa * a.d1 * a.d1 + ga * a.d2)
    }
    static func chain(_ a: Taylor2, _ b: Taylor2, _ g: Double, _ ga: Double, _ gb: Double,
                      _ gaa: Double, _ gab: Double, _ gbb: Double) -> Taylor2 {
        Taylor2(g, ga * a.d1 + gb * b.d1,
                gaa * a.d1 * a.d1 + 2 * gab * a.d1 * b.d1 + gbb * b.d1 * b.d1 + ga * a.d2 + gb * b.d2)
    }
}
