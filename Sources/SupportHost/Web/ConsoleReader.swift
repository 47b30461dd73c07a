import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Reads a guest's console file in whole lines: its last part for a page, then what was added
/// after a given byte offset, for an event stream. A line still being written (no newline yet)
/// is left for the next read, unless it grows past `maxLine`, which is shown cut.
enum ConsoleReader {
    static let maxLine = 16 * 1024
    /// Most bytes read at once; a guest that writes faster is followed over several reads.
    static let maxRead = 1 << 20
    static let tailBytes = 64 * 1024
    static let tailLines = 200

    /// The last lines of the console (cleaned), and the offset just after them.
    static func tail(_ url: URL) -> (lines: [String], end: Int) {
        let size = fileSize(url)
        let start = max(0, size - tailBytes)
        let (lines, end) = lines(url, from: start, upTo: size)
        let whole = start > 0 && !lines.isEmpty ? Array(lines.dropFirst()) : lines  // the first is cut off
        return (Array(whole.suffix(tailLines)), end)
    }

    /// The whole lines after `offset` (cleaned), and the offset after the last of them.
    static func lines(_ url: URL, from offset: Int, upTo limit: Int? = nil) -> (lines: [String], end: Int) {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return ([], offset) }
        defer { close(fd) }
        let size = limit ?? fileSize(fd: fd)
        guard size > offset else { return ([], min(offset, max(size, 0))) }
        var buffer = [UInt8](repeating: 0, count: min(size - offset, maxRead))
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard count > 0 else { return ([], offset) }
        var lines: [String] = []
        var lineStart = 0
        for index in 0..<count where buffer[index] == UInt8(ascii: "\n") || index - lineStart >= maxLine {
            let end = buffer[index] == UInt8(ascii: "\n") ? index : index + 1
            var line = String(decoding: buffer[lineStart..<end], as: UTF8.self)
            if line.hasSuffix("\r") { line.removeLast() }
            lines.append(HTML.consoleText(line))
            lineStart = index + 1
        }
        return (lines, offset + lineStart)
    }

    static func fileSize(_ url: URL) -> Int {
        var info = stat()
        return stat(url.path, &info) == 0 ? Int(info.st_size) : 0
    }

    private static func fileSize(fd: Int32) -> Int {
        var info = stat()
        return fstat(fd, &info) == 0 ? Int(info.st_size) : 0
    }
}
