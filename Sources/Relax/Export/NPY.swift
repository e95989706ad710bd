import Foundation

/// numpy's `.npy` format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
///
/// Writing: format version 1.0, dtype `<f8` (little-endian float64), C order, any shape;
/// the header is byte for byte what `np.save` writes (the dict with sorted keys, 21 - len(str(n0))
/// spare spaces for in-place growth, padding so the data starts at a multiple of 64 bytes,
/// a final newline). Files are written atomically (`AtomicFile`).
///
/// Reading: versions 1.0, 2.0 and 3.0; dtypes `<f8`, `<f4`, `<i8`, `<i4` (converted to
/// Double); C order only. Anything else throws `RelaxError.format` saying what was found and
/// what is supported.
public enum NPY {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    static let alignment = 64
    /// numpy's `GROWTH_AXIS_MAX_DIGITS`: room in the header to grow the first axis in place.
    static let growthDigits = 21

    // MARK: - Writing

    /// The complete header (magic, version, length, dict, padding) numpy writes for a
    /// C-ordered float64 array of `shape`.
    public static func header(shape: [Int]) -> [UInt8] {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var dict = "{'descr': '<f8', 'fortran_order': False, 'shape': \(shapeText), }"
        if let first = shape.first {
            dict += String(repeating: " ", count: max(0, growthDigits - String(first).count))
        }
        let length = dict.utf8.count + 1  // + the final newline
        let padding = alignment - ((magic.count + 2 + 2 + length) % alignment)
        let total = length + padding
        return magic + [1, 0, UInt8(total & 0xff), UInt8(total >> 8)]
            + Array(dict.utf8) + [UInt8](repeating: 0x20, count: padding) + [0x0a]
    }

    /// Writes `values` (C order) as a float64 array of `shape` to `path`, atomically.
    public static func write(_ values: [Double], shape: [Int], to path: String) throws {
        try checkShape(shape, count: values.count)
        let header = header(shape: shape)
        try AtomicFile.write(to: path) { writer in
            try writer.write(header)
            try writeLittleEndian(values, writer)
        }
    }

    /// Writes a field with the grid's shape: `(n)`, `(n, m)` or `(n, m, k)`, `u[i, j] = u(x_i, y_j)`.
    public static func write(_ field: Field, to path: String) throws {
        try write(field.values, shape: field.grid.shape, to: path)
    }

    /// Writes vector components on one grid interleaved with the component as the last axis:
    /// shape `(n, m, d)` for a 2-D grid, `(n, m, k, d)` in 3-D; a single component on a 1-D
    /// grid is written with shape `(n)`.
    public static func write(_ components: [Field], to path: String) throws {
        let (values, shape) = try interleave(components)
        try write(values, shape: shape, to: path)
    }

    /// The interleaved values and shape `write(_ components:to:)` writes.
    public static func interleave(_ components: [Field]) throws -> (values: [Double], shape: [Int]) {
        guard let grid = components.first?.grid, components.allSatisfy({ $0.grid == grid }) else {
            throw RelaxError.invalidParameter(name: "components", value: "\(components.count) fields",
                                              expected: "at least one field, all on the same grid")
        }
        if grid.dimension == 1, components.count == 1 { return (components[0].values, grid.shape) }
        let d = components.count
        var values = [Double](repeating: 0, count: grid.count * d)
        for (k, component) in components.enumerated() {
            for i in 0..<grid.count { values[i * d + k] = component.values[i] }
        }
        return (values, grid.shape + [d])
    }

    private static func checkShape(_ shape: [Int], count: Int) throws {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == count else {
            throw RelaxError.invalidParameter(name: "shape", value: "\(shape)",
                                              expected: "non-negative sizes whose product is the number of values (\(count))")
        }
    }

    private static func writeLittleEndian(_ values: [Double], _ writer: AtomicFile.Writer) throws {
        if 1.littleEndian == 1 {
            try values.withUnsafeBytes { try writer.write($0) }
        } else {
            let swapped = values.map { $0.bitPattern.littleEndian }
            try swapped.withUnsafeBytes { try writer.write($0) }
        }
    }

    // MARK: - Reading

    /// Reads an `.npy` file: the values in C order (converted to Double) and the shape.
    public static func read(_ path: String) throws -> (values: [Double], shape: [Int]) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RelaxError.io(path: path, message: "cannot read: \(FileManager.default.fileExists(atPath: path) ? "permission denied or not a regular file" : "no such file")")
        }
        return try data.withUnsafeBytes { try decode($0, path: path) }
    }

    /// Reads an `.npy` file whose shape must be the grid's shape.
    public static func readField(_ path: String, grid: Grid) throws -> Field {
        let (values, shape) = try read(path)
        guard shape == grid.shape else {
            throw RelaxError.format(path: path, message: "array shape \(shapeText(shape)) does not match the grid's shape \(shapeText(grid.shape))")
        }
        return Field(grid: grid, values: values)
    }

    /// One supported dtype: its size and how to read one little-endian value.
    private struct DType {
        let size: Int
        let load: (UnsafeRawBufferPointer, Int) -> Double

        static func named(_ descr: String) -> DType? {
            switch descr {
            case "<f8": return DType(size: 8) { Double(bitPattern: UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: UInt64.self))) }
            case "<f4": return DType(size: 4) { Double(Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: UInt32.self)))) }
            case "<i8": return DType(size: 8) { Double(Int64(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: Int64.self))) }
            case "<i4": return DType(size: 4) { Double(Int32(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: Int32.self))) }
            default: return nil
            }
        }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws -> (values: [Double], shape: [Int]) {
        func fail(_ message: String) -> RelaxError { .format(path: path, message: message) }
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw fail("not an .npy file: it does not start with the magic bytes \\x93NUMPY")
        }
        let (major, minor) = (bytes[6], bytes[7])
        let headerLength: Int
        let dataStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            dataStart = 10 + headerLength
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            dataStart = 12 + headerLength
        default:
            throw fail("unsupported .npy format version \(major).\(minor); supported are 1.0, 2.0 and 3.0")
        }
        guard dataStart <= bytes.count else {
            throw fail("truncated header: it announces \(headerLength) bytes but the file has \(bytes.count) in all")
        }
        let header = String(decoding: bytes[(dataStart - headerLength)..<dataStart], as: UTF8.self)
        let fields = try parseHeader(header, fail: fail)
        guard let dtype = DType.named(fields.descr) else {
            throw fail("unsupported dtype '\(fields.descr)'; supported are little-endian float64 '<f8' "
                       + "(and '<f4', '<i8', '<i4', converted to float64)")
        }
        guard !fields.fortranOrder else {
            throw fail("the array is stored in Fortran order (column-major); save a C-ordered array, "
                       + "e.g. np.save(path, np.ascontiguousarray(a))")
        }
        let count = fields.shape.reduce(1, *)
        let expected = count * dtype.size
        let available = bytes.count - dataStart
        guard available >= expected else {
            throw fail("truncated data: shape \(shapeText(fields.shape)) of '\(fields.descr)' needs \(expected) bytes "
                       + "but only \(available) follow the header")
        }
        guard available == expected else {
            throw fail("\(available - expected) unexpected bytes after the data of shape \(shapeText(fields.shape))")
        }
        let data = UnsafeRawBufferPointer(rebasing: bytes[dataStart...])
        let values = [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer[i] = dtype.load(data, i * dtype.size) }
            initialized = count
        }
        return (values, fields.shape)
    }

    /// The entries of the header dict, a Python literal such as
    /// `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`.
    static func parseHeader(_ header: String, fail: (String) -> RelaxError) throws -> (descr: String, fortranOrder: Bool, shape: [Int]) {
        func value(of key: String) throws -> Substring {
            guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else {
                throw fail("the header has no '\(key)' entry: \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            var rest = header[keyRange.upperBound...].drop { $0 == " " }
            guard rest.first == ":" else { throw fail("malformed header near '\(key)'") }
            rest = rest.dropFirst().drop { $0 == " " }
            return rest
        }
        let descrText = try value(of: "descr")
        guard let quote = descrText.first, quote == "'" || quote == "\"",
              let end = descrText.dropFirst().firstIndex(of: quote) else {
            throw fail("unsupported dtype description (structured arrays are not supported); expected '<f8'")
        }
        let descr = String(descrText[descrText.index(after: descrText.startIndex)..<end])
        let fortranText = try value(of: "fortran_order")
        let fortran: Bool
        if fortranText.hasPrefix("False") { fortran = false } else if fortranText.hasPrefix("True") { fortran = true } else {
            throw fail("malformed 'fortran_order' entry; expected True or False")
        }
        let shapeText = try value(of: "shape")
        guard shapeText.first == "(", let close = shapeText.firstIndex(of: ")") else {
            throw fail("malformed 'shape' entry; expected a tuple such as (3, 4)")
        }
        let items = shapeText[shapeText.index(after: shapeText.startIndex)..<close]
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for item in items {
            guard let n = Int(item.hasSuffix("L") ? String(item.dropLast()) : item), n >= 0 else {
                throw fail("malformed 'shape' entry '\(item)'; expected non-negative integers")
            }
            shape.append(n)
        }
        return (descr, fortran, shape)
    }

    static func shapeText(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }
}
