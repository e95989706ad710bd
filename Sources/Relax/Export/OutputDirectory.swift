import Foundation

/// The output directory of one run, written all at once or not at all.
///
/// `init` checks the destination before any work is done and throws `RelaxError.io` if it
/// cannot be written (a path under a regular file, a read-only or virtual file system such
/// as `/proc`, missing permissions). It then creates a hidden staging directory
/// `.NAME.relax-staging-PID-RANDOM` beside the destination (in the destination's nearest
/// existing ancestor, so nothing is created at the destination itself). Files are written
/// into the staging directory (each atomically), and `commit()` moves them into place:
/// a destination that does not exist yet appears in one `rename`, complete; in an existing
/// directory the files are renamed in one by one (each replacement is atomic). If the run
/// fails before `commit()`, `discard()` (or deinitialization) removes the staging directory
/// and the destination is untouched. A process killed before `commit()` can leave only the
/// hidden staging directory behind, never a partial destination.
public final class OutputDirectory {
    /// The destination directory.
    public let path: String
    /// The directory files are staged in until `commit()`.
    public let stagingPath: String
    /// What has been written so far, in order.
    public private(set) var files: [OutputFile] = []
    private var state: State = .open

    private enum State { case open, committed, discarded }

    /// Validates `path` as a destination and prepares the staging directory.
    public init(_ path: String) throws {
        let destination = Self.normalize(path)
        self.path = destination
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: destination, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw RelaxError.io(path: path, message: "exists and is not a directory; choose a directory for --out")
        }
        // The staging directory lives beside the destination, on the same file system.
        let ancestor = try Self.nearestExistingAncestor(of: destination, original: path)
        let exists = fm.fileExists(atPath: destination)
        // An existing destination in a read-only parent can still stage inside itself.
        let candidates = exists ? [(destination as NSString).deletingLastPathComponent, destination] : [ancestor]
        let name = (destination as NSString).lastPathComponent
        var failure = ""
        for parent in candidates {
            let staging = (parent as NSString).appendingPathComponent(
                ".\(name).relax-staging-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            if mkdir(staging, 0o755) == 0 {
                stagingPath = staging
                return
            }
            failure = "cannot write in '\(parent)' (\(AtomicFile.systemError()))"
        }
        throw RelaxError.io(path: path, message: failure + "; choose a writable location for --out")
    }

    deinit {
        if state == .open { removeStaging() }
    }

    /// An absolute path without `.`/`..` components or a trailing slash.
    private static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: absolute).standardizedFileURL.path
    }

    /// The deepest existing directory on the way to `path`; throws if a component on the
    /// way exists but is not a directory.
    private static func nearestExistingAncestor(of path: String, original: String) throws -> String {
        var candidate = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) {
            candidate = (candidate as NSString).deletingLastPathComponent
        }
        guard isDirectory.boolValue else {
            throw RelaxError.io(path: original, message: "'\(candidate)' is a file, not a directory, so nothing can be created under it; "
                                + "choose another --out")
        }
        return candidate
    }

    private func checkOpen() throws {
        guard state == .open else {
            throw RelaxError.io(path: path, message: "the output directory was already \(state == .committed ? "committed" : "discarded")")
        }
    }

    private func stagedPath(_ name: String) throws -> String {
        try checkOpen()
        guard !name.isEmpty, !name.contains("/"), name != ".", name != "..", !name.hasPrefix(".") else {
            throw RelaxError.invalidParameter(name: "file name", value: name,
                                              expected: "a plain file name such as u.npy (no '/', not starting with '.')")
        }
        return (stagingPath as NSString).appendingPathComponent(name)
    }

    private func record(_ file: OutputFile) {
        files.removeAll { $0.name == file.name }
        files.append(file)
    }

    // MARK: - Writing

    /// Writes a float64 `.npy` array of `shape`.
    public func writeNPY(_ values: [Double], shape: [Int], name: String, description: String? = nil) throws {
        try NPY.write(values, shape: shape, to: try stagedPath(name))
        record(OutputFile(name: name, shape: shape, dtype: "float64", description: description))
    }

    /// Writes a field with the grid's shape.
    public func writeNPY(_ field: Field, name: String, description: String? = nil) throws {
        try writeNPY(field.values, shape: field.grid.shape, name: name, description: description)
    }

    /// Writes vector components with the component as the last axis (see `NPY.write(_:to:)`).
    public func writeNPY(_ components: [Field], name: String, description: String? = nil) throws {
        let (values, shape) = try NPY.interleave(components)
        try writeNPY(values, shape: shape, name: name, description: description)
    }

    /// Writes the node coordinates of each axis: `x.npy`, `y.npy`, `z.npy`.
    public func writeCoordinates(_ grid: Grid) throws {
        for (k, axis) in grid.axes.enumerated() {
            try writeNPY(axis.coordinates, shape: [axis.count], name: "\(Grid.axisNames[k]).npy",
                         description: "coordinates of the \(Grid.axisNames[k]) axis")
        }
    }

    /// Writes 1-D columns as CSV (see `CSVWriter`).
    public func writeCSV(_ columns: [(name: String, values: [Double])], name: String, description: String? = nil) throws {
        try CSVWriter.write(columns, to: try stagedPath(name))
        record(OutputFile(name: name, shape: [columns.first?.values.count ?? 0, columns.count], dtype: "csv", description: description))
    }

    /// Writes raw bytes (a text or JSON file).
    public func write(_ bytes: [UInt8], name: String, description: String? = nil) throws {
        try AtomicFile.write(bytes, to: try stagedPath(name))
        record(OutputFile(name: name, shape: nil, dtype: nil, description: description))
    }

    /// Fills the manifest's list of files (this one included), writes it as `run.json`
    /// and commits.
    public func commit(manifest: RunManifest, name: String = "run.json") throws {
        var manifest = manifest
        manifest.files = files.filter { $0.name != name }
        try write(try manifest.encoded(), name: name, description: "this manifest")
        try commit()
    }

    /// Moves the staged files to the destination (creating it and its parents if needed).
    public func commit() throws {
        try checkOpen()
        let fm = FileManager.default
        do {
            if !fm.fileExists(atPath: path) {
                try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                if rename(stagingPath, path) == 0 {
                    state = .committed
                    return
                }
                // Someone created the destination meanwhile: fall through to per-file moves.
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
            }
        } catch let error as RelaxError {
            throw error
        } catch {
            throw RelaxError.io(path: path, message: "cannot create the output directory: \(error.localizedDescription)")
        }
        for file in files {
            let source = (stagingPath as NSString).appendingPathComponent(file.name)
            let target = (path as NSString).appendingPathComponent(file.name)
            guard rename(source, target) == 0 else {
                throw RelaxError.io(path: target, message: "cannot move the finished file into place: \(AtomicFile.systemError())")
            }
        }
        state = .committed
        removeStaging()
    }

    /// Abandons the run: removes the staging directory; the destination is untouched.
    public func discard() {
        guard state == .open else { return }
        state = .discarded
        removeStaging()
    }

    private func removeStaging() {
        try? FileManager.default.removeItem(atPath: stagingPath)
    }
}

/// One file of a run's output, as `run.json` lists it.
public struct OutputFile: Codable, Sendable, Equatable {
    public var name: String
    /// The array shape for `.npy` files (rows and columns for CSV), nil for other files.
    public var shape: [Int]?
    /// `float64` for `.npy` files, `csv` for CSV tables.
    public var dtype: String?
    public var description: String?

    public init(name: String, shape: [Int]?, dtype: String?, description: String? = nil) {
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.description = description
    }
}
