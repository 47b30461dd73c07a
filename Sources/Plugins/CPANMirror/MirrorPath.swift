import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Turns the raw path under a mount into a file inside the mount's root, or refuses it.
///
/// Percent-decodes exactly once and refuses anything that could name a file elsewhere: `..`
/// and `.` segments, encoded slashes, backslashes and percent signs (so `%252e` never becomes a
/// dot), NUL and control bytes, invalid or overlong UTF-8 (`%c0%ae`), over-long paths, and a
/// path whose resolved form (symlinks followed) is not under the root.
enum MirrorPath {
    enum Refusal: Error, Equatable {
        case badEncoding, forbiddenSegment, tooLong, outsideRoot, notFound
    }

    /// Longer raw paths are refused before any work (Linux's PATH_MAX).
    static let maximumLength = 4096

    static func decode(_ raw: String) throws(Refusal) -> [String] {
        guard raw.utf8.count <= maximumLength else { throw .tooLong }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.utf8.count)
        var iterator = raw.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    throw .badEncoding
                }
                let decoded = high << 4 | low
                // An encoded slash, backslash or percent sign is never a plain file name here.
                if decoded == UInt8(ascii: "/") || decoded == UInt8(ascii: "\\") || decoded == UInt8(ascii: "%") {
                    throw .forbiddenSegment
                }
                bytes.append(decoded)
            } else {
                bytes.append(byte)
            }
        }
        guard !bytes.contains(where: { $0 < 0x20 || $0 == 0x7f || $0 == UInt8(ascii: "\\") }) else {
            throw .forbiddenSegment
        }
        // Swift's validation refuses overlong forms, surrogates and truncated sequences.
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .badEncoding }
        let segments = text.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard !segments.contains(where: { $0 == "." || $0 == ".." }) else { throw .forbiddenSegment }
        return segments
    }

    /// The real path of the file, checked to be under `root` (itself a real path).
    static func resolve(_ segments: [String], under root: String) throws(Refusal) -> String {
        let joined = segments.isEmpty ? root : root + "/" + segments.joined(separator: "/")
        guard let real = realpath(joined, nil) else { throw .notFound }
        defer { free(real) }
        let resolved = String(cString: real)
        guard isInside(resolved, root: root) else { throw .outsideRoot }
        return resolved
    }

    /// Whether `path` is `root` or below it; both are real paths.
    static func isInside(_ path: String, root: String) -> Bool {
        path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
