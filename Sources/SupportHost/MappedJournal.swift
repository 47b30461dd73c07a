import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// The journal file mapped read-only into memory, so that a reader walks its records in place:
/// no copy of a file that a long run makes hundreds of megabytes long.
final class MappedJournal {
    let bytes: UnsafeRawBufferPointer

    init(_ url: URL) throws(JournalError) {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(url.path, String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotOpen(url.path, String(cString: strerror(errno))) }
        let size = Int(info.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        // MAP_POPULATE maps the whole file at once: the reader touches every page anyway, and
        // one call is much cheaper than a page fault for each.
        let base = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0)
        guard let base, base != MAP_FAILED else { throw .cannotOpen(url.path, String(cString: strerror(errno))) }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
