import FoundationEssentials
import PluginAPI
import SupportKit

/// `Content-Range: bytes FIRST-LAST/TOTAL` of one piece of a resumable upload (Beaker style).
struct ContentRange: Equatable {
    let first: Int64
    let last: Int64
    let total: Int64

    var length: Int64 { last - first + 1 }
    var range: ClosedRange<Int64> { first...last }

    /// Parses the header; a malformed or impossible range is a 400, naming what is wrong.
    init(header: String) throws(GuestError) {
        let text = header.trimmingSpaces()
        guard text.lowercased().hasPrefix("bytes ") else {
            throw GuestError(400, "Content-Range must be 'bytes FIRST-LAST/TOTAL', not '\(header.prefix(100))'")
        }
        let spec = text.dropFirst(6).trimmingSpaces()
        let parts = spec.split(separator: "/", omittingEmptySubsequences: false)
        let bounds = parts.first?.split(separator: "-", omittingEmptySubsequences: false) ?? []
        guard parts.count == 2, bounds.count == 2,
            let first = Self.number(bounds[0]), let last = Self.number(bounds[1]), let total = Self.number(parts[1])
        else {
            throw GuestError(400, "Content-Range must be 'bytes FIRST-LAST/TOTAL' with decimal numbers, not '\(header.prefix(100))'")
        }
        guard first <= last, last < total else {
            throw GuestError(400, "Content-Range \(first)-\(last)/\(total) is not inside the file")
        }
        self.first = first
        self.last = last
        self.total = total
    }

    private static func number(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.count <= 18, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(text)
    }
}
