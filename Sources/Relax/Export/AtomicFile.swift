import Foundation

/// Writes files atomically: the bytes go to a temporary file in the destination's directory,
/// are flushed to disk (`fsync`), and the temporary file is renamed over the destination
/// (POSIX `rename` is atomic within a file system). A reader therefore sees either the old
/// file or the complete new one, never a half-written file, even if the process is killed.
public enum AtomicFile {
    /// Sequential writes to an open file descriptor.
    public struct Writer {
        let descriptor: Int32
        let path: String

        /// Writes all of `bytes`, retrying short writes and interrupted calls.
        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw RelaxError.io(path: path, message: "write failed: \(AtomicFile.systemError())")
                }
                offset += written
            }
        }

        public func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try write($0) }
        }

        public func write(_ text: String) throws {
            try write(Array(text.utf8))
        }
    }

    /// Creates `path` atomically with the bytes `body` writes. On any error the temporary
    /// file is removed and the destination is left as it was.
    public static func write(to path: String, _ body: (Writer) throws -> Void) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw RelaxError.io(path: path, message: "cannot create a file in '\(directory.isEmpty ? "." : directory)': \(systemError())")
        }
        var closed = false
        do {
            try body(Writer(descriptor: descriptor, path: path))
            guard fsync(descriptor) == 0 else {
                throw RelaxError.io(path: path, message: "cannot flush to disk: \(systemError())")
            }
            closed = true
            guard close(descriptor) == 0 else {
                throw RelaxError.io(path: path, message: "cannot close: \(systemError())")
            }
            guard rename(temporary, path) == 0 else {
                throw RelaxError.io(path: path, message: "cannot move the finished file into place: \(systemError())")
            }
        } catch {
            if !closed { close(descriptor) }
            unlink(temporary)
            throw error
        }
    }

    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try write(to: path) { try $0.write(bytes) }
    }

    static func systemError(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }
}
