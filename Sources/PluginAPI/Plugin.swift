import FoundationEssentials

/// The four main hooks a plug-in may implement; the roles are fixed by the design. (Four more,
/// `runPhaseChanged`, `guestChanged`, `recoverFiles` and `finishFiles`, have defaults that do
/// nothing.)
///
/// `support-host plugins` lists which of them each row of the table implements.
public enum Hook: String, CaseIterable, Sendable, Codable {
    /// Data the guest sends in (`PUT`, `POST`): result files, platform descriptions, logs.
    case `import`
    /// Data the host sends out (`GET`, `HEAD`): the ping reply, mirror files.
    case export
    /// An operation asked by the operator or the run, not by the guest.
    case command
    /// Replays one journal entry of the plug-in's own to rebuild its state.
    case recover
}

/// Where in the URL space a plug-in answers.
///
/// An exact path beats any prefix; among prefixes the longest wins. A prefix `/cpan` matches
/// `/cpan` and `/cpan/...`, never `/cpanx`.
public enum Namespace: Hashable, Sendable, CustomStringConvertible {
    case exact(String)
    case prefix(String)

    public var description: String {
        switch self {
        case .exact(let path): return path
        case .prefix(let path): return path == "/" ? "/*" : path + "/*"
        }
    }
}

/// A plug-in: one row of the host's plug-in table, answering the requests under its namespaces.
///
/// A plug-in is created once per run with the run's context, and once more (fresh) whenever the
/// report is rebuilt from the journal: then only `recover` and `report` are called. Hooks it does
/// not implement keep the default, which refuses with `405` (import/export) or an error (command).
///
/// ```swift
/// final class Hello: Plugin {
///     static let name = "Hello"
///     static let summary = "answers GET /hello"
///     static let hooks: Set<Hook> = [.export]
///     static let namespaceSummary = "/hello"
///     init(context: any HostContext) {}
///     var namespaces: [Namespace] { [.exact("/hello")] }
///     func exportData(_ request: GuestRequest) throws -> Reply { .text(200, "hello\n") }
/// }
/// ```
public protocol Plugin: AnyObject, Sendable {
    /// A stable name: the journal source of the plug-in's records and its key in the report.
    static var name: String { get }
    /// One line saying what the plug-in does, for `support-host plugins`.
    static var summary: String { get }
    /// The hooks this plug-in implements, for `support-host plugins`.
    static var hooks: Set<Hook> { get }
    /// The namespaces before any configuration, for `support-host plugins` (e.g. "/cpan (--mirror)").
    static var namespaceSummary: String { get }
    /// The scheme verbs this plug-in offers on the command line (`support-host ping`), each
    /// carried out by its command hook (see `Verb`). Most plug-ins offer none, the default.
    static var verbs: [Verb] { get }

    /// Creates the plug-in for one run; throw `PluginError` when its settings or configuration
    /// are unusable: the host then refuses the run (exit 64), naming the plug-in.
    init(context: any HostContext) throws

    /// The namespaces this instance answers, derived from the run's configuration.
    var namespaces: [Namespace] { get }

    /// Export hook: answers `GET` and `HEAD`. Runs on the server's event loop, so it must not
    /// block beyond a `stat` or an `open`; the host sends a `.file` body with `sendfile`. A reply
    /// that must wait for something (another guest, a long poll) is `Reply.later { … }`: the
    /// host awaits it off the loop.
    func exportData(_ request: GuestRequest) throws -> Reply

    /// Import hook: receives a `PUT` or `POST` body as a stream of chunks. The body is never
    /// collected by the host; a plug-in that stores it writes each chunk as it arrives.
    func importData(_ request: GuestRequest, body: RequestBody) async throws -> Reply

    /// Command hook: an operation asked by the operator (a scheme verb) or by the run.
    func command(_ name: String, arguments: [String: JSONValue]) async throws -> JSONValue

    /// Recover hook: rebuilds state from one of the plug-in's own journal entries.
    func recover(_ entry: JournalEntry) throws

    /// The plug-in's sections of `report.json`, from the state `recover` rebuilt.
    func report() -> [String: JSONValue]

    /// Lifecycle hook: the run moved on (the guest started, every result is in, the host is
    /// stopping the guest, the guest exited). Called by the run's single owner: return at once.
    func runPhaseChanged(_ phase: RunPhase)

    /// Lifecycle hook, per guest: `guest` (a name of `configuration.guests`) started or is gone.
    /// Called by the run's single owner, for every guest of the run: return at once.
    func guestChanged(_ guest: String, _ change: GuestChange)

    /// Recovery hook, after a host or machine crash (`support-host recover`): called once all
    /// records are replayed, to check and repair the plug-in's own files (verify digests,
    /// restore from its journal records, remove what was never acknowledged). Returns report
    /// sections that replace those of `report()` with the same key.
    func recoverFiles(_ recovery: FileRecovery) -> [String: JSONValue]

    /// End-of-run hook: every guest is gone; write the files the plug-in put off during the run
    /// (reading its own records again through `records` if it needs what they hold). The host
    /// then makes the file system durable (`syncfs`) and writes the report. What is still not
    /// written is for `recoverFiles` to repair.
    func finishFiles(_ records: FileRecovery) async
}

/// What a plug-in's `recoverFiles` and `finishFiles` hooks get: where the run is, and its own
/// records again.
public struct FileRecovery: Sendable {
    /// The run directory being recovered.
    public let runDirectory: URL
    private let scan: @Sendable ((JournalEntry) -> Void) -> Void

    /// `scan` calls its argument with each of the plug-in's own records, in order.
    public init(runDirectory: URL, scan: @escaping @Sendable ((JournalEntry) -> Void) -> Void) {
        self.runDirectory = runDirectory
        self.scan = scan
    }

    /// Reads the plug-in's own journal records once more, one at a time, none kept: for a
    /// repair that needs what a record holds (a small result's bytes) only when a check failed.
    public func forEachOwnEntry(_ body: (JournalEntry) -> Void) {
        withoutActuallyEscaping(body) { scan($0) }
    }
}

extension Plugin {
    public static var verbs: [Verb] { [] }

    public func exportData(_ request: GuestRequest) throws -> Reply {
        throw GuestError(405, "\(Self.name) accepts no \(request.method) on \(request.path)")
    }

    public func importData(_ request: GuestRequest, body: RequestBody) async throws -> Reply {
        throw GuestError(405, "\(Self.name) accepts no \(request.method) on \(request.path)")
    }

    public func command(_ name: String, arguments: [String: JSONValue]) async throws -> JSONValue {
        throw CommandError.unknownCommand(plugin: Self.name, command: name)
    }

    public func recover(_ entry: JournalEntry) throws {}

    public func report() -> [String: JSONValue] { [:] }

    public func runPhaseChanged(_ phase: RunPhase) {}

    public func guestChanged(_ guest: String, _ change: GuestChange) {}

    public func recoverFiles(_ recovery: FileRecovery) -> [String: JSONValue] { [:] }

    public func finishFiles(_ records: FileRecovery) async {}
}

/// A command hook was asked for something it does not do.
public enum CommandError: Error, CustomStringConvertible, Sendable {
    case unknownCommand(plugin: String, command: String)

    public var description: String {
        switch self {
        case .unknownCommand(let plugin, let command): return "\(plugin) has no command '\(command)'"
        }
    }
}
