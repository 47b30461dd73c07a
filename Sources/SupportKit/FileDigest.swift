import Crypto
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// The hex SHA-256 of a file's bytes, read in 1 MiB blocks: how a result's digest is taken
/// when it is stored, checked by `recover`, and compared for a repeated upload.
package enum FileDigest {
    /// The digest of the file at `url`; nil when it cannot be opened or read.
    package static func sha256(of url: URL) -> String? {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return try? sha256(fd: fd)
    }

    /// The digest of everything an open descriptor holds, read with `pread` from offset 0.
    package static func sha256(fd: Int32) throws -> String {
        var hasher = SHA256()
        var block = [UInt8](repeating: 0, count: 1 << 20)
        var offset: Int64 = 0
        while true {
            let count = try block.withUnsafeMutableBytes { try FileIO.read(fd, into: $0, at: offset) }
            if count == 0 { break }
            block.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            offset += Int64(count)
            if count < block.count { break }
        }
        return hexEncoded(hasher.finalize())
    }
}
