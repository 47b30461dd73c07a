import FoundationEssentials
import PluginAPI
import SupportKit

/// `GET /`: the guest's startup ping. The first one marks the guest as started.
///
/// An image manager may send `X-Boot-Id` (its kernel's boot id) so that the host can tell a
/// guest that rebooted from one that pinged twice.
public final class PingPlugin: Plugin {
    public static let name = "Ping"
    public static let summary = "startup ping: the first GET / marks the guest as started"
    public static let hooks: Set<Hook> = [.export, .command, .recover]
    public static let namespaceSummary = "/"

    private let context: any HostContext
    private let state = Locked(PingState())

    public init(context: any HostContext) {
        self.context = context
    }

    public var namespaces: [Namespace] { [.exact("/")] }

    public func exportData(_ request: GuestRequest) throws -> Reply {
        let bootID = request.header("X-Boot-Id").map { String($0.prefix(64)) }
        var fields: [String: JSONValue] = [:]
        if let bootID { fields["boot_id"] = .string(bootID) }
        let guest = context.configuration.tag(request.guest)
        if let guest { fields["guest"] = .string(guest) }
        context.record("ping", fields)
        context.notify(.guestPinged(bootID: bootID, guest: guest))
        return .text(200, "SupportHost ready\n")
    }

    public func recover(_ entry: JournalEntry) throws {
        guard entry.kind == "ping" else { return }
        state.withLock { state in
            if state.firstPing == nil { state.firstPing = entry.time }
            state.pings += 1
        }
    }

    public func report() -> [String: JSONValue] {
        state.withLock { state in
            var section: [String: JSONValue] = ["pinged": .bool(state.pings > 0), "pings": .int(Int64(state.pings))]
            if let first = state.firstPing { section["first_ping"] = .double(first) }
            return section
        }
    }
}

private struct PingState {
    var pings = 0
    var firstPing: Double?
}
