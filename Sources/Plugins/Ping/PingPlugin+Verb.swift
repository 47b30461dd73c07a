import FoundationEssentials
import PluginAPI
import SupportKit

/// `support-host ping`: boot the guest, wait for its startup ping, let it stop; say how long
/// the ping took from the guest's launch.
extension PingPlugin {
    public static var verbs: [Verb] {
        [Verb(name: "ping", summary: "boot the guest, wait for its startup ping, stop it; print how long the ping took")]
    }

    public func command(_ name: String, arguments: [String: JSONValue]) async throws -> JSONValue {
        guard name == "ping", let stage = VerbStage(arguments: arguments) else {
            throw CommandError.unknownCommand(plugin: Self.name, command: name)
        }
        switch stage {
        case .prepare:
            return VerbPlan(task: "Ping").json
        case .finish:
            return Self.verdict(VerbReport(arguments["report"] ?? .null)).json
        }
    }

    static func verdict(_ run: VerbReport) -> VerbVerdict {
        let launched = run.time(of: "guest-launched") ?? 0
        // The host's decision, not the first ping: a ping that came while the guest was being
        // stopped started nothing (the host journals it as `late-ping`).
        guard let ping = run.time(of: "guest-started") else {
            let late = run.time(of: "late-ping").map { String(printf: " (a ping came %.2f s after launch, during the stop: too late)", $0 - launched) } ?? ""
            return VerbVerdict(
                lines: ["no ping before the run ended\(late)", run.line], exitCode: run.exitCode == 0 ? 1 : run.exitCode,
                details: ["pinged": false, "outcome": .string(run.outcome)])
        }
        let seconds = ping - launched
        let lines = [String(printf: "pinged %.2f s after launch", seconds), run.line]
        return VerbVerdict(
            lines: lines, exitCode: run.exitCode,
            details: ["pinged": true, "seconds_to_ping": .double((seconds * 1000).rounded() / 1000), "outcome": .string(run.outcome)])
    }
}
