import FoundationEssentials
import PluginAPI

/// `support-host discover`: boot the guest; its image manager describes each testing context
/// and `PUT`s a PITA-XML `<guest>` to `/<job_id>` (PITA's way); print the platforms and hashes.
extension DiscoverPlugin {
    public static var verbs: [Verb] {
        [Verb(name: "discover", summary: "boot the guest; print the platforms (testing contexts) it describes, with their hashes")]
    }

    /// Config keys worth a line of their own when they are there.
    static let highlights = ["archname", "osname", "osvers", "version", "byteorder", "ivsize", "ptrsize", "kernel_release", "machine", "busybox", "coreutils", "shell"]

    public func command(_ name: String, arguments: [String: JSONValue]) async throws -> JSONValue {
        guard name == "discover", let stage = VerbStage(arguments: arguments) else {
            throw CommandError.unknownCommand(plugin: Self.name, command: name)
        }
        switch stage {
        case .prepare:
            // PITA's discovery always uses job id 1; the document is a result at /1.
            return VerbPlan(task: "Discover", jobID: 1, results: ["/1"]).json
        case .finish:
            return Self.verdict(VerbReport(arguments["report"] ?? .null)).json
        }
    }

    static func verdict(_ run: VerbReport) -> VerbVerdict {
        let platforms = run.report["platforms"]?.arrayValue ?? []
        var lines: [String] = []
        for platform in platforms {
            lines.append("\(platform["scheme"]?.stringValue ?? "?") \(platform["path"]?.stringValue ?? "?")  hash \(platform["hash"]?.stringValue ?? "?")")
            let config = platform["config"]?.objectValue ?? [:]
            for key in highlights {
                if let value = config[key]?.stringValue, !value.isEmpty { lines.append("    \(key) = \(value)") }
            }
        }
        lines.append(platforms.isEmpty ? "no platforms: \(run.line)" : "\(platforms.count) platform\(platforms.count == 1 ? "" : "s"); \(run.line)")
        let code: Int32 = run.exitCode != 0 ? run.exitCode : platforms.isEmpty ? 1 : 0
        return VerbVerdict(lines: lines, exitCode: code, details: ["platforms": .array(platforms), "outcome": .string(run.outcome)])
    }
}
