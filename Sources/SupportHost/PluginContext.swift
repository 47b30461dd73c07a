import Foundation
import PluginAPI

/// The host context one plug-in is given: its journal records carry its name.
struct PluginContext: HostContext {
    let source: String
    let runDirectory: URL
    let configuration: RunConfiguration
    /// Nil when the context only serves to rebuild a report: then nothing may be recorded.
    let journal: Journal?
    let events: (@Sendable (RunEvent) -> Void)?
    var asks: (@Sendable (HostRequest) async throws -> JSONValue)? = nil

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
