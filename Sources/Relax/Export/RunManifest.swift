import Foundation

/// The toolkit's name and version, as manifests record them.
///
/// (Not `Relax.version`: a type named like its module would shadow the module name and
/// break module-qualified names such as `Relax.Grid` for users.)
public enum Toolkit {
    public static let name = "Relax"
    public static let version = "0.1.0"
}

/// A JSON value, for inputs and results whose set of keys grows with each equation without
/// changing the manifest's type.
public enum JSONValue: Sendable, Equatable, Codable, CustomStringConvertible,
                       ExpressibleByStringLiteral, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral,
                       ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral,
                       ExpressibleByNilLiteral {
    case string(String)
    /// A number; non-finite values are written as the strings "nan", "inf", "-inf".
    case number(Double)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])
    case null

    public init(stringLiteral value: String) { self = .string(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }

    /// Numbers, e.g. a list of node counts or a domain.
    public init(_ numbers: [Double]) { self = .array(numbers.map(JSONValue.number)) }
    public init(_ numbers: [Int]) { self = .array(numbers.map { .number(Double($0)) }) }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? container.decode(Double.self) {
            self = .number(n)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .string(s): try container.encode(s)
        case let .number(n): try container.encode(n)
        case let .bool(b): try container.encode(b)
        case let .array(a): try container.encode(a)
        case let .object(o): try container.encode(o)
        case .null: try container.encodeNil()
        }
    }

    public var description: String {
        switch self {
        case let .string(s): return s
        case let .number(n): return n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(n)
        case let .bool(b): return String(b)
        case let .array(a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case let .object(o): return "{" + o.keys.sorted().map { "\($0): \(o[$0]!)" }.joined(separator: ", ") + "}"
        case .null: return "null"
        }
    }
}

/// The `run.json` manifest of a run: what was asked, what the solvers did, what was written.
///
/// Written as pretty-printed JSON with sorted keys. Non-finite numbers anywhere (inputs,
/// solver diagnostics, results) are written as the strings `"nan"`, `"inf"` and `"-inf"`
/// (JSON has no such numbers) and read back as numbers by `RunManifest.decode`.
public struct RunManifest: Codable, Sendable, Equatable {
    public var toolkit: String
    public var version: String
    /// The subcommand, e.g. `smooth`.
    public var command: String
    /// The full command line, program name first.
    public var arguments: [String]
    /// Every input of the run, including defaults the user did not type.
    public var inputs: [String: JSONValue]
    /// What each solver did (one per equation solved).
    public var reports: [SolverReport]
    /// Scalar or structured results (checked claims, fitted slopes, ...).
    public var results: [String: JSONValue]
    /// The files of the run, filled by `OutputDirectory.commit(manifest:)`.
    public var files: [OutputFile]
    /// Creation time, ISO 8601 in UTC.
    public var created: String
    public var notes: [String]
    public var warnings: [String]

    public init(command: String, arguments: [String] = [], inputs: [String: JSONValue] = [:],
                reports: [SolverReport] = [], results: [String: JSONValue] = [:],
                notes: [String] = [], warnings: [String] = [], created: Date = Date()) {
        self.toolkit = Toolkit.name
        self.version = Toolkit.version
        self.command = command
        self.arguments = arguments
        self.inputs = inputs
        self.reports = reports
        self.results = results
        self.files = []
        self.created = Self.timestamp(created)
        self.notes = notes
        self.warnings = warnings
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    static let nonFinite = (positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")

    /// The manifest as UTF-8 JSON (pretty, sorted keys, non-finite numbers as strings).
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: Self.nonFinite.positiveInfinity, negativeInfinity: Self.nonFinite.negativeInfinity,
            nan: Self.nonFinite.nan)
        do {
            return Array(try encoder.encode(self)) + [0x0a]
        } catch {
            throw RelaxError.numerical("cannot encode the run manifest as JSON: \(error)")
        }
    }

    /// Reads a manifest written by `encoded()`.
    public static func decode(_ bytes: [UInt8], path: String = "run.json") throws -> RunManifest {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: nonFinite.positiveInfinity, negativeInfinity: nonFinite.negativeInfinity, nan: nonFinite.nan)
        do {
            return try decoder.decode(RunManifest.self, from: Data(bytes))
        } catch {
            throw RelaxError.format(path: path, message: "not a Relax run manifest: \(error)")
        }
    }
}
