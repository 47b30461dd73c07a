import FoundationEssentials
import PluginAPI
import SupportKit

/// A job's settings before validation: read from a JSON job file (PITA's keys or ours), then
/// overridden field by field by command-line flags.
public struct JobSettings: Sendable {
    public var command: [String]?
    public var listenHost: String?
    public var listenPort: Int?
    public var results: [String] = []
    public var optionalResults: [String] = []
    /// Prefix → directory, in the order given.
    public var mirrors: [(String, String)] = []
    /// Answer a mirror directory with an HTML index instead of 404.
    public var mirrorIndex: Bool?
    public var startupTimeout: Double?
    public var activityTimeout: Double?
    public var totalTimeout: Double?
    public var shutdownTimeout: Double?
    public var stopGrace: Double?
    public var killGrace: Double?
    /// Stop commands in the order they are tried.
    public var stopCommands: [[String]] = []
    public var runDirectory: String?
    public var maxResultSize: Int64?
    public var maxExtend: Double?
    /// `auto` (default), `none`, or a token of your own.
    public var token: String?
    public var maxConnections: Int?
    public var maxHeaderBytes: Int?
    public var idleTimeout: Double?
    public var failOn: [String] = []
    public var failOnPanic = false
    public var rebootPattern: String?
    public var maxReboots: Int?
    public var pluginSettings: [String: JSONValue] = [:]
    /// The run's guests; empty for a run of one guest given by `command`.
    public var guests: [GuestSettings] = []
    /// Every qemu guest of the run gets a second NIC on one private network between them.
    public var privateNetwork: Bool?

    public init() {}

    /// Reads a job file. Unknown keys and wrong types are refused, naming the key.
    public static func load(path: String) throws(JobError) -> JobSettings {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: fileErrorText(error))
        }
        return try parse(data)
    }

    public static func parse(_ data: Data) throws(JobError) -> JobSettings {
        let value: JSONValue
        do { value = try JSONValue.decode(data) } catch { throw .notJSON(reason: "\(error)") }
        guard let object = value.objectValue else { throw .notJSON(reason: "the top level must be an object") }
        var settings = JobSettings()
        var problems: [JobError] = []
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            do throws(JobError) {
                try settings.take(key, value)
                settings.origins[Self.setting(ofKey: key)] = "job key '\(key)'"
            } catch {
                problems.append(error)
            }
        }
        if let problem = JobError.combined(problems) { throw problem }
        return settings
    }

    /// The job-file keys, ours and PITA's.
    public static let knownKeys = [
        "command", "execute", "stop_command", "stop_commands", "http_local_addr", "http_local_port", "listen", "http_result",
        "results", "optional_results", "http_mirrors", "mirrors", "mirror_index", "http_startup_timeout", "startup_timeout",
        "http_activity_timeout", "activity_timeout", "total_timeout", "http_shutdown_timeout", "shutdown_timeout",
        "stop_grace", "kill_grace", "max_extend", "token", "max_connections", "max_header_bytes", "idle_timeout", "fail_on",
        "fail_on_panic", "reboot_pattern", "max_reboots", "run_dir", "max_result_size", "plugins",
        "guests", "private_network",
    ]

    /// Where each setting came from, by its name in words (`startup timeout`): a flag
    /// (`--startup-timeout`) or a job key, so that a problem names what the user wrote.
    public var origins: [String: String] = [:]

    /// What to call a setting in a message: the flag or job key it came from.
    func origin(of setting: String) -> String {
        origins[setting] ?? setting
    }

    /// The setting a job key sets, in words (`http_startup_timeout` → `startup timeout`).
    static func setting(ofKey key: String) -> String {
        var name = key.hasPrefix("http_") ? String(key.dropFirst(5)) : key
        if name == "result" { name = "results" }
        return name.replacingEvery("_", with: " ")
    }

    private mutating func take(_ key: String, _ value: JSONValue) throws(JobError) {
        switch key {
        case "command", "execute": command = try Self.commandLine(value, key: key)
        case "stop_command": stopCommands.append(try Self.commandLine(value, key: key))
        case "stop_commands":
            guard let items = value.arrayValue else { throw .wrongType(key: key, expected: "a list of commands") }
            for item in items { stopCommands.append(try Self.commandLine(item, key: key)) }
        case "http_local_addr": listenHost = try Self.string(value, key: key)
        case "http_local_port":
            guard let port = value.intValue else { throw .wrongType(key: key, expected: "an integer") }
            listenPort = Int(port)
        case "listen": (listenHost, listenPort) = try Self.parseListen(try Self.string(value, key: key))
        case "http_result", "results": results += try Self.strings(value, key: key)
        case "optional_results": optionalResults += try Self.strings(value, key: key)
        case "http_mirrors", "mirrors":
            guard let mounts = value.objectValue else { throw .wrongType(key: key, expected: "an object of prefix → directory") }
            for (prefix, directory) in mounts.sorted(by: { $0.key < $1.key }) {
                guard let directory = directory.stringValue else { throw .wrongType(key: "\(key).\(prefix)", expected: "a directory path") }
                mirrors.append((prefix, directory))
            }
        case "mirror_index":
            guard let flag = value.boolValue else { throw .wrongType(key: key, expected: "true or false") }
            mirrorIndex = flag
        case "http_startup_timeout", "startup_timeout": startupTimeout = try Self.seconds(value, key: key)
        case "http_activity_timeout", "activity_timeout": activityTimeout = try Self.seconds(value, key: key)
        case "total_timeout": totalTimeout = try Self.seconds(value, key: key)
        case "http_shutdown_timeout", "shutdown_timeout": shutdownTimeout = try Self.seconds(value, key: key)
        case "stop_grace": stopGrace = try Self.seconds(value, key: key)
        case "kill_grace": killGrace = try Self.seconds(value, key: key)
        case "max_extend":
            guard let number = value.doubleValue, number >= 0 else { throw .wrongType(key: key, expected: "a number of seconds, 0 or more") }
            maxExtend = number
        case "token": token = try Self.string(value, key: key)
        case "max_connections": maxConnections = try Self.integer(value, key: key)
        case "max_header_bytes": maxHeaderBytes = try Self.integer(value, key: key)
        case "idle_timeout": idleTimeout = try Self.seconds(value, key: key)
        case "fail_on": failOn += try Self.strings(value, key: key)
        case "fail_on_panic":
            guard let flag = value.boolValue else { throw .wrongType(key: key, expected: "true or false") }
            failOnPanic = flag
        case "reboot_pattern": rebootPattern = try Self.string(value, key: key)
        case "max_reboots": maxReboots = try Self.integer(value, key: key)
        case "run_dir": runDirectory = try Self.string(value, key: key)
        case "max_result_size":
            guard let size = value.intValue, size > 0 else { throw .wrongType(key: key, expected: "a positive integer") }
            maxResultSize = size
        case "plugins":
            guard let plugins = value.objectValue else { throw .wrongType(key: key, expected: "an object of plug-in name → settings") }
            pluginSettings = plugins
        case "guests":
            guard let items = value.arrayValue, !items.isEmpty else { throw .wrongType(key: key, expected: "a list of guests") }
            var parsed: [GuestSettings] = []
            for (index, item) in items.enumerated() { parsed.append(try GuestSettings.parse(item, index: index)) }
            guests = parsed
        case "private_network":
            guard let flag = value.boolValue else { throw .wrongType(key: key, expected: "true or false") }
            privateNetwork = flag
        default: throw JobError.unknownKey(key, didYouMean: closest(to: key, among: Self.knownKeys))
        }
    }

    /// Lays `--set PLUGIN.KEY=VALUE` over the job file's `plugins` key. The value stays text:
    /// the plug-in reads it as the type it wants (`PluginSettings`), and refuses it if it can't.
    public mutating func setPluginSetting(_ text: String) throws(JobError) {
        guard let equals = text.firstIndex(of: "="), let dot = text[..<equals].firstIndex(of: "."),
            dot > text.startIndex, text.index(after: dot) < equals
        else { throw .badFlag(flag: "--set", value: text, reason: "must be PLUGIN.KEY=VALUE, e.g. Echo.max_bytes=4096") }
        let plugin = String(text[..<dot])
        let key = String(text[text.index(after: dot)..<equals])
        let names = PluginTable.rows.map { $0.name }
        guard names.contains(plugin) else {
            throw .badFlag(flag: "--set", value: text, reason: "no plug-in named '\(plugin)' (the plug-ins: \(names.joined(separator: ", ")))")
        }
        var values = pluginSettings[plugin]?.objectValue ?? [:]
        values[key] = .string(String(text[text.index(after: equals)...]))
        pluginSettings[plugin] = .object(values)
    }

    /// Parses `HOST:PORT` (or `[v6]:PORT`).
    public static func parseListen(_ text: String) throws(JobError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw .badListen(text)
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw .badListen(text) }
        return (host, port)
    }

    /// Parses `PREFIX=DIR`.
    public static func parseMirror(_ text: String) throws(JobError) -> (String, String) {
        guard let equals = text.firstIndex(of: "="), text[..<equals].hasPrefix("/"), equals != text.index(before: text.endIndex) else {
            throw .badMirror(text)
        }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }

    static func string(_ value: JSONValue, key: String) throws(JobError) -> String {
        guard let text = value.stringValue else { throw .wrongType(key: key, expected: "a string") }
        return text
    }

    private static func integer(_ value: JSONValue, key: String) throws(JobError) -> Int {
        guard let number = value.intValue else { throw .wrongType(key: key, expected: "an integer") }
        return Int(number)
    }

    static func strings(_ value: JSONValue, key: String) throws(JobError) -> [String] {
        if let text = value.stringValue { return [text] }
        guard let items = value.arrayValue else { throw .wrongType(key: key, expected: "a string or a list of strings") }
        var texts: [String] = []
        for item in items {
            guard let text = item.stringValue else { throw .wrongType(key: key, expected: "a string or a list of strings") }
            texts.append(text)
        }
        return texts
    }

    /// A command is a list of arguments, or one string run by `sh -c` (PITA's `execute` may be either).
    static func commandLine(_ value: JSONValue, key: String) throws(JobError) -> [String] {
        if let text = value.stringValue { return ["/bin/sh", "-c", text] }
        let items = try strings(value, key: key)
        guard !items.isEmpty else { throw .missingCommand }
        return items
    }

    static func seconds(_ value: JSONValue, key: String) throws(JobError) -> Double {
        guard let number = value.doubleValue else { throw .wrongType(key: key, expected: "a number of seconds") }
        guard number > 0, number.isFinite else { throw .badTimeout(key: "job key '\(key)'", value: number) }
        return number
    }
}

/// The job file's value readers, shared by the job's keys and each guest's.
typealias JobValues = JobSettings
