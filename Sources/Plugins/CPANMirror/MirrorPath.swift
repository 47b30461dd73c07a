import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Turns the raw path under a mount into a file inside the mount's root, or refuses it.
///
/// Percent-decodes exactly once and refuses anything that could name a file elsewhere: `..`
/// and `.` segments, encoded slashes, backslashes, NUL and control bytes, invalid UTF-8, and a
/// path whose resolved form (symlinks followed) is not under the root.
enum MirrorPath {
    enum Refusal: Error, Equatable {
        case badEncoding, forbiddenSegment, outsideRoot, notFound
    }

    static func decode(_ raw: String) throws(Refusal) -> [String] {
        var bytes: [UInt8] = []
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
        guard resolved == root || resolved.hasPrefix(root.hasSuffix("/") ? root : root + "/") else { throw .outsideRoot }
        return resolved
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
