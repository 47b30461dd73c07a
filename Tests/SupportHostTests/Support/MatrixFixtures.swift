import Foundation
import PluginAPI

#if canImport(Glibc)
import Glibc
#endif

/// Matrix plans for tests: small dists (the tiny Perl dist and TAP scripts) on `--guest local`
/// and on launcher guests that run a private copy of the image manager, so that a test can
/// find its own guest processes by that copy's path.
struct MatrixFixture {
    let directory: URL
    /// A copy of guest/image-manager.sh only this fixture's guests run.
    let imageManager: String

    init() throws {
        directory = Fixtures.temporaryDirectory("matrix")
        imageManager = directory.appendingPathComponent("image-manager-\(UUID().uuidString.prefix(8)).sh").path
        try FileManager.default.copyItem(atPath: Fixtures.packageRoot.appendingPathComponent("guest/image-manager.sh").path, toPath: imageManager)
    }

    var output: URL { directory.appendingPathComponent("out") }

    /// A TAP script (`sh` scheme) named `name` with `body` between its plan line and its end.
    func tapScript(_ name: String, tests: Int, body: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data("echo 1..\(tests)\n\(body)\n".utf8).write(to: url)
        return url.path
    }

    /// Passes everywhere.
    func passing(_ name: String, sleep seconds: Double = 0) throws -> String {
        try tapScript(name, tests: 2, body: "\(seconds > 0 ? "sleep \(seconds)\n" : "")echo 'ok 1 - one'\necho 'ok 2 - two'")
    }

    /// Fails on the guest whose launcher sets GUEST_FLAVOUR=b.
    func failingOnFlavourB(_ name: String) throws -> String {
        try tapScript(name, tests: 1, body: #"[ "${GUEST_FLAVOUR:-}" = b ] && echo 'not ok 1 - flavour b' || echo 'ok 1 - flavour'"#)
    }

    /// Each launcher guest's pid (also its process group's id) is appended here as it starts.
    var guestPIDFile: String { directory.appendingPathComponent("guest-pids").path }

    /// A launcher guest: this fixture's image manager with GUEST_FLAVOUR set; it writes its pid
    /// to `guestPIDFile` first.
    func launcher(_ name: String, flavour: String) -> JSONValue {
        [
            "name": .string(name),
            "command": [
                "/bin/sh", "-c", .string("echo $$ >> '\(guestPIDFile)'; exec /usr/bin/env GUEST_FLAVOUR=\(flavour) /bin/sh '\(imageManager)' --injector \"$0\""),
                "{injector}",
            ],
        ]
    }

    /// The launcher guests with a process still alive in their process group (a guest runs in
    /// a group of its own, led by the launcher's pid). Cheaper and surer than a walk of /proc.
    var liveGuests: [pid_t] {
        let text = (try? String(contentsOfFile: guestPIDFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { pid_t($0) }.filter { pid in
            Fixtures.isAlive(pid) || Self.groupHasLiveMember(pid)
        }
    }

    /// Whether any process of group `pgid` is alive and not a zombie (kill(-pgid, 0) alone
    /// counts zombies not reaped yet).
    static func groupHasLiveMember(_ pgid: pid_t) -> Bool {
        guard kill(-pgid, 0) == 0 else { return false }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.contains { name in
            guard let pid = pid_t(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 3 && fields[0] != "Z" && pid_t(fields[3]) == pgid && pid > 0
        }
    }

    /// Runs `action` the moment `condition` holds, both on a thread of their own: under the full
    /// suite's load the test's cooperative threads can be busy for longer than a short cell
    /// lives, so a poll from a task may never see the moment. False when it never held.
    static func act(timeout: Double, when condition: @escaping @Sendable () -> Bool, _ action: @escaping @Sendable () -> Void) async -> Bool {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let deadline = Date().addingTimeInterval(timeout)
                while Date() < deadline {
                    if condition() {
                        action()
                        continuation.resume(returning: true)
                        return
                    }
                    usleep(20_000)
                }
                continuation.resume(returning: false)
            }
        }
    }

    /// Cells whose lock a process holds now (a `run-cell` running, or stopping).
    func cellsRunning(cells: Int, output: URL? = nil) -> Int {
        let locks = (output ?? self.output).appendingPathComponent("locks")
        return (0..<cells).filter { cell in
            let fd = open(locks.appendingPathComponent("cell-\(cell).lock").path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                flock(fd, LOCK_UN)
                return false
            }
            return true
        }.count
    }

    /// Writes `plan.json` and returns its path.
    func plan(dists: [String], guests: [JSONValue], output: URL? = nil) throws -> String {
        let plan: JSONValue = [
            "dists": .array(dists.map(JSONValue.string)), "guests": .array(guests),
            "settings": ["startup_timeout": 60, "total_timeout": 300], "output": .string((output ?? self.output).path),
        ]
        let url = directory.appendingPathComponent("plan-\(UUID().uuidString.prefix(8)).json")
        try plan.encoded(pretty: true).write(to: url)
        return url.path
    }
}

/// A matrix's output read back.
struct MatrixFiles {
    let url: URL

    var grid: JSONValue {
        get throws { try JSONValue.decode(Data(contentsOf: url.appendingPathComponent("matrix.json"))) }
    }

    /// `dist on guest` → grade, from matrix.json.
    var grades: [String: String] {
        get throws {
            var grades: [String: String] = [:]
            for cell in try grid["cells"]?.arrayValue ?? [] {
                grades["\(cell["dist"]?.stringValue ?? "?") on \(cell["guest"]?.stringValue ?? "?")"] = cell["grade"]?.stringValue
            }
            return grades
        }
    }

    var table: String { (try? String(contentsOf: url.appendingPathComponent("matrix.txt"), encoding: .utf8)) ?? "" }

    func report(_ cell: String) -> Data? { try? Data(contentsOf: url.appendingPathComponent("cells/\(cell)/report.json")) }
}
