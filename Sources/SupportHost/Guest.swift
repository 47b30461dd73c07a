import CSupport
import FoundationEssentials
import PluginAPI
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// How the guest process ended.
enum GuestExit: Sendable, Equatable {
    case exited(Int32)
    case signalled(Int32)
    /// A guest taken over after a host crash is not our child: its end is seen, its status not.
    case unknown

    var fields: [String: JSONValue] {
        switch self {
        case .exited(let code): return ["exit_status": .int(Int64(code))]
        case .signalled(let signal): return ["signal": .int(Int64(signal)), "signal_name": .string(Guest.signalName(signal))]
        case .unknown: return ["exit_status": .null, "status_unknown": .bool(true)]
        }
    }

    var description: String {
        switch self {
        case .exited(let code): return "exit status \(code)"
        case .signalled(let signal): return "killed by \(Guest.signalName(signal))"
        case .unknown: return "exit status unknown (the guest was taken over after a host crash)"
        }
    }
}

/// Launches the guest command in its own process group, its stdout and stderr appended to the
/// console file, and reports its pid and its end.
enum Guest {
    /// Runs `argv` until it exits. `launched` receives the pid (which is also the process group
    /// id) as soon as the process exists.
    static func run(
        argv: [String], environment: [String: String], console: URL,
        launched: @escaping @Sendable (pid_t) -> Void
    ) async throws -> GuestExit {
        let fd = open(console.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw GuestLaunchError.console(console.path, String(cString: strerror(errno))) }
        defer { close(fd) }
        var options = PlatformOptions()
        // A process group of its own: the stop sequence signals the whole group.
        options.processGroupID = 0
        var overrides: [Environment.Key: String?] = [:]
        for (key, value) in environment { overrides[Environment.Key(rawValue: key)!] = value }
        let executable: Executable = argv[0].contains("/") ? .path(FilePath(argv[0])) : .name(argv[0])
        let consoleOutput = FileDescriptor(rawValue: fd)
        let result = try await Subprocess.run(
            executable,
            arguments: Arguments(Array(argv.dropFirst())),
            environment: .inherit.updating(overrides),
            platformOptions: options,
            input: .none,
            output: .fileDescriptor(consoleOutput, closeAfterSpawningProcess: false),
            error: .fileDescriptor(consoleOutput, closeAfterSpawningProcess: false)
        ) { execution in
            launched(execution.processIdentifier.value)
        }
        switch result.terminationStatus {
        case .exited(let code): return .exited(code)
        case .signaled(let signal): return .signalled(signal)
        }
    }

    /// Waits for a process that is not our child to end (Linux pidfd), polling off the cooperative pool.
    static func watch(pid: pid_t) async {
        let fd = csupport_pidfd_open(pid)
        while !Task.isCancelled {
            if fd >= 0 {
                var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&entry, 1, 0) > 0 { break }
            } else if kill(pid, 0) != 0 {
                break
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        if fd >= 0 { close(fd) }
    }

    /// The kernel's start time of a process (field 22 of /proc/PID/stat): with the pid, it names
    /// one process even after pids are reused.
    static func startTime(of pid: pid_t) -> Int64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return nil
        }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? Int64(fields[19]) : nil
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGHUP: return "SIGHUP"
        case SIGINT: return "SIGINT"
        case SIGQUIT: return "SIGQUIT"
        case SIGILL: return "SIGILL"
        case SIGABRT: return "SIGABRT"
        case SIGBUS: return "SIGBUS"
        case SIGFPE: return "SIGFPE"
        case SIGKILL: return "SIGKILL"
        case SIGSEGV: return "SIGSEGV"
        case SIGPIPE: return "SIGPIPE"
        case SIGALRM: return "SIGALRM"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }
}

enum GuestLaunchError: Error, CustomStringConvertible {
    case console(String, String)

    var description: String {
        switch self {
        case .console(let path, let reason): return "cannot open console file \(path): \(reason)"
        }
    }
}
