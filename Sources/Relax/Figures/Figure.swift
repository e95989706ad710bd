/// The data behind one figure: named arrays, the parameters that made them, the panels
/// that show them, and the claims the figure makes, each checked on the arrays.
///
/// `relax figure NAME --out DIR` writes every array as `DIR/<name>.npy` and the rest as
/// `DIR/run.json`; a notebook renders it. Figures sit above Export in the layering (they
/// record parameters as `JSONValue`) and below the CLI.
public struct FigureData: Sendable {
    public var name: String
    /// One line on what the figure shows.
    public var title: String
    public var arrays: [FigureArray] = []
    /// Every parameter a reader needs to reproduce the figure.
    public var parameters: [String: JSONValue] = [:]
    /// Panel title -> the arrays it draws.
    public var panels: [FigurePanel] = []
    public var claims: [FigureClaim] = []
    /// What each solver did.
    public var reports: [SolverReport] = []
    public var notes: [String] = []

    public init(name: String, title: String) {
        self.name = name
        self.title = title
    }

    /// Adds an array with an explicit shape (C order).
    public mutating func add(_ name: String, _ values: [Double], shape: [Int], _ description: String) {
        precondition(values.count == shape.reduce(1, *), "array \(name): \(values.count) values for shape \(shape)")
        arrays.append(FigureArray(name: name, values: values, shape: shape, description: description))
    }

    /// Adds a field with its grid's shape.
    public mutating func add(_ name: String, _ field: Field, _ description: String) {
        add(name, field.values, shape: field.grid.shape, description)
    }

    /// Adds a 1-D array.
    public mutating func add(_ name: String, _ values: [Double], _ description: String) {
        add(name, values, shape: [values.count], description)
    }

    /// The array called `name` (for tests and claims).
    public func array(_ name: String) -> FigureArray? { arrays.first { $0.name == name } }

    /// Records a claim and whether it holds on the figure's own data.
    public mutating func claim(_ id: String, _ statement: String, holds: Bool, _ measured: [String: Double] = [:]) {
        claims.append(FigureClaim(id: id, statement: statement, holds: holds, measured: measured))
    }

    public var allClaimsHold: Bool { claims.allSatisfy(\.holds) }
}

public struct FigureArray: Sendable {
    public var name: String
    public var values: [Double]
    public var shape: [Int]
    public var description: String
}

public struct FigurePanel: Sendable, Codable, Equatable {
    public var title: String
    public var arrays: [String]
    public init(_ title: String, arrays: [String]) {
        self.title = title
        self.arrays = arrays
    }
}

/// A statement the figure makes (from the paper's caption or a lemma), whether it holds on
/// the figure's data, and the numbers that decide it.
public struct FigureClaim: Sendable, Codable, Equatable {
    public var id: String
    public var statement: String
    public var holds: Bool
    public var measured: [String: Double]
}

/// The figures `relax figure` can make.
public enum Figures {
    public struct Entry: Sendable {
        public let name: String
        public let summary: String
        public let make: @Sendable (ProgressHandler?) throws -> FigureData
    }

    /// Registered figures, in gallery order. Each figure file adds its entry here.
    public static let all: [Entry] = [
        Smoothing2DFigure.entry,
        ColeHopfFigure.entry,
        ConvergenceFigure.entry,
        OUCurrentsFigure.entry,
    ]

    public static func entry(named name: String) throws -> Entry {
        guard let e = all.first(where: { $0.name == name }) else {
            throw RelaxError.invalidParameter(name: "figure", value: name,
                                              expected: "one of " + all.map(\.name).joined(separator: ", "))
        }
        return e
    }
}
