import FoundationEssentials
import Logging
import PluginAPI
import Synchronization

/// A `HostContext` that records what a plug-in does instead of running a host: its journal
/// records, what it notified, what it asked, its log lines, whether it finished or failed the
/// run. The run clock stands still until the test moves it (`advanceClock(by:)`).
///
/// ```swift
/// let context = RecordingContext()
/// let plugin = try EchoPlugin(context: context)
/// #expect(context.records.map(\.kind) == [])
/// ```
public final class RecordingContext: HostContext {
    /// One journal record a plug-in wrote.
    public struct Record: Sendable, Equatable {
        /// The record's kind, e.g. `result-stored`.
        public var kind: String
        /// Its fields.
        public var fields: [String: JSONValue]
        /// Written with `recordDurably` (the plug-in waited for stable storage).
        public var durable: Bool
        /// `elapsed` when it was written.
        public var time: Double
    }

    private struct State {
        var records: [Record] = []
        var events: [RunEvent] = []
        var asked: [HostRequest] = []
        var logLines: [String] = []
        var elapsed: Double = 0
    }

    /// The plug-in's name, the source of its records in `journalEntries()`.
    public let pluginName: String
    public let runDirectory: URL
    public let configuration: RunConfiguration
    private let state = Mutex(State())
    /// Answers the plug-in's `ask`s; by default every request is refused with 501.
    private let answer: @Sendable (HostRequest) async throws -> JSONValue

    /// - Parameters:
    ///   - pluginName: whose context this is: its settings are `configuration.settings[pluginName]`.
    ///   - runDirectory: the run directory; by default a fresh temporary one with `results/`,
    ///     which the test removes with `removeRunDirectory()`.
    ///   - configuration: the run's configuration (result paths, mirrors, settings).
    ///   - answer: how the "host" answers `ask` (e.g. `{ _ in ["granted": 60] }`).
    public init(
        pluginName: String = "Plugin", runDirectory: URL? = nil, configuration: RunConfiguration = RunConfiguration(),
        answer: @escaping @Sendable (HostRequest) async throws -> JSONValue = { _ in
            throw GuestError(501, "the recording context takes no run-time requests")
        }
    ) throws {
        self.pluginName = pluginName
        self.configuration = configuration
        self.answer = answer
        if let runDirectory {
            self.runDirectory = runDirectory
        } else {
            self.runDirectory = FileManager.default.temporaryDirectory
                .appendingPathComponent("plugin-testing-\(UUID().uuidString)", isDirectory: true)
        }
        try FileManager.default.createDirectory(
            at: self.runDirectory.appendingPathComponent("results"), withIntermediateDirectories: true)
    }

    /// A context for a host taking the run over: the same run directory, configuration and
    /// answers, its journal going on from this one's records, its clock from this one's time.
    public func continued() throws -> RecordingContext {
        let next = try RecordingContext(pluginName: pluginName, runDirectory: runDirectory, configuration: configuration, answer: answer)
        let (records, elapsed) = state.withLock { ($0.records, $0.elapsed) }
        next.state.withLock {
            $0.records = records
            $0.elapsed = elapsed
        }
        return next
    }

    /// Removes the run directory and everything the plug-in wrote in it.
    public func removeRunDirectory() {
        try? FileManager.default.removeItem(at: runDirectory)
    }

    public var settings: PluginSettings { PluginSettings(configuration.settings[pluginName]?.objectValue ?? [:]) }

    public var logger: Logger {
        let lines = LogLines(context: self)
        var logger = Logger(label: "support-host.plugin.\(pluginName)", factory: { _ in lines })
        logger.logLevel = .trace
        return logger
    }

    public var elapsed: Double { state.withLock { $0.elapsed } }

    /// Moves the run clock on.
    public func advanceClock(by seconds: Double) { state.withLock { $0.elapsed += seconds } }

    public func record(_ kind: String, _ fields: [String: JSONValue]) {
        state.withLock { $0.records.append(Record(kind: kind, fields: fields, durable: false, time: $0.elapsed)) }
    }

    public func recordDurably(_ kind: String, _ fields: [String: JSONValue]) async throws {
        state.withLock { $0.records.append(Record(kind: kind, fields: fields, durable: true, time: $0.elapsed)) }
    }

    public func notify(_ event: RunEvent) { state.withLock { $0.events.append(event) } }

    public func ask(_ request: HostRequest) async throws -> JSONValue {
        state.withLock { $0.asked.append(request) }
        return try await answer(request)
    }

    /// Every record written so far, in order.
    public var records: [Record] { state.withLock { $0.records } }
    /// Every event notified so far (`guestPinged`, `resultStored`, `activity`, `endRun`), in order.
    public var events: [RunEvent] { state.withLock { $0.events } }
    /// Every request asked of the host so far, in order.
    public var asked: [HostRequest] { state.withLock { $0.asked } }
    /// Every log line, as `LEVEL message`.
    public var logLines: [String] { state.withLock { $0.logLines } }

    /// How the plug-in ended the run, if it did (`finish(reason:)` or `fail(reason:)`).
    public var runEnd: (failed: Bool, reason: String)? {
        for event in events.reversed() { if case .endRun(let failed, let reason) = event { return (failed, reason) } }
        return nil
    }

    /// How often the plug-in counted as the guest's activity.
    public var activityCount: Int { events.filter { $0 == .activity }.count }

    /// How often the plug-in counted as one guest's activity (`countsAsActivity(of:)`).
    public func activityCount(of guest: String) -> Int {
        events.filter { $0 == .guestActivity(guest: guest) }.count
    }

    /// The records as the journal would hold them, for replaying into a fresh plug-in.
    public func journalEntries() -> [JournalEntry] {
        records.enumerated().map { index, record in
            JournalEntry(
                seq: UInt64(index + 1), time: record.time, wall: "1970-01-01T00:00:00Z", source: pluginName,
                kind: record.kind, fields: record.fields)
        }
    }

    fileprivate func log(_ line: String) { state.withLock { $0.logLines.append(line) } }
}

/// Keeps a plug-in's log lines in its `RecordingContext`.
private struct LogLines: LogHandler {
    let context: RecordingContext
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        context.log("\(event.level) \(event.message)")
    }
}
