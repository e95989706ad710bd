/// Writes equally long columns as a CSV table with a header line, e.g. `x,f,u` for 1-D
/// results, readable by `np.loadtxt(path, delimiter=",", skiprows=1)` and by
/// `Loss(contentsOf:)` (two columns `x,f`). Numbers use the shortest text that reads back
/// to the same Double; non-finite values are written `nan`, `inf`, `-inf`.
public enum CSVWriter {
    public static func text(_ columns: [(name: String, values: [Double])]) throws -> String {
        guard let rows = columns.first?.values.count, columns.allSatisfy({ $0.values.count == rows }) else {
            throw RelaxError.invalidParameter(name: "columns", value: "\(columns.map { $0.values.count })",
                                              expected: "at least one column, all of the same length")
        }
        guard columns.allSatisfy({ !$0.name.contains(",") && !$0.name.contains("\n") }) else {
            throw RelaxError.invalidParameter(name: "column names", value: columns.map(\.name).joined(separator: "|"),
                                              expected: "names without commas or newlines")
        }
        var text = columns.map(\.name).joined(separator: ",") + "\n"
        for i in 0..<rows {
            text += columns.map { format($0.values[i]) }.joined(separator: ",") + "\n"
        }
        return text
    }

    /// Writes the table to `path` atomically.
    public static func write(_ columns: [(name: String, values: [Double])], to path: String) throws {
        let text = try text(columns)
        try AtomicFile.write(Array(text.utf8), to: path)
    }

    static func format(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        return "\(v)"
    }
}
