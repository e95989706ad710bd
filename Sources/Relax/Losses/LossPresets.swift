/// A named loss: an expression (so `run.json` can record the exact text), a one-line
/// summary, and the window it is meant to be looked at on.
public struct LossPreset: Sendable, Hashable {
    public let name: String
    /// The expression in the loss language; `Loss(preset: name)` is `Loss(expression: expression)`.
    public let expression: String
    /// What the landscape is and the window it is meant for.
    public let summary: String
    /// The intended window, one interval per variable (`--domain`).
    public let window: [ClosedRange<Double>]
}

extension Loss {
    /// The named losses, by name. Dimension is part of the name when a landscape exists in
    /// several dimensions (`quadratic`, `quadratic-2d`, `quadratic-3d`).
    ///
    /// `rugged-1d` is built for Fig. 1 of the paper: on [-3, 3] it has a wide global minimum
    /// near x = 1.1 (curvature about 3.4), a narrow minimum at x = -1.0 whose value is only
    /// 6% of `osc f` above the global one (curvature about 70), and four further narrow
    /// ripple minima (curvature 5-8) higher up the confining slope. The wide well masks
    /// the ripples, so local entropy (viscous HJ) favours it, while Hopf–Lax keeps the narrow
    /// deep minimum for moderate times. With `t = 1.5, beta = 2` on [-3, 3], for example,
    /// the viscous-HJ solution is convex with its minimizer (x ~ 0.8) in the global basin,
    /// while the Hopf–Lax solution still has the narrow minimum at -1.0 with its value.
    public static let presets: [String: LossPreset] = Dictionary(
        uniqueKeysWithValues: presetList.map { ($0.name, $0) })

    /// The presets in the order `relax --help` and the README list them.
    public static let presetList: [LossPreset] = [
        LossPreset(name: "quadratic", expression: "x^2/2",
                   summary: "convex quadratic f = x^2/2 (Example 13 with c = 1); window [-2, 2]",
                   window: [-2...2]),
        LossPreset(name: "quadratic-2d", expression: "(x^2 + y^2)/2",
                   summary: "convex quadratic |x|^2/2 in 2-D (Example 13 with c = 1); window [-2, 2]^2",
                   window: [-2...2, -2...2]),
        LossPreset(name: "quadratic-3d", expression: "(x^2 + y^2 + z^2)/2",
                   summary: "convex quadratic |x|^2/2 in 3-D (Example 13 with c = 1); window [-2, 2]^3",
                   window: [-2...2, -2...2, -2...2]),
        LossPreset(name: "double-well", expression: "(x^2 - 1)^2/4",
                   summary: "symmetric double well, minima at x = -1 and 1, barrier 1/4 at 0 (Kramers); window [-2, 2]",
                   window: [-2...2]),
        LossPreset(name: "double-well-2d", expression: "(x^2 - 1)^2/4 + y^2/2",
                   summary: "double well in x, harmonic in y; saddle at the origin; window [-2, 2]^2",
                   window: [-2...2, -2...2]),
        LossPreset(name: "cosine", expression: "1 - cos(x)",
                   summary: "one period of 1 - cos x, periodic on its window [-pi, pi] (Example 14's first mode)",
                   window: [-Double.pi...Double.pi]),
        LossPreset(name: "rugged-1d",
                   expression: "0.12*x^2 - 0.6*exp(-2*(x - 1.2)^2) - 0.6*exp(-80*(x + 1)^2)"
                       + " + 0.15*sin(5*x)^2*(1 - exp(-2*(x - 1.2)^2))",
                   summary: "Fig. 1 landscape: wide global minimum near x = 1.1, a narrow near-optimal minimum at -1, "
                       + "four narrow ripple minima; osc 1.6 on the window [-3, 3]",
                   window: [-3...3]),
        LossPreset(name: "rugged-2d",
                   expression: "0.1*(x^2 + y^2) - 0.8*exp(-(x - 1)^2 - (y - 0.5)^2)"
                       + " + 0.15*(2 - cos(5*x) - cos(5*y))*(1 - exp(-(x - 1)^2 - (y - 0.5)^2))",
                   summary: "about 20 narrow local minima on a broad basin, wide global minimum near (0.93, 0.46); "
                       + "osc 3 on the window [-3, 3]^2",
                   window: [-3...3, -3...3]),
    ]

    /// The loss of a named preset. Throws `RelaxError.invalidParameter` listing the known
    /// presets for an unknown name.
    public init(preset name: String) throws {
        guard let preset = Self.presets[name] else {
            var expected = "one of " + Self.presetList.map(\.name).joined(separator: ", ")
            if let guess = ExpressionParser.closest(to: name, among: Self.presetList.map(\.name)) {
                expected += " (did you mean '\(guess)'?)"
            }
            throw RelaxError.invalidParameter(name: "preset", value: name, expected: expected)
        }
        let parsed = try LossExpression(parsing: preset.expression)
        self.init(description: name, dimension: parsed.dimension, storage: .expression(ExpressionProgram(parsed)))
    }
}
