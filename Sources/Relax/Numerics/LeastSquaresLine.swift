/// The least-squares line `y = slope x + intercept` through the points `(x_i, y_i)`:
/// `slope = sum (x_i - mean x)(y_i - mean y) / sum (x_i - mean x)^2`, from centred sums (no
/// cancellation between large moments). The slope is NaN or infinite when all `x_i` are equal.
/// Serves the fitted convergence orders, the Cole–Hopf figure's slopes and exponential fits.
enum LeastSquaresLine {
    static func fit(_ x: [Double], _ y: [Double]) -> (slope: Double, intercept: Double) {
        precondition(x.count == y.count && !x.isEmpty, "one y per x, at least one point")
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        let sxy = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let sxx = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        let slope = sxy / sxx
        return (slope, my - slope * mx)
    }
}
