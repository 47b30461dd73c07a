import CSupport
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Makes every file of the run's file system durable (one `syncfs`) at the end of a run: small
/// results were written without an fsync of their own (their journal record's fsync made them
/// durable), and a finished run should not need `recover` to have them after a machine crash.
enum FileSystemSync {
    static func sync(_ directory: RunDirectory) {
        let fd = open(directory.results.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = csupport_syncfs(fd)
        close(fd)
    }
}
