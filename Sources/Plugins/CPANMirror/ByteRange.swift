import FoundationEssentials
import SupportKit

/// A `Range` request header against a file of known size (RFC 9110 §14).
///
/// Only one range is served; a header the server may ignore (several ranges, another unit, bad
/// syntax) means the whole file, as the RFC allows.
enum ByteRange: Equatable {
    /// Send the whole file (200).
    case whole
    /// Send `length` bytes from `offset` (206).
    case slice(offset: Int64, length: Int64)
    /// No byte of the file is in the range (416).
    case unsatisfiable

    static func parse(_ header: String, size: Int64) -> ByteRange {
        let text = header.trimmingSpaces()
        guard text.count > 6, text.prefix(6).lowercased() == "bytes=" else { return .whole }
        let spec = text.dropFirst(6).trimmingSpaces()
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash].trimmingSpaces()
        let last = spec[spec.index(after: dash)...].trimmingSpaces()
        guard first.allSatisfy(\.isASCIIDigit), last.allSatisfy(\.isASCIIDigit) else { return .whole }

        if first.isEmpty {
            // bytes=-N: the last N bytes.
            guard let count = Int64(last) else { return last.isEmpty ? .whole : .unsatisfiableOrWhole(size) }
            guard count > 0, size > 0 else { return .unsatisfiable }
            let length = min(count, size)
            return .slice(offset: size - length, length: length)
        }
        // A first position too large for Int64 is past any end.
        guard let start = Int64(first) else { return .unsatisfiable }
        guard start < size else { return .unsatisfiable }
        var end = size - 1
        if !last.isEmpty {
            if let requested = Int64(last) {
                guard requested >= start else { return .whole }
                end = min(requested, size - 1)
            }
        }
        return .slice(offset: start, length: end - start + 1)
    }

    /// A suffix length too large for Int64 asks for the whole file, which is a valid range.
    private static func unsatisfiableOrWhole(_ size: Int64) -> ByteRange {
        size > 0 ? .slice(offset: 0, length: size) : .unsatisfiable
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
