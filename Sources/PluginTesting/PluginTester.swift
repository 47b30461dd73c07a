import FoundationEssentials
import PluginAPI
import Synchronization

/// Drives one plug-in's hooks the way the host would, without a server: requests are routed
/// to it by its own namespaces, bodies come from memory, and what it records, notifies and asks
/// is kept in a `RecordingContext`.
///
/// ```swift
/// let tester = try PluginTester(EchoPlugin.self)
/// defer { tester.context.removeRunDirectory() }
/// let reply = try await tester.put("/echo/hello", body: Data("hi".utf8))
/// #expect(reply.status == 200)
/// #expect(try tester.replayed().report()["echoes"] == 1)
/// ```
public struct PluginTester<P: Plugin>: Sendable {
    /// The context the plug-in was made with, holding everything it did.
    public let context: RecordingContext
    /// The plug-in under test.
    public let plugin: P

    /// Makes the plug-in with a fresh `RecordingContext`; `settings` become its
    /// `configuration.settings[P.name]`, values as the job file or `--set` would give them.
    public init(
        _ type: P.Type, configuration: RunConfiguration = RunConfiguration(), settings: [String: JSONValue] = [:],
        runDirectory: URL? = nil,
        answer: @escaping @Sendable (HostRequest) async throws -> JSONValue = { _ in
            throw GuestError(501, "the recording context takes no run-time requests")
        }
    ) throws {
        var configuration = configuration
        if !settings.isEmpty { configuration.settings[P.name] = .object(settings) }
        let context = try RecordingContext(pluginName: P.name, runDirectory: runDirectory, configuration: configuration, answer: answer)
        do {
            plugin = try P(context: context)
        } catch {
            // The test gets no tester to clean up with: the run directory made for it goes now.
            if runDirectory == nil { context.removeRunDirectory() }
            throw error
        }
        self.context = context
    }

    /// The request the host would route to this plug-in for `method` and `path` (which may
    /// carry `?query`). Throws `GuestError` 404 when none of the plug-in's namespaces matches.
    ///
    /// `guest` is the sending guest, as the host knows it from its token: a name of
    /// `configuration.guests` in a test of several guests.
    public func request(
        _ method: String, _ path: String, headers: [(name: String, value: String)] = [], contentLength: Int64? = nil,
        guest: String = GuestDescription.defaultName
    ) throws -> GuestRequest {
        let parts = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let bare = String(parts[0])
        let query = parts.count > 1 ? String(parts[1]) : ""
        guard let namespace = Self.match(bare, in: plugin.namespaces) else {
            throw GuestError(404, "no namespace of \(P.name) matches \(bare)")
        }
        var subpath = ""
        if case .prefix(let prefix) = namespace { subpath = prefix == "/" ? bare : String(bare.dropFirst(prefix.count)) }
        return GuestRequest(
            method: method, path: bare, query: query, namespace: namespace, subpath: subpath, headers: headers,
            contentLength: contentLength, guest: guest)
    }

    /// `GET path` through the export hook, from `guest`. A `Reply.later` comes back as it is
    /// (the hook returned at once, as it must); `getAwaited` awaits it as the host would.
    public func get(_ path: String, headers: [(name: String, value: String)] = [], guest: String = GuestDescription.defaultName)
        throws -> Reply
    {
        try plugin.exportData(try request("GET", path, headers: headers, guest: guest))
    }

    /// `GET path` through the export hook, from `guest`, and the reply the host would send: a
    /// `Reply.later` is awaited (what its closure throws is thrown here, as from `post`).
    ///
    /// ```swift
    /// async let event = tester.getAwaited("/sync/event/up?wait=60", guest: "client")
    /// ```
    public func getAwaited(
        _ path: String, headers: [(name: String, value: String)] = [], guest: String = GuestDescription.defaultName
    ) async throws -> Reply {
        try await get(path, headers: headers, guest: guest).resolved()
    }

    /// `HEAD path` through the export hook, from `guest`.
    public func head(_ path: String, headers: [(name: String, value: String)] = [], guest: String = GuestDescription.defaultName)
        throws -> Reply
    {
        try plugin.exportData(try request("HEAD", path, headers: headers, guest: guest))
    }

    /// `PUT path` with `body` through the import hook, from `guest`.
    public func put(
        _ path: String, body: Data, headers: [(name: String, value: String)] = [], guest: String = GuestDescription.defaultName
    ) async throws -> Reply {
        try await send("PUT", path, body: body, headers: headers, guest: guest)
    }

    /// `POST path` with `body` through the import hook, from `guest`.
    public func post(
        _ path: String, body: Data, headers: [(name: String, value: String)] = [], guest: String = GuestDescription.defaultName
    ) async throws -> Reply {
        try await send("POST", path, body: body, headers: headers, guest: guest)
    }

    /// Any method with `body` through the import hook, from `guest`; the body arrives in chunks
    /// of `chunkSize` bytes, as from a socket.
    public func send(
        _ method: String, _ path: String, body: Data, headers: [(name: String, value: String)] = [], chunkSize: Int = 16 << 10,
        guest: String = GuestDescription.defaultName
    ) async throws -> Reply {
        let request = try request(method, path, headers: headers, contentLength: Int64(body.count), guest: guest)
        return try await plugin.importData(request, body: Self.body(body, chunkSize: chunkSize))
    }

    /// Tells the plug-in that `guest` started or is gone, as the run's owner does
    /// (`Plugin.guestChanged`): e.g. `tester.guestChanged("b", .exited(description: "killed by SIGKILL"))`.
    public func guestChanged(_ guest: String, _ change: GuestChange) {
        plugin.guestChanged(guest, change)
    }

    /// The command hook, as a verb or the run would call it.
    public func command(_ name: String, arguments: [String: JSONValue] = [:]) async throws -> JSONValue {
        try await plugin.command(name, arguments: arguments)
    }

    /// A fresh plug-in fed every record written so far through its recover hook: what the
    /// report (and a host taking the run over) would see. Its `report()` is the plug-in's part
    /// of `report.json`.
    public func replayed() throws -> P {
        let fresh = try P(context: try RecordingContext(
            pluginName: P.name, runDirectory: context.runDirectory, configuration: context.configuration))
        for entry in context.journalEntries() { try fresh.recover(entry) }
        return fresh
    }

    /// A host taking the run over (`run --resume`): a fresh plug-in that replayed every record
    /// written so far, driven by a tester whose context goes on with the same journal (its
    /// `records` start with the old ones). The old plug-in is left as it is — a killed host's
    /// waits are not answered; the guests' retries reach the new one.
    public func resumed() throws -> PluginTester<P> {
        let next = try context.continued()
        let fresh = try P(context: next)
        for entry in context.journalEntries() { try fresh.recover(entry) }
        return PluginTester(context: next, plugin: fresh)
    }

    private init(context: RecordingContext, plugin: P) {
        self.context = context
        self.plugin = plugin
    }

    /// What `support-host recover` would make of the run directory after a crash: a fresh
    /// plug-in replays the records, then checks its files (`recoverFiles`).
    public func recoveredFiles() throws -> [String: JSONValue] {
        let fresh = try replayed()
        let entries = context.journalEntries()
        return fresh.recoverFiles(FileRecovery(runDirectory: context.runDirectory) { body in entries.forEach(body) })
    }

    /// The run's end: the plug-in writes the files it put off (`finishFiles`), reading its own
    /// records again from what was written so far.
    public func finishFiles() async {
        let entries = context.journalEntries().filter { $0.source == P.name }
        await plugin.finishFiles(FileRecovery(runDirectory: context.runDirectory) { body in entries.forEach(body) })
    }

    /// A body that delivers `data` in chunks, with its length announced.
    public static func body(_ data: Data, chunkSize: Int = 16 << 10) -> RequestBody {
        let chunks = Chunks(data: data, size: max(1, chunkSize))
        return RequestBody(expectedLength: Int64(data.count)) { chunks.next() }
    }

    /// The host's rule: an exact path first, then the longest matching prefix.
    static func match(_ path: String, in namespaces: [Namespace]) -> Namespace? {
        if namespaces.contains(.exact(path)) { return .exact(path) }
        var best: String?
        for case .prefix(let prefix) in namespaces {
            let matches = prefix == "/" || path == prefix || path.hasPrefix(prefix + "/")
            if matches, prefix.count > (best?.count ?? -1) { best = prefix }
        }
        return best.map { .prefix($0) }
    }
}

/// The chunks of an in-memory body, handed out one at a time.
private final class Chunks: Sendable {
    private let data: Data
    private let size: Int
    private let offset = Mutex(0)

    init(data: Data, size: Int) {
        self.data = data
        self.size = size
    }

    func next() -> Data? {
        offset.withLock { offset in
            guard offset < data.count else { return nil }
            let end = min(offset + size, data.count)
            defer { offset = end }
            return data.subdata(in: (data.startIndex + offset)..<(data.startIndex + end))
        }
    }
}
