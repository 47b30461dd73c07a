import FoundationEssentials
import PluginAPI
import Subprocess
import SystemPackage
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// The injector of one run: a directory holding `image.conf` (PITA::Image's ini file, read
/// with Config::Tiny in PITA) and, for a VM, an ISO 9660 image of it to attach as a CD-ROM.
/// It lives in a temporary folder outside the run directory, because `image.conf` carries the
/// run's token, and is removed after the run. The format is in `docs/injector.md`.
struct Injector {
    /// The temporary folder: `injector/` (the directory), `injector.iso`, `monitor.sock`.
    let root: URL
    var directory: URL { root.appendingPathComponent("injector", isDirectory: true) }
    var iso: URL { root.appendingPathComponent("injector.iso") }
    var monitorSocket: URL { root.appendingPathComponent("monitor.sock") }
    var workarea: URL { root.appendingPathComponent("work", isDirectory: true) }

    static func create() throws -> Injector {
        var template = Array((FileManager.default.temporaryDirectory.path + "/support-host-injector-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw GuestSetupError.cannotCreate("a temporary injector folder", String(cString: strerror(errno))) }
        let injector = Injector(root: URL(fileURLWithPath: String(cString: made), isDirectory: true))
        try FileManager.default.createDirectory(at: injector.directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: injector.workarea, withIntermediateDirectories: true)
        return injector
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    /// `image.conf` as Config::Tiny writes it: root keys first, then `[task]`.
    static func imageConf(serverURI: String, plan: VerbPlan, extra: [String: String]) -> String {
        var lines = ["class=PITA::Image", "version=0.60", "server_uri=\(serverURI)/", "", "[task]"]
        var task = plan.taskKeys.merging(extra) { current, _ in current }
        task["task"] = plan.task
        task["job_id"] = String(plan.jobID)
        for key in ["task", "job_id"] + task.keys.filter({ $0 != "task" && $0 != "job_id" }).sorted() {
            guard let value = task[key] else { continue }
            // Config::Tiny has no quoting: one line per value.
            lines.append("\(key)=\(value.replacingEvery("\n", with: " "))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func write(imageConf text: String) throws {
        let file = directory.appendingPathComponent("image.conf")
        try Data(text.utf8).write(to: file, options: .atomic)
    }

    /// Makes `injector.iso` from the directory with `xorriso` (Rock Ridge and Joliet names,
    /// volume id `PITA_INJECTOR`).
    func makeISO() async throws {
        guard let xorriso = Tools.find("xorriso") else {
            throw GuestSetupError.missingTool("xorriso", "apt-get install -y xorriso")
        }
        let result = try await Subprocess.run(
            .path(FilePath(xorriso)),
            arguments: ["-as", "mkisofs", "-quiet", "-R", "-J", "-V", "PITA_INJECTOR", "-o", iso.path, directory.path],
            input: .none, output: .discarded, error: .string(limit: 64 * 1024))
        guard result.terminationStatus.isSuccess else {
            throw GuestSetupError.toolFailed("xorriso", "\(result.terminationStatus): \(result.standardError)")
        }
    }
}

/// Looks a program up on PATH, as `execvp` would.
enum Tools {
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Setting up a real guest failed before or at its launch; each says what to do about it.
public enum GuestSetupError: Error, CustomStringConvertible, Sendable {
    case cannotCreate(String, String)
    case missingTool(String, String)
    case toolFailed(String, String)
    case missingFile(String, String)
    case unknownVerb(String, [String])
    case badPlan(String)
    case badGuest(String)

    public var description: String {
        switch self {
        case .cannotCreate(let what, let reason): return "cannot create \(what): \(reason)"
        case .missingTool(let tool, let hint): return "\(tool) is not installed (\(hint))"
        case .toolFailed(let tool, let reason): return "\(tool) failed: \(reason)"
        case .missingFile(let path, let hint): return "\(path) does not exist (\(hint))"
        case .unknownVerb(let verb, let known): return "no plug-in offers '\(verb)' (verbs: \(known.joined(separator: ", ")))"
        case .badPlan(let reason): return "the plug-in's plan is unusable: \(reason)"
        case .badGuest(let reason): return reason
        }
    }
}
