import Foundation
import PluginAPI

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

    public init() {}

    /// Reads a job file. Unknown keys and wrong types are refused, naming the key.
    public static func load(path: String) throws(JobError) -> JobSettings {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        return try parse(data)
    }

    public static func parse(_ data: Data) throws(JobError) -> JobSettings {
        let value: JSONValue
        do { value = try JSONValue.decode(data) } catch { throw .notJSON(reason: "\(error)") }
        guard let object = value.objectValue else { throw .notJSON(reason: "the top level must be an object") }
        var settings = JobSettings()
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "command", "execute": settings.command = try commandLine(value, key: key)
            case "stop_command": settings.stopCommands.append(try commandLine(value, key: key))
            case "stop_commands":
                guard let items = value.arrayValue else { throw .wrongType(key: key, expected: "a list of commands") }
                for item in items { settings.stopCommands.append(try commandLine(item, key: key)) }
            case "http_local_addr": settings.listenHost = try string(value, key: key)
            case "http_local_port":
                guard let port = value.intValue else { throw .wrongType(key: key, expected: "an integer") }
                settings.listenPort = Int(port)
            case "listen": (settings.listenHost, settings.listenPort) = try parseListen(try string(value, key: key))
            case "http_result", "results": settings.results += try strings(value, key: key)
            case "optional_results": settings.optionalResults += try strings(value, key: key)
            case "http_mirrors", "mirrors":
                guard let mounts = value.objectValue else { throw .wrongType(key: key, expected: "an object of prefix → directory") }
                for (prefix, directory) in mounts.sorted(by: { $0.key < $1.key }) {
                    guard let directory = directory.stringValue else { throw .wrongType(key: "\(key).\(prefix)", expected: "a directory path") }
                    settings.mirrors.append((prefix, directory))
                }
            case "mirror_index":
                guard let flag = value.boolValue else { throw .wrongType(key: key, expected: "true or false") }
                settings.mirrorIndex = flag
            case "http_startup_timeout", "startup_timeout": settings.startupTimeout = try seconds(value, key: key)
            case "http_activity_timeout", "activity_timeout": settings.activityTimeout = try seconds(value, key: key)
            case "total_timeout": settings.totalTimeout = try seconds(value, key: key)
            case "http_shutdown_timeout", "shutdown_timeout": settings.shutdownTimeout = try seconds(value, key: key)
            case "stop_grace": settings.stopGrace = try seconds(value, key: key)
            case "kill_grace": settings.killGrace = try seconds(value, key: key)
            case "max_extend":
                guard let number = value.doubleValue, number >= 0 else { throw .wrongType(key: key, expected: "a number of seconds, 0 or more") }
                settings.maxExtend = number
            case "token": settings.token = try string(value, key: key)
            case "max_connections": settings.maxConnections = try integer(value, key: key)
            case "max_header_bytes": settings.maxHeaderBytes = try integer(value, key: key)
            case "idle_timeout": settings.idleTimeout = try seconds(value, key: key)
            case "fail_on": settings.failOn += try strings(value, key: key)
            case "fail_on_panic":
                guard let flag = value.boolValue else { throw .wrongType(key: key, expected: "true or false") }
                settings.failOnPanic = flag
            case "reboot_pattern": settings.rebootPattern = try string(value, key: key)
            case "max_reboots": settings.maxReboots = try integer(value, key: key)
            case "run_dir": settings.runDirectory = try string(value, key: key)
            case "max_result_size":
                guard let size = value.intValue, size > 0 else { throw .wrongType(key: key, expected: "a positive integer") }
                settings.maxResultSize = size
            case "plugins":
                guard let plugins = value.objectValue else { throw .wrongType(key: key, expected: "an object of plug-in name → settings") }
                settings.pluginSettings = plugins
            default: throw .unknownKey(key)
            }
        }
        return settings
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

    private static func string(_ value: JSONValue, key: String) throws(JobError) -> String {
        guard let text = value.stringValue else { throw .wrongType(key: key, expected: "a string") }
        return text
    }

    private static func integer(_ value: JSONValue, key: String) throws(JobError) -> Int {
        guard let number = value.intValue else { throw .wrongType(key: key, expected: "an integer") }
        return Int(number)
    }

    private static func strings(_ value: JSONValue, key: String) throws(JobError) -> [String] {
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
    private static func commandLine(_ value: JSONValue, key: String) throws(JobError) -> [String] {
        if let text = value.stringValue { return ["/bin/sh", "-c", text] }
        let items = try strings(value, key: key)
        guard !items.isEmpty else { throw .missingCommand }
        return items
    }

    private static func seconds(_ value: JSONValue, key: String) throws(JobError) -> Double {
        guard let number = value.doubleValue else { throw .wrongType(key: key, expected: "a number of seconds") }
        guard number > 0, number.isFinite else { throw .badTimeout(key: key, value: number) }
        return number
    }
}
