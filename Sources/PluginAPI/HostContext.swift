import Foundation
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

    /// Ends the run through the host's normal stop sequence: `completed` if every required
    /// result is in (else `results-missing`), with this plug-in and `reason` in the report.
    public func finish(reason: String) { notify(.endRun(failed: false, reason: reason)) }

    /// Ends the run through the normal stop sequence with the outcome `plugin-failed` (exit
    /// 26), this plug-in and `reason` in the report.
    public func fail(reason: String) { notify(.endRun(failed: true, reason: reason)) }
}

/// A run-time operation a plug-in may ask the host for.
public enum HostRequest: Sendable, Equatable {
    /// Move the run's total deadline later, within the operator's `--max-extend` cap.
    case extendDeadline(seconds: Double)
}

extension HostContext {
    /// `RUN_DIR/results`, where result files are stored.
    public var resultsDirectory: URL { runDirectory.appendingPathComponent("results", isDirectory: true) }
}

/// What a plug-in tells the run. Only the host decides that a run is over.
public enum RunEvent: Sendable, Equatable {
    /// A startup ping; `bootID` is the guest's `X-Boot-Id`, if it sent one.
    case guestPinged(bootID: String?)
    /// A result file is complete and on stable storage.
    case resultStored(path: String)
    /// The guest did something with this plug-in that counts as activity (`countsAsActivity()`).
    case activity
    /// The plug-in asks the host to end the run (`finish(reason:)`, `fail(reason:)`).
    case endRun(failed: Bool, reason: String)
}

/// A step of the run's life the host tells every plug-in about (`Plugin.runPhaseChanged`).
public enum RunPhase: Sendable, Equatable {
    /// The guest's first ping: it is up.
    case guestStarted
    /// Every required result is in; the guest has its shutdown timeout to exit.
    case finishing
    /// The host is stopping the guest, and why (`startup-timeout`, `plugin-failed`, …).
    case stopping(cause: String)
    /// The guest is gone; the run ends once its records are written.
    case guestExited
}

/// The settings of one run that plug-ins read: result paths, mirrors, limits and free-form
/// settings for plug-ins outside this package.
public struct RunConfiguration: Sendable, Codable, Equatable {
    /// The result paths the guest may `PUT`.
    public var results: [ResultPath]
    /// Directories mounted read-only under URL prefixes.
    public var mirrors: [MirrorMount]
    /// The largest result file accepted, in bytes.
    public var maxResultSize: Int64
    /// Whether a mirror directory is answered with an HTML index (`--mirror-index`) instead of 404.
    public var mirrorIndex: Bool
    /// Settings for third-party plug-ins, by plug-in name.
    public var settings: [String: JSONValue]

    public init(
        results: [ResultPath] = [], mirrors: [MirrorMount] = [], mirrorIndex: Bool = false, maxResultSize: Int64 = 1 << 30,
        settings: [String: JSONValue] = [:]
    ) {
        self.results = results
        self.mirrors = mirrors
        self.mirrorIndex = mirrorIndex
        self.maxResultSize = maxResultSize
        self.settings = settings
    }

    private enum CodingKeys: String, CodingKey {
        case results, mirrors, mirrorIndex, maxResultSize, settings
    }

    /// Reads a configuration; `mirrorIndex` may be absent (journals written before it existed).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        results = try container.decode([ResultPath].self, forKey: .results)
        mirrors = try container.decode([MirrorMount].self, forKey: .mirrors)
        mirrorIndex = try container.decodeIfPresent(Bool.self, forKey: .mirrorIndex) ?? false
        maxResultSize = try container.decode(Int64.self, forKey: .maxResultSize)
        settings = try container.decode([String: JSONValue].self, forKey: .settings)
    }
}

/// A path the guest may `PUT` a result file to.
public struct ResultPath: Sendable, Codable, Equatable, Hashable {
    /// The URL path, starting with `/`.
    public var path: String
    /// A run is complete only when every required result has arrived.
    public var required: Bool

    public init(path: String, required: Bool) {
        self.path = path
        self.required = required
    }
}

/// A host directory served read-only under a URL prefix.
public struct MirrorMount: Sendable, Codable, Equatable, Hashable {
    /// The URL prefix, starting with `/` and without a trailing `/`, e.g. `/cpan`.
    public var prefix: String
    /// The absolute directory served.
    public var directory: String

    public init(prefix: String, directory: String) {
        self.prefix = prefix
        self.directory = directory
    }
}
