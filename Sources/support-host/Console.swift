import FoundationEssentials
import Logging
import SupportHost
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// What the operator sees while a run goes on: log lines of state changes and, on a terminal,
/// one status line kept at the bottom and updated in place.
final class Console: @unchecked Sendable {
    // Safe: `statusText` is only touched under `lock`.
    private let lock = ThreadLock()
    private var statusText = ""
    let isTerminal = isatty(STDOUT_FILENO) == 1

    static let shared = Console()

    /// A logger whose lines go through this console, at the level the flags chose.
    func logger(level: Logger.Level) -> Logger {
        var logger = Logger(label: "support-host") { _ in ConsoleLogHandler(console: .shared) }
        logger.logLevel = level
        return logger
    }

    /// Prints a whole line, keeping the status line (if any) below it.
    func line(_ text: String) {
        lock.withLock {
            var out = ""
            if isTerminal && !statusText.isEmpty { out += "\r\u{1B}[2K" }
            out += text + "\n"
            if isTerminal && !statusText.isEmpty { out += statusText }
            write(out)
        }
    }

    /// Replaces the status line (terminals only).
    func status(_ status: RunStatus) {
        guard isTerminal else { return }
        let text = status.text
        lock.withLock {
            statusText = text
            write("\r\u{1B}[2K" + text)
        }
    }

    /// Removes the status line before the last lines of a run.
    func endStatus() {
        lock.withLock {
            if isTerminal && !statusText.isEmpty { write("\r\u{1B}[2K") }
            statusText = ""
        }
    }

    private func write(_ text: String) {
        try? FileIO.writeAll(STDOUT_FILENO, Data(text.utf8))
    }

}

/// swift-log's handler for the console: `support-host: message`, debug lines marked.
struct ConsoleLogHandler: LogHandler {
    let console: Console
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let prefix = event.level <= .debug ? "support-host: (debug) " : event.level >= .warning ? "support-host: warning: " : "support-host: "
        console.line(prefix + "\(event.message)")
    }
}
