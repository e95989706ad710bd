import Foundation

extension Loss {
    /// A loss sampled on a uniform grid, read from `path`:
    ///
    /// - `.npy`: a 1-, 2- or 3-D array (float64; float32 and integers are converted),
    ///   `a[i, j] = f(x_i, y_j)`, on the grid with both ends of each interval of `domain` as
    ///   nodes. `domain` is required (one interval per axis).
    /// - `.csv` with two columns: a 1-D loss `x, f` (optional header line such as `x,f`),
    ///   `x` increasing and uniformly spaced; the domain is the first and last `x` (a
    ///   `domain` given must agree).
    /// - `.csv` with three or more columns: a 2-D grid of values, row `i` at `x_i`, column
    ///   `j` at `y_j` (what `np.savetxt(path, F, delimiter=",")` writes for `F[i, j]`);
    ///   `domain` is required (two intervals).
    ///
    /// In CSV files, lines starting with `#` and blank lines are skipped; cells are separated
    /// by commas, or by whitespace on lines without commas. Each axis needs at least 5
    /// samples. A malformed file throws `RelaxError.format` naming the line and column.
    /// See `SampledLoss` for how the loss is sampled on other grids and differentiated.
    public init(contentsOf path: String, domain: [(Double, Double)]? = nil) throws {
        let sampled: SampledLoss
        switch (path as NSString).pathExtension.lowercased() {
        case "npy":
            let (values, shape) = try NPY.read(path)
            guard let domain else {
                throw RelaxError.invalidParameter(
                    name: "domain", value: "none",
                    expected: "one interval A:B per axis of the \(shape.count)-D array in \(path): an .npy file has no coordinates")
            }
            sampled = try SampledLoss(path: path, values: values, shape: shape, domain: domain)
        case "csv":
            sampled = try Self.readCSV(path, domain: domain)
        default:
            throw RelaxError.unsupported("cannot read a loss from '\(path)': expected a .npy or .csv file")
        }
        self.init(description: path, dimension: sampled.dimension, storage: .sampled(sampled))
    }

    private static func readCSV(_ path: String, domain: [(Double, Double)]?) throws -> SampledLoss {
        let table = try CSVTable(contentsOf: path)
        func fail(_ message: String) -> RelaxError { .format(path: path, message: message) }
        switch table.columns {
        case 2:
            let x = table.rows.map { $0[0] }
            let f = table.rows.map { $0[1] }
            guard x.count >= SampledLoss.minimumNodes else {
                throw fail("\(x.count) rows; a 1-D sampled loss needs at least \(SampledLoss.minimumNodes)")
            }
            let h = (x[x.count - 1] - x[0]) / Double(x.count - 1)
            guard h > 0 else { throw fail("x must increase from the first row to the last") }
            for (i, xi) in x.enumerated() where abs(xi - (x[0] + Double(i) * h)) > 1e-6 * h {
                throw fail("line \(table.lines[i]), column 1: x = \(xi) breaks the uniform spacing h = \(h) "
                           + "(expected \(x[0] + Double(i) * h)); a sampled loss needs uniformly spaced x")
            }
            let fileDomain = (x[0], x[x.count - 1])
            if let domain {
                guard domain.count == 1, abs(domain[0].0 - fileDomain.0) <= 1e-9 * h,
                      abs(domain[0].1 - fileDomain.1) <= 1e-9 * h else {
                    throw RelaxError.invalidParameter(
                        name: "domain", value: domain.map { "\($0.0):\($0.1)" }.joined(separator: ","),
                        expected: "no domain, or the file's own \(fileDomain.0):\(fileDomain.1) (a 1-D CSV file gives its x)")
                }
            }
            return try SampledLoss(path: path, values: f, shape: [f.count], domain: [fileDomain])
        case let columns where columns >= 3:
            guard let domain else {
                throw RelaxError.invalidParameter(
                    name: "domain", value: "none",
                    expected: "two intervals A:B,C:D for the 2-D grid of values in \(path) (rows are x, columns are y)")
            }
            return try SampledLoss(path: path, values: table.rows.flatMap { $0 },
                                   shape: [table.rows.count, columns], domain: domain)
        default:
            throw fail("one column per line; expected two columns x,f (a 1-D loss) "
                       + "or at least three (a 2-D grid of values, rows x, columns y)")
        }
    }
}

/// A CSV file of numbers: an optional header line, then rows with the same number of cells.
struct CSVTable {
    var header: [String]?
    var rows: [[Double]] = []
    /// The 1-based file line of each row.
    var lines: [Int] = []
    var columns: Int { rows.first?.count ?? 0 }

    init(contentsOf path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RelaxError.io(path: path, message: FileManager.default.fileExists(atPath: path)
                                ? "cannot read as UTF-8 text" : "no such file")
        }
        try self.init(text: text, path: path)
    }

    init(text: String, path: String) throws {
        func fail(_ message: String) -> RelaxError { .format(path: path, message: message) }
        // "\r\n" is one Character, a newline like "\n".
        for (offset, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let cells = line.contains(",")
                ? line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                : line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            let numbers = cells.map { Double($0) }
            let lineNumber = offset + 1
            if rows.isEmpty, header == nil, numbers.allSatisfy({ $0 == nil }) {
                header = cells
                continue
            }
            if let column = numbers.firstIndex(where: { $0 == nil }) {
                throw fail("line \(lineNumber), column \(column + 1): '\(cells[column])' is not a number")
            }
            if let column = numbers.firstIndex(where: { !$0!.isFinite }) {
                throw fail("line \(lineNumber), column \(column + 1): \(cells[column]) is not finite; a loss must be finite")
            }
            if let first = rows.first, first.count != cells.count {
                throw fail("line \(lineNumber) has \(cells.count) columns but line \(lines[0]) has \(first.count)")
            }
            if let header, header.count != cells.count, rows.isEmpty {
                throw fail("line \(lineNumber) has \(cells.count) columns but the header has \(header.count)")
            }
            rows.append(numbers.map { $0! })
            lines.append(lineNumber)
        }
        guard !rows.isEmpty else { throw fail("no rows of numbers") }
    }
}
