/// The errors the library throws. Every case carries a message a user can act on:
/// what was wrong and what would be right. The library never prints and never exits;
/// the CLI formats these for stderr.
public enum RelaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A parameter outside its admissible range, e.g. `beta <= 0`.
    case invalidParameter(name: String, value: String, expected: String)
    /// A grid or domain that cannot be built (empty or reversed interval, too few points).
    case invalidGrid(String)
    /// A loss expression that does not parse; `column` is 1-based.
    case parse(message: String, column: Int, expression: String)
    /// A NaN or infinity found in `what` at grid point `index` (coordinates `point`).
    case nonFinite(what: String, index: [Int], point: [Double], value: Double)
    /// A file that cannot be read or written.
    case io(path: String, message: String)
    /// A malformed data file (NPY header, CSV cell, ...).
    case format(path: String, message: String)
    /// A numerical failure reported by a library routine (LAPACK info, FFTW planning).
    case numerical(String)
    /// A combination of options the solver does not support, with what would work instead.
    case unsupported(String)

    public var description: String {
        switch self {
        case let .invalidParameter(name, value, expected):
            return "invalid \(name) = \(value): expected \(expected)"
        case let .invalidGrid(message):
            return "invalid grid: \(message)"
        case let .parse(message, column, expression):
            let caret = String(repeating: " ", count: max(0, column - 1)) + "^"
            return "cannot parse loss at column \(column): \(message)\n  \(expression)\n  \(caret)"
        case let .nonFinite(what, index, point, value):
            let idx = index.map(String.init).joined(separator: ", ")
            let pt = point.map { String($0) }.joined(separator: ", ")
            return "\(what) is \(value) at grid index [\(idx)] (point (\(pt))); "
                + "all values must be finite"
        case let .io(path, message):
            return "\(path): \(message)"
        case let .format(path, message):
            return "\(path): \(message)"
        case let .numerical(message):
            return "numerical failure: \(message)"
        case let .unsupported(message):
            return "unsupported: \(message)"
        }
    }
}

extension RelaxError {
    /// Throws `.invalidParameter(name:value:expected:)` unless `value` is finite and positive:
    /// the check every time, temperature, horizon and rate parameter passes.
    public static func requirePositiveFinite(_ value: Double, name: String, expected: String) throws {
        guard value > 0, value.isFinite else {
            throw RelaxError.invalidParameter(name: name, value: "\(value)", expected: expected)
        }
    }
}
