import Foundation
import PluginAPI

/// The job that starts a run, validated: every field is usable, so nothing fails for a reason
/// the job could have told before launch.
public struct Job: Sendable {
    public var command: [String]
    public var listenHost: String
    public var listenPort: Int
    public var configuration: RunConfiguration
    public var timeouts: Timeouts
    public var stopCommand: [String]?
    public var runDirectory: String?

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

    /// Validates settings (a job file with flags laid over it) into a job.
    public init(_ settings: JobSettings) throws(JobError) {
        guard let command = settings.command, let executable = command.first, !executable.isEmpty else {
            throw .missingCommand
        }
        guard Self.isExecutable(executable) else { throw .commandNotFound(executable) }
        self.command = command

        listenHost = settings.listenHost ?? "127.0.0.1"
        listenPort = settings.listenPort ?? 0
        guard (0...65535).contains(listenPort), !listenHost.isEmpty else { throw .badListen("\(listenHost):\(listenPort)") }

        var results: [ResultPath] = []
        for (path, required) in settings.results.map({ ($0, true) }) + settings.optionalResults.map({ ($0, false) }) {
            guard path.hasPrefix("/"), path != "/", !path.contains("?") else { throw .badResultPath(path) }
            guard !results.contains(where: { $0.path == path }) else { throw .duplicateResultPath(path) }
            results.append(ResultPath(path: path, required: required))
        }

        var mirrors: [MirrorMount] = []
        for (rawPrefix, directory) in settings.mirrors {
            var prefix = rawPrefix
            while prefix.count > 1 && prefix.hasSuffix("/") { prefix.removeLast() }
            guard prefix.hasPrefix("/"), prefix != "/" else { throw .badMirror("\(rawPrefix)=\(directory)") }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw .mirrorDirectoryMissing(prefix: prefix, directory: directory)
            }
            let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
            mirrors.append(MirrorMount(prefix: prefix, directory: absolute))
        }
        configuration = RunConfiguration(
            results: results, mirrors: mirrors, mirrorIndex: settings.mirrorIndex ?? false, maxResultSize: settings.maxResultSize ?? (1 << 30),
            settings: settings.pluginSettings)

        var timeouts = Timeouts()
        func set(_ value: Double?, _ key: String, _ field: WritableKeyPath<Timeouts, Double>) throws(JobError) {
            guard let value else { return }
            guard value > 0, value.isFinite else { throw .badTimeout(key: key, value: value) }
            timeouts[keyPath: field] = value
        }
        try set(settings.startupTimeout, "startup timeout", \.startup)
        try set(settings.activityTimeout, "activity timeout", \.activity)
        try set(settings.totalTimeout, "total timeout", \.total)
        try set(settings.shutdownTimeout, "shutdown timeout", \.shutdown)
        try set(settings.stopGrace, "stop grace", \.stopGrace)
        try set(settings.killGrace, "kill grace", \.killGrace)
        self.timeouts = timeouts

        if let stop = settings.stopCommand {
            guard let first = stop.first, Self.isExecutable(first) else { throw .commandNotFound(stop.first ?? "") }
            stopCommand = stop
        }
        runDirectory = settings.runDirectory
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
            ],
        ]
        if let stopCommand { fields["stop_command"] = .array(stopCommand.map { .string($0) }) }
        return fields
    }
}
