import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Follows the guest's console file as it grows and matches each complete line against the
/// operator's patterns: `--fail-on` (a match ends the run) and `--reboot-pattern` (a second
/// match means the guest started over).
struct ConsoleWatch {
    /// The usual kernel failures, for `--fail-on-panic`.
    static let panicPatterns = [
        "Kernel panic - not syncing", "BUG: ", "Oops: ", "general protection fault", "Call Trace:",
        "Unable to handle kernel", "kernel BUG at",
    ]
    /// Longer lines are cut here: a guest cannot make the host hold an endless line.
    static let maxLine = 16 * 1024
    /// Bytes read per look, so one look stays short whatever the guest writes.
    static let maxRead = 1 << 20

    enum Finding {
        case failure(pattern: String, line: String)
        case bootBanner(line: String)
    }

    private let url: URL
    private let failPatterns: [ConsolePattern]
    private let rebootPattern: ConsolePattern?
    private var fd: Int32 = -1
    private var partial: [UInt8] = []

    var isActive: Bool { !failPatterns.isEmpty || rebootPattern != nil }

    init(url: URL, failOn: [String], rebootPattern: String?) throws(JobError) {
        self.url = url
        var compiled: [ConsolePattern] = []
        for pattern in failOn {
            guard let matcher = ConsolePattern(pattern) else { throw .badPattern(pattern) }
            compiled.append(matcher)
        }
        failPatterns = compiled
        if let rebootPattern {
            guard let matcher = ConsolePattern(rebootPattern) else { throw .badPattern(rebootPattern) }
            self.rebootPattern = matcher
        } else {
            self.rebootPattern = nil
        }
    }

    /// A pattern that matches `text` literally (for `--fail-on-panic`'s fixed strings).
    static func literalPattern(_ text: String) -> String {
        var pattern = ""
        for character in text {
            if "\\^$.|?*+()[]{}".contains(character) { pattern.append("\\") }
            pattern.append(character)
        }
        return pattern
    }

    /// Reads what the guest wrote since the last look; returns what matched, in order.
    mutating func look() -> [Finding] {
        guard isActive else { return [] }
        if fd < 0 {
            fd = open(url.path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { return [] }
        }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var findings: [Finding] = []
        var total = 0
        while total < Self.maxRead {
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else { break }
            total += count
            for byte in chunk[0..<count] {
                if byte == UInt8(ascii: "\n") {
                    findings += match(partial)
                    partial.removeAll(keepingCapacity: true)
                } else if partial.count < Self.maxLine {
                    partial.append(byte)
                }
            }
        }
        return findings
    }

    private func match(_ bytes: [UInt8]) -> [Finding] {
        var line = String(decoding: bytes, as: UTF8.self)
        if line.hasSuffix("\r") { line.removeLast() }
        var findings: [Finding] = []
        if let pattern = failPatterns.first(where: { $0.matches(line) }) {
            findings.append(.failure(pattern: pattern.source, line: line))
        }
        if let rebootPattern, rebootPattern.matches(line) {
            findings.append(.bootBanner(line: line))
        }
        return findings
    }

    /// Starts after what is already in the file (a host taking a run over has seen it).
    mutating func skipToEnd() {
        guard isActive else { return }
        fd = open(url.path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { lseek(fd, 0, SEEK_END) }
    }

    func close() { if fd >= 0 { Glibc.close(fd) } }
}
