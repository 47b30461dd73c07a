import FoundationEssentials
import PluginAPI

/// One entry of a job's `guests` list before validation: its name, role, command, results,
/// whether the run stands or falls with it, and its own startup and activity timeouts.
public struct GuestSettings: Sendable {
    public var name: String?
    public var role: String?
    public var command: [String]?
    /// Nil: the job's top-level `results` (and `optional_results`) apply to this guest.
    public var results: [String]?
    public var optionalResults: [String]?
    public var essential: Bool?
    public var startupTimeout: Double?
    public var activityTimeout: Double?
    /// Nil: the job's stop commands.
    public var stopCommands: [[String]]?
    /// A guest given by kind instead of a command: `local` or `qemu:ARCH` (`GuestKinds`).
    public var kind: String?
    /// The scheme verb a guest given by kind carries out (`ping`, `discover`, `test`), its argument and scheme.
    public var verb: String?
    public var argument: String?
    public var scheme: String?

    public init(name: String? = nil, command: [String]? = nil) {
        self.name = name
        self.command = command
    }

    static let knownKeys = [
        "name", "role", "command", "execute", "results", "optional_results", "essential", "startup_timeout",
        "activity_timeout", "stop_command", "stop_commands", "guest", "verb", "argument", "scheme",
    ]

    /// Reads one entry of `guests` (`guests[index]` in messages); unknown keys are refused.
    static func parse(_ value: JSONValue, index: Int) throws(JobError) -> GuestSettings {
        let at = "guests[\(index)]"
        guard let object = value.objectValue else { throw .wrongType(key: at, expected: "an object with name and command") }
        var guest = GuestSettings()
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            let named = "\(at).\(key)"
            switch key {
            case "name": guest.name = try JobValues.string(value, key: named)
            case "role": guest.role = try JobValues.string(value, key: named)
            case "command", "execute": guest.command = try JobValues.commandLine(value, key: named)
            case "results": guest.results = try JobValues.strings(value, key: named)
            case "optional_results": guest.optionalResults = try JobValues.strings(value, key: named)
            case "essential":
                guard let flag = value.boolValue else { throw .wrongType(key: named, expected: "true or false") }
                guest.essential = flag
            case "startup_timeout": guest.startupTimeout = try JobValues.seconds(value, key: named)
            case "activity_timeout": guest.activityTimeout = try JobValues.seconds(value, key: named)
            case "stop_command": guest.stopCommands = (guest.stopCommands ?? []) + [try JobValues.commandLine(value, key: named)]
            case "stop_commands":
                guard let items = value.arrayValue else { throw .wrongType(key: named, expected: "a list of commands") }
                var commands = guest.stopCommands ?? []
                for item in items { commands.append(try JobValues.commandLine(item, key: named)) }
                guest.stopCommands = commands
            case "guest": guest.kind = try JobValues.string(value, key: named)
            case "verb": guest.verb = try JobValues.string(value, key: named)
            case "argument": guest.argument = try JobValues.string(value, key: named)
            case "scheme": guest.scheme = try JobValues.string(value, key: named)
            default: throw .unknownKey(named, didYouMean: closest(to: key, among: knownKeys).map { "\(at).\($0)" })
            }
        }
        return guest
    }

    /// The entry in the job-file format, for the journal's copy of the job.
    var jobFile: JSONValue {
        var file: [String: JSONValue] = [:]
        if let name { file["name"] = .string(name) }
        if let role { file["role"] = .string(role) }
        if let command { file["command"] = .array(command.map { .string($0) }) }
        if let results { file["results"] = .array(results.map { .string($0) }) }
        if let optionalResults { file["optional_results"] = .array(optionalResults.map { .string($0) }) }
        if let essential { file["essential"] = .bool(essential) }
        if let startupTimeout { file["startup_timeout"] = .double(startupTimeout) }
        if let activityTimeout { file["activity_timeout"] = .double(activityTimeout) }
        if let kind { file["guest"] = .string(kind) }
        if let verb { file["verb"] = .string(verb) }
        if let argument { file["argument"] = .string(argument) }
        if let scheme { file["scheme"] = .string(scheme) }
        if let stopCommands { file["stop_commands"] = .array(stopCommands.map { .array($0.map { .string($0) }) }) }
        return .object(file)
    }
}
