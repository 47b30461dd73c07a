import FoundationEssentials
import PluginAPI

/// The job that starts a run, validated: every field is usable, so nothing fails for a reason
/// the job could have told before launch.
public struct Job: Sendable {
    public var command: [String]
    public var listenHost: String
    public var listenPort: Int
    public var configuration: RunConfiguration
    public var timeouts: Timeouts
    /// Commands that ask the guest to stop, tried in turn before any signal.
    public var stopCommands: [[String]]
    public var runDirectory: String?
    /// The most a guest may extend its total deadline by, in total (0: not at all).
    public var maxExtend: Double
    /// Who may talk to the host: the guest, proven by the run token (unless `.none`).
    public var token: TokenChoice
    public var limits: ServerLimits
    /// Console lines matching one of these end the run (`console-fail`).
    public var failOn: [String]
    /// A console line matching this, seen again, means the guest rebooted.
    public var rebootPattern: String?
    /// Reboots allowed before the run ends as `reboot-loop` (0: a reboot is a failure).
    public var maxReboots: Int
    /// The run's guests in the job's order: the job's `guests`, or one made of `command`,
    /// `results` and the timeouts. Every part of the run iterates this list.
    public var guests: [JobGuest]
    /// Each guest's second NIC on one private network between the run's guests.
    public var privateNetwork: Bool
    /// The job's `guests` entries as given, for the journal's copy of the job (empty for a
    /// job of one guest).
    var guestSettings: [GuestSettings]

    /// How the run token is chosen.
    public enum TokenChoice: Sendable, Equatable {
        /// A fresh random token per run (the default).
        case auto
        /// No token: for old images that only know root paths.
        case none
        case fixed(String)
    }

    /// What one client can make the host hold.
    public struct ServerLimits: Sendable, Equatable {
        /// Connections open at once; past it, one that has not presented the token gives way to a
        /// newcomer, else the newcomer is refused (see `ConnectionTable`).
        public var maxConnections = 64
        /// Bytes of header fields in one request (431 beyond).
        public var maxHeaderBytes = 16 * 1024
        /// Bytes of the request target (414 beyond).
        public var maxRequestLine = 8 * 1024
        /// Seconds a connection may wait for its next request head, or stall in a body, before
        /// it is closed.
        public var idleTimeout: Double = 30
        public init() {}
    }

    /// The four timeouts of a run and the graces of the stop sequence, in seconds.
    public struct Timeouts: Sendable, Equatable {
        public var startup: Double = 300
        public var activity: Double = 300
        public var total: Double = 4 * 3600
        public var shutdown: Double = 30
        public var stopGrace: Double = 30
        public var killGrace: Double = 5
        public init() {}
    }

    /// Validates settings (a job file with flags laid over it) into a job. Every problem is
    /// reported at once, each naming the flag or job key it came from.
    public init(_ settings: JobSettings) throws(JobError) {
        var problems: [JobError] = []
        let name = settings.origin(of:)
        let listsGuests = !settings.guests.isEmpty
        if let command = settings.command, let executable = command.first, !executable.isEmpty {
            if listsGuests { problems.append(.wrongType(key: "command", expected: "absent when 'guests' is given (each guest has its own command)")) }
            if !Self.isExecutable(executable) { problems.append(.commandNotFound(executable)) }
            self.command = command
        } else {
            if !listsGuests { problems.append(.missingCommand) }
            self.command = []
        }

        listenHost = settings.listenHost ?? "127.0.0.1"
        listenPort = settings.listenPort ?? 0
        if !(0...65535).contains(listenPort) || listenHost.isEmpty { problems.append(.badListen("\(listenHost):\(listenPort)")) }

        let results = Self.resultPaths(required: settings.results, optional: settings.optionalResults, problems: &problems)

        var mirrors: [MirrorMount] = []
        for (rawPrefix, directory) in settings.mirrors {
            var prefix = rawPrefix
            while prefix.count > 1 && prefix.hasSuffix("/") { prefix.removeLast() }
            guard prefix.hasPrefix("/"), prefix != "/" else {
                problems.append(.badMirror("\(rawPrefix)=\(directory)"))
                continue
            }
            var isDirectory = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory else {
                problems.append(.mirrorDirectoryMissing(prefix: prefix, directory: directory))
                continue
            }
            let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
            mirrors.append(MirrorMount(prefix: prefix, directory: absolute))
        }
        var timeouts = Timeouts()
        func set(_ value: Double?, _ key: String, _ field: WritableKeyPath<Timeouts, Double>) {
            guard let value else { return }
            guard value > 0, value.isFinite else { return problems.append(.badTimeout(key: name(key), value: value)) }
            timeouts[keyPath: field] = value
        }
        set(settings.startupTimeout, "startup timeout", \.startup)
        set(settings.activityTimeout, "activity timeout", \.activity)
        set(settings.totalTimeout, "total timeout", \.total)
        set(settings.shutdownTimeout, "shutdown timeout", \.shutdown)
        set(settings.stopGrace, "stop grace", \.stopGrace)
        set(settings.killGrace, "kill grace", \.killGrace)
        self.timeouts = timeouts

        for stop in settings.stopCommands {
            guard let first = stop.first, Self.isExecutable(first) else {
                problems.append(.commandNotFound(stop.first ?? ""))
                continue
            }
        }
        stopCommands = settings.stopCommands
        if listsGuests {
            guests = JobGuest.validate(settings.guests, results: results, stopCommands: stopCommands, timeouts: timeouts, problems: &problems)
        } else {
            guests = [JobGuest(
                name: GuestDescription.defaultName, role: nil, essential: true, command: command, results: results,
                stopCommands: stopCommands, startupTimeout: timeouts.startup, activityTimeout: timeouts.activity)]
        }
        privateNetwork = settings.privateNetwork ?? false
        if privateNetwork && guests.count > PrivateNetwork.maximumGuests {
            problems.append(.wrongType(key: "private_network", expected: "false for a run of more than \(PrivateNetwork.maximumGuests) guests (10.0.3.11 to 10.0.3.254)"))
        }
        guestSettings = settings.guests
        configuration = RunConfiguration(
            results: listsGuests ? JobGuest.union(guests) : results, mirrors: mirrors, mirrorIndex: settings.mirrorIndex ?? false,
            maxResultSize: settings.maxResultSize ?? (1 << 30), settings: settings.pluginSettings,
            guests: listsGuests ? guests.map(\.description) : [GuestDescription()])
        runDirectory = settings.runDirectory
        maxExtend = settings.maxExtend ?? 0
        if !(maxExtend >= 0 && maxExtend.isFinite) { problems.append(.badTimeout(key: name("max extend"), value: maxExtend)) }

        switch settings.token ?? "auto" {
        case "auto": token = .auto
        case "none":
            token = .none
            if guests.count > 1 {
                problems.append(.badToken("'none' serves a run of one guest: the host knows which of several guests sent a request from its token alone"))
            }
        case let value:
            if !(value.count >= 16 && value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })) {
                problems.append(.badToken("a token is 16 or more letters, digits, '-' or '_' (or 'auto', or 'none')"))
            }
            token = .fixed(value)
            if guests.count > 1 {
                problems.append(.badToken("a token of your own serves a run of one guest; each guest of a run of several gets its own generated token"))
            }
        }

        var limits = ServerLimits()
        func limit(_ value: Int?, _ key: String, _ field: WritableKeyPath<ServerLimits, Int>) {
            guard let value else { return }
            guard value > 0 else { return problems.append(.badLimit(key: name(key), value: value)) }
            limits[keyPath: field] = value
        }
        limit(settings.maxConnections, "max connections", \.maxConnections)
        limit(settings.maxHeaderBytes, "max header bytes", \.maxHeaderBytes)
        if let idle = settings.idleTimeout {
            if idle > 0, idle.isFinite { limits.idleTimeout = idle } else { problems.append(.badTimeout(key: name("idle timeout"), value: idle)) }
        }
        self.limits = limits

        failOn = settings.failOn + (settings.failOnPanic ? ConsoleWatch.panicPatterns.map(ConsoleWatch.literalPattern) : [])
        rebootPattern = settings.rebootPattern
        maxReboots = settings.maxReboots ?? 0
        if maxReboots < 0 { problems.append(.badLimit(key: name("max reboots"), value: maxReboots)) }
        for pattern in failOn + [rebootPattern].compactMap({ $0 }) where ConsolePattern(pattern) == nil {
            problems.append(.badPattern(pattern))
        }
        if let problem = JobError.combined(problems) { throw problem }
    }

    /// The job in the job-file format (our keys), journaled so that a host taking the run over
    /// after a crash rebuilds the same job. The token is not in it; only its digest is journaled.
    var jobFile: JSONValue {
        var file: [String: JSONValue] = [
            "command": .array(command.map { .string($0) }),
            "listen": .string("\(listenHost.contains(":") ? "[\(listenHost)]" : listenHost):\(listenPort)"),
            "results": .array(configuration.results.filter(\.required).map { .string($0.path) }),
            "optional_results": .array(configuration.results.filter { !$0.required }.map { .string($0.path) }),
            "mirrors": .object(Dictionary(configuration.mirrors.map { ($0.prefix, JSONValue.string($0.directory)) }) { a, _ in a }),
            "startup_timeout": .double(timeouts.startup), "activity_timeout": .double(timeouts.activity),
            "total_timeout": .double(timeouts.total), "shutdown_timeout": .double(timeouts.shutdown),
            "stop_grace": .double(timeouts.stopGrace), "kill_grace": .double(timeouts.killGrace),
            "max_result_size": .int(configuration.maxResultSize), "max_extend": .double(maxExtend),
            "token": .string(token == .none ? "none" : "auto"),
            "max_connections": .int(Int64(limits.maxConnections)), "max_header_bytes": .int(Int64(limits.maxHeaderBytes)),
            "idle_timeout": .double(limits.idleTimeout), "fail_on": .array(failOn.map { .string($0) }),
            "max_reboots": .int(Int64(maxReboots)), "plugins": .object(configuration.settings),
        ]
        file["stop_commands"] = .array(stopCommands.map { .array($0.map { .string($0) }) })
        if let rebootPattern { file["reboot_pattern"] = .string(rebootPattern) }
        if !guestSettings.isEmpty {
            file["command"] = nil
            file["guests"] = .array(guestSettings.map(\.jobFile))
        }
        if privateNetwork { file["private_network"] = true }
        return .object(file)
    }

    /// Result paths, required ones first: each starts with `/`, is not `/`, has no query and is
    /// given once; a path that breaks a rule is left out and named in `problems`.
    static func resultPaths(required: [String], optional: [String], problems: inout [JobError]) -> [ResultPath] {
        var results: [ResultPath] = []
        var seen: Set<String> = []
        for (path, isRequired) in required.map({ ($0, true) }) + optional.map({ ($0, false) }) {
            guard path.hasPrefix("/"), path != "/", !path.contains("?") else {
                problems.append(.badResultPath(path))
                continue
            }
            guard seen.insert(path).inserted else {
                problems.append(.duplicateResultPath(path))
                continue
            }
            results.append(ResultPath(path: path, required: isRequired))
        }
        return results
    }

    /// Whether a command name resolves to an executable file, as `execvp` would look it up.
    static func isExecutable(_ name: String) -> Bool {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
    }

    /// The job as recorded in the journal, so a report can be rebuilt from the journal alone.
    var fields: [String: JSONValue] {
        let configurationJSON = (try? JSONEncoder().encode(configuration)).flatMap { try? JSONValue.decode($0) } ?? .null
        var fields: [String: JSONValue] = [
            "command": .array(command.map { .string($0) }),
            "listen": .string("\(listenHost):\(listenPort)"),
            "configuration": configurationJSON,
            "timeouts": [
                "startup": .double(timeouts.startup), "activity": .double(timeouts.activity),
                "total": .double(timeouts.total), "shutdown": .double(timeouts.shutdown),
                "stop_grace": .double(timeouts.stopGrace), "kill_grace": .double(timeouts.killGrace),
                "max_extend": .double(maxExtend),
            ],
            "token": .string(token == .none ? "none" : "required"),
            "limits": [
                "max_connections": .int(Int64(limits.maxConnections)), "max_header_bytes": .int(Int64(limits.maxHeaderBytes)),
                "max_request_line": .int(Int64(limits.maxRequestLine)), "idle_timeout": .double(limits.idleTimeout),
            ],
            "fail_on": .array(failOn.map { .string($0) }),
            "max_reboots": .int(Int64(maxReboots)),
        ]
        if !stopCommands.isEmpty { fields["stop_commands"] = .array(stopCommands.map { .array($0.map { .string($0) }) }) }
        if let rebootPattern { fields["reboot_pattern"] = .string(rebootPattern) }
        if privateNetwork { fields["private_network"] = true }
        return fields
    }
}
