import FoundationEssentials
import PluginAPI

/// One guest of a validated job: what to launch, what it must send, its own startup and
/// activity timeouts, and whether the run stands or falls with it. A job that lists no
/// `guests` has one, named `GuestDescription.defaultName`, made of the job's own keys.
public struct JobGuest: Sendable, Equatable {
    public var name: String
    public var role: String?
    public var essential: Bool
    public var command: [String]
    /// Its result paths (required and optional).
    public var results: [ResultPath]
    public var stopCommands: [[String]]
    public var startupTimeout: Double
    public var activityTimeout: Double

    /// How plug-ins see it.
    var description: GuestDescription {
        GuestDescription(name: name, role: role, essential: essential, results: results)
    }

    /// A guest name is used in file names (`console-NAME.log`, `results/NAME/`) and URLs.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 32 else { return false }
        func plain(_ scalar: Unicode.Scalar) -> Bool { ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) }
        return plain(first) && name.unicodeScalars.allSatisfy { plain($0) || $0 == "-" || $0 == "_" }
    }

    /// Validates the job's `guests` entries (each problem added to `problems`); a guest without
    /// its own results, stop commands or timeouts takes the job's.
    static func validate(
        _ entries: [GuestSettings], results: [ResultPath], stopCommands: [[String]], timeouts: Job.Timeouts,
        problems: inout [JobError]
    ) -> [JobGuest] {
        var guests: [JobGuest] = []
        var names: Set<String> = []
        for (index, entry) in entries.enumerated() {
            let name = entry.name ?? ""
            if !isValidName(name) {
                problems.append(.badGuest(index: index, reason: "its name must be 1–32 letters, digits, '-' or '_', starting with a letter or digit (got '\(name)')"))
            } else if !names.insert(name).inserted {
                problems.append(.badGuest(index: index, reason: "the name '\(name)' is given twice"))
            }
            var command: [String] = []
            if let given = entry.command, let executable = given.first, !executable.isEmpty {
                if !Job.isExecutable(executable) { problems.append(.commandNotFound(executable)) }
                command = given
            } else if let kind = entry.kind {
                problems.append(.badGuest(index: index, reason: "a guest of kind \(kind) is prepared by `support-host run` (GuestKinds.prepare) before the job is checked"))
            } else {
                problems.append(.badGuest(index: index, reason: "it has no command (give one, or a guest kind: \(QemuArch.guestNames.joined(separator: ", ")))"))
            }
            // `results` and `optional_results` each replace the job's own, or take them when absent.
            let own = Job.resultPaths(
                required: entry.results ?? results.filter(\.required).map(\.path),
                optional: entry.optionalResults ?? results.filter { !$0.required }.map(\.path), problems: &problems)
            for stop in entry.stopCommands ?? [] where !(stop.first.map(Job.isExecutable) ?? false) {
                problems.append(.commandNotFound(stop.first ?? ""))
            }
            guests.append(JobGuest(
                name: name, role: entry.role, essential: entry.essential ?? true, command: command, results: own,
                stopCommands: entry.stopCommands ?? stopCommands, startupTimeout: entry.startupTimeout ?? timeouts.startup,
                activityTimeout: entry.activityTimeout ?? timeouts.activity))
        }
        return guests
    }

    /// Every path some guest may put, for the plug-ins' namespaces: required if any guest requires it.
    static func union(_ guests: [JobGuest]) -> [ResultPath] {
        var union: [ResultPath] = []
        for result in guests.flatMap(\.results) {
            if let index = union.firstIndex(where: { $0.path == result.path }) {
                union[index].required = union[index].required || result.required
            } else {
                union.append(result)
            }
        }
        return union
    }
}
