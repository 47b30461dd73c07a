import FoundationEssentials
import SupportKit

/// The last lines of a guest's console, for a report and a terminal: bounded, printable, and
/// without the run token a guest may have echoed (`/t/TOKEN` in a URL).
enum ConsoleTail {
    static let maxLines = 20
    static let maxLineLength = 300
    /// Only the end of the file is read, whatever its size.
    static let maxBytes = 16 * 1024

    static func read(_ url: URL) -> [String] {
        guard let (data, start) = FileIO.contents(ofFile: url.path, count: maxBytes, from: nil) else { return [] }
        // Split on the byte: a serial console ends its lines "\r\n", which Swift's String holds
        // as one Character that is not "\n" — split as text, a qemu guest's console was one line.
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if start > 0, !lines.isEmpty { lines.removeFirst() }  // the first line is cut off
        while let last = lines.last, last.trimmingSpaces().isEmpty { lines.removeLast() }
        return lines.suffix(maxLines).map { clean(String($0)) }
    }

    // Swift's Regex rather than NSRegularExpression: no Foundation in the host (issue 18). Not
    // Sendable only for its generic output; a constant regex is safe to share (its compiled
    // program is built once, atomically).
    /// A CSI escape sequence (`ESC [ … final`).
    nonisolated(unsafe) private static let csi = try! Regex("\u{1B}\\[[0-9;?]*[ -/]*[@-~]").matchingSemantics(.unicodeScalar)  // a constant pattern
    /// The run token in a URL a guest echoed.
    nonisolated(unsafe) private static let token = try! Regex("/t/[A-Za-z0-9_-]{16,}").matchingSemantics(.unicodeScalar)  // a constant pattern

    /// Printable text only: escape sequences and control characters go, long lines are cut.
    static func clean(_ line: String) -> String {
        var text = line.replacing(csi, with: "")
        text = String(text.unicodeScalars.filter { $0 == "\t" || !($0.properties.generalCategory == .control) }.map(Character.init))
        text = text.replacing(token, with: "/t/{token}")
        return text.count > maxLineLength ? String(text.prefix(maxLineLength)) + "…" : text
    }
}
