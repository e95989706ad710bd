import Foundation
import Testing
@testable import Relax

/// The loss expression language: values, precedence, exact derivatives, error positions.
///
/// Tolerances: the evaluator performs the same floating-point operations as the reference
/// formulas up to reassociation, so values agree to a few ulps (1e-14 relative); dual-number
/// derivatives are exact derivatives of the computed function, so they agree with the
/// analytic derivatives to round-off as well (1e-12 relative allows for the extra operations
/// of the chain rule in the deepest expressions).
@Suite("Loss expressions")
struct ExpressionTests {
    static func value(_ text: String, _ point: [Double] = [0, 0, 0]) throws -> Double {
        try Loss(expression: text).value(at: point)
    }

    static func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-14) -> Bool {
        abs(a - b) <= tolerance * max(1, abs(b))
    }

    @Test("precedence and associativity: ^ is right-associative and binds tighter than unary minus")
    func precedence() throws {
        #expect(try Self.value("2^3^2") == 512)
        #expect(try Self.value("-x^2", [3]) == -9)
        #expect(try Self.value("-2^2") == -4)
        #expect(try Self.value("(-2)^2") == 4)
        #expect(try Self.value("2^-1") == 0.5)
        #expect(try Self.value("-2^-2") == -0.25)
        #expect(try Self.value("8/4/2") == 1)
        #expect(try Self.value("10-4-3") == 3)
        #expect(try Self.value("2+3*4^2/8") == 8)
        #expect(try Self.value("2*-x", [3]) == -6)
        #expect(try Self.value("--x", [3]) == 3)
        #expect(try Self.value("+x - -x", [3]) == 6)
        #expect(try Self.value("(1+2)*(3+4)") == 21)
        #expect(try Self.value("x^y^z", [2, 3, 2]) == 512)
        #expect(try LossExpression(parsing: "-x^2").description == "-((x ^ 2))")
    }

    @Test("numbers, constants and functions evaluate to their definitions")
    func values() throws {
        let p = [0.7, -1.3, 2.1]
        let (x, y, z) = (p[0], p[1], p[2])
        let cases: [(String, Double)] = [
            ("1.5e-3", 1.5e-3), ("2E4", 2e4), (".5", 0.5), ("3.", 3), ("2e-3", 2e-3), ("1e+2", 100),
            ("pi", Double.pi), ("e", M_E), ("2*e", 2 * M_E), ("  x \t*\n 2 ", 2 * x),
            ("sin(x)", sin(x)), ("cos(y)", cos(y)), ("tan(x)", tan(x)), ("exp(y)", exp(y)),
            ("log(z)", log(z)), ("sqrt(z)", sqrt(z)), ("abs(y)", abs(y)), ("tanh(x)", tanh(x)),
            ("min(x, y)", min(x, y)), ("max(x, y)", max(x, y)), ("x^y", pow(x, y)), ("z^0.5", pow(z, 0.5)),
            ("x^3 - 2*y^-2", x * x * x - 2 / (y * y)), ("y^7", pow(y, 7)), ("(x*y - z)/(1 + x^2)", (x * y - z) / (1 + x * x)),
            ("exp(-(x^2 + y^2)/2)", exp(-(x * x + y * y) / 2)), ("sin(pi/2)", 1), ("x^0", 1), ("x^1", x),
        ]
        for (text, expected) in cases {
            let v = try Self.value(text, p)
            #expect(Self.close(v, expected), "\(text) = \(v), expected \(expected)")
        }
    }

    @Test("dimension is the highest variable used; a constant expression has dimension 1")
    func dimension() throws {
        #expect(try Loss(expression: "3*pi").dimension == 1)
        #expect(try Loss(expression: "x").dimension == 1)
        #expect(try Loss(expression: "y^2").dimension == 2)
        #expect(try Loss(expression: "x*z").dimension == 3)
        #expect(try Loss(expression: "sin(x)+y").dimension == 2)
    }

    /// Expressions with hand-derived gradients, at points where every one is smooth.
    static let gradientCases: [(text: String, f: @Sendable ([Double]) -> Double, grad: @Sendable ([Double]) -> [Double])] = [
        ("sin(x)*cos(y)", { sin($0[0]) * cos($0[1]) },
         { [cos($0[0]) * cos($0[1]), -sin($0[0]) * sin($0[1]), 0] }),
        ("exp(-(x^2 + y^2 + z^2)/2)", { exp(-($0[0] * $0[0] + $0[1] * $0[1] + $0[2] * $0[2]) / 2) },
         { p in let f = exp(-(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]) / 2); return [-p[0] * f, -p[1] * f, -p[2] * f] }),
        ("log(1 + x^2 + z^2)", { log(1 + $0[0] * $0[0] + $0[2] * $0[2]) },
         { p in let s = 1 + p[0] * p[0] + p[2] * p[2]; return [2 * p[0] / s, 0, 2 * p[2] / s] }),
        ("sqrt(x^2 + y^2 + 1)", { sqrt($0[0] * $0[0] + $0[1] * $0[1] + 1) },
         { p in let r = sqrt(p[0] * p[0] + p[1] * p[1] + 1); return [p[0] / r, p[1] / r, 0] }),
        ("tan(x/2) + tanh(x*y)", { tan($0[0] / 2) + tanh($0[0] * $0[1]) },
         { p in let t = tan(p[0] / 2), h = tanh(p[0] * p[1])
             return [(1 + t * t) / 2 + (1 - h * h) * p[1], (1 - h * h) * p[0], 0] }),
        ("abs(z)^y", { pow(abs($0[2]), $0[1]) },
         { p in let a = abs(p[2]), f = pow(a, p[1]); return [0, f * log(a), p[1] * pow(a, p[1] - 1) * (p[2] < 0 ? -1 : 1)] }),
        ("x/(1 + y^2) - z^3 + 2*x^-2", { $0[0] / (1 + $0[1] * $0[1]) - pow($0[2], 3) + 2 / ($0[0] * $0[0]) },
         { p in let q = 1 + p[1] * p[1]
             return [1 / q - 4 / (p[0] * p[0] * p[0]), -2 * p[0] * p[1] / (q * q), -3 * p[2] * p[2]] }),
        ("abs(x - 0.3) + min(y, z) + max(x^2, y)", { abs($0[0] - 0.3) + min($0[1], $0[2]) + max($0[0] * $0[0], $0[1]) },
         { p in
             let sx: Double = p[0] > 0.3 ? 1 : -1
             let selectX = p[0] * p[0] >= p[1]
             return [sx + (selectX ? 2 * p[0] : 0), (p[1] <= p[2] ? 1 : 0) + (selectX ? 0 : 1), p[1] <= p[2] ? 0 : 1] }),
        ("(x^2 + 1)^1.5", { pow($0[0] * $0[0] + 1, 1.5) }, { [3 * $0[0] * sqrt($0[0] * $0[0] + 1), 0, 0] }),
    ]

    @Test("dual numbers give the analytic gradient at random points, pointwise and on grids")
    func gradients() throws {
        var rng = SystemRandomNumberGenerator()
        for (text, f, grad) in Self.gradientCases {
            let loss = try Loss(expression: text)
            for _ in 0..<20 {
                let p = (0..<3).map { _ in Double.random(in: -1.4...1.4, using: &rng) }
                guard abs(p[0]) > 0.1 else { continue }  // keep x^-2 and the kinks away
                let g = loss.gradient(at: p)
                let expected = grad(p)
                #expect(Self.close(loss.value(at: p), f(p), 1e-13), "\(text) at \(p)")
                for k in 0..<3 {
                    #expect(Self.close(g[k], expected[k], 1e-12), "d/d\(Grid.axisNames[k]) \(text) at \(p): \(g[k]) vs \(expected[k])")
                }
            }
        }
    }

    @Test("derivative conventions at kinks: abs'(0) = 0; min and max follow the selected branch, the first on ties")
    func kinkConventions() throws {
        #expect(try Loss(expression: "abs(x)").gradient(at: [0]) == [0])
        #expect(try Loss(expression: "min(x, 0)").gradient(at: [0]) == [1])
        #expect(try Loss(expression: "min(0, x)").gradient(at: [0]) == [0])
        #expect(try Loss(expression: "max(x, -x)").gradient(at: [0]) == [1])
        #expect(try Loss(expression: "max(-x, x)").gradient(at: [0]) == [-1])
        #expect(try Loss(expression: "abs(x)").secondDerivative1D(at: 0) == 0)
        // NaN is never hidden by a selection.
        #expect(try Loss(expression: "min(log(x), 0)").value(at: [-1]).isNaN)
        #expect(try Loss(expression: "max(0, log(x))").value(at: [-1]).isNaN)
        #expect(try Loss(expression: "abs(sqrt(x))").value(at: [-1]).isNaN)
    }

    @Test("second derivatives of 1-D expressions are exact (second-order Taylor arithmetic)")
    func secondDerivatives() throws {
        let cases: [(String, (Double) -> Double)] = [
            ("sin(x)^2", { 2 * cos(2 * $0) }),
            ("exp(-x^2)", { (4 * $0 * $0 - 2) * exp(-$0 * $0) }),
            ("x^x", { pow($0, $0) * (pow(log($0) + 1, 2) + 1 / $0) }),
            ("log(x)/x", { (2 * log($0) - 3) / pow($0, 3) }),
            ("(x^2 - 1)^2/4", { 3 * $0 * $0 - 1 }),
            ("tan(x)", { 2 * tan($0) * (1 + tan($0) * tan($0)) }),
            ("tanh(x)", { -2 * tanh($0) * (1 - tanh($0) * tanh($0)) }),
            ("sqrt(1 + x^2)", { pow(1 + $0 * $0, -1.5) }),
            ("1/(1 + x^2)", { (6 * $0 * $0 - 2) / pow(1 + $0 * $0, 3) }),
            ("x^2.5", { 3.75 * pow($0, 0.5) }),
            ("cos(3*x) - x^-3", { -9 * cos(3 * $0) - 12 / pow($0, 5) }),
        ]
        for (text, exact) in cases {
            let loss = try Loss(expression: text)
            for x in stride(from: 0.15, through: 1.35, by: 0.1) {
                let d2 = try #require(loss.secondDerivative1D(at: x))
                #expect(Self.close(d2, exact(x), 1e-12), "\(text)'' at \(x): \(d2) vs \(exact(x))")
            }
        }
        #expect(try Loss(expression: "x*y").secondDerivative1D(at: 1) == nil)
    }

    @Test("grid evaluation equals pointwise evaluation in 1-D, 2-D and 3-D; extra axes are ignored")
    func gridMatchesPointwise() throws {
        let loss = try Loss(expression: "sin(3*x)*exp(-y^2) + 0.1*x*y + tanh(x - y)")
        for (domain, counts) in [([(-2.0, 2.0), (-1.0, 1.5)], [37, 23]), ([(-2, 2), (-1, 1.5), (0, 1)], [9, 11, 1200])] {
            let grid = try Grid(domain: domain, counts: counts)
            let (value, gradient) = try loss.sampleWithGradient(on: grid)
            let sampled = try loss.sample(on: grid)
            #expect(sampled.values == value.values)
            for flat in stride(from: 0, to: grid.count, by: 7) {
                let p = grid.point(flat)
                #expect(value[flat] == loss.value(at: p))
                let g = loss.gradient(at: p)
                for k in 0..<grid.dimension { #expect(gradient[k][flat] == g[k]) }
            }
            if grid.dimension == 3 {
                #expect(gradient[2].values.allSatisfy { $0 == 0 }, "z is not a variable of the loss")
            }
        }
        let oneD = try Loss(expression: "x^3")
        let grid = try Grid(domain: [(-1, 1), (0, 1)], counts: [5, 4])
        let (v, g) = try oneD.sampleWithGradient(on: grid)
        #expect(v[4, 3] == 1 && g[0][4, 3] == 3 && g[1].values.allSatisfy { $0 == 0 })
    }

    @Test("evaluation at scattered points (vectorized blocks) equals pointwise evaluation, for expressions and closures")
    func scatteredMatchesPointwise() throws {
        let expression = try Loss(expression: "sin(3*x)*exp(-y^2) + 0.1*x*y + tanh(x - y)")
        let closure = Loss(name: "x y^2", dimension: 2, value: { $0[0] * $0[1] * $0[1] },
                           gradient: { [$0[1] * $0[1], 2 * $0[0] * $0[1]] })
        // More points than one Dual block (4096 bytes / 32 = 128 points), stride 3 > dimension 2.
        let count = 300, stride = 3
        let points = (0..<(count * stride)).map { sin(Double($0) * 0.37) * 2 }
        for loss in [expression, closure] {
            var values = [Double](repeating: .nan, count: count), onlyValues = values
            var gradients = [Double](repeating: .nan, count: count * stride)
            points.withUnsafeBufferPointer { p in
                loss.evaluate(points: p.baseAddress!, stride: stride, count: count,
                              values: &values, gradients: &gradients)
                loss.evaluate(points: p.baseAddress!, stride: stride, count: count, values: &onlyValues, gradients: nil)
            }
            for i in 0..<count {
                let p = Array(points[(i * stride)..<((i + 1) * stride)])
                #expect(values[i] == loss.value(at: p) && onlyValues[i] == values[i], "\(loss.description), point \(i)")
                #expect(Array(gradients[(i * stride)..<((i + 1) * stride)]) == loss.gradient(at: p), "\(loss.description), point \(i)")
            }
        }
    }

    @Test("a loss with more variables than the grid has axes is refused")
    func tooFewAxes() throws {
        let grid = try Grid(domain: [(0, 1)], counts: [5])
        #expect(throws: RelaxError.self) { try Loss(expression: "x + y").sample(on: grid) }
    }

    /// Expression, expected 1-based column, and a fragment the message must contain.
    static let errorCases: [(String, Int, String)] = [
        ("sin(x", 6, "expected ')' to close '(' opened at column 4, found end of input"),
        ("(x + (y - 1)", 13, "expected ')' to close '(' opened at column 1"),
        ("sinn(x)", 1, "unknown function 'sinn'; expected one of sin, cos, tan, exp, log, sqrt, abs, tanh, min, max"),
        ("2*sinn(x)", 3, "did you mean 'sin'?"),
        ("w + 1", 1, "unknown name 'w'; expected x, y, z, pi or e"),
        ("x + pii", 5, "unknown name 'pii'"),
        ("max(x)", 1, "max takes 2 arguments, got 1"),
        ("1 + sin(x, y)", 5, "sin takes 1 argument, got 2"),
        ("", 1, "expected an expression, found end of input"),
        ("   ", 4, "expected an expression, found end of input"),
        ("x +", 4, "expected an expression, found end of input"),
        ("x^", 3, "expected an expression, found end of input"),
        ("2 x", 3, "unexpected 'x' after a complete expression; write '*' to multiply"),
        ("(x + 1))", 8, "unexpected ')' after a complete expression"),
        ("$x", 1, "expected a number or name, found '$'"),
        ("x * (3 + ]", 10, "expected a number or name, found ']'"),
        ("x $ 2", 3, "unexpected '$' after a complete expression"),
        ("x ** 2", 3, "'**' is not an operator; write '^' for powers"),
        ("sin x", 5, "expected '(' after function 'sin', found 'x'"),
        ("x(2)", 1, "'x' is not a function; write '*' to multiply"),
        ("1e999 * x", 1, "out of range"),
        ("min(x,)", 7, "expected a number or name, found ')'"),
    ]

    @Test("malformed expressions: the error names the column of the offending character and what was expected")
    func errors() {
        for (text, column, fragment) in Self.errorCases {
            do {
                _ = try Loss(expression: text)
                Issue.record("'\(text)' parsed")
            } catch let RelaxError.parse(message, errorColumn, expression) {
                #expect(errorColumn == column, "'\(text)': column \(errorColumn), expected \(column) (\(message))")
                #expect(message.contains(fragment), "'\(text)': \(message)")
                #expect(expression == text)
            } catch {
                Issue.record("'\(text)': unexpected error \(error)")
            }
        }
    }

    @Test("the error text shows the expression with a caret under the column")
    func caret() {
        do {
            _ = try Loss(expression: "x + sinn(y)")
        } catch {
            let lines = "\(error)".split(separator: "\n")
            #expect(lines.count == 3)
            #expect(lines[1] == "  x + sinn(y)")
            #expect(lines[2] == "      ^")
        }
    }

    @Test("domain errors are reported as non-finite values naming the grid node and the failing sub-expression")
    func domainErrors() throws {
        let grid = try Grid(domain: [(-1, 1)], counts: [5])
        let cases: [(String, [Int], String)] = [
            ("x^2 + log(x + 0.5)", [0], "'log(x + 0.5)' is nan (log of -0.5 needs a positive argument)"),
            ("1/(x - 0.5)", [3], "'1/(x - 0.5)' is inf (division by zero)"),
            ("sqrt(x)", [0], "'sqrt(x)' is nan (sqrt of -1.0 needs a non-negative argument)"),
            ("exp(1000*x)", [4], "exp(1000.0) overflows"),
            ("log(-1) + x", [0], "the constant sub-expression evaluates to nan"),
        ]
        for (text, index, fragment) in cases {
            do {
                _ = try Loss(expression: text).sample(on: grid)
                Issue.record("\(text) sampled without error")
            } catch let RelaxError.nonFinite(what, errorIndex, point, _) {
                #expect(errorIndex == index, "\(text): \(what)")
                #expect(point == grid.point(grid.flatIndex(index)))
                #expect(what.contains(fragment), "\(text): \(what)")
            }
        }
        // A finite value with an infinite derivative fails only when the gradient is asked for.
        let root = try Loss(expression: "sqrt(x + 1)")
        _ = try root.sample(on: grid)
        do {
            _ = try root.sampleWithGradient(on: grid)
            Issue.record("infinite derivative not reported")
        } catch let RelaxError.nonFinite(what, index, _, _) {
            #expect(index == [0])
            #expect(what.contains("gradient component x"))
            #expect(what.contains("sqrt has an infinite derivative at 0"), "\(what)")
        }
    }
}
