import FoundationEssentials
import PluginAPI

#if canImport(Glibc)
import Glibc
#endif

/// Reads the records a live run appended to its journal after a position. Only whole records
/// are returned: a torn last record (the host is writing it) is left where it is and read
/// whole next time, never shown half.
enum JournalFollower {
    static let maxRead = 16 << 20

    /// The whole records after `position`, and the position after the last of them.
    static func read(_ url: URL, after position: StreamPosition) -> (entries: [JournalEntry], position: StreamPosition) {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return ([], position) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, Int(info.st_size) > position.journalOffset else { return ([], position) }
        var buffer = [UInt8](repeating: 0, count: min(Int(info.st_size) - position.journalOffset, maxRead))
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(position.journalOffset)) }
        guard count > 0 else { return ([], position) }
        var entries: [JournalEntry] = []
        let extent = buffer.withUnsafeBytes { bytes in
            JournalFormat.scan(UnsafeRawBufferPointer(rebasing: bytes[0..<count]), firstSeq: position.nextSeq) { entries.append($0) }
        }
        var next = position
        next.journalOffset += extent.validBytes
        next.nextSeq += UInt64(extent.records)
        return (entries, next)
    }
}
