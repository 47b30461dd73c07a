import FoundationEssentials
import Logging
import PluginAPI

/// The host context one plug-in is given: its journal records carry its name, its logger its
/// label, its settings are its own part of the job's.
struct PluginContext: HostContext {
    let source: String
    let runDirectory: URL
    let configuration: RunConfiguration
    /// Nil when the context only serves to rebuild a report: then nothing may be recorded.
    let journal: Journal?
    let events: (@Sendable (RunEvent) -> Void)?
    var asks: (@Sendable (HostRequest) async throws -> JSONValue)? = nil
    /// The run's clock; nil when there is no run (a report being rebuilt, a verb's plan).
    var clock: RunClock? = nil
    /// The host's logger, whose handler the plug-in's logger writes through.
    var hostLogger: Logger? = nil

    var settings: PluginSettings { PluginSettings(configuration.settings[source]?.objectValue ?? [:]) }

    var logger: Logger {
        let label = "support-host.plugin.\(source)"
        guard let hostLogger else { return Logger(label: label, factory: { _ in SwiftLogNoOpLogHandler() }) }
        var logger = Logger(label: label, factory: { _ in hostLogger.handler })
        logger[metadataKey: "plugin"] = "\(source)"
        return logger
    }

    var elapsed: Double { clock?.elapsed ?? 0 }

    func record(_ kind: String, _ fields: [String: JSONValue]) {
        journal?.append(source: source, kind: kind, fields: fields)
    }

    func recordDurably(_ kind: String, _ fields: [String: JSONValue]) async throws {
        try await journal?.appendDurably(source: source, kind: kind, fields: fields)
    }

    func notify(_ event: RunEvent) { events?(event) }

    func ask(_ request: HostRequest) async throws -> JSONValue {
        guard let asks else { throw GuestError(503, "the run is not live") }
        return try await asks(request)
    }
}
