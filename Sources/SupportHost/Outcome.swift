/// How a run ended; each outcome has its own exit code so a calling program can act on it.
public enum Outcome: String, Sendable, CaseIterable, Codable {
    /// The guest exited 0 and every required result arrived (even if it had to be stopped
    /// after the shutdown timeout; the stop is recorded).
    case completed
    /// The guest exited with a non-zero status before the run was complete.
    case guestFailed = "guest-failed"
    /// The guest was killed by a signal nobody in the host sent.
    case guestCrashed = "guest-crashed"
    /// The guest exited 0 but required results are missing.
    case resultsMissing = "results-missing"
    case startupTimeout = "startup-timeout"
    case activityTimeout = "activity-timeout"
    case totalTimeout = "total-timeout"
    /// The guest was told to stop after its shutdown timeout and required results were missing.
    case shutdownTimeout = "shutdown-timeout"
    /// A console line matched `--fail-on` (or `--fail-on-panic`).
    case consoleFail = "console-fail"
    /// The guest rebooted more often than `--max-reboots` allows.
    case rebootLoop = "reboot-loop"
    /// A plug-in failed the run (`HostContext.fail(reason:)`); the plug-in and its reason are
    /// in `line` and in the report's `stop`.
    case pluginFailed = "plugin-failed"
    /// Ctrl-C or SIGTERM to the host.
    case interrupted
    /// The guest command could not be started.
    case launchFailed = "launch-failed"
    /// The host could not open its listener; the guest was never launched.
    case listenFailed = "listen-failed"
    /// The host died during the run; written by `support-host recover`.
    case hostCrashed = "host-crashed"

    public var exitCode: Int32 {
        switch self {
        case .completed: return 0
        case .guestFailed: return 10
        case .guestCrashed: return 11
        case .resultsMissing: return 12
        case .startupTimeout: return 20
        case .activityTimeout: return 21
        case .totalTimeout: return 22
        case .shutdownTimeout: return 23
        case .consoleFail: return 24
        case .rebootLoop: return 25
        case .pluginFailed: return 26
        case .launchFailed: return 30
        case .listenFailed: return 32
        case .hostCrashed: return 31
        case .interrupted: return 130
        }
    }

    /// Bad job: refused before launch.
    public static let badJobExitCode: Int32 = 64
    /// The host itself failed (cannot listen, cannot write the run directory).
    public static let hostErrorExitCode: Int32 = 70

    /// The exit-code table, for `run --help` and the README.
    public static var exitCodeTable: String {
        var rows = allCases.map { ($0.exitCode, $0.rawValue) }
        rows.append((badJobExitCode, "bad job (refused before launch; nothing created)"))
        rows.append((hostErrorExitCode, "host error (cannot write the run directory)"))
        return rows.sorted { $0.0 < $1.0 }.map { "  \($0.0)\t\($0.1)" }.joined(separator: "\n")
    }
}
