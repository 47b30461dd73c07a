import Foundation
import PluginAPI
import PluginTesting
import SupportHostSync
import Testing

/// A tester for a run of the named guests (roles by `roles`).
func syncTester(_ names: [String], roles: [String: String] = [:], settings: [String: JSONValue] = [:]) throws -> PluginTester<SyncPlugin> {
    let guests = names.map { GuestDescription(name: $0, role: roles[$0]) }
    return try PluginTester(SyncPlugin.self, configuration: RunConfiguration(guests: guests), settings: settings)
}

extension Reply {
    var text: String {
        guard case .bytes(let data) = body else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

extension PluginTester where P == SyncPlugin {
    /// `POST path` from `guest` with an empty body, a refusal (`GuestError`) turned into its reply
    /// as the host would send it.
    func sync(_ path: String, from guest: String, body: Data = Data(), requestID: String? = nil) async -> Reply {
        do {
            return try await post(path, body: body, headers: requestID.map { [("X-Request-Id", $0)] } ?? [], guest: guest)
        } catch let error as GuestError {
            return .text(error.status, error.reason)
        } catch {
            return .text(500, "\(error)")
        }
    }

    /// A barrier as `GET /sync/status` shows it.
    func barrier(_ name: String) -> [String: JSONValue]? {
        guard let reply = try? get("/sync/status"), case .bytes(let data) = reply.body else { return nil }
        return (try? JSONValue.decode(data))?.objectValue?["barriers"]?.objectValue?[name]?.objectValue
    }

    func kinds() -> [String] { context.records.map(\.kind) }

    func count(_ kind: String) -> Int { context.records.filter { $0.kind == kind }.count }
}

/// Polls `condition` every 10 ms for up to 20 s (a loaded machine is slow, a hang is a failure).
func eventually(_ what: String, _ condition: () -> Bool) async throws {
    for _ in 0..<2000 {
        if condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("never happened: \(what)")
    throw CancellationError()
}
