import Foundation
import Testing
@testable import Relax

/// The `.npy` writer and reader: exact round trips, numpy's header layout, clear errors,
/// and interoperability with numpy itself.
@Suite("NPY files")
struct NPYTests {
    /// Values that are exactly representable and computed the same way in numpy:
    /// `np.arange(n) * 0.5 - 1/3`.
    static func ramp(_ count: Int) -> [Double] { (0..<count).map { Double($0) * 0.5 - 1.0 / 3.0 } }

    @Test("round trip in 1-D, 2-D, 3-D and 4-D is exact, including -0, subnormals, extremes and NaN")
    func roundTrip() throws {
        let dir = try TemporaryDirectory()
        for shape in [[7], [3, 5], [2, 3, 4], [2, 3, 4, 3], [0]] {
            var values = Self.ramp(shape.reduce(1, *))
            if values.count > 4 {
                values[0] = -0.0
                values[1] = Double.leastNonzeroMagnitude
                values[2] = -Double.greatestFiniteMagnitude
                values[3] = .nan
            }
            let path = dir.file("a.npy")
            try NPY.write(values, shape: shape, to: path)
            let (read, readShape) = try NPY.read(path)
            #expect(readShape == shape)
            #expect(read.map(\.bitPattern) == values.map(\.bitPattern))
        }
    }

    @Test("the header is numpy's: sorted dict, growth spaces, 64-byte alignment, final newline")
    func headerLayout() {
        // Exactly what numpy 1.x/2.x's np.save writes for float64 arrays of these shapes.
        let expected: [[Int]: String] = [
            [3]: "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
            [2, 3]: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
            [2, 3, 4]: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 4), }",
            [1000, 20]: "{'descr': '<f8', 'fortran_order': False, 'shape': (1000, 20), }",
            []: "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
        ]
        for (shape, dict) in expected {
            let header = NPY.header(shape: shape)
            #expect(header.count % 64 == 0)
            #expect(Array(header[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
            #expect(Int(header[8]) | Int(header[9]) << 8 == header.count - 10)
            #expect(header.last == 0x0a)
            let text = String(decoding: header[10...], as: UTF8.self)
            #expect(text.hasPrefix(dict))
            // numpy leaves 21 - len(str(shape[0])) spaces of room to grow the first axis,
            // then pads to the alignment; the padding is at least one space.
            let spaces = text.dropFirst(dict.count).dropLast()
            #expect(spaces.allSatisfy { $0 == " " })
            let growth = shape.first.map { 21 - String($0).count } ?? 0
            #expect(spaces.count >= growth + 1 && spaces.count <= growth + 64)
        }
        // Header lengths numpy writes (np.lib.format.write_array_header_1_0): the growth
        // spaces push headers of huge shapes past 128 bytes.
        let p12 = 1_000_000_000_000, p13 = 10_000_000_000_000, p15 = 1_000_000_000_000_000
        for (shape, length) in [([3], 128), ([5, p12, p12, 3], 128), ([7, p13, p13, p13], 192), ([1, p15, p15, p15], 192)] {
            #expect(NPY.header(shape: shape).count == length, "\(shape)")
        }
    }

    /// An `.npy` file with a hand-written header and raw data bytes.
    static func handMade(_ dict: String, data: [UInt8], major: UInt8 = 1) -> [UInt8] {
        let headerText = Array(dict.utf8) + [0x0a]
        if major == 1 {
            let n = headerText.count
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xff), UInt8(n >> 8)] + headerText + data
        }
        let n = headerText.count
        return [0x93] + Array("NUMPY".utf8) + [major, 0, UInt8(n & 0xff), UInt8(n >> 8), 0, 0] + headerText + data
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    }

    @Test("float32 and integer arrays are converted; versions 2.0 and 3.0 are read")
    func conversionsAndVersions() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("h.npy")
        let f4 = Self.littleEndianBytes([Float(1.5), Float(-2.25), Float(1e-3)].map(\.bitPattern))
        try AtomicFile.write(Self.handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", data: f4), to: path)
        #expect(try NPY.read(path).values == [1.5, -2.25, Double(Float(1e-3))])
        let i8 = Self.littleEndianBytes([Int64(-7), 42, 1 << 40, 0])
        try AtomicFile.write(Self.handMade("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }", data: i8), to: path)
        #expect(try NPY.read(path).values == [-7, 42, Double(1 << 40), 0])
        #expect(try NPY.read(path).shape == [2, 2])
        let f8 = Self.littleEndianBytes([2.5, -1.0].map(\.bitPattern))
        for major: UInt8 in [2, 3] {
            try AtomicFile.write(Self.handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", data: f8, major: major), to: path)
            #expect(try NPY.read(path).values == [2.5, -1.0])
        }
    }

    @Test("malformed files are refused with what was found and what is supported")
    func readerErrors() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("bad.npy")
        let f8 = Self.littleEndianBytes([1.0, 2.0, 3.0].map(\.bitPattern))
        let cases: [([UInt8], String)] = [
            (Array("PK\u{3}\u{4} not numpy at all".utf8), "magic"),
            (Self.handMade("{'descr': '<f8', 'fortran_order': True, 'shape': (3,), }", data: f8), "Fortran order"),
            (Self.handMade("{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }", data: f8), "unsupported dtype '>f8'"),
            (Self.handMade("{'descr': '<c16', 'fortran_order': False, 'shape': (3,), }", data: f8), "supported are little-endian float64"),
            (Self.handMade("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,), }", data: f8), "structured"),
            (Self.handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", data: f8), "truncated data"),
            (Self.handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", data: f8), "unexpected bytes"),
            (Self.handMade("{'descr': '<f8', 'shape': (3,), }", data: f8), "no 'fortran_order' entry"),
            (Self.handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", data: f8, major: 4), "version 4.0"),
            (Array(Self.handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", data: []).prefix(30)), "truncated header"),
        ]
        for (bytes, fragment) in cases {
            try AtomicFile.write(bytes, to: path)
            do {
                _ = try NPY.read(path)
                Issue.record("accepted a file that should fail with '\(fragment)'")
            } catch let RelaxError.format(errorPath, message) {
                #expect(errorPath == path)
                #expect(message.contains(fragment), "\(message)")
            }
        }
        #expect(throws: RelaxError.io(path: dir.file("missing.npy"), message: "cannot read: no such file")) {
            try NPY.read(dir.file("missing.npy"))
        }
    }

    @Test("fields keep the grid's shape; components are interleaved with the component last")
    func fieldsAndComponents() throws {
        let dir = try TemporaryDirectory()
        let grid = try Grid(domain: [(0, 1), (0, 2)], counts: [3, 4])
        let gx = Field(grid: grid) { $0[0] }
        let gy = Field(grid: grid) { $0[1] }
        try NPY.write([gx, gy], to: dir.file("grad.npy"))
        let (values, shape) = try NPY.read(dir.file("grad.npy"))
        #expect(shape == [3, 4, 2])
        // grad[i, j, k] at flat (i * 4 + j) * 2 + k.
        #expect(values[(2 * 4 + 3) * 2 + 0] == gx[2, 3] && values[(2 * 4 + 3) * 2 + 1] == gy[2, 3])
        try NPY.write(gx, to: dir.file("u.npy"))
        #expect(try NPY.readField(dir.file("u.npy"), grid: grid).values == gx.values)
        let line = try Grid(domain: [(0, 1)], counts: [5])
        try NPY.write([Field(grid: line) { $0[0] }], to: dir.file("g1.npy"))
        #expect(try NPY.read(dir.file("g1.npy")).shape == [5])
        #expect(throws: RelaxError.self) { try NPY.readField(dir.file("u.npy"), grid: line) }
        #expect(throws: RelaxError.self) { try NPY.write([1, 2, 3], shape: [2, 2], to: dir.file("x.npy")) }
    }

    // MARK: - numpy interoperability

    @Test("numpy loads what Relax writes, byte for byte what np.save writes",
          .enabled(if: PythonWithNumPy.available, "no python with numpy (set RELAX_PYTHON or install python3-numpy)"))
    func numpyReadsRelax() throws {
        let dir = try TemporaryDirectory()
        let shapes = [[7], [3, 5], [2, 3, 4], [4, 3, 2, 3], [1000, 3]]
        for (i, shape) in shapes.enumerated() {
            try NPY.write(Self.ramp(shape.reduce(1, *)), shape: shape, to: dir.file("a\(i).npy"))
        }
        // Headers alone for shapes whose growth spaces cross a 64-byte boundary.
        let odd = [[7, 10_000_000_000_000, 10_000_000_000_000, 10_000_000_000_000], [1, 2, 3, 4, 5, 6],
                   [1, 10_000_000_000_000_000, 10_000_000_000_000_000, 3], []]
        for (i, shape) in odd.enumerated() { try AtomicFile.write(NPY.header(shape: shape), to: dir.file("h\(i).bin")) }
        let output = try PythonWithNumPy.script("""
            import io, numpy as np
            odd = [\(odd.map { "(" + $0.map(String.init).joined(separator: ", ") + ($0.isEmpty ? ")" : ",)") }.joined(separator: ", "))]
            shapes = [\(shapes.map { "(" + $0.map(String.init).joined(separator: ", ") + ",)" }.joined(separator: ", "))]
            for i, shape in enumerate(shapes):
                path = '\(dir.path)/a%d.npy' % i
                a = np.load(path)
                expected = (np.arange(np.prod(shape)) * 0.5 - 1.0 / 3.0).reshape(shape)
                assert a.dtype == np.float64, a.dtype
                assert a.shape == shape, (a.shape, shape)
                assert a.flags['C_CONTIGUOUS']
                assert np.array_equal(a, expected), path
                buffer = io.BytesIO()
                np.save(buffer, expected)
                assert buffer.getvalue() == open(path, 'rb').read(), 'bytes differ from np.save for %s' % (shape,)
            for i, shape in enumerate(odd):
                buffer = io.BytesIO()
                np.lib.format.write_array_header_1_0(buffer, {'descr': '<f8', 'fortran_order': False, 'shape': shape})
                assert buffer.getvalue() == open('\(dir.path)/h%d.bin' % i, 'rb').read(), 'header differs for %s' % (shape,)
            print('ok', len(shapes), len(odd))
            """)
        #expect(output.contains("ok 5 4"), "\(output)")
    }

    @Test("Relax reads what numpy writes (float64/float32/int64, versions 1.0 and 2.0) and refuses Fortran order",
          .enabled(if: PythonWithNumPy.available, "no python with numpy (set RELAX_PYTHON or install python3-numpy)"))
    func relaxReadsNumpy() throws {
        let dir = try TemporaryDirectory()
        _ = try PythonWithNumPy.script("""
            import numpy as np
            from numpy.lib import format as fmt
            d = '\(dir.path)/'
            ramp = lambda shape: (np.arange(np.prod(shape)) * 0.5 - 1.0 / 3.0).reshape(shape)
            np.save(d + 'c1.npy', ramp((7,)))
            np.save(d + 'c2.npy', ramp((3, 5)))
            np.save(d + 'c3.npy', ramp((2, 3, 4)))
            np.save(d + 'f4.npy', ramp((3, 5)).astype(np.float32))
            np.save(d + 'i8.npy', np.arange(12, dtype=np.int64).reshape(3, 4) - 5)
            np.save(d + 'fortran.npy', np.asfortranarray(ramp((3, 5))))
            np.save(d + 'big.npy', ramp((3,)).astype('>f8'))
            with open(d + 'v2.npy', 'wb') as f:
                fmt.write_array(f, ramp((2, 3)), version=(2, 0))
            """)
        for (name, shape) in [("c1", [7]), ("c2", [3, 5]), ("c3", [2, 3, 4])] {
            let (values, readShape) = try NPY.read(dir.file("\(name).npy"))
            #expect(readShape == shape)
            #expect(values == Self.ramp(shape.reduce(1, *)))
        }
        #expect(try NPY.read(dir.file("f4.npy")).values == Self.ramp(15).map { Double(Float($0)) })
        #expect(try NPY.read(dir.file("i8.npy")).values == (0..<12).map { Double($0 - 5) })
        #expect(try NPY.read(dir.file("v2.npy")).values == Self.ramp(6))
        for (name, fragment) in [("fortran", "Fortran order"), ("big", "'>f8'")] {
            do {
                _ = try NPY.read(dir.file("\(name).npy"))
                Issue.record("\(name).npy accepted")
            } catch let RelaxError.format(_, message) {
                #expect(message.contains(fragment), "\(message)")
            }
        }
    }
}
