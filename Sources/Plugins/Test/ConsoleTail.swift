import Foundation

/// The last lines of a run's console, shown when a test did not end well (a hang, a crash):
/// what the guest was doing last. The console is the guest's, so control characters are
/// dropped before a line reaches the operator's terminal.
enum ConsoleTail {
    static let maxBytes = 4096
    static let maxLines = 15

    static func read(_ url: URL) -> [String] {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return [] }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > UInt64(maxBytes) ? size - UInt64(maxBytes) : 0)
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        var lines = text.split(omittingEmptySubsequences: true) { $0.isNewline }.map { line in
            String(String.UnicodeScalarView(line.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }))
        }
        if size > UInt64(maxBytes), !lines.isEmpty { lines.removeFirst() }
        return Array(lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.suffix(maxLines))
    }
}
