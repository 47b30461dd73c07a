import CSupport
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Makes sure no process of the guest outlives the run: its process group, and (as a child
/// subreaper on Linux) processes that left the group and were re-parented to the host.
enum Reaper {
    /// Asks Linux to re-parent the guest's orphans to this process. Call once, before launch.
    static func becomeSubreaper() -> Bool { csupport_become_subreaper() == 0 }

    /// Sends `signal` to every process of the group; false when the group is already empty.
    @discardableResult
    static func signalGroup(_ pgid: pid_t, _ signal: Int32) -> Bool {
        pgid > 1 && kill(-pgid, signal) == 0
    }

    /// Kills and reaps every child of this process except `keep` (orphans adopted as subreaper,
    /// and their descendants as they get adopted in turn). Returns the pids it ended.
    static func endAdoptedOrphans(keep: Set<pid_t> = []) -> [pid_t] {
        var ended: [pid_t] = []
        for _ in 0..<50 {
            let children = childrenOfSelf().filter { !keep.contains($0) }
            if children.isEmpty { break }
            for child in children {
                kill(child, SIGKILL)
                ended.append(child)
            }
            for child in children {
                var status: Int32 = 0
                for _ in 0..<100 where waitpid(child, &status, WNOHANG) == 0 { usleep(10_000) }
            }
        }
        return ended
    }

    /// The pids whose parent is this process, from /proc.
    static func childrenOfSelf() -> [pid_t] {
        let me = getpid()
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { name -> pid_t? in
            guard let pid = pid_t(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // Fields after "comm)": state, ppid, ...
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, let ppid = pid_t(fields[1]), ppid == me else { return nil }
            return pid
        }
    }
}
