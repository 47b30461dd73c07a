import FoundationEssentials
import PluginAPI
import Synchronization

/// Synchronises the guests of a run (Beaker's `rhts-sync-*`, LAVA's `lava-sync`/`lava-send`/
/// `lava-wait`): barriers, mutexes and events under `/sync`, with a timeout on every wait,
/// waiters told at once when a peer they wait for is gone, and all state rebuilt from the
/// journal when a host takes the run over. See docs/sync.md.
public final class SyncPlugin: Plugin {
    public static let name = "Sync"
    public static let summary = "POST /sync/barrier|mutex|event: barriers, mutexes and events between the guests of a run"
    public static let hooks: Set<Hook> = [.import, .export, .recover]
    public static let namespaceSummary = "/sync"

    let context: any HostContext
    let settings: SyncSettings
    let state: Mutex<SyncState>
    let lane = DecisionLane()
    private let nextWaiter = Atomic<UInt64>(1)

    public init(context: any HostContext) throws {
        self.context = context
        settings = try SyncSettings(context.settings)
        state = Mutex(SyncState(settings: settings, guests: context.configuration.guests))
    }

    public var namespaces: [Namespace] { [.prefix("/sync")] }

    public func importData(_ request: GuestRequest, body: RequestBody) async throws -> Reply {
        let sync = try SyncRequest(method: request.method, subpath: request.subpath, query: request.query)
        let guest = request.guest
        context.countsAsActivity(of: guest)
        switch sync.operation {
        case .barrier(let name, let count, let role):
            _ = try await body.collect(upTo: 1024)
            let requestID = request.header("X-Request-Id")
            return try await wait(guest: guest, timeout: sync.timeout) { state, waiter, decision in
                try state.arrive(at: name, guest: guest, count: count, role: role, requestID: requestID, waiter: waiter, &decision)
            }
        case .lock(let name):
            _ = try await body.collect(upTo: 1024)
            return try await wait(guest: guest, timeout: sync.timeout) { state, waiter, decision in
                try state.lock(name, guest: guest, waiter: waiter, &decision)
            }
        case .unlock(let name):
            _ = try await body.collect(upTo: 1024)
            return try await decide { state, decision in try state.unlock(name, guest: guest, &decision) }
        case .setEvent(let name):
            let bytes = try await body.collect(upTo: settings.maxEventBytes)
            let value: JSONValue
            do { value = try JSONValue.decode(bytes.isEmpty ? Data("{}".utf8) : bytes) } catch {
                throw GuestError(400, "an event's body is JSON (or empty): \(error)")
            }
            return try await decide { state, decision in try state.setEvent(name, guest: guest, value: value, &decision) }
        case .waitForEvent(let name, let from):
            _ = try await body.collect(upTo: 1024)
            return try await wait(guest: guest, timeout: sync.timeout) { state, waiter, decision in
                try state.waitForEvent(name, guest: guest, from: from, waiter: waiter, &decision)
            }
        case .readEvent, .status, .whoami:
            throw GuestError(405, "\(request.method) is not allowed here; see docs/sync.md")
        }
    }

    public func exportData(_ request: GuestRequest) throws -> Reply {
        let sync = try SyncRequest(method: request.method, subpath: request.subpath, query: request.query)
        switch sync.operation {
        case .readEvent(let name):
            let event = state.withLock { $0.events[name] }
            guard let event, let body = event.body else { throw GuestError(404, "event \(name) is not set yet") }
            return SyncState.eventReply(body, sender: event.sender ?? "?")
        case .status:
            return .json(200, state.withLock { $0.status })
        case .whoami:
            // The shell helpers name a guest's own events (Beaker's per-host states) by it.
            return .text(200, request.guest + "\n")
        case .waitForEvent(let name, let from):
            // `GET /sync/event/NAME?wait=S`: the hook must not block, so the wait is the host's
            // to await, exactly as `POST …/wait` would wait.
            let guest = request.guest
            return .later {
                try await self.wait(guest: guest, timeout: sync.timeout) { state, waiter, decision in
                    try state.waitForEvent(name, guest: guest, from: from, waiter: waiter, &decision)
                }
            }
        default:
            throw GuestError(405, "\(request.method) is not allowed here; see docs/sync.md")
        }
    }

    public func guestChanged(_ guest: String, _ change: GuestChange) {
        guard case .exited(let description) = change else { return }
        // The hook must return at once: the decision takes its turn in the lane.
        Task { _ = try? await decide { state, decision in state.guestGone(guest, description: description, &decision) } }
    }

    public func recover(_ entry: JournalEntry) throws {
        state.withLock { $0.replay(entry) }
    }

    public func report() -> [String: JSONValue] {
        let tally = state.withLock { $0.tally }
        guard tally != SyncState.Tally() else { return [:] }
        return [
            "sync": .object([
                "barriers_released": .int(Int64(tally.barriersReleased)), "barriers_failed": .int(Int64(tally.barriersFailed)),
                "timeouts": .int(Int64(tally.timeouts)), "mutex_grants": .int(Int64(tally.mutexGrants)),
                "mutex_owners_died": .int(Int64(tally.ownersDied)), "events_set": .int(Int64(tally.eventsSet)),
            ])
        ]
    }

    func makeWaiter(_ guest: String) -> Waiter {
        Waiter(id: nextWaiter.wrappingAdd(1, ordering: .relaxed).oldValue, guest: guest, slot: WaitSlot())
    }
}
