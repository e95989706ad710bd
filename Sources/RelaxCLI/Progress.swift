import Foundation
import Relax

/// A one-line progress bar on stderr, drawn only when stderr is a terminal, so pipes and
/// CI logs stay clean. `handler` is the `ProgressHandler` the library calls.
final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private let enabled: Bool
    private var lastDraw = 0.0
    private var drawn = false
    private let start = Date()

    init() {
        enabled = isatty(STDERR_FILENO) != 0
    }

    var handler: ProgressHandler? {
        guard enabled else { return nil }
        return { [self] fraction, label in self.update(fraction, label) }
    }

    func update(_ fraction: Double, _ label: String) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date().timeIntervalSince(start)
        guard fraction >= 1 || now - lastDraw > 0.1 else { return }
        lastDraw = now
        let width = 30
        let filled = Int((min(max(fraction, 0), 1) * Double(width)).rounded())
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let line = String(format: "\r[%@] %3.0f%% %@ (%.1f s)", bar, 100 * fraction, label, now)
        FileHandle.standardError.write(line.padding(toLength: 79, withPad: " ", startingAt: 0).data(using: .utf8)!)
        drawn = true
    }

    /// Clears the bar's line.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drawn {
            FileHandle.standardError.write(("\r" + String(repeating: " ", count: 79) + "\r").data(using: .utf8)!)
            drawn = false
        }
    }
}

/// Writes a line to stderr (notes and warnings; results go to files or stdout).
func printError(_ text: String) {
    FileHandle.standardError.write((text + "\n").data(using: .utf8)!)
}
