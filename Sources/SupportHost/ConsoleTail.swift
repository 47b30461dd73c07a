import Foundation

/// The last lines of a guest's console, for a report and a terminal: bounded, printable, and
/// without the run token a guest may have echoed (`/t/TOKEN` in a URL).
enum ConsoleTail {
    static let maxLines = 20
    static let maxLineLength = 300
    /// Only the end of the file is read, whatever its size.
    static let maxBytes = 16 * 1024

    static func read(_ url: URL) -> [String] {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return [] }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd() else { return [] }
        let start = size > UInt64(maxBytes) ? size - UInt64(maxBytes) : 0
        guard (try? handle.seek(toOffset: start)) != nil, let data = try? handle.readToEnd() else { return [] }
        // Split on the byte: a serial console ends its lines "\r\n", which Swift's String holds
        // as one Character that is not "\n" — split as text, a qemu guest's console was one line.
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if start > 0, !lines.isEmpty { lines.removeFirst() }  // the first line is cut off
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        return lines.suffix(maxLines).map { clean(String($0)) }
    }

    /// Printable text only: escape sequences and control characters go, long lines are cut.
    static func clean(_ line: String) -> String {
        var text = line.replacingOccurrences(of: "\u{1B}\\[[0-9;?]*[ -/]*[@-~]", with: "", options: .regularExpression)
        text = String(text.unicodeScalars.filter { $0 == "\t" || !($0.properties.generalCategory == .control) }.map(Character.init))
        text = text.replacingOccurrences(of: "/t/[A-Za-z0-9_-]{16,}", with: "/t/{token}", options: .regularExpression)
        return text.count > maxLineLength ? String(text.prefix(maxLineLength)) + "…" : text
    }
}
