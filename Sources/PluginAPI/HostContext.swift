import FoundationEssentials
import Logging

/// What the host gives a plug-in: the run directory, the configuration, its settings, a logger,
/// the run's clock, the journal and a way to tell the run what happened.
///
/// Each plug-in gets its own context, so what it records carries its name as the source. In a
/// test, `PluginTesting`'s `RecordingContext` stands in for the host.
public protocol HostContext: Sendable {
    /// The run directory; `resultsDirectory` is where captured files go.
    var runDirectory: URL { get }
    /// The run's configuration (the job).
    var configuration: RunConfiguration { get }
    /// This plug-in's settings: the job file's `plugins.NAME` object with the command line's
    /// `--set NAME.KEY=VALUE` laid over it. Read them in `init(context:)` and throw
    /// `PluginError` for a bad one, so the run is refused before it starts.
    var settings: PluginSettings { get }
    /// A logger labelled with the plug-in's name; during a run it writes through the host's
    /// console at the operator's level (`--verbose`, `--quiet`).
    var logger: Logger { get }
    /// Seconds since the run was prepared, on the run's monotonic clock: the same time the
    /// journal's records carry.
    var elapsed: Double { get }

    /// Appends a record to the journal; buffered, so it reaches disk within about a second.
    func record(_ kind: String, _ fields: [String: JSONValue])

    /// Appends a record and returns only once it, and everything before it, is on stable storage.
    /// Answer an upload with 2xx only after this returns.
    func recordDurably(_ kind: String, _ fields: [String: JSONValue]) async throws

    /// Tells the run something it decides on (the guest started, a result arrived).
    func notify(_ event: RunEvent)

    /// Asks the host for a run-time operation and waits for its answer, e.g.
    /// `ask(.extendDeadline(seconds: 60))`. Throws `GuestError` when the host refuses.
    func ask(_ request: HostRequest) async throws -> JSONValue
}

/// Defaults for a context that offers less than the host does (a context of a test's own):
/// no run-time requests, no settings, a logger that discards, a clock that stands at 0.
extension HostContext {
    public func ask(_ request: HostRequest) async throws -> JSONValue {
        throw GuestError(501, "this host does not take run-time requests")
    }

    public var settings: PluginSettings { PluginSettings() }
    public var logger: Logger { Logger(label: "support-host.plugin", factory: { _ in SwiftLogNoOpLogHandler() }) }
    public var elapsed: Double { 0 }

    /// Counts as the guest's activity, as a request does: a guest blocked in a long wait on
    /// this plug-in (a barrier, a lock) is not inactive, and its activity timeout moves on.
    public func countsAsActivity() { notify(.activity) }

    /// Counts as one guest's activity: call it about once a second while that guest is blocked
    /// in a wait this plug-in will answer later, so its activity timeout does not trip (the
    /// run's total timeout still holds).
    public func countsAsActivity(of guest: String) { notify(.guestActivity(guest: guest)) }

    /// Ends the run through the host's normal stop sequence: `completed` if every required
    /// result is in (else `results-missing`), with this plug-in and `reason` in the report.
    public func finish(reason: String) { notify(.endRun(failed: false, reason: reason)) }

    /// Ends the run through the normal stop sequence with the outcome `plugin-failed` (exit
    /// 26), this plug-in and `reason` in the report.
    public func fail(reason: String) { notify(.endRun(failed: true, reason: reason)) }
}

extension HostContext {
    /// `RUN_DIR/results`, where result files are stored.
    public var resultsDirectory: URL { runDirectory.appendingPathComponent("results", isDirectory: true) }
}
